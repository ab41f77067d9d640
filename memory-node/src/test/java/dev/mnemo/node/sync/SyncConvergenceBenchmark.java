package dev.mnemo.node.sync;

import static dev.mnemo.node.sync.NodeProcess.memory;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mnemo.node.ApiClient;
import dev.mnemo.node.TestVectors;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.model.LogEntry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sync convergence and traffic on three node processes on loopback (figures in benchmarks/README.md). Runs
 * only with {@code -Dmnemo.bench=true}:
 *
 * <pre>
 * ./mvnw -q -B test -pl store,index,sync,memory-node -Dtest=SyncConvergenceBenchmark \
 *     -Dsurefire.failIfNoSpecifiedTests=false -Dmnemo.bench=true [-Dmnemo.bench.memories=10000] \
 *     [-Dmnemo.bench.antiEntropyMs=2000]
 * </pre>
 *
 * <p>Every node's HTTP and gossip ports sit behind a counting {@link TcpProxy} that the node
 * advertises, so all peer traffic (requests and responses, headers included, and SWIM) is
 * counted on the wire; the benchmark's own API calls go to the real ports and are not.
 *
 * <ol>
 *   <li>One writer: N memories (client vectors, batches of 100) to node A, one batch after the
 *       other; time from the last acknowledgement until B's and C's recall indexes hold all N.
 *   <li>Three writers at once: N/3 each (rounded up) to A, B and C; time from the last
 *       acknowledgement until every node's index holds everything.
 *   <li>A fourth node started empty: time from its first healthy answer until its index holds
 *       both namespaces, and the traffic it took.
 *   <li>Traffic per replicated memory: sync.bytesFetched (response bodies the receivers read) and
 *       the proxies' wire bytes, each divided by the memories replicated, against the block bytes
 *       of a memory (its block plus its share of the entry blocks, measured with GET /v1/blocks).
 * </ol>
 */
@EnabledIfSystemProperty(named = "mnemo.bench", matches = "true")
@ExtendWith(NodeLogsOnFailure.class)
class SyncConvergenceBenchmark {
  private static final int BATCH = 100;

  @TempDir Path dir;
  private final List<NodeProcess> nodes = new ArrayList<>();
  private final List<TcpProxy> proxies = new ArrayList<>();
  private final StringBuilder report = new StringBuilder();

  @AfterEach
  void stop() {
    nodes.forEach(NodeProcess::close);
    proxies.forEach(TcpProxy::close);
  }

