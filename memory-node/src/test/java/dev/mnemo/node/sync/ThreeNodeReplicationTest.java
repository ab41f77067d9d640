package dev.mnemo.node.sync;

import static dev.mnemo.node.sync.NodeProcess.memory;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mnemo.node.ApiClient;
import dev.mnemo.node.TestVectors;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three node processes on loopback joined by gossip (B and C seeded with A), default sync
 * settings: writes made on any node reach every node's recall, concurrent writers converge to the
 * same DAG, and a forget spreads like a write. Each test uses its own namespace.
 */
@ExtendWith(NodeLogsOnFailure.class)
class ThreeNodeReplicationTest {
  /** Default anti-entropy is 2 s; gossip should do it well inside this. */
  private static final Duration CONVERGE = Duration.ofSeconds(15);

  @TempDir static Path dir;
  private static List<NodeProcess> nodes = List.of();

  @BeforeAll
  static void start() {
    nodes = Cluster.start(dir, List.of("a", "b", "c"), Map.of());
  }

  @AfterAll
  static void stop() {
    nodes.forEach(NodeProcess::close);
  }

  @Test
  void aWriteOnAnyNodeIsRecallableOnAllAtRankOne() {
    String ns = "write-anywhere";
    Map<String, Long> millis = new LinkedHashMap<>();
    for (int i = 0; i < nodes.size(); i++) {
      NodeProcess writer = nodes.get(i);
      float[] vector = TestVectors.random(1_000 + i);
      String text = "written on " + writer.name();
      String cid = writer.api().remember(ns, memory(text, vector));
      // Read-your-writes on the writer, then every other node within the bound.
      assertThat(writer.top(ns, vector)).as("rank 1 on the writer %s", writer).isEqualTo(cid);
      for (NodeProcess node : nodes) {
        long took = Await.until(CONVERGE, cid + " (written on " + writer + ") at rank 1 of a vector recall on " + node,
            () -> cid.equals(node.top(ns, vector)),
            () -> node + " recall: " + node.api().recall(ns, Map.of("vector", vector, "k", 3, "mode", "vector")));
        millis.put(writer.name() + "->" + node.name(), took);
        ApiClient.Response got = node.api().get("/v1/memories/" + cid);
        assertThat(got.status()).as("%s on %s", got, node).isEqualTo(200);
        assertThat(got.json().path("text").asText()).isEqualTo(text);
        assertThat(got.json().path("ns").asText()).isEqualTo(ns);
      }
    }
    System.out.println("write-anywhere visible after (ms): " + millis);
    assertHeadsEqual(ns);
  }

