package dev.mnemo.node.sync;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;

/** Starts node processes together: the first alone, the rest in parallel seeded with it. */
final class Cluster {
  private Cluster() {}

  /** Starts {@code names.size()} nodes with data under {@code dir} and waits until each sees all others. */
  static List<NodeProcess> start(Path dir, List<String> names, Map<String, String> env) {
    List<NodeProcess> nodes = new ArrayList<>();
    try {
      NodeProcess first = NodeProcess.create(names.get(0), dir.resolve(names.get(0)), List.of(), env);
      nodes.add(first);
      first.launch();
      for (String name : names.subList(1, names.size())) {
        nodes.add(NodeProcess.create(name, dir.resolve(name), List.of(first.gossip()), env).launch());
      }
      List<CompletableFuture<Void>> healthy = nodes.stream()
          .map(n -> CompletableFuture.runAsync(() -> n.awaitHealthy(Duration.ofSeconds(90))))
          .toList();
      healthy.forEach(CompletableFuture::join);
      awaitMembership(nodes, Duration.ofSeconds(30));
      return nodes;
    } catch (RuntimeException | AssertionError e) {
      nodes.forEach(NodeProcess::close);
      throw e;
    }
  }

  /** Waits until every node lists every other one as a live peer. */
  static long awaitMembership(List<NodeProcess> nodes, Duration timeout) {
    return Await.until(timeout, "every node sees " + (nodes.size() - 1) + " peers",
        () -> nodes.stream().allMatch(n -> n.peerCount() == nodes.size() - 1),
        () -> nodes.stream().map(n -> n.name() + " peers " + n.info().path("peers"))
            .collect(Collectors.joining("\n")));
  }
}
