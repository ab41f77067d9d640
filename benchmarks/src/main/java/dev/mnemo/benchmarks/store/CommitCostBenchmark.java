package dev.mnemo.benchmarks.store;

import dev.mnemo.store.block.Block;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.identity.AgentKey;
import dev.mnemo.store.model.LogEntry;
import dev.mnemo.store.model.Op;
import dev.mnemo.store.rocks.RocksStorage;
import dev.mnemo.store.rocks.RocksStorage.Family;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;

/**
 * The two serial costs of every commit group of the log writer, measured alone, to explain the
 * {@link AppendBenchmark} figures: the Ed25519 signature of a log entry (1 ref and 100 refs) and
 * one durable RocksDB write (WAL append + sync) of a tiny batch and of a batch shaped like an
 * append of 100 memories (100 blocks of ~2 KiB plus 2 small keys a memory). One thread, as in the
 * writer. Scores are per op: signatures/s and durable writes/s.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 1, time = 5)
@Measurement(iterations = 3, time = 5)
@Fork(1)
@Threads(1)
public class CommitCostBenchmark {

  @State(Scope.Benchmark)
  public static class Signing {
    AgentKey key;
    List<Cid> oneRef;
    List<Cid> hundredRefs;
    List<Cid> parents;

    @Setup(Level.Trial)
    public void setup() {
      key = AgentKey.generate();
      hundredRefs = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        hundredRefs.add(Cid.dagCbor(Fixtures.memory("bench.sign", 0, i).encode()));
      }
      oneRef = List.of(hundredRefs.get(0));
      parents = List.of(Cid.dagCbor(new byte[] {1}));
    }
  }

  @Benchmark
  public LogEntry signEntry_1ref(Signing s) {
    return LogEntry.signed(s.key, "bench.sign", Op.ADD, s.oneRef, s.parents, 2);
  }

  @Benchmark
  public LogEntry signEntry_100refs(Signing s) {
    return LogEntry.signed(s.key, "bench.sign", Op.ADD, s.hundredRefs, s.parents, 2);
  }

  @State(Scope.Benchmark)
  public static class Engine {
    Path dir;
    RocksStorage storage;
    List<Block> blocks;
    long n;

    @Setup(Level.Trial)
    public void open() throws IOException {
      dir = Fixtures.tempDir("mnemo-commit-");
      storage = RocksStorage.open(dir.resolve("store"), 256L << 20);
      blocks = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        blocks.add(Block.dagCbor(Fixtures.memory("bench.commit", 0, i).encode()));
      }
    }

    @TearDown(Level.Trial)
    public void close() {
      try {
        storage.close();
      } finally {
        Fixtures.deleteRecursively(dir);
      }
    }

    byte[] key(long i) {
      return ByteBuffer.allocate(16).putLong(n).putLong(i).array();
    }
  }

  /** One durable write of ~100 bytes: the floor of a commit, WAL append + sync. */
  @Benchmark
  public void durableWrite_tiny(Engine e) throws IOException, RocksDBException {
    try (WriteBatch batch = new WriteBatch()) {
      batch.put(e.storage.handle(Family.META), e.key(0), new byte[80]);
      e.storage.writeDurably(batch);
    }
    e.n++;
  }

  /** One durable write shaped like an append of 100 ~2 KiB memories (~210 KB of WAL). */
  @Benchmark
  public void durableWrite_100memories(Engine e) throws IOException, RocksDBException {
    try (WriteBatch batch = new WriteBatch()) {
      for (int i = 0; i < e.blocks.size(); i++) {
        byte[] key = e.key(i);
        batch.put(e.storage.handle(Family.BLOCKS), key, e.blocks.get(i).data());
        batch.put(e.storage.handle(Family.STATES), key, new byte[12]);
        batch.put(e.storage.handle(Family.MEMORIES), key, new byte[36]);
      }
      e.storage.writeDurably(batch);
    }
    e.n++;
  }
}
