package dev.mnemo.node.sync;

import static dev.mnemo.node.sync.NodeProcess.memory;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mnemo.node.TestVectors;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
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
 * Two node processes, one owner: two updates of one memory written at once on different nodes
 * both stay current on both nodes, and a third update naming one of them supersedes it everywhere.
 */
@ExtendWith(NodeLogsOnFailure.class)
class SupersedeReplicationTest {
  private static final Duration CONVERGE = Duration.ofSeconds(20);
  private static final String NS = "updates";

  @TempDir static Path dir;
  private static List<NodeProcess> nodes = List.of();

  @BeforeAll
  static void start() {
    nodes = Cluster.start(dir, List.of("a", "b"), Map.of());
  }

  @AfterAll
  static void stop() {
    nodes.forEach(NodeProcess::close);
  }

  /** The namespace as a node's recall sees it: each memory found, with the memories that supersede it. */
  private static Map<String, TreeSet<String>> view(NodeProcess node, boolean includeSuperseded) {
    JsonNode results = node.api().recall(NS, Map.of("vector", TestVectors.random(1), "k", 100, "mode", "vector",
        "includeSuperseded", includeSuperseded));
    Map<String, TreeSet<String>> view = new TreeMap<>();
    for (JsonNode hit : results) {
      TreeSet<String> by = new TreeSet<>();
      hit.path("supersededBy").forEach(c -> by.add(c.asText()));
      view.put(hit.path("cid").asText(), by);
    }
    return view;
  }

  private static void awaitEverywhere(String what, Map<String, TreeSet<String>> all) {
    Await.until(CONVERGE, what, () -> nodes.stream().allMatch(n -> view(n, true).equals(all)
            && view(n, false).keySet().equals(all.entrySet().stream().filter(e -> e.getValue().isEmpty())
                .map(Map.Entry::getKey).collect(Collectors.toSet()))),
        () -> nodes.stream().map(n -> n + ": " + view(n, true)).collect(Collectors.joining("\n")));
  }

  @Test
  void concurrentUpdatesOnTwoNodesBothStayCurrentUntilOneIsUpdated() throws Exception {
    NodeProcess a = nodes.get(0);
    NodeProcess b = nodes.get(1);
    float[] base = TestVectors.random(1);
    String original = a.api().remember(NS, memory("the launch is in March", TestVectors.near(base, 0.05, 2)));
    awaitEverywhere("the original on both nodes", Map.of(original, new TreeSet<>()));

    CountDownLatch go = new CountDownLatch(1);
    CompletableFuture<String> onA = CompletableFuture.supplyAsync(() -> write(go, a, "the launch moved to April", original, 3));
    CompletableFuture<String> onB = CompletableFuture.supplyAsync(() -> write(go, b, "the launch moved to May", original, 4));
    go.countDown();
    String april = onA.get();
    String may = onB.get();
    awaitEverywhere("both updates current on both nodes, the original superseded by both",
        Map.of(original, new TreeSet<>(List.of(april, may)), april, new TreeSet<>(), may, new TreeSet<>()));

    String june = b.api().remember(NS, withPrev(memory("the launch moved to June", TestVectors.near(base, 0.05, 5)), april));
    awaitEverywhere("the update of April supersedes it on both nodes",
        Map.of(original, new TreeSet<>(List.of(april, may)), april, new TreeSet<>(List.of(june)),
            may, new TreeSet<>(), june, new TreeSet<>()));
  }

  private static String write(CountDownLatch go, NodeProcess node, String text, String prev, long seed) {
    try {
      go.await();
    } catch (InterruptedException e) {
      throw new IllegalStateException(e);
    }
    return node.api().remember(NS, withPrev(memory(text, TestVectors.near(TestVectors.random(1), 0.05, seed)), prev));
  }

  private static Map<String, Object> withPrev(Map<String, Object> memory, String prev) {
    memory.put("prev", prev);
    return memory;
  }
}