  @Test
  void convergenceAndTraffic() throws Exception {
    int total = Integer.getInteger("mnemo.bench.memories", 10_000);
    // One owner agent on every node (writes on A, B and C go to the same namespaces).
    Map<String, String> env = new LinkedHashMap<>(Cluster.withSharedOwner(dir, Map.of()));
    if (System.getProperty("mnemo.bench.antiEntropyMs") != null) {
      env.put("MNEMO_ANTI_ENTROPY_MS", System.getProperty("mnemo.bench.antiEntropyMs"));
    }
    line("# Sync convergence benchmark, %s", Instant.now());
    line("machine: %d CPUs (availableProcessors), load before: %s, JVM %s", Runtime.getRuntime().availableProcessors(),
        loadAverage(), System.getProperty("java.version"));
    line("settings: %d memories, batches of %d, env %s", total, BATCH, env);
    startCluster(env);

    // ---- 1. one writer ----
    NodeProcess a = nodes.get(0);
    String ns1 = "bench-one-writer";
    Map<String, Long> bytes0 = bytesFetched();
    long wire0 = wireBytes();
    long writeStart = System.nanoTime();
    List<String> cids1 = new ArrayList<>();
    for (int from = 0; from < total; from += BATCH) {
      cids1.addAll(a.api().rememberAll(ns1, batch("one", from, Math.min(BATCH, total - from))));
    }
    long lastAck = System.nanoTime();
    Map<String, Long> converged = awaitIndexed(nodes.subList(1, 3), total, lastAck);
    long phase1Millis = Collections.max(converged.values());
    NodeProcess.sleep(1_000);
    Map<String, Long> bytes1 = bytesFetched();
    long wire1 = wireBytes();
    double writeSeconds = (lastAck - writeStart) / 1e9;
    line("");
    line("## 1. one writer: %d memories to a", total);
    line("write: %.2f s, %.0f memories/s acknowledged", writeSeconds, total / writeSeconds);
    line("converged (recall index of b and c hold all %d) after the last acknowledgement: %s ms -> %d ms", total,
        converged, phase1Millis);
    BlockBytes blocks1 = blockBytes(a, ns1, cids1);
    long fetched1 = bytes1.get("b") - bytes0.get("b") + bytes1.get("c") - bytes0.get("c");
    traffic(blocks1, fetched1, wire1 - wire0, 2L * total);
    assertSameHeads(ns1);

    // ---- 2. three writers ----
    String ns2 = "bench-three-writers";
    int each = (total + 2) / 3;
    CountDownLatch go = new CountDownLatch(1);
    List<CompletableFuture<Long>> writers = new ArrayList<>();
    List<List<String>> written = Collections.synchronizedList(new ArrayList<>());
    for (int w = 0; w < 3; w++) {
      NodeProcess node = nodes.get(w);
      String prefix = "three-" + w;
      writers.add(CompletableFuture.supplyAsync(() -> {
        List<String> cids = new ArrayList<>();
        try {
          go.await();
        } catch (InterruptedException e) {
          throw new IllegalStateException(e);
        }
        for (int from = 0; from < each; from += BATCH) {
          cids.addAll(node.api().rememberAll(ns2, batch(prefix, from, Math.min(BATCH, each - from))));
        }
        written.add(cids);
        return System.nanoTime();
      }));
    }
    Map<String, Long> bytes2a = bytesFetched();
    long wire2a = wireBytes();
    long start2 = System.nanoTime();
    go.countDown();
    long lastAck2 = 0;
    for (CompletableFuture<Long> writer : writers) {
      lastAck2 = Math.max(lastAck2, writer.get());
    }
    Map<String, Long> converged2 = awaitIndexed(nodes, total + 3L * each, lastAck2);
    long phase2Millis = Collections.max(converged2.values());
    NodeProcess.sleep(1_000);
    Map<String, Long> bytes2b = bytesFetched();
    long wire2b = wireBytes();
    double write2Seconds = (lastAck2 - start2) / 1e9;
    line("");
    line("## 2. three writers at once: %d memories to each of a, b, c", each);
    line("write: %.2f s, %.0f memories/s acknowledged over the cluster", write2Seconds, 3 * each / write2Seconds);
    line("converged (every recall index holds all %d) after the last acknowledgement: %s ms -> %d ms", 3 * each,
        converged2, phase2Millis);
    List<String> all2 = new ArrayList<>();
    written.forEach(all2::addAll);
    BlockBytes blocks2 = blockBytes(a, ns2, all2);
    long fetched2 = 0;
    for (String n : bytes2a.keySet()) {
      fetched2 += bytes2b.get(n) - bytes2a.get(n);
    }
    traffic(blocks2, fetched2, wire2b - wire2a, 3L * 2 * each);
    assertSameHeads(ns2);

    // ---- 3. a fresh node catches up ----
    long expected = total + 3L * each;
    Map<String, Long> bytes3a = bytesFetched();
    long wire3a = wireBytes();
    NodeProcess d = NodeProcess.create("d", dir.resolve("d"), List.of(gossipProxyOf(0).address()), env);
    nodes.add(d);
    long launched = System.nanoTime();
    d.start();
    long healthy = System.nanoTime();
    Map<String, Long> caughtUp = awaitIndexed(List.of(d), expected, healthy);
    NodeProcess.sleep(1_000);
    long fetched3 = d.sync().path("bytesFetched").asLong();
    long wire3 = wireBytes() - wire3a;
    long fetchedOthers = 0;
    for (String n : bytes3a.keySet()) {
      fetchedOthers += bytesFetched().get(n) - bytes3a.get(n);
    }
    JsonNode dSync = d.sync();
    line("");
    line("## 3. a fresh node d joins and catches up on both namespaces (%d memories)", expected);
    line("d started in %d ms; its recall index held all %d memories %d ms after it was healthy",
        (healthy - launched) / 1_000_000, expected, caughtUp.get("d"));
    line("d: pulls %d, entriesApplied %d, blocksFetched %d, bytesFetched %d = %.1f bytes/memory = %.3f x block bytes",
        dSync.path("pulls").asLong(), dSync.path("entriesApplied").asLong(), dSync.path("blocksFetched").asLong(),
        fetched3, (double) fetched3 / expected, fetched3 / (double) expected / ((blocks1.perMemory() + blocks2.perMemory()) / 2));
    line("wire bytes served to d through the proxies of a, b, c: %d = %.1f bytes/memory (others fetched %d meanwhile)",
        wire3, (double) wire3 / expected, fetchedOthers);
    assertThat(d.heads(ns1)).isEqualTo(a.heads(ns1));
    assertThat(d.heads(ns2)).isEqualTo(a.heads(ns2));

    line("");
    line("sync counters at the end: %s", syncCounters());
    line("load after: %s", loadAverage());
    String text = report.toString();
    System.out.println(text);
    Path out = Path.of("target", "sync-bench-" + System.currentTimeMillis() + ".md");
    Files.writeString(out, text);
    System.out.println("written to " + out.toAbsolutePath());
  }

