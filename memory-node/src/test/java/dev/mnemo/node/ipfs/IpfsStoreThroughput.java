package dev.mnemo.node.ipfs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mnemo.node.ApiClient;
import dev.mnemo.node.TestNode;
import dev.mnemo.node.TestVectors;
import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.block.Block;
import dev.mnemo.store.block.BlockStore;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rough figures, not a test: what keeping blocks on an IPFS node costs against the embedded
 * RocksDB block store. With ~2 KiB memory blocks, one caller at a time: block put (one block a
 * call, then {@code putAll} batches of 100) and get through {@link KuboBlockStore} on the real
 * js-ipfs node of {@code tools/ipfs-node} and through {@code MnemoStore.open(dir).blocks()}; then
 * remember (batches of 100, client vectors) and recall (client vectors, k=10) over HTTP against an
 * in-process node on each store. Prints a Markdown table (also written to
 * {@code memory-node/target/ipfs-store-throughput.md}) with the rate and the p50/p99 latency of
 * one call, plus the cores and load average, since other processes share the machine.
 *
 * <p>Runs only with {@code -Dmnemo.bench=true}; its name does not match surefire's test patterns
 * either, so it must be named:
 *
 * <pre>
 * ./mvnw -B -q install -DskipTests -pl store,index,sync
 * ./mvnw -B test -pl memory-node -Dtest=IpfsStoreThroughput -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dmnemo.bench=true [-Dmnemo.bench.blocks=2000] [-Dmnemo.bench.memories=2000] [-Dmnemo.bench.recalls=500]
 * </pre>
 *
 * js-ipfs is not Kubo: it is single-threaded JavaScript and much slower, so the IPFS rows are a
 * lower bound for what a Kubo node would give.
 */
@EnabledIfSystemProperty(named = "mnemo.bench", matches = "true")
class IpfsStoreThroughput {
  private static final String NS = "bench";
  private static final int BLOCK_BYTES = 2_048;
  private static final int BATCH = 100;
  private static final int BLOCKS = Integer.getInteger("mnemo.bench.blocks", 2_000);
  private static final int MEMORIES = Integer.getInteger("mnemo.bench.memories", 2_000);
  private static final int RECALLS = Integer.getInteger("mnemo.bench.recalls", 500);
  /** Calls made before measuring, so the JIT and the connections are warm. */
  private static final int WARMUP = 50;

  /** One line of the table. */
  private record Row(String store, String operation, int calls, int items, double seconds, long[] callNanos) {
    double rate() {
      return items / seconds;
    }

    double percentileMillis(double p) {
      long[] sorted = callNanos.clone();
      Arrays.sort(sorted);
      int index = Math.max(0, (int) Math.ceil(p * sorted.length) - 1);
      return sorted[index] / 1e6;
    }
  }

  @TempDir Path dir;

  @Test
  void measure() throws Exception {
    String loadBefore = loadAverage();
    List<Row> rows = new ArrayList<>();
    try (IpfsNode ipfs = IpfsNode.start()) {
      Vertx vertx = Vertx.vertx();
      try (KuboBlockStore kubo = new KuboBlockStore(new KuboClient(vertx, ipfs.api(), 10_000, 2), 10_000, 2);
          MnemoStore embedded = MnemoStore.open(dir.resolve("embedded-store"))) {
        rows.addAll(blockStore("ipfs (js-ipfs)", kubo));
        rows.addAll(blockStore("embedded (RocksDB)", embedded.blocks()));
      } finally {
        vertx.close().toCompletionStage().toCompletableFuture().get();
      }
      // Each node twice: with the memory cache off, every recall reads its memories from the block store.
      for (String cacheMb : List.of("0", "64")) {
        try (TestNode node = TestNode.start(dir.resolve("node-ipfs-" + cacheMb), TestNode.NONE,
            Map.of("blockStore", "ipfs", "ipfsApi", ipfs.url(), "memoryCacheMb", cacheMb))) {
          rows.addAll(memoryNode("ipfs (js-ipfs), memoryCacheMb " + cacheMb, node.api()));
        }
        try (TestNode node = TestNode.start(dir.resolve("node-embedded-" + cacheMb), TestNode.NONE,
            Map.of("memoryCacheMb", cacheMb))) {
          rows.addAll(memoryNode("embedded (RocksDB), memoryCacheMb " + cacheMb, node.api()));
        }
      }
    }
    String table = table(rows, loadBefore, loadAverage());
    System.out.println(table);
    Files.writeString(Path.of("target", "ipfs-store-throughput.md"), table);
  }

  // ---- block stores ----

  private static List<Row> blockStore(String name, BlockStore store) throws IOException {
    List<Block> singles = blocks(0, BLOCKS);
    List<Block> batched = blocks(1_000_000, roundedToBatches(BLOCKS));
    for (Block block : blocks(2_000_000, WARMUP)) {
      store.put(block);
      store.get(block.cid());
    }

    long[] putNanos = new long[singles.size()];
    long start = System.nanoTime();
    for (int i = 0; i < singles.size(); i++) {
      long t = System.nanoTime();
      store.put(singles.get(i));
      putNanos[i] = System.nanoTime() - t;
    }
    double putSeconds = (System.nanoTime() - start) / 1e9;

    long[] batchNanos = new long[batched.size() / BATCH];
    start = System.nanoTime();
    for (int b = 0; b < batchNanos.length; b++) {
      long t = System.nanoTime();
      store.putAll(batched.subList(b * BATCH, (b + 1) * BATCH));
      batchNanos[b] = System.nanoTime() - t;
    }
    double batchSeconds = (System.nanoTime() - start) / 1e9;

    long[] getNanos = new long[singles.size()];
    start = System.nanoTime();
    for (int i = 0; i < singles.size(); i++) {
      Block block = singles.get(i);
      long t = System.nanoTime();
      byte[] data = store.get(block.cid()).orElseThrow();
      getNanos[i] = System.nanoTime() - t;
      if (data.length != block.data().length) {
        throw new AssertionError("get of " + block.cid() + " returned " + data.length + " bytes");
      }
    }
    double getSeconds = (System.nanoTime() - start) / 1e9;

    return List.of(
        new Row(name, "block put, 1 a call", singles.size(), singles.size(), putSeconds, putNanos),
        new Row(name, "block putAll, " + BATCH + " a call", batchNanos.length, batched.size(), batchSeconds, batchNanos),
        new Row(name, "block get", singles.size(), singles.size(), getSeconds, getNanos));
  }

