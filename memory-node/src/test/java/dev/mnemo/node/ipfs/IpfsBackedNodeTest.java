package dev.mnemo.node.ipfs;

import static dev.mnemo.node.ApiClient.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mnemo.node.ApiClient;
import dev.mnemo.node.TestNode;
import dev.mnemo.node.TestVectors;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.model.Embedding;
import dev.mnemo.store.model.Memory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A whole memory node with {@code blockStore=ipfs} on a real IPFS node (js-ipfs), over its HTTP
 * API: remember, recall, get and forget put and remove blocks on the IPFS node, everything survives
 * restarts of both nodes, and when the IPFS node is down or hung writes answer 503 with
 * Retry-After and acknowledge nothing, reads answer 503 (never 500), and the same write succeeds
 * with the same CID once the IPFS node is back.
 */
class IpfsBackedNodeTest {
  private static final String NS = "notes";
  private static final long IPFS_TIMEOUT_MS = 1_500;

  private static IpfsNode ipfs;
  private static IpfsRpc rpc;

  @TempDir Path data;

  @BeforeAll
  static void startIpfs() {
    ipfs = IpfsNode.start();
    rpc = new IpfsRpc(ipfs.api());
  }

  @AfterAll
  static void stopIpfs() {
    if (ipfs != null) {
      ipfs.close();
    }
  }

  @AfterEach
  void bringIpfsBack() {
    if (!ipfs.isRunning()) {
      ipfs.restart();
    }
    ipfs.resume();
  }

  @Test
  void rememberRecallGetAndForgetLiveOnTheIpfsNodeAndSurviveRestarts() throws IOException {
    List<String> cids = new ArrayList<>();
    Snapshot before;
    String forgotten;
    try (TestNode node = startNode()) {
      ApiClient api = node.api();
      cids.add(api.remember(NS, memory(0, "Bob prefers green tea over coffee")));
      List<Map<String, Object>> batch = new ArrayList<>();
      for (int i = 1; i <= 10; i++) {
        batch.add(memory(i, "note number " + i + " about " + (i % 2 == 0 ? "travel" : "work")));
      }
      cids.addAll(api.rememberAll(NS, batch));
      assertThat(cids).hasSize(11).doesNotHaveDuplicates();
      assertThat(cids.get(0)).isEqualTo(expectedCid(0, "Bob prefers green tea over coffee"));

      // Every memory and every log entry is on the IPFS node, pinned directly, byte for byte what Mnemo serves.
      List<String> entries = heads(api);
      assertThat(entries).hasSize(1);
      Map<String, String> pins = rpc.pins();
      for (String cid : concat(cids, entries)) {
        assertThat(pins).as("pin of %s", cid).containsEntry(cid, "direct");
        ApiClient.Response served = api.get("/v1/blocks/" + cid);
        assertThat(served.status()).as("%s", served).isEqualTo(200);
        assertThat(rpc.block(cid)).as("the IPFS node's bytes of %s", cid).isEqualTo(served.body());
      }
      JsonNode head = rpc.dag(entries.get(0));
      assertThat(head.path("parents").get(0).path("/").asText()).as("the batch's entry links the first entry").isNotEmpty();
      assertThat(pins).containsEntry(head.path("parents").get(0).path("/").asText(), "direct");

      // Recall and get read the memories back from the IPFS node.
      for (int i = 0; i <= 10; i++) {
        assertThat(api.recallCids(NS, Map.of("vector", TestVectors.random(i), "mode", "vector", "k", 3)).get(0))
            .as("nearest memory to vector %d", i).isEqualTo(cids.get(i));
      }
      JsonNode bob = api.getJson("/v1/memories/" + cids.get(0));
      assertThat(bob.path("text").asText()).isEqualTo("Bob prefers green tea over coffee");
      assertThat(bob.path("metadata").path("seed").asLong()).isZero();

      // Forget unpins the memory and removes its block from the IPFS node.
      forgotten = cids.get(0);
      ApiClient.Response forget = api.delete("/v1/namespaces/" + NS + "/memories/" + forgotten);
      assertThat(forget.status()).as("%s", forget).isEqualTo(200);
      String forgetEntry = forget.json().path("entry").asText();
      assertThat(rpc.pins()).doesNotContainKey(forgotten).containsEntry(forgetEntry, "direct");
      assertThat(rpc.hasBlock(forgotten)).as("the forgotten memory's block on the IPFS node").isFalse();
      assertError(api.get("/v1/memories/" + forgotten), 404, "not_found");
      assertThat(api.recallCids(NS, Map.of("vector", TestVectors.random(0), "mode", "vector", "k", 20)))
          .hasSize(10).doesNotContain(forgotten);
      assertThat(heads(api)).containsExactly(forgetEntry);
      before = Snapshot.of(api);
      assertThat(before.listed()).containsExactlyElementsOf(cids.subList(1, 11));
    }

    // Both nodes restart: the IPFS repo kept the blocks and pins, the data dir the log and index.
    ipfs.restart();
    assertThat(rpc.pins()).containsKeys(cids.subList(1, 11).toArray(String[]::new)).doesNotContainKey(forgotten);
    try (TestNode node = startNode()) {
      ApiClient api = node.api();
      assertThat(Snapshot.of(api)).isEqualTo(before);
      for (int i = 1; i <= 10; i++) {
        assertThat(api.getJson("/v1/memories/" + cids.get(i)).path("metadata").path("seed").asLong()).isEqualTo(i);
      }
      assertError(api.get("/v1/memories/" + forgotten), 404, "not_found");
      // And it keeps writing to the IPFS node.
      String after = api.remember(NS, memory(11, "written after the restarts"));
      assertThat(rpc.pins()).containsEntry(after, "direct");
      assertThat(api.recallCids(NS, Map.of("vector", TestVectors.random(11), "mode", "vector", "k", 1))).containsExactly(after);
    }
  }