  private void startCluster(Map<String, String> env) {
    List<String> names = List.of("a", "b", "c");
    NodeProcess first = null;
    for (String name : names) {
      NodeProcess node = NodeProcess.create(name, dir.resolve(name),
          first == null ? List.of() : List.of(gossipProxyOf(0).address()), env);
      TcpProxy http = new TcpProxy(name + "-http", node.httpPort());
      TcpProxy gossip = new TcpProxy(name + "-gossip", node.gossipPort());
      proxies.add(http);
      proxies.add(gossip);
      node.withEnv("MNEMO_ADVERTISE_HTTP", http.url()).withEnv("MNEMO_ADVERTISE_GOSSIP", gossip.address());
      nodes.add(node);
      if (first == null) {
        first = node;
        node.start();
      } else {
        node.launch();
      }
    }
    nodes.forEach(n -> n.awaitHealthy(Duration.ofSeconds(90)));
    Cluster.awaitMembership(nodes, Duration.ofSeconds(30));
  }

  private TcpProxy gossipProxyOf(int node) {
    return proxies.get(2 * node + 1);
  }

  private static List<Map<String, Object>> batch(String prefix, int from, int size) {
    List<Map<String, Object>> batch = new ArrayList<>(size);
    long base = prefix.hashCode() * 1_000_000L;
    for (int i = from; i < from + size; i++) {
      batch.add(memory(prefix + " memory " + i + ": a sentence of ordinary length about something worth recalling later",
          TestVectors.random(base + i)));
    }
    return batch;
  }

  /** Polls every 20 ms until each node's index holds {@code count} memories; ms after {@code since} per node. */
  private static Map<String, Long> awaitIndexed(List<NodeProcess> targets, long count, long since) {
    Map<String, Long> at = new LinkedHashMap<>();
    long deadline = System.nanoTime() + Duration.ofSeconds(300).toNanos();
    while (at.size() < targets.size()) {
      for (NodeProcess node : targets) {
        if (!at.containsKey(node.name()) && node.indexedMemories() >= count) {
          at.put(node.name(), Math.max(0, (System.nanoTime() - since) / 1_000_000));
        }
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not converged within 300 s: " + at + " of " + targets);
      }
      NodeProcess.sleep(20);
    }
    return at;
  }

  /** Bytes of the namespace's blocks: every entry (walked from the heads) and a sample of memories. */
  private record BlockBytes(int entries, long entryBytes, int memories, double memoryBlockMean, int sampled) {
    double perMemory() {
      return memoryBlockMean + (double) entryBytes / memories;
    }
  }

