package dev.mnemo.node.sync;

import static dev.mnemo.node.sync.NodeProcess.memory;

import dev.mnemo.node.ApiClient;
import dev.mnemo.node.TestVectors;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

/**
 * Three node processes taking writes (and forgets) on every node while one is stopped with
 * SIGSTOP for 25 s and another is killed with SIGKILL and restarted, as the probes of issue 22
 * did; then the time from the last acknowledged write until every node reports the same heads.
 * {@link FaultRunTest} checks the outcome (nothing lost, nothing forgotten comes back, a generous
 * bound); {@link FaultConvergenceBenchmark} measures it.
 */
final class FaultRun {
  static final String NS = "churn";
  /** How long the stopped node stays stopped. */
  static final Duration PAUSED = Duration.ofSeconds(25);

  /**
   * @param convergedMillis from the last acknowledged write until all nodes report the same heads
   * @param live memories acknowledged and not forgotten: on every node at the end
   * @param forgotten memories acknowledged, then forgotten: on no node at the end
   * @param ambiguous memories whose forget failed (its node was killed under it): either way
   */
  record Result(long convergedMillis, Set<String> live, Set<String> forgotten, Set<String> ambiguous,
      List<NodeProcess> nodes, Map<String, Long> lastChangeMillis) {}

  private FaultRun() {}

  /** Runs the faults and waits up to {@code bound} for the heads to agree; the nodes are left running for the caller's checks. */
  static Result run(Path dir, Map<String, String> env, Duration bound, List<NodeProcess> started) {
    List<NodeProcess> nodes = Cluster.start(dir, List.of("a", "b", "c"), env);
    started.addAll(nodes);
    NodeProcess b = nodes.get(1);
    NodeProcess c = nodes.get(2);
    Set<String> acked = ConcurrentHashMap.newKeySet();
    Set<String> forgotten = ConcurrentHashMap.newKeySet();
    Set<String> ambiguous = ConcurrentHashMap.newKeySet();
    AtomicLong lastAck = new AtomicLong();
    AtomicBoolean stop = new AtomicBoolean();
    Map<NodeProcess, AtomicBoolean> up = new ConcurrentHashMap<>();
    nodes.forEach(n -> up.put(n, new AtomicBoolean(true)));
    List<CompletableFuture<Void>> writers = new ArrayList<>();
    for (int i = 0; i < nodes.size(); i++) {
      NodeProcess node = nodes.get(i);
      long seedBase = 1_000_000L * (i + 1);
      writers.add(CompletableFuture.runAsync(() -> write(node, seedBase, up.get(node), stop, acked, forgotten, ambiguous, lastAck)));
    }
    try {
      NodeProcess.sleep(3_000);
      c.pause();
      long pausedAt = System.nanoTime();
      NodeProcess.sleep(2_000);
      up.get(b).set(false);
      b.kill();
      NodeProcess.sleep(3_000);
      b.launch();
      b.awaitHealthy(Duration.ofSeconds(60));
      up.get(b).set(true);
      long left = PAUSED.toNanos() - (System.nanoTime() - pausedAt);
      NodeProcess.sleep(Math.max(0, left / 1_000_000));
      c.resume();
      NodeProcess.sleep(5_000);
    } finally {
      stop.set(true);
      writers.forEach(CompletableFuture::join);
    }
    long lastWrite = lastAck.get();
    // When each node's heads last changed, after the last write: which node the wait was for.
    Map<String, Set<String>> seen = new ConcurrentHashMap<>();
    Map<String, Long> lastChange = new java.util.TreeMap<>();
    Await.until(bound, "every node reports the same heads of " + NS,
        () -> {
          List<Set<String>> heads = nodes.stream().map(n -> (Set<String>) n.heads(NS)).toList();
          long now = System.nanoTime();
          for (int i = 0; i < nodes.size(); i++) {
            if (!heads.get(i).equals(seen.put(nodes.get(i).name(), heads.get(i)))) {
              lastChange.put(nodes.get(i).name(), Math.max(0, (now - lastWrite) / 1_000_000));
            }
          }
          return !heads.get(0).isEmpty() && heads.stream().allMatch(heads.get(0)::equals);
        },
        () -> nodes.stream().map(n -> n.name() + " heads " + n.heads(NS) + " sync " + n.sync())
            .collect(Collectors.joining("\n")));
    long converged = (System.nanoTime() - lastWrite) / 1_000_000;
    Set<String> live = new TreeSet<>(acked);
    live.removeAll(forgotten);
    live.removeAll(ambiguous);
    return new Result(converged, live, new TreeSet<>(forgotten), new TreeSet<>(ambiguous), nodes, lastChange);
  }

  /**
   * Batches of 5 to one node while it is up, and every fourth batch a forget of one of its own
   * earlier memories. A write that fails (its node killed under it) is ambiguous: it may or may
   * not have been committed, so it is neither required nor refused anywhere.
   */
  private static void write(NodeProcess node, long seedBase, AtomicBoolean up, AtomicBoolean stop, Set<String> acked,
      Set<String> forgotten, Set<String> ambiguous, AtomicLong lastAck) {
    List<String> mine = new ArrayList<>();
    long seed = seedBase;
    for (int batchNo = 0; !stop.get(); batchNo++) {
      if (!up.get()) {
        NodeProcess.sleep(100);
        continue;
      }
      List<Map<String, Object>> batch = new ArrayList<>();
      for (int i = 0; i < 5; i++, seed++) {
        batch.add(memory("fault run memory " + seed, TestVectors.random(seed)));
      }
      try {
        List<String> cids = node.api().rememberAll(NS, batch);
        acked.addAll(cids);
        mine.addAll(cids);
        lastAck.accumulateAndGet(System.nanoTime(), Math::max);
        if (batchNo % 4 == 3 && mine.size() > 5) {
          String victim = mine.remove(mine.size() / 2);
          // Ambiguous until answered: the node may die after committing the forget.
          ambiguous.add(victim);
          ApiClient.Response r = node.api().delete("/v1/namespaces/" + NS + "/memories/" + victim);
          if (r.status() == 200) {
            ambiguous.remove(victim);
            forgotten.add(victim);
            lastAck.accumulateAndGet(System.nanoTime(), Math::max);
          }
        }
      } catch (RuntimeException | AssertionError e) {
        // The node died under the request: the batch may or may not be stored (its CIDs are
        // unknown, as the node picks the timestamps), and a forget may or may not be.
        NodeProcess.sleep(100);
      }
      NodeProcess.sleep(50);
    }
  }
}
