package dev.mnemo.node.sync;

import static dev.mnemo.node.sync.NodeProcess.memory;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mnemo.node.ApiClient;
import dev.mnemo.node.TestVectors;
import dev.mnemo.store.block.Block;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.identity.AgentKey;
import dev.mnemo.store.model.Embedding;
import dev.mnemo.store.model.LogEntry;
import dev.mnemo.store.model.Memory;
import dev.mnemo.store.model.Op;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A peer that keeps serving bad data (here a tampered memory block) was pulled again every
 * anti-entropy round: 80 rejections and 80 warnings in 30 s. The node backs off from it
 * (exponentially, capped), logs one line per back-off step, shows the back-off in GET /v1/node,
 * and lets an admin, and only an admin, clear it.
 */
@ExtendWith(NodeLogsOnFailure.class)
class BadPeerBackoffTest {
  private static final String NS = "victim";
  private static final long ROUND_MS = 300;

  @TempDir Path dir;
  private NodeProcess node;
  private FakePeer fake;

  @AfterEach
  void stop() {
    if (fake != null) {
      fake.close();
    }
    if (node != null) {
      node.close();
    }
  }

  @Test
  void aPeerServingBadDataIsBackedOffFromVisiblyAndAnAdminCanClearIt() throws Exception {
    node = NodeProcess.create("node", dir.resolve("node"), List.of(), Map.of("MNEMO_ANTI_ENTROPY_MS", Long.toString(ROUND_MS)))
        .start();
    node.api().remember(NS, memory("the only real memory", TestVectors.random(1)));
    Cid h0 = Cid.parse(node.heads(NS).first());
    fake = new FakePeer(node.gossip());
    Await.until(Duration.ofSeconds(30), "the node and the fake peer see each other",
        () -> node.peerCount() == 1 && !fake.peers().isEmpty(), () -> "node peers " + node.info().path("peers"));

    Block memory = memoryBlock("forged memory", 11);
    Block entry = Block.dagCbor(LogEntry.signed(AgentKey.generate(), NS, Op.ADD, List.of(memory.cid()), List.of(h0), 2).encode());
    fake.serve(NS, new FakePeer.Offer(Map.of(NS, List.of(entry.cid())),
        Map.of(entry.cid(), entry.data(), memory.cid(), memoryBlock("tampered", 11).data())));
    Await.until(Duration.ofSeconds(15), "the node rejects the tampered block", () -> node.sync().path("rejected").asLong() > 0,
        () -> "sync " + node.sync());

    // 12 s is 40 anti-entropy rounds, each of which pulled from the only peer again; backing off
    // (1 s, then 2, 4, 8) leaves room for 4 or 5.
    long start = System.nanoTime();
    NodeProcess.sleep(12_000);
    long seconds = (System.nanoTime() - start) / 1_000_000_000;
    JsonNode sync = node.sync();
    long rejected = sync.path("rejected").asLong();
    System.out.println("rejections of the bad peer in about " + (seconds + 1) + " s: " + rejected);
    assertThat(rejected).as("rejections in %d s of %d ms rounds", seconds, ROUND_MS).isBetween(2L, 7L);
    long warnings = node.log().lines().filter(l -> l.contains("rejected data from " + fake.url())).count();
    // Read after the counter: a step may fall between the two reads.
    assertThat(warnings).as("warnings about the bad peer: one per back-off step").isBetween(rejected, rejected + 1);

    JsonNode backoff = only(sync.path("backoffs"));
    assertThat(backoff.path("did").asText()).isEqualTo(fake.key().did().toString());
    assertThat(backoff.path("http").asText()).isEqualTo(fake.url());
    assertThat(backoff.path("failures").asLong()).isEqualTo(rejected);
    assertThat(backoff.path("until").asLong()).as("until, epoch ms").isGreaterThan(System.currentTimeMillis() - 60_000);
    assertThat(backoff.path("lastReason").asText()).contains(memory.cid().toString()).contains("does not hash");
    JsonNode peer = only(node.info().path("peers"));
    assertThat(peer.path("backoff").path("failures").asLong()).as("the peer's back-off in peers[]").isBetween(rejected, rejected + 1);

    String route = "/v1/node/peers/" + fake.key().did() + "/backoff";
    String agentToken = node.api().post("/v1/agents", Map.of("name", "agent")).json().path("token").asText();
    ApiClient.assertError(new ApiClient(node.httpPort()).delete(route), 401, "unauthorized");
    ApiClient.assertError(node.api().withToken(agentToken).delete(route), 403, "forbidden");
    ApiClient.assertError(node.api().delete("/v1/node/peers/did:key:nonsense/backoff"), 400, "invalid_did");
    ApiClient.assertError(node.api().delete("/v1/node/peers/" + AgentKey.generate().did() + "/backoff"), 404, "not_found");
    assertThat(node.sync().path("backoffs")).as("back-offs after refused clears").hasSize(1);

    ApiClient.Response cleared = node.api().delete(route);
    assertThat(cleared.status()).as("%s", cleared).isEqualTo(200);
    assertThat(cleared.json().path("cleared").asBoolean()).isTrue();
    // Cleared: the peer is pulled from again at once (and, still serving bad data, backed off from anew).
    long before = node.sync().path("rejected").asLong();
    Await.until(Duration.ofSeconds(5), "the node pulls from the cleared peer again",
        () -> node.sync().path("rejected").asLong() > before, () -> "sync " + node.sync());
    assertThat(only(node.sync().path("backoffs")).path("failures").asLong()).as("failures after the clear").isEqualTo(1);
  }

  private static JsonNode only(JsonNode array) {
    assertThat(array.isArray() && array.size() == 1).as("one element in %s", array).isTrue();
    return array.get(0);
  }

  private static Block memoryBlock(String text, long seed) {
    Memory memory = new Memory(NS, text, Map.of(), List.of(), 1_700_000_000_000L,
        new Embedding("client", TestVectors.random(seed)), null);
    return Block.dagCbor(memory.encode());
  }
}