  private static BlockBytes blockBytes(NodeProcess node, String ns, List<String> memories) throws IOException {
    Deque<Cid> pending = new ArrayDeque<>();
    for (String head : node.heads(ns)) {
      pending.add(Cid.parse(head));
    }
    Set<Cid> seen = new HashSet<>(pending);
    int entries = 0;
    long entryBytes = 0;
    long refs = 0;
    while (!pending.isEmpty()) {
      Cid cid = pending.poll();
      byte[] block = fetch(node, cid.toString());
      LogEntry entry = LogEntry.decode(block);
      entries++;
      entryBytes += block.length;
      refs += entry.refs().size();
      for (Cid parent : entry.parents()) {
        if (seen.add(parent)) {
          pending.add(parent);
        }
      }
    }
    assertThat(refs).as("memories referenced by the entries of %s", ns).isEqualTo(memories.size());
    List<String> sample = new ArrayList<>(memories);
    Collections.shuffle(sample, new Random(42));
    sample = sample.subList(0, Math.min(500, sample.size()));
    long sum = 0;
    for (String cid : sample) {
      sum += fetch(node, cid).length;
    }
    return new BlockBytes(entries, entryBytes, memories.size(), (double) sum / sample.size(), sample.size());
  }

  private static byte[] fetch(NodeProcess node, String cid) {
    ApiClient.Response r = node.api().get("/v1/blocks/" + cid);
    assertThat(r.status()).as("%s", r).isEqualTo(200);
    return r.body();
  }

  private void traffic(BlockBytes blocks, long fetched, long wire, long replicated) {
    double perMemory = blocks.perMemory();
    line("block bytes: %d entry blocks, %d bytes (%.1f per memory); memory block mean %.1f bytes (%d sampled) "
            + "-> %.1f block bytes per memory",
        blocks.entries(), blocks.entryBytes(), (double) blocks.entryBytes() / blocks.memories(),
        blocks.memoryBlockMean(), blocks.sampled(), perMemory);
    line("sync.bytesFetched on receivers: %d bytes for %d replicated memories = %.1f bytes/memory = %.3f x block bytes",
        fetched, replicated, (double) fetched / replicated, fetched / replicated / perMemory);
    line("wire bytes through the peer proxies (HTTP both ways + SWIM): %d = %.1f bytes/memory = %.3f x block bytes",
        wire, (double) wire / replicated, wire / replicated / perMemory);
  }

  private Map<String, Long> bytesFetched() {
    Map<String, Long> out = new LinkedHashMap<>();
    for (NodeProcess node : nodes) {
      out.put(node.name(), node.sync().path("bytesFetched").asLong());
    }
    return out;
  }

  private long wireBytes() {
    return proxies.stream().mapToLong(TcpProxy::forwardedBytes).sum();
  }

  private String syncCounters() {
    StringBuilder out = new StringBuilder();
    for (NodeProcess node : nodes) {
      JsonNode sync = node.sync();
      out.append(String.format(Locale.ROOT, "%n  %s: pulls %d, entriesApplied %d, blocksFetched %d, bytesFetched %d, rejected %d",
          node.name(), sync.path("pulls").asLong(), sync.path("entriesApplied").asLong(),
          sync.path("blocksFetched").asLong(), sync.path("bytesFetched").asLong(), sync.path("rejected").asLong()));
    }
    return out.toString();
  }

  private void assertSameHeads(String ns) {
    Await.until(Duration.ofSeconds(30), "same heads of " + ns + " on every node", () -> {
      Set<String> first = nodes.get(0).heads(ns);
      return nodes.stream().allMatch(n -> n.heads(ns).equals(first));
    });
  }

  private static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim();
    } catch (IOException e) {
      return "unknown";
    }
  }

  private void line(String format, Object... args) {
    report.append(String.format(Locale.ROOT, format, args)).append('\n');
  }
}