  @Test
  void whileTheIpfsNodeIsDownWritesAnswer503AcknowledgeNothingAndSucceedOnceItIsBack() throws IOException {
    try (TestNode node = startNode()) {
      ApiClient api = node.api();
      HeaderCheckingClient http = new HeaderCheckingClient(node.api());
      String kept = api.remember(NS, memory(100, "remembered before the outage"));
      JsonNode before = api.getJson("/v1/node");

      ipfs.stop();

      Map<String, Object> single = memory(101, "written during the outage");
      assertUnavailable(http.post("/v1/namespaces/" + NS + "/memories", single), 3_000);
      assertUnavailable(http.post("/v1/namespaces/" + NS + "/memories",
          Map.of("memories", List.of(memory(102, "batch during the outage"), memory(103, "another")))), 3_000);
      assertUnavailable(http.delete("/v1/namespaces/" + NS + "/memories/" + kept), 3_000);
      // Nothing was acknowledged: no log entry, no head, nothing indexed.
      JsonNode during = api.getJson("/v1/node");
      assertThat(during.path("index")).isEqualTo(before.path("index"));
      assertThat(during.path("namespaces")).isEqualTo(before.path("namespaces"));

      // Reads of memories need their blocks: a clear 503, never a 500. The node itself answers.
      for (String path : List.of("/v1/memories/" + kept, "/v1/memories/" + kept + "/history", "/v1/blocks/" + kept,
          "/v1/namespaces/" + NS + "/memories", "/v1/namespaces/" + NS + "/export")) {
        assertUnavailable(http.get(path), 3_000);
      }
      assertUnavailable(http.post("/v1/namespaces/" + NS + "/recall",
          Map.of("vector", TestVectors.random(100), "mode", "vector", "k", 3)), 3_000);
      assertThat(api.get("/health").status()).isEqualTo(200);

      ipfs.restart();

      // The same request now succeeds, with the CID the memory always had.
      String written = api.remember(NS, single);
      assertThat(written).isEqualTo(expectedCid(101, "written during the outage"));
      assertThat(rpc.pins()).containsEntry(written, "direct");
      assertThat(api.listAll(NS)).containsExactly(kept, written);
      assertThat(api.getJson("/v1/memories/" + kept).path("text").asText()).isEqualTo("remembered before the outage");
      assertThat(api.recallCids(NS, Map.of("vector", TestVectors.random(101), "mode", "vector", "k", 1))).containsExactly(written);
      assertThat(api.delete("/v1/namespaces/" + NS + "/memories/" + kept).status()).isEqualTo(200);
      assertThat(rpc.hasBlock(kept)).isFalse();
    }
  }

