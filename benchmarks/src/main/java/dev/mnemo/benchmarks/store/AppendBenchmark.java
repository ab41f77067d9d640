package dev.mnemo.benchmarks.store;

import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.log.Appended;
import dev.mnemo.store.model.Memory;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Durable appends through {@link dev.mnemo.store.log.NamespaceLog#append}: each call returns once
 * its memories, its signed log entry and the new heads are synced to the RocksDB WAL. Memories are
 * ~2 KiB (text, metadata, tags) and unique per op, so every append writes new blocks.
 *
 * <p>The score is memories per second: single appends are one memory an op; batches carry
 * {@code @OperationsPerInvocation(100)}. "shared" writers all append to one namespace (the log
 * writer can coalesce their queued requests into one entry); "own" writers each append to their
 * own namespace (one entry, so one signature, per namespace per commit group).
 *
 * <p>Every trial opens a fresh data directory and deletes it afterwards. The tear-down prints how
 * many memories went into how many log entries, i.e. how well group commit coalesced.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 1, time = 10)
@Measurement(iterations = 3, time = 10)
@Fork(1)
public class AppendBenchmark {
  static final String SHARED_NS = "bench.shared";
  static final int BATCH = 100;

  @State(Scope.Benchmark)
  public static class Store {
    Path dir;
    MnemoStore store;
    final LongAdder memories = new LongAdder();
    final LongAdder appends = new LongAdder();

    @Setup(Level.Trial)
    public void open() throws IOException {
      dir = Fixtures.tempDir("mnemo-append-");
      store = MnemoStore.open(dir);
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
      try {
        long entries = store.log().lastPosition();
        System.out.printf("%n[group commit] %,d memories in %,d append calls went into %,d signed log entries"
                + " (%.1f memories/entry, %.2f calls/entry)%n",
            memories.sum(), appends.sum(), entries,
            entries == 0 ? 0.0 : memories.sum() / (double) entries,
            entries == 0 ? 0.0 : appends.sum() / (double) entries);
        store.close();
      } finally {
        Fixtures.deleteRecursively(dir);
      }
    }
  }

  @State(Scope.Thread)
  public static class Writer {
    private static final AtomicInteger IDS = new AtomicInteger();
    int id;
    String ownNs;
    long n;

    @Setup(Level.Trial)
    public void setup() {
      id = IDS.incrementAndGet();
      ownNs = "bench.writer-" + id;
    }

    Memory next(String ns) {
      return Fixtures.memory(ns, id, n++);
    }

    List<Memory> nextBatch(String ns) {
      List<Memory> batch = new ArrayList<>(BATCH);
      for (int i = 0; i < BATCH; i++) {
        batch.add(next(ns));
      }
      return batch;
    }
  }

  private static Appended append(Store s, String ns, List<Memory> memories) throws IOException {
    Appended done = s.store.log().append(ns, memories);
    s.memories.add(memories.size());
    s.appends.increment();
    return done;
  }

  // ---- one memory per call ----

  @Benchmark
  @Threads(1)
  public Appended single_1writer(Store s, Writer w) throws IOException {
    return append(s, SHARED_NS, List.of(w.next(SHARED_NS)));
  }

  @Benchmark
  @Threads(8)
  public Appended single_8writers_sharedNs(Store s, Writer w) throws IOException {
    return append(s, SHARED_NS, List.of(w.next(SHARED_NS)));
  }

  @Benchmark
  @Threads(8)
  public Appended single_8writers_ownNs(Store s, Writer w) throws IOException {
    return append(s, w.ownNs, List.of(w.next(w.ownNs)));
  }

  // ---- batches of 100 memories per call ----

  @Benchmark
  @Threads(1)
  @OperationsPerInvocation(BATCH)
  public Appended batch100_1writer(Store s, Writer w) throws IOException {
    return append(s, SHARED_NS, w.nextBatch(SHARED_NS));
  }

  @Benchmark
  @Threads(8)
  @OperationsPerInvocation(BATCH)
  public Appended batch100_8writers_sharedNs(Store s, Writer w) throws IOException {
    return append(s, SHARED_NS, w.nextBatch(SHARED_NS));
  }

  @Benchmark
  @Threads(8)
  @OperationsPerInvocation(BATCH)
  public Appended batch100_8writers_ownNs(Store s, Writer w) throws IOException {
    return append(s, w.ownNs, w.nextBatch(w.ownNs));
  }

  // ---- baseline: what the benchmark itself costs ----

  /** Building the fixture memories alone (no store): shows the harness is not the bottleneck. */
  @Benchmark
  @Threads(1)
  @OperationsPerInvocation(BATCH)
  public List<Memory> fixtureOnly_batch100(Writer w) {
    return w.nextBatch(SHARED_NS);
  }
}