  @Test
  void concurrentWritersOnDifferentNodesConvergeToTheSameHeadsAndMemories() throws Exception {
    String ns = "concurrent";
    int perWriter = 50;
    CountDownLatch go = new CountDownLatch(1);
    List<CompletableFuture<List<String>>> writers = new ArrayList<>();
    for (int w = 0; w < nodes.size(); w++) {
      NodeProcess node = nodes.get(w);
      int writer = w;
      writers.add(CompletableFuture.supplyAsync(() -> {
        List<String> cids = new ArrayList<>();
        try {
          go.await();
        } catch (InterruptedException e) {
          throw new IllegalStateException(e);
        }
        for (int i = 0; i < perWriter; i++) {
          cids.add(node.api().remember(ns, memory("writer " + writer + " memory " + i, vector(writer, i))));
        }
        return cids;
      }));
    }
    go.countDown();
    Set<String> expected = new TreeSet<>();
    List<List<String>> written = new ArrayList<>();
    for (CompletableFuture<List<String>> writer : writers) {
      List<String> cids = writer.get();
      written.add(cids);
      expected.addAll(cids);
    }
    assertThat(expected).as("distinct CIDs acknowledged").hasSize(perWriter * nodes.size());

    long took = Await.until(CONVERGE, "all nodes hold the same " + expected.size() + " memories and the same heads",
        () -> {
          Set<String> heads = nodes.get(0).heads(ns);
          for (NodeProcess node : nodes) {
            if (!node.memorySet(ns).equals(expected) || !node.heads(ns).equals(heads)) {
              return false;
            }
          }
          return true;
        },
        () -> nodes.stream().map(n -> n + ": " + n.memorySet(ns).size() + " memories, heads " + n.heads(ns))
            .collect(Collectors.joining("\n")));
    System.out.println("concurrent writers converged " + took + " ms after the last acknowledgement");

    Set<String> heads = assertHeadsEqual(ns);
    assertThat(heads).as("heads after convergence").isNotEmpty();
    for (NodeProcess node : nodes) {
      List<String> listed = node.api().listAll(ns);
      assertThat(listed).as("list of %s has no duplicates", node).doesNotHaveDuplicates();
      assertThat(new TreeSet<>(listed)).as("memories listed on %s", node).isEqualTo(expected);
      // Replicated memories reach the recall index too (it follows the log shortly after a pull):
      // the first and last memory of each writer are at rank 1.
      for (int w = 0; w < nodes.size(); w++) {
        for (int i : new int[] {0, perWriter - 1}) {
          String cid = written.get(w).get(i);
          float[] v = vector(w, i);
          Await.until(Duration.ofSeconds(5), "rank 1 on " + node + " for writer " + w + " memory " + i,
              () -> cid.equals(node.top(ns, v)));
        }
      }
    }
  }

  @Test
  void aForgetOnOneNodeRemovesTheMemoryEverywhere() {
    String ns = "forget-everywhere";
    NodeProcess writer = nodes.get(0);
    NodeProcess forgetter = nodes.get(2);
    float[] keepVector = TestVectors.random(7_001);
    float[] goneVector = TestVectors.random(7_002);
    String keep = writer.api().remember(ns, memory("keep me", keepVector));
    String gone = writer.api().remember(ns, memory("forget me", goneVector));
    for (NodeProcess node : nodes) {
      Await.until(CONVERGE, "both memories at rank 1 on " + node,
          () -> gone.equals(node.top(ns, goneVector)) && keep.equals(node.top(ns, keepVector)));
    }

    ApiClient.Response forgot = forgetter.api().delete("/v1/namespaces/" + ns + "/memories/" + gone);
    assertThat(forgot.status()).as("%s", forgot).isEqualTo(200);

    for (NodeProcess node : nodes) {
      Await.until(CONVERGE, gone + " forgotten on " + node,
          () -> node.api().get("/v1/memories/" + gone).status() == 404,
          () -> node.api().get("/v1/memories/" + gone).toString());
      List<String> recalled = node.api().recallCids(ns, Map.of("vector", goneVector, "k", 10, "mode", "vector"));
      assertThat(recalled).as("recall on %s after the forget", node).doesNotContain(gone).contains(keep);
      assertThat(node.top(ns, keepVector)).as("the other memory stays on %s", node).isEqualTo(keep);
      assertThat(node.memorySet(ns)).as("memories listed on %s", node).containsExactly(keep);
      assertThat(node.api().get("/v1/blocks/" + gone).status()).as("memory block dropped on %s", node).isEqualTo(404);
    }
    Await.until(CONVERGE, "heads equal after the forget", () -> {
      Set<String> first = nodes.get(0).heads(ns);
      return nodes.stream().allMatch(n -> n.heads(ns).equals(first));
    });
  }

  private static float[] vector(int writer, int i) {
    return TestVectors.random(100_000L * (writer + 1) + i);
  }

  private static Set<String> assertHeadsEqual(String ns) {
    Map<String, Set<String>> byNode = new LinkedHashMap<>();
    for (NodeProcess node : nodes) {
      byNode.put(node.name(), node.heads(ns));
    }
    assertThat(new TreeSet<>(byNode.values().stream().map(Object::toString).toList()))
        .as("heads of %s per node: %s", ns, byNode).hasSize(1);
    return Collections.unmodifiableSet(byNode.values().iterator().next());
  }
}