  @Test
  void aHungIpfsNodeMakesWritesAndReadsAnswer503WithinTheTimeout() {
    try (TestNode node = startNode()) {
      ApiClient api = node.api();
      HeaderCheckingClient http = new HeaderCheckingClient(node.api());
      String kept = api.remember(NS, memory(200, "remembered before the hang"));

      ipfs.pause();

      Map<String, Object> request = memory(201, "written during the hang");
      HeaderCheckingClient.Answer write = http.post("/v1/namespaces/" + NS + "/memories", request);
      assertUnavailable(write, IPFS_TIMEOUT_MS + 1_500);
      assertThat(write.millis()).as("a hung IPFS node is given the configured timeout").isGreaterThanOrEqualTo(IPFS_TIMEOUT_MS - 100);
      assertUnavailable(http.get("/v1/memories/" + kept), IPFS_TIMEOUT_MS + 1_500);

      ipfs.resume();

      assertThat(api.remember(NS, request)).isEqualTo(expectedCid(201, "written during the hang"));
      assertThat(api.listAll(NS)).hasSize(2);
    }
  }

  @Test
  void aNodeStartedWhileTheIpfsNodeIsDownStartsAndWritesOnceItIsBack() {
    ipfs.stop();
    try (TestNode node = startNode()) {
      HeaderCheckingClient http = new HeaderCheckingClient(node.api());
      assertThat(node.api().getJson("/v1/node").path("blockStore").path("type").asText()).isEqualTo("ipfs");
      assertUnavailable(http.post("/v1/namespaces/" + NS + "/memories", memory(300, "too early")), 3_000);

      ipfs.restart();

      assertThat(node.api().remember(NS, memory(300, "too early"))).isEqualTo(expectedCid(300, "too early"));
    }
  }

  @Test
  void aMemoryWhoseBlockTheIpfsNodeServesAlteredIsReportedCorruptNotReturned() throws IOException {
    try (TestNode node = startNode()) {
      ApiClient api = node.api();
      String cid = api.remember(NS, memory(400, "the original text"));
      Path file = ipfs.blockFile(Cid.parse(cid));
      byte[] original = Files.readAllBytes(file);
      Map<String, Object> forged = memory(400, "a forged text!!!!");
      Files.write(file, encode(forged));

      assertError(api.get("/v1/memories/" + cid), 500, "corrupt_block");
      assertError(api.post("/v1/namespaces/" + NS + "/recall", Map.of("vector", TestVectors.random(400), "mode", "vector", "k", 1)),
          500, "corrupt_block");

      Files.write(file, original);
      assertThat(api.getJson("/v1/memories/" + cid).path("text").asText()).isEqualTo("the original text");
    }
  }

  /**
   * A forget whose block the IPFS node cannot remove (here: its flatfs file made immutable) is
   * still committed and acknowledged, and leaves the node consistent: the next write takes the next
   * log position, the namespace keeps one head, and recall no longer finds the memory. The removal
   * is retried later (store module: {@code PendingDeletes}, tested in ExternalBlockDeleteTest).
   * Before the fix, the failed delete failed the whole commit group after it was durable, and the
   * next write reused the forget's position, so the index never saw the forget.
   */
  @Test
  void aForgetWhoseBlockTheIpfsNodeCannotRemoveLeavesTheNodeConsistent() throws Exception {
    try (TestNode node = startNode()) {
      ApiClient api = node.api();
      String forgotten = api.remember(NS, memory(500, "a secret to forget"));
      Path file = ipfs.blockFile(Cid.parse(forgotten));
      Assumptions.assumeTrue(chattr("+i", file), "needs chattr +i (root, ext4) to make the IPFS node's block file immutable");
      try {
        long position = api.getJson("/v1/node").path("index").path("logPosition").asLong();
        ApiClient.Response forget = api.delete("/v1/namespaces/" + NS + "/memories/" + forgotten);
        assertThat(forget.status()).as("%s", forget).isEqualTo(200);
        boolean committed = api.get("/v1/memories/" + forgotten).status() == 404;
        assertThat(committed).as("the acknowledged forget is committed").isTrue();

        String next = api.remember(NS, memory(501, "written after the forget"));
        long after = api.getJson("/v1/node").path("index").path("logPosition").asLong();
        assertThat(after).as("log position after the next write").isEqualTo(position + (committed ? 2 : 1));
        assertThat(heads(api)).hasSize(1);
        List<String> recalled = api.recallCids(NS, Map.of("vector", TestVectors.random(500), "mode", "vector", "k", 5));
        assertThat(recalled).contains(next);
        if (committed) {
          assertThat(recalled).as("recall after the forget").doesNotContain(forgotten);
        }
      } finally {
        chattr("-i", file);
      }
    }
  }