  private static List<Block> blocks(long seedBase, int count) {
    List<Block> blocks = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      blocks.add(TestBlocks.memoryBlockOfSize(NS, seedBase + i, BLOCK_BYTES));
    }
    return blocks;
  }

  // ---- memory nodes ----

  private static List<Row> memoryNode(String name, ApiClient api) {
    api.rememberAll(NS, memories(5_000_000, WARMUP));
    for (int i = 0; i < WARMUP; i++) {
      api.recallCids(NS, Map.of("vector", TestVectors.random(5_000_000 + i), "mode", "vector", "k", 10));
    }

    int memories = roundedToBatches(MEMORIES);
    long[] rememberNanos = new long[memories / BATCH];
    long start = System.nanoTime();
    for (int b = 0; b < rememberNanos.length; b++) {
      List<Map<String, Object>> batch = memories((long) b * BATCH, BATCH);
      long t = System.nanoTime();
      List<String> cids = api.rememberAll(NS, batch);
      rememberNanos[b] = System.nanoTime() - t;
      assertThat(cids).hasSize(BATCH);
    }
    double rememberSeconds = (System.nanoTime() - start) / 1e9;

    long[] recallNanos = new long[RECALLS];
    Random random = new Random(7);
    start = System.nanoTime();
    for (int i = 0; i < RECALLS; i++) {
      float[] query = TestVectors.near(TestVectors.random(random.nextInt(memories)), 0.3, i);
      long t = System.nanoTime();
      List<String> cids = api.recallCids(NS, Map.of("vector", query, "mode", "vector", "k", 10));
      recallNanos[i] = System.nanoTime() - t;
      assertThat(cids).hasSize(10);
    }
    double recallSeconds = (System.nanoTime() - start) / 1e9;
    JsonNode cache = api.getJson("/v1/node").path("memoryCache");
    long reads = cache.path("hits").asLong() + cache.path("misses").asLong();
    String hitRate = reads == 0 ? "" : String.format(" (memory cache hits %.0f%%)", 100.0 * cache.path("hits").asLong() / reads);

    return List.of(
        new Row(name + ", node", "remember, " + BATCH + " a request", rememberNanos.length, memories, rememberSeconds, rememberNanos),
        new Row(name + ", node", "recall, vector, k=10" + hitRate, RECALLS, RECALLS, recallSeconds, recallNanos));
  }

  /** Remember requests whose memory blocks are about 2 KiB (the 384-dim vector is 1.5 KiB of it). */
  private static List<Map<String, Object>> memories(long seedBase, int count) {
    String[] words = {"meeting", "Lisbon", "budget", "tea", "coffee", "project", "deadline", "Alice", "Bob", "trip",
        "review", "invoice", "garden", "recipe", "train", "concert", "doctor", "birthday", "migration", "release"};
    List<Map<String, Object>> out = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      long seed = seedBase + i;
      Random random = new Random(seed);
      StringBuilder text = new StringBuilder("memory ").append(seed);
      while (text.length() < 420) {
        text.append(' ').append(words[random.nextInt(words.length)]);
      }
      out.add(Map.of("text", text.toString(), "vector", TestVectors.random(seed),
          "metadata", Map.of("seed", seed, "source", "bench"), "tags", List.of("bench")));
    }
    return out;
  }

  private static int roundedToBatches(int count) {
    return Math.max(BATCH, count / BATCH * BATCH);
  }

  // ---- report ----

  private static String table(List<Row> rows, String loadBefore, String loadAfter) {
    StringBuilder out = new StringBuilder();
    out.append(String.format("%n### Block store throughput: IPFS (js-ipfs via KuboBlockStore) vs embedded (RocksDB)%n%n"));
    out.append(String.format("%d cores, load average before %s, after %s; ~%d-byte memory blocks; one caller; "
        + "latency is per call (a batch call for putAll and remember).%n%n",
        Runtime.getRuntime().availableProcessors(), loadBefore, loadAfter, BLOCK_BYTES));
    out.append("| store | operation | calls | items/s | p50 ms | p99 ms |\n");
    out.append("| --- | --- | ---: | ---: | ---: | ---: |\n");
    for (Row row : rows) {
      out.append(String.format("| %s | %s | %d | %,.0f | %.3f | %.3f |%n", row.store(), row.operation(), row.calls(),
          row.rate(), row.percentileMillis(0.50), row.percentileMillis(0.99)));
    }
    return out.toString();
  }

  private static String loadAverage() {
    try {
      String[] fields = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return fields[0] + " " + fields[1] + " " + fields[2];
    } catch (IOException | RuntimeException e) {
      return "unknown";
    }
  }
}
