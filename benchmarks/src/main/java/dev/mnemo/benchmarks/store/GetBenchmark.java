package dev.mnemo.benchmarks.store;

import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.block.BlockStore;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.log.Appended;
import dev.mnemo.store.model.Memory;
import dev.mnemo.store.rocks.RocksStorage.Family;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Point reads from the embedded block store: {@link BlockStore#get} of random existing ~2 KiB
 * memory blocks (RocksDB read with checksum verification, then a sha2-256 re-hash of the block),
 * and {@link BlockStore#has} of present and absent CIDs. The store is filled through the log
 * (batches of 1,000) and every block is read once before measuring, so the cache is warm.
 *
 * <p>{@code getUnverified} reads the same key straight from {@code RocksStorage} without the
 * re-hash, to show what verification costs.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 3, time = 5)
@Fork(1)
public class GetBenchmark {

  @State(Scope.Benchmark)
  public static class Store {
    @Param({"100000"})
    public int memories;

    Path dir;
    MnemoStore store;
    BlockStore blocks;
    Cid[] present;
    Cid[] absent;

    @Setup(Level.Trial)
    public void fill() throws IOException {
      dir = Fixtures.tempDir("mnemo-get-");
      store = MnemoStore.open(dir);
      blocks = store.blocks();
      long start = System.nanoTime();
      List<Cid> cids = new ArrayList<>(memories);
      int batch = 1_000;
      for (int done = 0; done < memories; done += batch) {
        List<Memory> list = new ArrayList<>(batch);
        for (int i = done; i < Math.min(memories, done + batch); i++) {
          list.add(Fixtures.memory("bench.get", 0, i));
        }
        Appended appended = store.log().append("bench.get", list);
        cids.addAll(appended.memories());
      }
      present = cids.toArray(Cid[]::new);
      long bytes = 0;
      for (Cid cid : present) {
        bytes += blocks.get(cid).orElseThrow().length;
      }
      SplittableRandom random = new SplittableRandom(7);
      absent = new Cid[4096];
      for (int i = 0; i < absent.length; i++) {
        byte[] junk = new byte[64];
        random.nextBytes(junk);
        absent[i] = Cid.dagCbor(junk);
      }
      System.out.printf("%n[fill] %,d memories, %,d bytes of blocks (avg %d B), filled and read back in %.1f s%n",
          present.length, bytes, bytes / present.length, (System.nanoTime() - start) / 1e9);
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
      try {
        store.close();
      } finally {
        Fixtures.deleteRecursively(dir);
      }
    }
  }

  @State(Scope.Thread)
  public static class Pick {
    private static final AtomicInteger SEEDS = new AtomicInteger();
    SplittableRandom random;

    @Setup(Level.Trial)
    public void setup() {
      random = new SplittableRandom(1_000 + SEEDS.incrementAndGet());
    }

    Cid present(Store s) {
      return s.present[random.nextInt(s.present.length)];
    }

    Cid absent(Store s) {
      return s.absent[random.nextInt(s.absent.length)];
    }
  }

  @Benchmark
  @Threads(1)
  public Optional<byte[]> get_1thread(Store s, Pick p) throws IOException {
    return s.blocks.get(p.present(s));
  }

  @Benchmark
  @Threads(2)
  public Optional<byte[]> get_2threads(Store s, Pick p) throws IOException {
    return s.blocks.get(p.present(s));
  }

  @Benchmark
  @Threads(1)
  public byte[] getUnverified_1thread(Store s, Pick p) throws IOException {
    return s.store.storage().get(Family.BLOCKS, p.present(s).toBytes());
  }

  @Benchmark
  @Threads(2)
  public byte[] getUnverified_2threads(Store s, Pick p) throws IOException {
    return s.store.storage().get(Family.BLOCKS, p.present(s).toBytes());
  }

  @Benchmark
  @Threads(1)
  public boolean has_1thread(Store s, Pick p) throws IOException {
    return s.blocks.has(p.present(s));
  }

  @Benchmark
  @Threads(2)
  public boolean has_2threads(Store s, Pick p) throws IOException {
    return s.blocks.has(p.present(s));
  }

  @Benchmark
  @Threads(1)
  public boolean hasAbsent_1thread(Store s, Pick p) throws IOException {
    return s.blocks.has(p.absent(s));
  }
}
