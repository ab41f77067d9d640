package dev.mnemo.node.sync;

import static dev.mnemo.node.ApiClient.assertError;
import static dev.mnemo.node.sync.NodeProcess.memory;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mnemo.node.ApiClient;
import dev.mnemo.node.ApiClient.Response;
import dev.mnemo.node.TestVectors;
import dev.mnemo.node.auth.AgentKeyFile;
import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.acl.Ability;
import dev.mnemo.store.acl.Delegation;
import dev.mnemo.store.block.Block;
import dev.mnemo.store.car.CarReader;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.identity.AgentKey;
import dev.mnemo.store.identity.Author;
import dev.mnemo.store.identity.DidKey;
import dev.mnemo.store.identity.NodeKeyFile;
import dev.mnemo.store.log.MemoryState;
import dev.mnemo.store.log.NamespaceLog;
import dev.mnemo.store.model.Embedding;
import dev.mnemo.store.model.LogEntry;
import dev.mnemo.store.model.Memory;
import dev.mnemo.store.model.Op;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Agents, grants and revocations across real node processes (issue 17, "Tests"). Three nodes share
 * one owner agent A (one operator's nodes, {@link Cluster#withSharedOwner}); n2 is reachable only
 * through proxies the tests cut and heal. Other agents are hosted on n2 alone (created through n2's
 * admin API), so every other node learns what they write only from the replicated, signed log, and
 * decides by the namespace's grants and revocations in that log whether to count it.
 *
 * <p>The last test stops the nodes, to read their stores; it runs last.
 */
@ExtendWith(NodeLogsOnFailure.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AgentGrantsClusterTest {
  /**
   * The recall index commits only at a clean stop, so a node killed mid-test rebuilds it from the
   * log on restart, replaying every add, and every revoke that voided some, in log order.
   */
  private static final Map<String, String> ENV = Map.of("MNEMO_ANTI_ENTROPY_MS", "1000",
      "MNEMO_INDEX_COMMIT_INTERVAL_MS", "3600000");
  private static final Duration CONVERGE = Duration.ofSeconds(20);

  @TempDir static Path dir;
  private static Cluster.Proxied cluster;
  private static NodeProcess n1;
  private static NodeProcess n2;
  private static NodeProcess n3;
  private static AgentKey owner;

  @BeforeAll
  static void start() throws IOException {
    cluster = Cluster.startProxied(dir, List.of("n1", "n2", "n3"), 1, ENV);
    n1 = cluster.nodes().get(0);
    n2 = cluster.nodes().get(1);
    n3 = cluster.nodes().get(2);
    owner = AgentKeyFile.read(dir.resolve("owner.key"));
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  /** Each test starts from a whole cluster. */
  @BeforeEach
  void whole() {
    cluster.heal();
    Cluster.awaitMembership(cluster.nodes(), Duration.ofSeconds(30));
  }

  /**
   * A's namespace, replicated to n2: an agent of n2 without a grant gets 403 on every route of it
   * there, 404 for its memories' and entries' CIDs, and writes nothing.
   */
  @Test
  @Order(1)
  void anAgentWithoutAGrantIsRefusedEveryRouteOfAReplicatedNamespace() {
    String ns = "a-only";
    float[] vector = TestVectors.random(10);
    String cid = n1.api().remember(ns, memory("A's memory, written on n1", vector));
    Await.until(CONVERGE, "n2 has A's memory", () -> n2.api().get("/v1/memories/" + cid).status() == 200);
    String entry = single(n2.heads(ns));
    Agent bobAgent = agent(n2, "bob");
    ApiClient bob = bobAgent.api();
    JsonNode whoami = bob.getJson("/v1/whoami");
    assertThat(whoami.path("did").asText()).as("bob's whoami on n2").isEqualTo(bobAgent.did().toString());

    long logPosition = n2.info().path("index").path("logPosition").asLong();
    byte[] export = n2.api().get("/v1/namespaces/" + ns + "/export").body();
    String base = "/v1/namespaces/" + ns;
    List<Response> refused = List.of(
        bob.post(base + "/memories", memory("bob's intrusion", TestVectors.random(11))),
        bob.post(base + "/memories", Map.of("memories", List.of(memory("bob's batch", TestVectors.random(12))))),
        bob.post(base + "/recall", Map.of("vector", vector, "k", 5, "mode", "vector")),
        bob.get(base + "/memories"),
        bob.delete(base + "/memories/" + cid),
        bob.get(base + "/export"),
        bob.postRaw(base + "/import", ApiClient.CAR_TYPE, export),
        bob.post(base + "/grants", Map.of("to", bobAgent.did().toString(), "can", List.of("remember"))),
        bob.post(base + "/revocations", Map.of("to", owner.did().toString(), "can", List.of("read"))),
        bob.get(base + "/acl"));
    for (Response r : refused) {
      assertError(r, 403, "forbidden");
    }
    // Creating it is a conflict: the name is not secret (README), its memories are.
    assertError(bob.send("PUT", base, null, java.net.http.HttpRequest.BodyPublishers.noBody()), 409, "namespace_exists");
    for (String c : List.of(cid, entry)) {
      assertError(bob.get("/v1/memories/" + c), 404, "not_found");
      assertError(bob.get("/v1/memories/" + c + "/history"), 404, "not_found");
      assertError(bob.get("/v1/blocks/" + c), 404, "not_found");
    }
    // Control: the owner reads the same CIDs on the same node.
    assertThat(n2.api().get("/v1/memories/" + cid + "/history").status()).isEqualTo(200);
    assertThat(n2.api().get("/v1/blocks/" + entry).status()).isEqualTo(200);

    assertThat(n2.info().path("index").path("logPosition").asLong()).as("n2's log position").isEqualTo(logPosition);
    assertThat(n2.heads(ns)).as("heads on n2").containsExactly(entry);
    NodeProcess.sleep(1_500); // an anti-entropy round: nothing of bob's reaches the others either
    for (NodeProcess node : cluster.nodes()) {
      assertThat(node.memorySet(ns)).as("memories on %s", node).containsExactly(cid);
      assertThat(node.heads(ns)).as("heads on %s", node).containsExactly(entry);
    }
  }

  /**
   * The owner writes its namespace's first memory on n1 and on n2 while they are cut off from each
   * other: two root entries by the same agent. Once healed, both writes must be on every node.
   */
  @Test
  @Order(2)
  void concurrentFirstWritesByTheOwnerOnTwoNodesConverge() {
    String ns = "two-roots";
    cluster.partition();
    cluster.awaitPartitioned(Duration.ofSeconds(30));
    float[] v1 = TestVectors.random(20);
    float[] v2 = TestVectors.random(21);
    String onN1 = n1.api().remember(ns, memory("first write, on n1", v1));
    String onN2 = n2.api().remember(ns, memory("first write, on n2", v2));
    Set<String> both = Set.of(onN1, onN2);
    cluster.heal();
    Await.until(CONVERGE, "both first writes on every node, with the same heads",
        () -> cluster.nodes().stream().allMatch(n -> n.memorySet(ns).equals(both) && n.heads(ns).equals(n1.heads(ns))),
        () -> state(ns));
    for (NodeProcess node : cluster.nodes()) {
      assertThat(node.top(ns, v1)).as("recall on %s", node).isEqualTo(onN1);
      assertThat(node.top(ns, v2)).as("recall on %s", node).isEqualTo(onN2);
    }
  }

  /**
   * A grants carol (hosted on n2) remember and read; carol's writes on n2 reach every node. Then n2
   * is cut off, A revokes carol on n1 and carol keeps writing on n2, which does not know of the
   * revoke. After the heal every node has the same heads and the same live memories: carol's
   * writes from before the revoke stay, those concurrent with it are void everywhere (stored and
   * served as entries, so the DAG stays whole, but not listed, read, recalled or exported), and
   * carol's token no longer writes or reads.
   */
  /**
   * Forgets are decided by the causal check alone: dave, granted forget, forgets A's memory on n2
   * while cut off, concurrently with A's revoke of dave on n1. The forget applies on every node
   * (forgetting erases blocks where it applied first, so no replica could undo it), and dave can
   * forget nothing after the heal.
   */
  @Test
  @Order(3)
  void aForgetConcurrentWithItsAuthorsRevocationStillAppliesEverywhere() {
    String ns = "forget-vs-revoke";
    float[] keepVector = TestVectors.random(60);
    float[] goneVector = TestVectors.random(61);
    String keep = n1.api().remember(ns, memory("A's memory that stays", keepVector));
    String gone = n1.api().remember(ns, memory("A's memory that dave forgets", goneVector));
    Await.until(CONVERGE, "n2 has both memories", () -> n2.memorySet(ns).equals(Set.of(keep, gone)));
    Agent dave = agent(n2, "dave");
    grant(n1.api(), ns, dave.did(), "read", "forget");
    Await.until(CONVERGE, "the grant reaches n2: dave may read there",
        () -> dave.api().get("/v1/namespaces/" + ns + "/memories").status() == 200);

    cluster.partition();
    cluster.awaitPartitioned(Duration.ofSeconds(30));
    revoke(n1.api(), ns, dave.did(), "read", "forget");
    Await.until(CONVERGE, "n3 has the revoke", () -> n3.heads(ns).equals(n1.heads(ns)), () -> state(ns));
    Response forgot = dave.api().delete("/v1/namespaces/" + ns + "/memories/" + gone);
    assertThat(forgot.status()).as("%s", forgot).isEqualTo(200);

    cluster.heal();
    Await.until(CONVERGE, "the forget applies on every node, with the same heads",
        () -> cluster.nodes().stream().allMatch(n -> n.heads(ns).equals(n1.heads(ns)) && n.memorySet(ns).equals(Set.of(keep))),
        () -> state(ns));
    for (NodeProcess node : cluster.nodes()) {
      assertError(node.api().get("/v1/memories/" + gone), 404, "not_found");
      assertThat(node.api().get("/v1/blocks/" + gone).status()).as("the forgotten block on %s", node).isEqualTo(404);
      assertThat(node.api().recallCids(ns, Map.of("vector", goneVector, "k", 10, "mode", "vector")))
          .as("recall on %s", node).containsExactly(keep);
    }
    assertError(dave.api().delete("/v1/namespaces/" + ns + "/memories/" + keep), 403, "forbidden");
  }

  /**
   * Voiding is transitive across nodes. A makes erin (of n2) an admin; erin grants frank remember,
   * and frank writes. Then, with n2 cut off, A revokes erin's admin on n1 while on n2 erin grants
   * harry remember and harry writes. After the heal every node agrees: erin's grant from before the
   * revoke stands (it is in the revoke's past), so frank's writes stay live, even those made during
   * the cut; erin's grant concurrent with the revoke is void, and so are harry's writes that relied
   * on it. Needs the grant API ({@code POST /v1/namespaces/{ns}/grants}) for erin's grants.
   */
  @Test
  @Order(4)
  void revokingAnAdminVoidsItsConcurrentGrantsAndTheWritesThatReliedOnThem() throws IOException {
    String ns = "admin-chain";
    String a0 = n1.api().remember(ns, memory("A's first memory", TestVectors.random(70)));
    Await.until(CONVERGE, "n2 has A's memory", () -> n2.api().get("/v1/memories/" + a0).status() == 200);
    Agent erin = agent(n2, "erin");
    Agent frank = agent(n2, "frank");
    Agent harry = agent(n2, "harry");
    grant(n1.api(), ns, erin.did(), "admin");
    Await.until(CONVERGE, "the grant reaches n2: erin may read there",
        () -> erin.api().get("/v1/namespaces/" + ns + "/memories").status() == 200);
    grant(erin.api(), ns, frank.did(), "remember", "read");
    String f0 = frank.api().remember(ns, memory("frank before the revoke", vector(300)));
    Await.until(CONVERGE, "frank's write on every node",
        () -> cluster.nodes().stream().allMatch(n -> n.memorySet(ns).contains(f0)), () -> state(ns));

    cluster.partition();
    cluster.awaitPartitioned(Duration.ofSeconds(30));
    revoke(n1.api(), ns, erin.did(), "admin");
    Await.until(CONVERGE, "n3 has the revoke", () -> n3.heads(ns).equals(n1.heads(ns)), () -> state(ns));
    String voidGrant = grant(erin.api(), ns, harry.did(), "remember", "read");
    List<String> harrys = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      harrys.add(harry.api().remember(ns, memory("harry on the concurrent grant " + i, vector(310 + i))));
    }
    String f1 = frank.api().remember(ns, memory("frank during the cut", vector(301)));
    assertThat(n2.memorySet(ns)).as("n2 during the cut").containsAll(harrys);

    cluster.heal();
    Set<String> live = Set.of(a0, f0, f1);
    Await.until(CONVERGE, "every node has the same heads and the live memories " + live,
        () -> cluster.nodes().stream().allMatch(n -> n.heads(ns).equals(n1.heads(ns)) && n.memorySet(ns).equals(live)),
        () -> "harry's void writes " + harrys + "\n" + state(ns));
    for (NodeProcess node : cluster.nodes()) {
      for (int i = 0; i < harrys.size(); i++) {
        assertError(node.api().get("/v1/memories/" + harrys.get(i)), 404, "not_found");
        assertThat(node.api().recallCids(ns, Map.of("vector", vector(310 + i), "k", 10, "mode", "vector")))
            .as("recall on %s near harry's void write %d", node, i).doesNotContainAnyElementsOf(harrys);
      }
      assertThat(node.top(ns, vector(301))).as("frank's write during the cut, on %s", node).isEqualTo(f1);
      assertThat(node.api().get("/v1/blocks/" + voidGrant).status()).as("erin's void grant served by %s", node)
          .isEqualTo(200);
      JsonNode acl = node.api().getJson("/v1/namespaces/" + ns + "/acl");
      assertThat(acl.path("grants").has(frank.did().toString())).as("frank's grant on %s: %s", node, acl).isTrue();
      assertThat(acl.path("grants").has(erin.did().toString())).as("erin's admin on %s: %s", node, acl).isFalse();
      assertThat(acl.path("grants").has(harry.did().toString())).as("harry's void grant on %s: %s", node, acl).isFalse();
    }
    assertError(harry.api().post("/v1/namespaces/" + ns + "/memories", memory("harry after the heal", TestVectors.random(71))),
        403, "forbidden");
    assertError(erin.api().post("/v1/namespaces/" + ns + "/grants", Map.of("to", harry.did().toString(), "can", List.of("read"))),
        403, "forbidden");
  }

  /**
   * A revoke wins over a grant concurrent with it, even one by the owner: with n2 cut off, A revokes
   * gina on n1 and grants her remember again on n2; gina's write on n2 that relied on it is void
   * everywhere after the heal, and she may not write. A grant made after the revoke, with the
   * revoke in its past, counts again, on every node.
   */
  @Test
  @Order(5)
  void aRevokeWinsOverAConcurrentGrantAndAGrantAfterItCountsAgain() {
    String ns = "regrant";
    String a0 = n1.api().remember(ns, memory("A's first memory", TestVectors.random(80)));
    Await.until(CONVERGE, "n2 has A's memory", () -> n2.api().get("/v1/memories/" + a0).status() == 200);
    Agent gina = agent(n2, "gina");
    grant(n1.api(), ns, gina.did(), "read", "remember");
    Await.until(CONVERGE, "the grant reaches n2: gina may read there",
        () -> gina.api().get("/v1/namespaces/" + ns + "/memories").status() == 200);
    String g0 = gina.api().remember(ns, memory("gina before the revoke", vector(400)));
    // In the revoke's past only once n1 has it.
    Await.until(CONVERGE, "gina's write on every node",
        () -> cluster.nodes().stream().allMatch(n -> n.memorySet(ns).contains(g0)), () -> state(ns));

    cluster.partition();
    cluster.awaitPartitioned(Duration.ofSeconds(30));
    revoke(n1.api(), ns, gina.did(), "read", "remember");
    String concurrentGrant = grant(n2.api(), ns, gina.did(), "remember");
    String g1 = gina.api().remember(ns, memory("gina on the concurrent grant", vector(401)));

    cluster.heal();
    Await.until(CONVERGE, "every node has the same heads and the live memories a0, g0",
        () -> cluster.nodes().stream().allMatch(n -> n.heads(ns).equals(n1.heads(ns)) && n.memorySet(ns).equals(Set.of(a0, g0))),
        () -> "gina's void write " + g1 + "\n" + state(ns));
    for (NodeProcess node : cluster.nodes()) {
      assertError(node.api().get("/v1/memories/" + g1), 404, "not_found");
      assertThat(node.api().get("/v1/blocks/" + concurrentGrant).status()).as("the concurrent grant on %s", node).isEqualTo(200);
      JsonNode acl = node.api().getJson("/v1/namespaces/" + ns + "/acl");
      assertThat(acl.path("grants").has(gina.did().toString())).as("gina in the acl of %s: %s", node, acl).isFalse();
    }
    assertError(gina.api().post("/v1/namespaces/" + ns + "/memories", memory("gina after the heal", TestVectors.random(81))),
        403, "forbidden");

    grant(n1.api(), ns, gina.did(), "read", "remember");
    Await.until(CONVERGE, "the grant after the revoke reaches n2: gina may read again",
        () -> gina.api().get("/v1/namespaces/" + ns + "/memories").status() == 200);
    String g2 = gina.api().remember(ns, memory("gina after the new grant", vector(402)));
    Await.until(CONVERGE, "gina's new write is live on every node, her void one still not",
        () -> cluster.nodes().stream().allMatch(n -> n.memorySet(ns).equals(Set.of(a0, g0, g2))), () -> state(ns));
    for (NodeProcess node : cluster.nodes()) {
      Await.until(Duration.ofSeconds(5), "gina's new write at rank 1 on " + node, () -> g2.equals(node.top(ns, vector(402))));
      assertThat(node.api().recallCids(ns, Map.of("vector", vector(401), "k", 10, "mode", "vector")))
          .as("recall on %s near gina's void write", node).doesNotContain(g1);
    }
  }

  /**
   * Self-custody across nodes: agent X keeps its key and delegates remember in the namespace to n2.
   * An entry by X, signed by n2's node key with X's delegation as its proof, is brought to n2 (a
   * CAR import by A) and replicates: every node verifies the chain (X granted remember by A, the
   * delegation by X to n2 covering the namespace and the ability, n2's signature) and counts the
   * memory. The same entry signed by n3's key under that delegation, or under a delegation that
   * covers forget only, is refused with nothing written.
   */
  @Test
  @Order(6)
  void anEntrySignedByANodeUnderAnAgentsDelegationIsVerifiedOnEveryNode() throws IOException {
    String ns = "self-custody";
    String a0 = n1.api().remember(ns, memory("A's first memory", TestVectors.random(90)));
    AgentKey x = AgentKey.generate();
    grant(n1.api(), ns, x.did(), "remember");
    Await.until(CONVERGE, "n2 has A's memory and the grant", () -> n2.heads(ns).equals(n1.heads(ns)), () -> state(ns));
    AgentKey key2 = NodeKeyFile.loadOrCreate(n2.dataDir());
    AgentKey key3 = NodeKeyFile.loadOrCreate(n3.dataDir());
    assertThat(key2.did().toString()).isEqualTo(n2.info().path("id").asText());
    byte[] toN2 = Delegation.sign(x, key2.did(), ns, Set.of(Ability.REMEMBER)).encode();
    byte[] forgetOnly = Delegation.sign(x, key2.did(), ns, Set.of(Ability.FORGET)).encode();

    List<Cid> parents = new ArrayList<>();
    n2.heads(ns).forEach(h -> parents.add(parse(h)));
    long clock = 0;
    for (JsonNode n : n2.info().path("namespaces")) {
      clock = n.path("name").asText().equals(ns) ? n.path("clock").asLong() : clock;
    }
    assertThat(clock).as("clock of %s on n2", ns).isPositive();
    Block memoryBlock = Block.dagCbor(new Memory(ns, "written by X through n2", Map.of(), List.of(), 1_700_000_000_000L,
        new Embedding("client", vector(500)), null).encode());
    for (Author wrong : List.of(new Author(x.did(), key3, toN2), new Author(x.did(), key2, forgetOnly))) {
      Block entry = Block.dagCbor(LogEntry.signed(wrong, ns, Op.ADD, List.of(memoryBlock.cid()), parents, clock + 1, null, null).encode());
      Response r = n2.api().postRaw("/v1/namespaces/" + ns + "/import", ApiClient.CAR_TYPE, car(entry, memoryBlock));
      assertThat(r.status()).as("%s", r).isEqualTo(422);
      assertThat(n2.api().get("/v1/blocks/" + entry.cid()).status()).as("refused entry on n2").isEqualTo(404);
    }
    assertThat(n2.heads(ns)).as("heads on n2 after the refusals").isEqualTo(n1.heads(ns));

    Block entry = Block.dagCbor(LogEntry.signed(new Author(x.did(), key2, toN2), ns, Op.ADD, List.of(memoryBlock.cid()), parents,
        clock + 1, null, null).encode());
    Response r = n2.api().postRaw("/v1/namespaces/" + ns + "/import", ApiClient.CAR_TYPE, car(entry, memoryBlock));
    assertThat(r.status()).as("%s", r).isEqualTo(200);
    assertThat(r.json().path("entriesApplied").asInt()).as("%s", r).isEqualTo(1);
    String xs = memoryBlock.cid().toString();
    for (NodeProcess node : cluster.nodes()) {
      Await.until(CONVERGE, "X's delegated write at rank 1 on " + node, () -> xs.equals(node.top(ns, vector(500))),
          () -> state(ns));
      assertThat(node.memorySet(ns)).as("memories on %s", node).containsExactlyInAnyOrder(a0, xs);
      LogEntry stored = LogEntry.decode(node.api().get("/v1/blocks/" + entry.cid()).body());
      assertThat(stored.author()).as("author of the entry on %s", node).isEqualTo(x.did());
      assertThat(stored.proof()).as("proof of the entry on %s", node).isEqualTo(toN2);
    }
  }

  @Test
  @Order(7)
  void aGrantLetsAnAgentWriteEverywhereAndARevokeWinsOverItsWritesDuringAPartition() throws IOException {
    String ns = "revoke-wins";
    float[] v0 = TestVectors.random(30);
    String a0 = n1.api().remember(ns, memory("A's first memory", v0));
    Await.until(CONVERGE, "n2 has A's memory", () -> n2.api().get("/v1/memories/" + a0).status() == 200);
    Agent carol = agent(n2, "carol");
    assertError(carol.api().post("/v1/namespaces/" + ns + "/memories", memory("before the grant", TestVectors.random(31))),
        403, "forbidden");

    String grant = grant(n1.api(), ns, carol.did(), "read", "remember");
    Await.until(CONVERGE, "the grant reaches n2: carol may read there",
        () -> carol.api().get("/v1/namespaces/" + ns + "/memories").status() == 200,
        () -> carol.api().get("/v1/namespaces/" + ns + "/memories") + "\nn2 heads " + n2.heads(ns) + ", grant " + grant);
    assertThat(carol.api().recallCids(ns, Map.of("vector", v0, "k", 1, "mode", "vector"))).as("carol's recall on n2")
        .containsExactly(a0);

    List<String> before = new ArrayList<>();
    List<Cid> beforeEntries = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      before.add(carol.api().remember(ns, memory("carol before the revoke " + i, vector(100 + i))));
      beforeEntries.add(Cid.parse(single(n2.heads(ns))));
    }
    for (NodeProcess node : cluster.nodes()) {
      for (int i = 0; i < before.size(); i++) {
        String cid = before.get(i);
        float[] v = vector(100 + i);
        Await.until(CONVERGE, "carol's write " + i + " at rank 1 on " + node, () -> cid.equals(node.top(ns, v)),
            () -> node + " memories " + node.memorySet(ns) + "\n" + state(ns));
      }
    }

    cluster.partition();
    cluster.awaitPartitioned(Duration.ofSeconds(30));
    String revoke = revoke(n1.api(), ns, carol.did(), "read", "remember");
    float[] vDuring = TestVectors.random(40);
    String aDuring = n1.api().remember(ns, memory("A's memory during the cut", vDuring));
    Await.until(CONVERGE, "n3 has the revoke and A's write", () -> n3.heads(ns).equals(n1.heads(ns)), () -> state(ns));
    List<String> after = new ArrayList<>();
    List<Cid> afterEntries = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      // n2 has not heard of the revoke: it takes the write, as any node would.
      after.add(carol.api().remember(ns, memory("carol after the revoke " + i, vector(200 + i))));
      afterEntries.add(Cid.parse(single(n2.heads(ns))));
    }
    assertThat(n2.memorySet(ns)).as("n2 during the cut").containsAll(after);

    cluster.heal();
    Set<String> live = new TreeSet<>(before);
    live.add(a0);
    live.add(aDuring);
    Await.until(CONVERGE, "every node has the same heads and the live memories " + live,
        () -> cluster.nodes().stream().allMatch(n -> n.heads(ns).equals(n1.heads(ns)) && n.memorySet(ns).equals(live)),
        () -> "carol's void writes " + after + "\n" + state(ns));
    Set<String> heads = n1.heads(ns);
    assertThat(heads).as("heads after the heal: A's write and carol's last").hasSize(2)
        .contains(afterEntries.get(afterEntries.size() - 1).toString());

    for (NodeProcess node : cluster.nodes()) {
      for (int i = 0; i < after.size(); i++) {
        String cid = after.get(i);
        assertError(node.api().get("/v1/memories/" + cid), 404, "not_found");
        List<String> recalled = node.api().recallCids(ns, Map.of("vector", vector(200 + i), "k", 10, "mode", "vector"));
        assertThat(recalled).as("recall on %s near carol's void write %d", node, i).doesNotContainAnyElementsOf(after)
            .containsAll(live);
        List<String> keyword = node.api().recallCids(ns, Map.of("query", "carol after the revoke", "k", 10, "mode", "keyword"));
        assertThat(keyword).as("keyword recall on %s", node).doesNotContainAnyElementsOf(after);
      }
      for (int i = 0; i < before.size(); i++) {
        assertThat(node.top(ns, vector(100 + i))).as("carol's write %d from before the revoke on %s", i, node)
            .isEqualTo(before.get(i));
      }
      for (Cid entry : afterEntries) {
        assertThat(node.api().get("/v1/blocks/" + entry).status()).as("carol's void entry %s served by %s", entry, node)
            .isEqualTo(200);
      }
      Set<String> exported = carBlocks(node.api().get("/v1/namespaces/" + ns + "/export"));
      assertThat(exported).as("the export of %s", node).containsAll(live).doesNotContainAnyElementsOf(after)
          .contains(revoke, grant);
    }
    assertError(carol.api().post("/v1/namespaces/" + ns + "/memories", memory("after the heal", TestVectors.random(50))),
        403, "forbidden");
    assertError(carol.api().get("/v1/namespaces/" + ns + "/memories"), 403, "forbidden");

    // The index is derived state: n2 indexed carol's later writes as live, then dropped them when
    // the revoke arrived. Killed and restarted, it replays its log, and must leave them out again.
    n2.kill();
    n2.start();
    for (int i = 0; i < after.size(); i++) {
      assertThat(n2.api().recallCids(ns, Map.of("vector", vector(200 + i), "k", 10, "mode", "vector")))
          .as("recall on n2, restarted after SIGKILL, near carol's void write %d", i).doesNotContainAnyElementsOf(after)
          .containsAll(live);
    }
    for (int i = 0; i < before.size(); i++) {
      assertThat(n2.top(ns, vector(100 + i))).as("carol's write %d from before the revoke on the restarted n2", i)
          .isEqualTo(before.get(i));
    }
    assertThat(n2.memorySet(ns)).as("memories on the restarted n2").isEqualTo(live);

    // A node that joins now gets the whole namespace in one pull, void entries among the rest
    // (revokes first, so carol's later adds arrive void, and may come without their memories).
    NodeProcess n4 = NodeProcess.create("n4", dir.resolve("n4"), List.of(n1.gossip()), Cluster.withSharedOwner(dir, ENV));
    List<NodeProcess> all = new ArrayList<>(cluster.nodes());
    all.add(n4);
    try {
      n4.start();
      Await.until(CONVERGE, "n4, joining late, has the same heads and live memories",
          () -> n4.heads(ns).equals(heads) && n4.memorySet(ns).equals(live),
          () -> "n4: heads " + n4.heads(ns) + ", memories " + n4.memorySet(ns) + ", sync " + n4.sync() + "\n" + state(ns));
      for (int i = 0; i < after.size(); i++) {
        assertError(n4.api().get("/v1/memories/" + after.get(i)), 404, "not_found");
        assertThat(n4.api().recallCids(ns, Map.of("vector", vector(200 + i), "k", 10, "mode", "vector")))
            .as("recall on n4 near carol's void write %d", i).doesNotContainAnyElementsOf(after);
      }
      for (int i = 0; i < before.size(); i++) {
        float[] v = vector(100 + i);
        String cid = before.get(i);
        Await.until(Duration.ofSeconds(5), "carol's write " + i + " at rank 1 on n4", () -> cid.equals(n4.top(ns, v)));
      }

      // What each store holds: carol's entries all stored; those concurrent with the revoke void.
      for (NodeProcess node : all) {
        // A JVM that ran its shutdown hooks on SIGTERM exits with 128 + 15.
        assertThat(node.stop()).as("exit status of %s", node).isIn(0, 143);
      }
    } finally {
      n4.close();
    }
    for (NodeProcess node : all) {
      try (MnemoStore store = MnemoStore.open(node.dataDir())) {
        NamespaceLog log = store.log();
        for (Cid entry : beforeEntries) {
          assertThat(log.position(entry)).as("%s on %s", entry, node).isPresent();
          assertThat(log.isVoid(entry)).as("carol's entry %s from before the revoke is void on %s", entry, node).isFalse();
        }
        for (Cid entry : afterEntries) {
          assertThat(log.position(entry)).as("%s on %s", entry, node).isPresent();
          assertThat(log.isVoid(entry)).as("carol's entry %s concurrent with the revoke is void on %s", entry, node).isTrue();
        }
        for (String cid : after) {
          assertThat(log.state(ns, Cid.parse(cid))).as("state of %s on %s", cid, node).isNotEqualTo(MemoryState.LIVE);
        }
        for (String cid : live) {
          assertThat(log.state(ns, Cid.parse(cid))).as("state of %s on %s", cid, node).isEqualTo(MemoryState.LIVE);
        }
        assertThat(log.acl(ns).can(carol.did(), Ability.REMEMBER)).as("carol may remember, per %s", node).isFalse();
        assertThat(log.acl(ns).isOwner(owner.did())).as("A owns the namespace, per %s", node).isTrue();
      }
    }
  }

  /** {@code POST /v1/namespaces/{ns}/grants} as {@code as}; returns the grant entry's CID. */
  static String grant(ApiClient as, String ns, DidKey to, String... can) {
    Response r = as.post("/v1/namespaces/" + ns + "/grants", Map.of("to", to.toString(), "can", List.of(can)));
    assertThat(r.status()).as("%s", r).isEqualTo(201);
    String entry = r.json().path("entry").asText();
    assertThat(entry).as("%s", r).startsWith("bafyrei");
    return entry;
  }

  /** {@code POST /v1/namespaces/{ns}/revocations} as {@code as}; returns the revoke entry's CID. */
  static String revoke(ApiClient as, String ns, DidKey to, String... can) {
    Response r = as.post("/v1/namespaces/" + ns + "/revocations", Map.of("to", to.toString(), "can", List.of(can)));
    assertThat(r.status()).as("%s", r).isEqualTo(200);
    String entry = r.json().path("entry").asText();
    assertThat(entry).as("%s", r).startsWith("bafyrei");
    return entry;
  }

  private static byte[] car(Block root, Block... more) throws IOException {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    dev.mnemo.store.car.CarWriter writer = new dev.mnemo.store.car.CarWriter(out, List.of(root.cid()));
    writer.write(root);
    for (Block block : more) {
      writer.write(block);
    }
    return out.toByteArray();
  }

  private static Cid parse(String cid) {
    try {
      return Cid.parse(cid);
    } catch (IOException e) {
      throw new AssertionError(cid, e);
    }
  }

  /** A hosted agent: its did, and a client sending its token. */
  record Agent(DidKey did, ApiClient api) {}

  /** Creates an agent hosted on {@code node}, through the node's admin API. */
  static Agent agent(NodeProcess node, String name) {
    Response r = node.api().post("/v1/agents", Map.of("name", name));
    assertThat(r.status()).as("%s", r).isEqualTo(201);
    try {
      return new Agent(DidKey.parse(r.json().path("did").asText()), node.api().withToken(r.json().path("token").asText()));
    } catch (IOException e) {
      throw new AssertionError(r.toString(), e);
    }
  }

  private static String single(Set<String> heads) {
    assertThat(heads).as("heads").hasSize(1);
    return heads.iterator().next();
  }

  private static float[] vector(int i) {
    return TestVectors.random(1_000_000L + i);
  }

  /** The CIDs of every block of a CAR answer. */
  static Set<String> carBlocks(Response r) throws IOException {
    assertThat(r.status()).as("%s", r).isEqualTo(200);
    Set<String> cids = new HashSet<>();
    CarReader reader = new CarReader(new ByteArrayInputStream(r.body()));
    for (Block block = reader.next(); block != null; block = reader.next()) {
      cids.add(block.cid().toString());
    }
    return cids;
  }

  private static String state(String ns) {
    return cluster.nodes().stream().map(n -> {
      try {
        JsonNode info = n.info();
        return n.name() + ": memories " + n.memorySet(ns) + ", heads " + NodeProcess.heads(info, ns)
            + ", peers alive " + n.peerCount() + ", sync " + info.path("sync");
      } catch (RuntimeException | AssertionError e) {
        return n.name() + ": " + e;
      }
    }).collect(Collectors.joining("\n"));
  }
}
