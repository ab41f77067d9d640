package dev.mnemo.node.ipfs;

import static dev.mnemo.node.ApiClient.CAR_TYPE;
import static dev.mnemo.node.ApiClient.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mnemo.node.ApiClient;
import dev.mnemo.node.TestNode;
import dev.mnemo.node.TestVectors;
import dev.mnemo.store.block.Block;
import dev.mnemo.store.car.CarReader;
import dev.mnemo.store.car.CarWriter;
import dev.mnemo.store.cid.Cid;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mnemo's blocks as any IPFS tool sees them, on a real IPFS node (js-ipfs): {@code dag/get} shows
 * a memory's and a log entry's fields and links, a namespace exported by Mnemo imports into the
 * IPFS node under the same CIDs, and a namespace exported by the IPFS node ({@code dag/export} of
 * its heads: an entry links its parents and its memories, so its DAG is the namespace) imports
 * into a fresh Mnemo node that then recalls exactly like the original.
 */
class IpfsInteropTest {
  private static final String NS = "travel";
  private static final String[] PLACES = {"Lisbon", "Kyoto", "Lima", "Oslo", "Nairobi"};

  private static IpfsNode ipfs;
  private static IpfsRpc rpc;

  @TempDir Path dirA;
  @TempDir Path dirB;
  @TempDir Path dirC;
  /** One owner agent for every node of a test: its namespaces move between them and stay its own. */
  @TempDir Path keys;

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

  @Test
  void dagGetShowsAMemorysFieldsAndLinksAndTheLogEntryThatAddsIt() {
    try (TestNode node = ipfsBacked(dirA)) {
      ApiClient api = node.api();
      float[] vector = TestVectors.random(2);
      String first = api.remember(NS, Map.of("text", "Alice moved to Lisbon in 2021.", "vector", TestVectors.random(1),
          "ts", 1_600_000_000_000L));
      Map<String, Object> update = new LinkedHashMap<>();
      update.put("text", "Alice moved on to Porto in 2024.");
      update.put("vector", vector);
      update.put("metadata", Map.of("city", "Porto", "year", 2024, "rating", 4.5, "remote", true));
      update.put("tags", List.of("work", "move"));
      update.put("ts", 1_700_000_000_000L);
      update.put("prev", first);
      String second = api.remember(NS, update);

      JsonNode memory = rpc.dag(second);
      assertThat(memory.path("v").asInt()).isEqualTo(1);
      assertThat(memory.path("ns").asText()).isEqualTo(NS);
      assertThat(memory.path("text").asText()).isEqualTo("Alice moved on to Porto in 2024.");
      assertThat(memory.path("metadata").path("city").asText()).isEqualTo("Porto");
      assertThat(memory.path("metadata").path("year").isIntegralNumber()).isTrue();
      assertThat(memory.path("metadata").path("year").asLong()).isEqualTo(2024);
      assertThat(memory.path("metadata").path("rating").asDouble()).isEqualTo(4.5);
      assertThat(memory.path("metadata").path("remote").asBoolean()).isTrue();
      assertThat(texts(memory.path("tags"))).containsExactly("move", "work");
      assertThat(memory.path("ts").asLong()).isEqualTo(1_700_000_000_000L);
      assertThat(link(memory.path("prev"))).as("prev is an IPLD link").isEqualTo(first);
      assertThat(memory.path("embedding").path("model").asText()).isEqualTo("client");
      assertThat(memory.path("embedding").path("dim").asInt()).isEqualTo(TestVectors.DIMENSION);
      assertThat(floats(bytes(memory.path("embedding").path("vec")))).as("the embedding bytes").isEqualTo(vector);
      // Paths follow links, as for any IPLD data.
      assertThat(rpc.call("dag/get", "arg", second + "/prev/text").ok().json().asText()).isEqualTo("Alice moved to Lisbon in 2021.");

      JsonNode nodeInfo = api.getJson("/v1/node");
      String head = nodeInfo.path("namespaces").get(0).path("heads").get(0).asText();
      JsonNode entry = rpc.dag(head);
      assertThat(entry.path("op").asText()).isEqualTo("add");
      assertThat(entry.path("ns").asText()).isEqualTo(NS);
      // add (the first memory), grant (creating the namespace granted this node replicate), add
      assertThat(entry.path("clock").asInt()).isEqualTo(3);
      // Signed by the agent that wrote it (the node's owner agent), not by the node.
      assertThat(entry.path("author").asText()).isEqualTo(api.getJson("/v1/whoami").path("did").asText())
          .isNotEqualTo(nodeInfo.path("id").asText());
      assertThat(entry.path("refs")).hasSize(1);
      assertThat(link(entry.path("refs").get(0))).isEqualTo(second);
      assertThat(entry.path("parents")).hasSize(1);
      JsonNode grant = rpc.dag(link(entry.path("parents").get(0)));
      assertThat(grant.path("op").asText()).isEqualTo("grant");
      assertThat(grant.path("to").asText()).isEqualTo(nodeInfo.path("id").asText());
      String parent = link(grant.path("parents").get(0));
      assertThat(link(rpc.dag(parent).path("refs").get(0))).isEqualTo(first);
      assertThat(bytes(entry.path("sig"))).hasSize(64);
      assertThat(rpc.call("dag/get", "arg", head + "/parents/0/parents/0/refs/0/text").ok().json().asText()).isEqualTo("Alice moved to Lisbon in 2021.");

      // The IPFS node's own DAG-CBOR encoder (decode, then encode) gives Mnemo's bytes back: they are canonical.
      for (String cid : List.of(first, second, head, parent)) {
        byte[] reencoded = rpc.call("dag/get", "arg", cid, "output-codec", "dag-cbor").ok().body();
        assertThat(reencoded).as("dag-cbor of %s", cid).isEqualTo(api.get("/v1/blocks/" + cid).body());
      }
    }
  }

