package dev.mnemo.benchmarks.index;

import dev.mnemo.benchmarks.data.Corpus;
import dev.mnemo.index.IndexConfig;
import dev.mnemo.index.MemoryIndex;
import dev.mnemo.index.RecallMode;
import dev.mnemo.index.RecallQuery;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * In-process recall latency at corpus scale (default 100k memories, 384-dim BGE vectors of real
 * sentences): vector, keyword and hybrid, k=10, one held-out query after another. Sample-time
 * mode reports p50/p99. Needs the corpus (benchmarks/scripts/prepare-corpus.sh).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class RecallBenchmark {
  @Param({"100000"})
  public int docs;

  @Param({"FLOAT32"})
  public String encoding;

  /** Merged into one segment, as a node's index is once writes pause (indexOptimizeIdleMs). */
  @Param({"true", "false"})
  public boolean merged;

  private Corpus corpus;
  private IndexFixture.Built built;
  private int next;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    corpus = Corpus.read(Corpus.defaultPath(), docs);
    IndexConfig config = new IndexConfig(corpus.dimension(), IndexConfig.VectorEncoding.valueOf(encoding), 16, 100, 64);
    built = IndexFixture.build(corpus, config);
    if (merged) {
      built.index().optimize();
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    built.index().close();
    IndexFixture.delete(built.dir());
  }

  private int nextQuery() {
    next = (next + 1) % corpus.queryTexts().size();
    return next;
  }

  @Benchmark
  public MemoryIndex.RecallResult vector() throws Exception {
    int q = nextQuery();
    return built.index().recall(RecallQuery.of(IndexFixture.NS, null, corpus.queryVectors()[q], 10, RecallMode.VECTOR));
  }

  @Benchmark
  public MemoryIndex.RecallResult keyword() throws Exception {
    int q = nextQuery();
    return built.index().recall(RecallQuery.of(IndexFixture.NS, corpus.queryTexts().get(q), null, 10, RecallMode.KEYWORD));
  }

  @Benchmark
  public MemoryIndex.RecallResult hybrid() throws Exception {
    int q = nextQuery();
    return built.index().recall(RecallQuery.of(IndexFixture.NS, corpus.queryTexts().get(q), corpus.queryVectors()[q], 10, RecallMode.HYBRID));
  }
}