  // ---- helpers ----

  private TestNode startNode() {
    return TestNode.start(data, TestNode.NONE, Map.of("blockStore", "ipfs", "ipfsApi", ipfs.url(),
        "ipfsTimeoutMs", Long.toString(IPFS_TIMEOUT_MS)));
  }

  /** A remember request with a client vector and an explicit time, so its CID is known in advance. */
  private static Map<String, Object> memory(long seed, String text) {
    Map<String, Object> memory = new LinkedHashMap<>();
    memory.put("text", text);
    memory.put("vector", TestVectors.random(seed));
    memory.put("metadata", Map.of("seed", seed));
    memory.put("tags", List.of("ipfs"));
    memory.put("ts", 1_700_000_000_000L + seed);
    return memory;
  }

  /** The memory block a node builds from {@link #memory}: the same model class, so the same bytes. */
  private static byte[] encode(Map<String, Object> request) {
    @SuppressWarnings("unchecked")
    Map<String, Object> metadata = (Map<String, Object>) request.get("metadata");
    @SuppressWarnings("unchecked")
    List<String> tags = (List<String>) request.get("tags");
    return new Memory(NS, (String) request.get("text"), metadata, tags, (Long) request.get("ts"),
        new Embedding("client", (float[]) request.get("vector")), null).encode();
  }

  private static String expectedCid(long seed, String text) {
    return Cid.dagCbor(encode(memory(seed, text))).toString();
  }

  private static boolean chattr(String flag, Path file) throws IOException, InterruptedException {
    Process chattr = new ProcessBuilder("chattr", flag, file.toString()).redirectErrorStream(true).start();
    chattr.getInputStream().readAllBytes();
    return chattr.waitFor() == 0;
  }

  private static void assertUnavailable(HeaderCheckingClient.Answer answer, long withinMillis) {
    assertError(answer.response(), 503, "unavailable");
    assertThat(answer.retryAfter()).as("Retry-After of %s", answer.response()).hasValueSatisfying(
        value -> assertThat(Long.parseLong(value)).isPositive());
    assertThat(answer.millis()).as("time to answer %s", answer.response()).isLessThan(withinMillis);
  }

  private static List<String> heads(ApiClient api) {
    for (JsonNode ns : api.getJson("/v1/node").path("namespaces")) {
      if (ns.path("name").asText().equals(NS)) {
        List<String> heads = new ArrayList<>();
        ns.path("heads").forEach(h -> heads.add(h.asText()));
        return heads;
      }
    }
    return List.of();
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }

  /** What a node answers about NS: its listing, heads, and vector recall for every seed used. */
  private record Snapshot(List<String> listed, List<String> heads, List<List<String>> recalls, long memories) {
    static Snapshot of(ApiClient api) {
      List<List<String>> recalls = new ArrayList<>();
      for (int i = 0; i <= 10; i++) {
        recalls.add(api.recallCids(NS, Map.of("vector", TestVectors.random(i), "mode", "vector", "k", 5)));
      }
      return new Snapshot(api.listAll(NS), IpfsBackedNodeTest.heads(api), recalls,
          api.getJson("/v1/node").path("index").path("memories").asLong());
    }
  }
}