  @Test
  void aNamespaceExportedByMnemoImportsIntoTheIpfsNodeUnderTheSameCids() throws IOException {
    try (TestNode node = TestNode.start(dirA, TestNode.NONE)) {
      ApiClient api = node.api();
      fill(api, 0);
      ApiClient.Response export = api.get("/v1/namespaces/" + NS + "/export");
      assertThat(export.status()).as("%s", export).isEqualTo(200);
      List<Block> blocks = blocks(export.body());
      List<Cid> roots = roots(export.body());
      // 20 memories, 9 adds, and the grant of replicate to the node the namespace was created on
      assertThat(blocks).hasSize(20 + 9 + 1);
      for (Block block : blocks) {
        assertThat(rpc.hasBlock(block.cid().toString())).as("%s before the import", block).isFalse();
      }

      JsonNode imported = rpc.upload("dag/import", export.body()).ok().json();

      assertThat(roots).hasSize(1);
      assertThat(link(imported.path("Root").path("Cid"))).isEqualTo(roots.get(0).toString());
      assertThat(imported.path("Root").path("PinErrorMsg").asText()).isEmpty();
      for (Block block : blocks) {
        String cid = block.cid().toString();
        assertThat(rpc.call("block/stat", "arg", cid).ok().json().path("Key").asText()).isEqualTo(cid);
        assertThat(rpc.block(cid)).as("the IPFS node's bytes of %s", cid).isEqualTo(block.data());
      }
      // The root (the head) is pinned recursively, and that pin holds every block of the namespace.
      Map<String, String> pins = rpc.pins();
      assertThat(pins).containsEntry(roots.get(0).toString(), "recursive");
      for (Block block : blocks) {
        if (!roots.contains(block.cid())) {
          assertThat(pins).as("pin of %s", block).containsEntry(block.cid().toString(), "indirect");
        }
      }
      // And the IPFS node's export of that head is the same namespace, block for block.
      byte[] exportedByIpfs = rpc.call("dag/export", "arg", roots.get(0).toString()).ok().body();
      assertThat(cids(blocks(exportedByIpfs))).isEqualTo(cids(blocks));
      rpc.call("pin/rm", "arg", roots.get(0).toString()).ok();
    }
  }

