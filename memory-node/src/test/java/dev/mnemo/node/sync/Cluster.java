package dev.mnemo.node.sync;

import dev.mnemo.node.auth.AgentKeyFile;
import dev.mnemo.store.identity.AgentKey;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;

/**
 * Starts node processes together: the first alone, the rest in parallel seeded with it. They share
 * one owner agent (its key in {@code dir/owner.key}), as one operator's nodes would, so the owner's
 * token on any node acts as the same agent everywhere.
 */
final class Cluster {
  private Cluster() {}

  /** Starts {@code names.size()} nodes with data under {@code dir} and waits until each sees all others. */
  static List<NodeProcess> start(Path dir, List<String> names, Map<String, String> env) {
    List<NodeProcess> nodes = new ArrayList<>();
    env = withSharedOwner(dir, env);
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

  /**
   * A cluster whose node {@code names.get(proxied)} peers reach only through two proxies the test
   * controls, one for its HTTP port and one for its gossip port (it advertises the proxies'
   * addresses), as in {@link PartitionHealTest}: cutting both partitions it off. One shared owner,
   * as {@link #start}.
   */
  record Proxied(List<NodeProcess> nodes, NodeProcess cut, TcpProxy http, TcpProxy gossip) implements AutoCloseable {
    void partition() {
      http.cut(TcpProxy.Mode.REFUSE);
      gossip.cut(TcpProxy.Mode.REFUSE);
    }

    void heal() {
      http.heal();
      gossip.heal();
    }

    /** Waits until the cut node and the others have all dropped each other. */
    long awaitPartitioned(Duration timeout) {
      return Await.until(timeout, cut.name() + " and the others drop each other",
          () -> nodes.stream().allMatch(n -> n.peerCount() == (n == cut ? 0 : nodes.size() - 2)),
          () -> nodes.stream().map(n -> n.name() + " peers " + n.info().path("peers")).collect(Collectors.joining("\n")));
    }

    @Override
    public void close() {
      nodes.forEach(NodeProcess::close);
      http.close();
      gossip.close();
    }
  }

  static Proxied startProxied(Path dir, List<String> names, int proxied, Map<String, String> env) {
    Map<String, String> shared = withSharedOwner(dir, env);
    List<NodeProcess> nodes = new ArrayList<>();
    NodeProcess first = NodeProcess.create(names.get(0), dir.resolve(names.get(0)), List.of(), shared);
    nodes.add(first);
    for (String name : names.subList(1, names.size())) {
      nodes.add(NodeProcess.create(name, dir.resolve(name), List.of(first.gossip()), shared));
    }
    NodeProcess cut = nodes.get(proxied);
    TcpProxy http = new TcpProxy(cut.name() + "-http", cut.httpPort());
    TcpProxy gossip = new TcpProxy(cut.name() + "-gossip", cut.gossipPort());
    cut.withEnv("MNEMO_ADVERTISE_HTTP", http.url()).withEnv("MNEMO_ADVERTISE_GOSSIP", gossip.address());
    Proxied cluster = new Proxied(List.copyOf(nodes), cut, http, gossip);
    try {
      first.launch();
      first.awaitHealthy(Duration.ofSeconds(90));
      nodes.subList(1, nodes.size()).forEach(NodeProcess::launch);
      nodes.stream().map(n -> CompletableFuture.runAsync(() -> n.awaitHealthy(Duration.ofSeconds(90))))
          .toList().forEach(CompletableFuture::join);
      awaitMembership(nodes, Duration.ofSeconds(30));
      return cluster;
    } catch (RuntimeException | AssertionError e) {
      cluster.close();
      throw e;
    }
  }

  /** {@code env} plus MNEMO_OWNER_KEY_FILE naming one owner key for every node under {@code dir}. */
  static Map<String, String> withSharedOwner(Path dir, Map<String, String> env) {
    Path key = dir.resolve("owner.key");
    try {
      if (!Files.exists(key)) {
        AgentKeyFile.write(key, AgentKey.generate());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Map<String, String> shared = new HashMap<>(env);
    shared.putIfAbsent("MNEMO_OWNER_KEY_FILE", key.toString());
    return shared;
  }

  /** Waits until every node lists every other one as a live peer. */
  static long awaitMembership(List<NodeProcess> nodes, Duration timeout) {
    return Await.until(timeout, "every node sees " + (nodes.size() - 1) + " peers",
        () -> nodes.stream().allMatch(n -> n.peerCount() == nodes.size() - 1),
        () -> nodes.stream().map(n -> n.name() + " peers " + n.info().path("peers"))
            .collect(Collectors.joining("\n")));
  }
}
