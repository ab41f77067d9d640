package dev.mnemo.node.sync;

import static dev.mnemo.node.sync.NodeProcess.memory;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mnemo.node.TestVectors;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A replica killed with SIGKILL while it is taking replicated writes, and restarted on the same
 * data and ports with the same command line, catches up with everything acknowledged meanwhile:
 * no operator action, no lost or duplicated memory.
 */
@ExtendWith(NodeLogsOnFailure.class)
class CrashRecoveryTest {
  private static final String NS = "crash";
  private static final Duration CATCH_UP = Duration.ofSeconds(30);

  @TempDir Path dir;
  private List<NodeProcess> nodes = List.of();

  @AfterEach
  void stop() {
    nodes.forEach(NodeProcess::close);
  }

  @Test
  void aNodeKilledDuringWritesCatchesUpAfterRestart() throws Exception {
    nodes = Cluster.start(dir, List.of("a", "b"), Map.of());
    NodeProcess a = nodes.get(0);
    NodeProcess b = nodes.get(1);

    Writer writer = new Writer(a);
    CompletableFuture<Void> writing = CompletableFuture.runAsync(writer::run);
    try {
      // B is replicating (has some of the writes, not yet all) when it dies.
      Await.until(Duration.ofSeconds(20), "b receives replicated writes", () -> b.indexedMemories() >= 100);
      b.kill();
      int atKill = writer.acked.size();
      NodeProcess.sleep(2_000);
      assertThat(writer.acked.size()).as("writes acknowledged by a while b is down").isGreaterThan(atKill);
      Await.until(Duration.ofSeconds(20), "a lists the killed b as unreachable",
          () -> a.peerState(b.url()).equals("unreachable"), () -> "a peers " + a.info().path("peers"));

      b.launch();
      b.awaitHealthy(Duration.ofSeconds(60));
      NodeProcess.sleep(1_000);
    } finally {
      writer.stop.set(true);
      writing.get();
    }
    Set<String> acked = new TreeSet<>(writer.acked);
    assertThat(writer.failures).as("write failures on a").isEmpty();
    System.out.println("acknowledged by a: " + acked.size() + " memories in " + writer.batches.get() + " batches");

    long took = Await.until(CATCH_UP, "restarted b holds all " + acked.size() + " memories a acknowledged",
        () -> b.memorySet(NS).containsAll(acked),
        () -> "b has " + b.memorySet(NS).size() + " of " + acked.size() + "; b sync " + b.sync() + "\nb peers "
            + b.info().path("peers") + "\na peers " + a.info().path("peers"));
    System.out.println("b caught up " + took + " ms after the writes stopped");

    assertThat(b.memorySet(NS)).as("b's memories equal a's").isEqualTo(a.memorySet(NS)).isEqualTo(acked);
    assertThat(b.api().listAll(NS)).as("b lists each memory once").doesNotHaveDuplicates();
    Await.until(Duration.ofSeconds(10), "a and b report the same heads", () -> a.heads(NS).equals(b.heads(NS)),
        () -> "a " + a.heads(NS) + "\nb " + b.heads(NS));
    // The recall index follows the log (shortly after a pull is applied): it catches up too.
    Await.until(Duration.ofSeconds(5), "b's recall index holds all " + acked.size() + " memories",
        () -> b.indexedMemories() == acked.size(), () -> "b index " + b.info().path("index"));
    assertThat(b.top(NS, TestVectors.random(0))).isEqualTo(writer.first);
    assertThat(b.top(NS, TestVectors.random(writer.lastSeed))).isEqualTo(writer.last);

    // Back and alive under its old address; then a clean shutdown shows as "left", not "unreachable".
    assertThat(a.peerState(b.url())).as("the restarted b as a lists it").isEqualTo("alive");
    b.stop();
    Await.until(Duration.ofSeconds(20), "a lists the cleanly stopped b as left",
        () -> a.peerState(b.url()).equals("left"), () -> "a peers " + a.info().path("peers"));
  }

  /** Writes batches of 20 to one node until stopped, recording every acknowledged CID. */
  private static final class Writer {
    final NodeProcess node;
    final AtomicBoolean stop = new AtomicBoolean();
    final ConcurrentLinkedQueue<String> acked = new ConcurrentLinkedQueue<>();
    final List<String> failures = new ArrayList<>();
    final AtomicInteger batches = new AtomicInteger();
    volatile String first;
    volatile String last;
    volatile long lastSeed;

    Writer(NodeProcess node) {
      this.node = node;
    }

    void run() {
      long seed = 0;
      while (!stop.get()) {
        List<Map<String, Object>> batch = new ArrayList<>();
        long from = seed;
        for (int i = 0; i < 20; i++, seed++) {
          batch.add(memory("crash test memory " + seed, TestVectors.random(seed)));
        }
        try {
          List<String> cids = node.api().rememberAll(NS, batch);
          acked.addAll(cids);
          if (first == null) {
            first = cids.get(0);
          }
          last = cids.get(cids.size() - 1);
          lastSeed = from + cids.size() - 1;
          batches.incrementAndGet();
        } catch (RuntimeException | AssertionError e) {
          failures.add(e.toString());
          return;
        }
      }
    }
  }
}