  @Test
  void aNamespaceExportedByTheIpfsNodeImportsIntoAFreshMnemoNodeThatRecallsTheSame() throws IOException {
    // The original: a node keeping its blocks on the IPFS node, with two heads in NS (its own
    // writes, and a concurrent history it imported from another node).
    try (TestNode original = ipfsBacked(dirA); TestNode other = TestNode.start(dirB, TestNode.NONE, TestNode.sharedOwner(keys));
        TestNode fresh = TestNode.start(dirC, TestNode.NONE, TestNode.sharedOwner(keys))) {
      fill(original.api(), 0);
      fill(other.api(), 100);
      ApiClient.Response merged = original.api().postRaw("/v1/namespaces/" + NS + "/import", CAR_TYPE,
          other.api().get("/v1/namespaces/" + NS + "/export").body());
      assertThat(merged.status()).as("%s", merged).isEqualTo(200);
      List<String> heads = texts(heads(original.api()));
      assertThat(heads).hasSize(2);
      Set<Cid> namespace = cids(blocks(original.api().get("/v1/namespaces/" + NS + "/export").body()));
      assertThat(namespace).hasSize(2 * (20 + 9 + 1));

      // dag/export of each head, straight from the IPFS node: together they hold the whole namespace.
      Set<Cid> exported = new HashSet<>();
      List<byte[]> cars = new ArrayList<>();
      for (String head : heads) {
        byte[] car = rpc.call("dag/export", "arg", head).ok().body();
        assertThat(roots(car)).containsExactly(Cid.parse(head));
        exported.addAll(cids(blocks(car)));
        cars.add(car);
      }
      assertThat(exported).isEqualTo(namespace);

      ApiClient api = fresh.api();
      for (byte[] car : cars) {
        ApiClient.Response imported = api.postRaw("/v1/namespaces/" + NS + "/import", CAR_TYPE, car);
        assertThat(imported.status()).as("%s", imported).isEqualTo(200);
        assertThat(imported.json().path("entriesApplied").asInt()).isPositive();
      }

      assertThat(heads(api)).isEqualTo(heads(original.api()));
      assertThat(api.listAll(NS)).containsExactlyInAnyOrderElementsOf(original.api().listAll(NS)).hasSize(40);
      for (Map<String, Object> query : queries()) {
        JsonNode expected = original.api().recall(NS, query);
        assertThat(ApiClient.cids(expected)).as("original %s", query).isNotEmpty();
        JsonNode actual = api.recall(NS, query);
        assertThat(ApiClient.cids(actual)).as("fresh %s", query).containsExactlyElementsOf(ApiClient.cids(expected));
        assertThat(scores(actual)).as("scores of %s", query).isEqualTo(scores(expected));
      }
    }
  }

  @Test
  void withAForgottenMemoryTheIpfsNodesExportIsIncompleteAndMnemoRefusesIt() throws IOException {
    // A forget entry links the memory it forgets, whose block is gone: the IPFS node cannot walk
    // the namespace's DAG. Mnemo's own export leaves the block out by design; pinning its root
    // on the IPFS node fails for the same reason.
    try (TestNode original = ipfsBacked(dirA); TestNode fresh = TestNode.start(dirC, TestNode.NONE, TestNode.sharedOwner(keys))) {
      List<String> cids = fill(original.api(), 0);
      assertThat(original.api().delete("/v1/namespaces/" + NS + "/memories/" + cids.get(5)).status()).isEqualTo(200);
      String head = texts(heads(original.api())).get(0);

      // js-ipfs answers 200 and breaks the CAR off at the missing block.
      IpfsRpc.Answer exportedByIpfs = rpc.call("dag/export", "arg", head);
      List<Block> blocks = exportedByIpfs.status() == 200 ? blocksUpToTheBreak(exportedByIpfs.body()) : List.of();
      assertThat(blocks.size()).as("blocks of %s", exportedByIpfs).isBetween(1, 20 + 10 - 2);

      JsonNode before = fresh.api().getJson("/v1/node");
      assertError(fresh.api().postRaw("/v1/namespaces/" + NS + "/import", CAR_TYPE, carOf(head, blocks)), 422, "rejected_block");
      assertThat(fresh.api().getJson("/v1/node").path("index")).isEqualTo(before.path("index"));
      assertThat(fresh.api().listAll(NS)).isEmpty();

      // Mnemo's export of the same namespace is complete, and imports; the IPFS node takes its
      // blocks but cannot pin the root, whose DAG lacks the forgotten memory.
      byte[] car = original.api().get("/v1/namespaces/" + NS + "/export").body();
      assertThat(fresh.api().postRaw("/v1/namespaces/" + NS + "/import", CAR_TYPE, car).status()).isEqualTo(200);
      assertThat(fresh.api().listAll(NS)).containsExactlyInAnyOrderElementsOf(original.api().listAll(NS)).hasSize(19);
      JsonNode imported = rpc.upload("dag/import", car).ok().json();
      assertThat(imported.path("Root").path("PinErrorMsg").asText()).isNotEmpty();
      assertThat(rpc.pins()).doesNotContainEntry(head, "recursive");
    }
  }

  // ---- helpers ----

  private TestNode ipfsBacked(Path dir) {
    Map<String, String> config = new java.util.HashMap<>(TestNode.sharedOwner(keys));
    config.putAll(Map.of("blockStore", "ipfs", "ipfsApi", ipfs.url()));
    return TestNode.start(dir, TestNode.NONE, config);
  }

