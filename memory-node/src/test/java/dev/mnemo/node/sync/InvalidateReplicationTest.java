package dev.mnemo.node.sync;

import static dev.mnemo.node.sync.NodeProcess.memory;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mnemo.node.ApiClient.Response;
import dev.mnemo.node.TestVectors;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two node processes of one owner: an invalidate written on either node reaches the other's get
 * and recall, and two concurrent invalidates of one memory, written on both nodes at once, end
 * with both nodes agreeing on the earlier time and on the same heads.
 */
@ExtendWith(NodeLogsOnFailure.class)
class InvalidateReplicationTest {
  private static final String NS = "facts";
  private static final Duration CONVERGE = Duration.ofSeconds(20);
  private static final long T0 = 1_704_067_200_000L;

  @TempDir Path dir;
  private List<NodeProcess> nodes = List.of();

  @AfterEach
  void stop() {
    nodes.forEach(NodeProcess::close);
  }

  @Test
  void invalidatesReplicateAndConcurrentOnesConvergeOnTheEarliestTime() throws Exception {
    nodes = Cluster.start(dir, List.of("n1", "n2"), Map.of("MNEMO_ANTI_ENTROPY_MS", "500"));
    NodeProcess n1 = nodes.get(0);
    NodeProcess n2 = nodes.get(1);
    float[] vector = TestVectors.random(7);
    Map<String, Object> fact = memory("Bob lives in Paris", vector);
    fact.put("validFrom", T0);
    String cid = n1.api().remember(NS, fact);
    Await.until(CONVERGE, cid + " recallable on n2", () -> cid.equals(n2.top(NS, vector)), () -> state(cid));

    // Written on n2, read on n1.
    Response r = n2.api().post("/v1/namespaces/" + NS + "/memories/" + cid + "/invalidate", Map.of("at", T0 + 5_000));
    assertThat(r.status()).as("%s", r).isEqualTo(200);
    Await.until(CONVERGE, "n1 holds n2's invalidate", () -> invalidatedAt(n1, cid) == T0 + 5_000, () -> state(cid));
    for (NodeProcess node : nodes) {
      assertThat(validAt(node, vector, T0 + 4_999)).as("before the end, on %s", node).containsExactly(cid);
      assertThat(validAt(node, vector, T0 + 5_000)).as("at the end, on %s", node).isEmpty();
      assertThat(node.memorySet(NS)).as("still listed on %s", node).containsExactly(cid);
    }

    // Both nodes invalidate at once: the earlier time wins on both, whichever arrives first.
    CompletableFuture<Response> onN1 = CompletableFuture.supplyAsync(
        () -> n1.api().post("/v1/namespaces/" + NS + "/memories/" + cid + "/invalidate", Map.of("at", T0 + 3_000)));
    CompletableFuture<Response> onN2 = CompletableFuture.supplyAsync(
        () -> n2.api().post("/v1/namespaces/" + NS + "/memories/" + cid + "/invalidate", Map.of("at", T0 + 2_000)));
    assertThat(onN1.get().status()).as("%s", onN1.get()).isEqualTo(200);
    assertThat(onN2.get().status()).as("%s", onN2.get()).isEqualTo(200);
    Await.until(CONVERGE, "both nodes hold both invalidates",
        () -> n1.heads(NS).equals(n2.heads(NS)) && invalidatedAt(n1, cid) == T0 + 2_000 && invalidatedAt(n2, cid) == T0 + 2_000,
        () -> state(cid));
    for (NodeProcess node : nodes) {
      assertThat(validAt(node, vector, T0 + 1_999)).as("on %s", node).containsExactly(cid);
      assertThat(validAt(node, vector, T0 + 2_000)).as("on %s", node).isEmpty();
      JsonNode history = node.api().getJson("/v1/memories/" + cid + "/history").path("history");
      assertThat(history.get(0).path("invalidatedAt").asLong()).as("history on %s", node).isEqualTo(T0 + 2_000);
    }
  }

  private static long invalidatedAt(NodeProcess node, String cid) {
    Response r = node.api().get("/v1/memories/" + cid);
    return r.status() == 200 ? r.json().path("invalidatedAt").asLong(-1) : -1;
  }

  private static List<String> validAt(NodeProcess node, float[] vector, long t) {
    return node.api().recallCids(NS, Map.of("vector", vector, "k", 5, "filter", Map.of("validAt", t)));
  }

  private String state(String cid) {
    return nodes.stream().map(n -> n.name() + ": heads " + n.heads(NS) + ", " + n.api().get("/v1/memories/" + cid))
        .collect(Collectors.joining("\n"));
  }
}
