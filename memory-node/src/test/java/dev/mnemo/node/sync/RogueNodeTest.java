package dev.mnemo.node.sync;

import static dev.mnemo.node.sync.NodeProcess.memory;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mnemo.node.ApiClient.Response;
import dev.mnemo.node.TestVectors;
import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.acl.Ability;
import dev.mnemo.store.block.Block;
import dev.mnemo.store.car.CarReader;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.identity.AgentKey;
import dev.mnemo.store.identity.DidKey;
import dev.mnemo.store.identity.NodeKeyFile;
import dev.mnemo.store.model.Embedding;
import dev.mnemo.store.model.LogEntry;
import dev.mnemo.store.model.Memory;
import dev.mnemo.store.model.Op;
import dev.mnemo.sync.BlockRequest;
import dev.mnemo.sync.HeadsDigest;
import dev.mnemo.sync.PeerAuth;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A rogue node in the gossip cluster (issue 17, "Tests"): its node key is valid, but no namespace
 * grants it {@code replicate} and no operator lists it in {@code replicationPeers} (n1 and n2 list
 * only each other's did:keys). It is a member like any other, yet it gets no head, no block and no
 * announcement of the namespace; and what it signs into the namespace, a root of its own or entries
 * chained onto the real heads, every replica refuses and counts in {@code sync.rejected}, with the
 * reason.
 *
 * <p>Two rogues play: a real node process (its own owner agent, every peer trusted), and a
 * {@link FakePeer} that serves entries it forged and signed with its own valid key. Control: a
 * namespace whose owner grants the rogue node {@code replicate} reaches it, so the rogue is a working
 * member, refused only where it has no right.
 */
@ExtendWith(NodeLogsOnFailure.class)
class RogueNodeTest {
  private static final String NS = "guarded";
  private static final String OPEN = "open-to-rogue";
  private static final Map<String, String> ENV = Map.of("MNEMO_ANTI_ENTROPY_MS", "500");
  private static final Duration CONVERGE = Duration.ofSeconds(20);
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  @TempDir Path dir;
  private final List<NodeProcess> nodes = new ArrayList<>();
  private FakePeer fake;

  @AfterEach
  void stop() {
    if (fake != null) {
      fake.close();
    }
    nodes.forEach(NodeProcess::close);
  }

  @Test
  void aNodeWithAValidKeyButNoGrantGetsNothingOfTheNamespaceAndWhatItSignsIsRefusedEverywhere() throws Exception {
    // Node keys made before the start, so each node's allowlist can name the other.
    AgentKey key1 = NodeKeyFile.loadOrCreate(dir.resolve("n1"));
    AgentKey key2 = NodeKeyFile.loadOrCreate(dir.resolve("n2"));
    AgentKey rogueKey = NodeKeyFile.loadOrCreate(dir.resolve("rogue"));
    Map<String, String> env = new HashMap<>(ENV);
    env.put("MNEMO_REPLICATION_PEERS", key1.did() + "," + key2.did());
    nodes.addAll(Cluster.start(dir, List.of("n1", "n2"), env));
    NodeProcess n1 = nodes.get(0);
    NodeProcess n2 = nodes.get(1);

    // Its own owner agent, and it trusts every node (MNEMO_REPLICATION_PEERS=*, NodeProcess's default).
    NodeProcess rogue = NodeProcess.create("rogue", dir.resolve("rogue"), List.of(n1.gossip()), ENV);
    nodes.add(rogue);
    rogue.start();
    fake = new FakePeer(n1.gossip());
    Await.until(Duration.ofSeconds(30), "n1, n2, the rogue node and the fake peer all see each other",
        () -> n1.peerCount() == 3 && n2.peerCount() == 3 && rogue.peerCount() == 3 && fake.peers().size() == 3,
        () -> nodes.stream().map(n -> n.name() + " peers " + n.info().path("peers")).collect(Collectors.joining("\n"))
            + "\nfake peers " + fake.peers());

    // The namespace, written on both allowlisted nodes while the rogues are members.
    Set<String> memories = new LinkedHashSet<>();
    Set<Cid> entries = new LinkedHashSet<>();
    for (int i = 0; i < 4; i++) {
      NodeProcess writer = nodes.get(i % 2);
      memories.add(writer.api().remember(NS, memory("guarded memory " + i, TestVectors.random(i))));
      writer.heads(NS).forEach(h -> entries.add(cid(h)));
      Await.until(CONVERGE, "n1 and n2 agree on " + NS + " after write " + i,
          () -> n1.memorySet(NS).equals(memories) && n2.memorySet(NS).equals(memories) && n1.heads(NS).equals(n2.heads(NS)));
    }
    Set<String> heads = n1.heads(NS);
    // Control: a namespace that grants the rogue node replicate reaches it.
    String open = n1.api().remember(OPEN, memory("a memory the rogue may replicate", TestVectors.random(50)));
    Response granted = n1.api().post("/v1/namespaces/" + OPEN + "/grants",
        Map.of("to", rogueKey.did().toString(), "can", List.of("replicate")));
    assertThat(granted.status()).as("%s", granted).isEqualTo(201);
    Await.until(CONVERGE, "the rogue node replicates " + OPEN + ", whose owner granted it replicate",
        () -> rogue.heads(OPEN).equals(n1.heads(OPEN)), () -> "rogue " + rogue.info());
    NodeProcess.sleep(2_000); // more anti-entropy rounds (500 ms) of every member with every other

    // What the rogue node got of NS: nothing.
    JsonNode info = rogue.info();
    assertThat(namespaces(info)).as("namespaces on the rogue node").contains(OPEN).doesNotContain(NS);
    for (String cid : memories) {
      assertThat(rogue.api().get("/v1/memories/" + cid).status()).as("memory %s on the rogue", cid).isEqualTo(404);
      assertThat(rogue.api().get("/v1/blocks/" + cid).status()).as("block %s on the rogue", cid).isEqualTo(404);
    }
    for (Cid entry : entries) {
      assertThat(rogue.api().get("/v1/blocks/" + entry).status()).as("entry %s on the rogue", entry).isEqualTo(404);
    }
    assertThat(fake.announcements()).as("announcements the fake peer heard").noneMatch(a -> a.ns().equals(NS));

    // Asked directly, with requests the rogue signs with its own valid key: no head, no block.
    List<Cid> asked = new ArrayList<>(entries);
    memories.forEach(m -> asked.add(cid(m)));
    for (NodeProcess node : List.of(n1, n2)) {
      HeadsDigest digest = HeadsDigest.decode(signed(node, rogueKey, "GET", "/v1/sync/heads", null).body());
      assertThat(digest.namespaces()).as("heads digest %s gives the rogue", node).containsKey(OPEN).doesNotContainKey(NS);
      assertThat(carBlocks(signed(node, rogueKey, "POST", "/v1/sync/blocks", new BlockRequest(asked).encode())))
          .as("blocks %s gives the rogue", node).isEmpty();
      for (Cid cid : asked) {
        assertThat(signed(node, rogueKey, "GET", "/v1/blocks/" + cid, null).status()).as("GET /v1/blocks/%s from %s", cid, node)
            .isEqualTo(404);
      }
      // Control: the same requests signed by the other allowlisted node get it all.
      AgentKey other = node == n1 ? key2 : key1;
      assertThat(HeadsDigest.decode(signed(node, other, "GET", "/v1/sync/heads", null).body()).namespaces())
          .as("heads digest %s gives its allowlisted peer", node).containsKey(NS);
      assertThat(carBlocks(signed(node, other, "POST", "/v1/sync/blocks", new BlockRequest(asked).encode())))
          .as("blocks %s gives its allowlisted peer", node).hasSize(asked.size());
    }

    // Entries the fake peer forges into NS on top of the real heads, validly signed with its own
    // key: an add (needs remember) and a grant of replicate to itself (needs admin).
    List<Cid> parents = heads.stream().map(RogueNodeTest::cid).toList();
    long clock = Math.max(clock(n1, NS), 1);
    AgentKey fakeKey = fake.key();
    Block forgedMemory = Block.dagCbor(new Memory(NS, "planted by the rogue", Map.of(), List.of(), 1_700_000_000_000L,
        new Embedding("client", TestVectors.random(99)), null).encode());
    Block forgedAdd = Block.dagCbor(LogEntry.signed(fakeKey, NS, Op.ADD, List.of(forgedMemory.cid()), parents, clock + 1).encode());
    Block forgedGrant = Block.dagCbor(LogEntry.signed(dev.mnemo.store.identity.Author.of(fakeKey), NS, Op.GRANT, List.of(),
        parents, clock + 1, fakeKey.did(), Set.of(Ability.REPLICATE)).encode());
    record Forgery(String name, Block head, Map<Cid, byte[]> blocks, String reason) {}
    List<Forgery> forgeries = List.of(
        new Forgery("an add", forgedAdd, Map.of(forgedAdd.cid(), forgedAdd.data(), forgedMemory.cid(), forgedMemory.data()),
            "does not hold 'remember'"),
        new Forgery("a grant to itself", forgedGrant, Map.of(forgedGrant.cid(), forgedGrant.data()), "does not hold 'admin'"));
    for (Forgery forgery : forgeries) {
      Map<NodeProcess, Long> before = rejected(n1, n2);
      fake.serve(NS, new FakePeer.Offer(Map.of(NS, List.of(forgery.head().cid())), new LinkedHashMap<>(forgery.blocks())));
      String line = "rejected data from " + fake.url() + " for " + NS + ": rejected " + forgery.head().cid() + ": unauthorized: "
          + fakeKey.did() + " " + forgery.reason();
      for (NodeProcess node : List.of(n1, n2)) {
        Await.until(CONVERGE, node + " refuses the fake peer's " + forgery.name() + " and counts it",
            () -> node.log().contains(line) && node.sync().path("rejected").asLong() > before.get(node),
            () -> node + " sync " + node.sync() + "\nfake peer requests " + fake.requests() + "\nexpected log line: " + line);
      }
    }

    // The rogue node's own owner writes to NS on the rogue: a second root, by another author.
    Map<NodeProcess, Long> before = rejected(n1, n2);
    String planted = rogue.api().remember(NS, memory("the rogue's own root", TestVectors.random(98)));
    // Its head is the grant of replicate to the rogue node that creating NS there wrote; the
    // entry before it is the root every replica refuses (and so everything after it).
    Cid rogueHeadCid = cid(singleHead(rogue, NS));
    LogEntry rogueHead = LogEntry.decode(rogue.api().get("/v1/blocks/" + rogueHeadCid).body());
    assertThat(rogueHead.op()).isEqualTo(Op.GRANT);
    Cid rogueRoot = rogueHead.parents().get(0);
    String line = "rejected data from " + rogue.url() + " for " + NS + ": rejected " + rogueRoot + ": namespace " + NS
        + " already exists";
    for (NodeProcess node : List.of(n1, n2)) {
      Await.until(CONVERGE, node + " refuses the rogue node's root entry and counts it",
          () -> node.log().contains(line) && node.sync().path("rejected").asLong() > before.get(node),
          () -> node + " sync " + node.sync() + "\nexpected log line: " + line);
    }

    // Nothing of either rogue on n1 or n2: same heads, same memories, no forged block.
    for (NodeProcess node : List.of(n1, n2)) {
      assertThat(node.heads(NS)).as("heads of %s on %s", NS, node).isEqualTo(heads);
      assertThat(node.memorySet(NS)).as("memories of %s on %s", NS, node).isEqualTo(memories);
      for (Cid cid : List.of(forgedAdd.cid(), forgedMemory.cid(), forgedGrant.cid(), rogueRoot, cid(planted))) {
        assertThat(node.api().get("/v1/blocks/" + cid).status()).as("block %s on %s", cid, node).isEqualTo(404);
      }
      assertThat(node.api().recallCids(NS, Map.of("vector", TestVectors.random(99), "k", 10, "mode", "vector")))
          .as("recall on %s near the planted memory", node).doesNotContain(forgedMemory.cid().toString(), planted);
      assertThat(node.sync().path("entriesApplied").asLong()).as("entries %s applied", node).isPositive();
      assertThat(MaliciousPeerTest.metric(node.metrics(), "mnemo_sync_rejected_total")).as("mnemo_sync_rejected_total of %s", node)
          .isGreaterThanOrEqualTo(3);
    }

    // The rogue node's store: none of NS's real blocks or entries, only its own root.
    rogue.stop();
    try (MnemoStore store = MnemoStore.open(rogue.dataDir())) {
      for (Cid cid : asked) {
        assertThat(store.blocks().get(cid)).as("block %s in the rogue's store", cid).isEmpty();
        assertThat(store.log().position(cid)).as("entry %s in the rogue's log", cid).isEmpty();
      }
      assertThat(store.log().heads(NS)).as("the rogue's heads of %s", NS).containsExactly(rogueHeadCid);
    }
  }

  /** A request signed as the node of {@code key} ({@link PeerAuth}) to {@code to}. */
  private static Response signed(NodeProcess to, AgentKey key, String method, String path, byte[] body) throws Exception {
    DidKey audience = DidKey.parse(to.info().path("id").asText());
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(to.url() + path)).timeout(Duration.ofSeconds(30))
        .header("Authorization", new PeerAuth(key).sign(audience, method, path, body))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
    if (body != null) {
      request.header("Content-Type", "application/vnd.ipld.dag-cbor");
    }
    HttpResponse<byte[]> r = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    return new Response(method + " " + path + " signed by " + key.did(), r.statusCode(),
        r.headers().firstValue("Content-Type").orElse(""), r.body());
  }

  private static List<Cid> carBlocks(Response r) throws IOException {
    assertThat(r.status()).as("%s", r).isEqualTo(200);
    List<Cid> cids = new ArrayList<>();
    CarReader reader = new CarReader(new ByteArrayInputStream(r.body()));
    for (Block block = reader.next(); block != null; block = reader.next()) {
      cids.add(block.cid());
    }
    return cids;
  }

  private static Set<String> namespaces(JsonNode info) {
    Set<String> names = new LinkedHashSet<>();
    info.path("namespaces").forEach(n -> names.add(n.path("name").asText()));
    return names;
  }

  private static long clock(NodeProcess node, String ns) {
    for (JsonNode n : node.info().path("namespaces")) {
      if (n.path("name").asText().equals(ns)) {
        return n.path("clock").asLong();
      }
    }
    throw new AssertionError("no " + ns + " on " + node);
  }

  private static Map<NodeProcess, Long> rejected(NodeProcess... nodes) {
    Map<NodeProcess, Long> counts = new HashMap<>();
    for (NodeProcess node : nodes) {
      counts.put(node, node.sync().path("rejected").asLong());
    }
    return counts;
  }

  private static Cid cid(String text) {
    try {
      return Cid.parse(text);
    } catch (IOException e) {
      throw new AssertionError(text, e);
    }
  }

  private static String singleHead(NodeProcess node, String ns) {
    Set<String> heads = node.heads(ns);
    assertThat(heads).as("heads of %s on %s", ns, node).hasSize(1);
    return heads.iterator().next();
  }
}