  /** Twenty memories in NS (a batch of 12, then 8 one by one), vectors from {@code seedBase}; their CIDs in order. */
  private static List<String> fill(ApiClient api, int seedBase) {
    List<Map<String, Object>> batch = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      batch.add(memory(seedBase + i, "trip to " + PLACES[i % 5] + " number " + (seedBase + i), List.of(i % 2 == 0 ? "even" : "odd")));
    }
    List<String> cids = new ArrayList<>(api.rememberAll(NS, batch));
    for (int i = 12; i < 20; i++) {
      cids.add(api.remember(NS, memory(seedBase + i, "packing list for " + PLACES[i % 5] + " trip " + (seedBase + i), List.of("packing"))));
    }
    return cids;
  }

  private static Map<String, Object> memory(int seed, String text, List<String> tags) {
    return Map.of("text", text, "vector", TestVectors.random(seed), "metadata", Map.of("city", PLACES[seed % 5], "nights", seed),
        "tags", tags, "ts", 1_000L * seed);
  }

  /**
   * Vector, hybrid, filtered and keyword queries. Texts like "trip to Lisbon number 5" and
   * "... number 105" tie on BM25; the two nodes applied the entries in different orders, so this
   * also checks that ties rank by CID, not by the order a node indexed them in.
   */
  private static List<Map<String, Object>> queries() {
    List<Map<String, Object>> queries = new ArrayList<>();
    queries.add(Map.of("query", "trip Lisbon", "mode", "keyword", "k", 5));
    for (int seed : new int[] {3, 7, 104, 115}) {
      queries.add(Map.of("vector", TestVectors.random(seed), "mode", "vector", "k", 5));
    }
    queries.add(Map.of("vector", TestVectors.near(TestVectors.random(9), 0.5, 99), "mode", "vector", "k", 10));
    queries.add(Map.of("query", "Kyoto", "vector", TestVectors.random(1), "mode", "hybrid", "k", 8));
    Map<String, Object> filtered = new LinkedHashMap<>(Map.of("vector", TestVectors.random(2), "k", 20));
    filtered.put("filter", Map.of("metadata", Map.of("nights", Map.of("gte", 5)), "tags", List.of("even")));
    queries.add(filtered);
    return queries;
  }

  /** The CID of a dag-json link {@code {"/": "<cid>"}}; fails on anything else. */
  private static String link(JsonNode node) {
    assertThat(node.isObject() && node.size() == 1 && node.path("/").isTextual()).as("a link: %s", node).isTrue();
    return node.path("/").asText();
  }

  /** The bytes of dag-json bytes {@code {"/": {"bytes": "<base64>"}}}. */
  private static byte[] bytes(JsonNode node) {
    assertThat(node.path("/").path("bytes").isTextual()).as("bytes: %s", node).isTrue();
    return Base64.getDecoder().decode(node.path("/").path("bytes").asText());
  }

  private static float[] floats(byte[] littleEndian) {
    float[] out = new float[littleEndian.length / 4];
    ByteBuffer.wrap(littleEndian).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
    return out;
  }

  private static List<String> texts(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

  private static List<Double> scores(JsonNode results) {
    List<Double> out = new ArrayList<>();
    results.forEach(r -> out.add(r.path("score").asDouble()));
    return out;
  }

  private static JsonNode heads(ApiClient api) {
    for (JsonNode n : api.getJson("/v1/node").path("namespaces")) {
      if (n.path("name").asText().equals(NS)) {
        return n.path("heads");
      }
    }
    return ApiClient.JSON.createArrayNode();
  }

  private static List<Block> blocks(byte[] car) throws IOException {
    CarReader reader = new CarReader(new ByteArrayInputStream(car));
    List<Block> out = new ArrayList<>();
    for (Block block = reader.next(); block != null; block = reader.next()) {
      out.add(block);
    }
    return out;
  }

  /** The blocks of a CAR that may end in the middle of a block (a stream that broke off). */
  private static List<Block> blocksUpToTheBreak(byte[] car) throws IOException {
    CarReader reader = new CarReader(new ByteArrayInputStream(car));
    List<Block> out = new ArrayList<>();
    try {
      for (Block block = reader.next(); block != null; block = reader.next()) {
        out.add(block);
      }
    } catch (IOException truncated) {
      // what came before the break is what the node managed to send
    }
    return out;
  }

  private static byte[] carOf(String root, List<Block> blocks) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    CarWriter writer = new CarWriter(out, List.of(Cid.parse(root)));
    for (Block block : blocks) {
      writer.write(block);
    }
    return out.toByteArray();
  }

  private static List<Cid> roots(byte[] car) throws IOException {
    return new CarReader(new ByteArrayInputStream(car)).roots();
  }

  private static Set<Cid> cids(List<Block> blocks) {
    Set<Cid> out = new HashSet<>();
    blocks.forEach(b -> out.add(b.cid()));
    return out;
  }
}
