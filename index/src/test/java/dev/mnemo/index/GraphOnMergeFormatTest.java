package dev.mnemo.index;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mnemo.store.cid.Cid;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;
import org.apache.lucene.codecs.KnnVectorsReader;
import org.apache.lucene.codecs.perfield.PerFieldKnnVectorsFormat;
import org.apache.lucene.index.CodecReader;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.codecs.hnsw.HnswGraphProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Flushed segments are searched exactly without a graph; merging builds one; recall is right either way. */
class GraphOnMergeFormatTest {
  private static final int DIM = 16;
  private static final int PER_FLUSH = 1_500;

  @TempDir Path dir;
  private final Random random = new Random(42);
  private final List<IndexedMemory> all = new ArrayList<>();

  @Test
  void flushedSegmentsHaveNoGraphAndMergedOnesDo() throws Exception {
    try (LuceneMemoryIndex index = LuceneMemoryIndex.open(dir, IndexConfig.defaults(DIM))) {
      for (int flush = 0; flush < 3; flush++) {
        index.add(batch(PER_FLUSH));
        index.refresh();
      }
      index.commit();
      // Each flush is well above the size at which Lucene would have built a graph (648 vectors).
      assertThat(graphSizes()).hasSize(3).containsOnly(0);
      assertThat(exactRecall(index)).isEqualTo(1.0);

      assertThat(index.optimize()).isTrue();
      index.commit();
      assertThat(graphSizes()).containsExactly(3 * PER_FLUSH);
      assertThat(exactRecall(index)).isGreaterThan(0.9);
    }
  }

  @Test
  void aLongRunOfWritesWithNoRecallFlushesBoundedFlatSegmentsNotOneWithAGraph() throws Exception {
    int memories = 2 * LuceneMemoryIndex.MERGE_MODE_FLUSH_DOCS + 1_000;
    try (LuceneMemoryIndex index = LuceneMemoryIndex.open(dir, IndexConfig.defaults(DIM))) {
      // The RAM buffer would hold all of these; without the cap, they would be one flush that
      // builds its graph on the writing thread.
      index.add(batch(memories));
      index.commit();
    }
    assertThat(segmentSizes(dir)).hasSize(3).allMatch(size -> size <= LuceneMemoryIndex.MERGE_MODE_FLUSH_DOCS);
    assertThat(graphSizes()).containsOnly(0);
  }

  @Test
  void anIndexWrittenFlatReopensAndMergesLater() throws Exception {
    try (LuceneMemoryIndex index = LuceneMemoryIndex.open(dir, IndexConfig.defaults(DIM))) {
      index.add(batch(PER_FLUSH));
      index.refresh();
      index.add(batch(PER_FLUSH));
      index.refresh();
    }
    assertThat(graphSizes()).containsOnly(0);
    try (LuceneMemoryIndex index = LuceneMemoryIndex.open(dir, IndexConfig.defaults(DIM))) {
      assertThat(index.size()).isEqualTo(2 * PER_FLUSH);
      assertThat(exactRecall(index)).isEqualTo(1.0);
      index.optimize();
    }
    assertThat(graphSizes()).containsExactly(2 * PER_FLUSH);
  }

  @Test
  void naturalMergesBuildTheGraphByDefaultButNotWhenGraphsWaitForIdle() throws Exception {
    assertThat(graphsAfterNaturalMerge(IndexConfig.GraphBuild.MERGE)).anyMatch(size -> size > 0);
    all.clear();
    assertThat(graphsAfterNaturalMerge(IndexConfig.GraphBuild.IDLE)).containsOnly(0);
  }

  @Test
  void whenGraphsWaitForIdleOptimizeBuildsThem() throws Exception {
    IndexConfig idle = new IndexConfig(DIM, IndexConfig.VectorEncoding.FLOAT32, 16, 100, 64, IndexConfig.GraphBuild.IDLE);
    try (LuceneMemoryIndex index = LuceneMemoryIndex.open(dir, idle)) {
      for (int flush = 0; flush < 3; flush++) {
        index.add(batch(PER_FLUSH));
        index.refresh();
      }
      assertThat(exactRecall(index)).isEqualTo(1.0);
      assertThat(index.optimize()).isTrue();
      index.commit();
      assertThat(graphSizes()).containsExactly(3 * PER_FLUSH);
    }
  }

  @Test
  void optimizeGivesALoneFlatSegmentItsGraph() throws Exception {
    IndexConfig idle = new IndexConfig(DIM, IndexConfig.VectorEncoding.FLOAT32, 16, 100, 64, IndexConfig.GraphBuild.IDLE);
    try (LuceneMemoryIndex index = LuceneMemoryIndex.open(dir, idle)) {
      index.add(batch(PER_FLUSH));
      index.add(batch(PER_FLUSH));
      index.refresh();
      index.commit();
      assertThat(graphSizes()).containsExactly(0);
      assertThat(index.optimize()).isTrue();
      index.commit();
      assertThat(graphSizes()).containsExactly(2 * PER_FLUSH);
      assertThat(exactRecall(index)).isGreaterThan(0.9);
      assertThat(index.optimize()).as("nothing left to merge").isFalse();
    }
  }

  @Test
  void whenGraphsWaitForIdleNaturalMergesStayFlatAfterAnOptimizeToo() throws Exception {
    IndexConfig idle = new IndexConfig(DIM, IndexConfig.VectorEncoding.FLOAT32, 16, 100, 64, IndexConfig.GraphBuild.IDLE);
    int optimized = 700;
    try (LuceneMemoryIndex index = LuceneMemoryIndex.open(dir, idle)) {
      index.add(batch(optimized / 2));
      index.refresh();
      index.add(batch(optimized / 2));
      index.refresh();
      assertThat(index.optimize()).isTrue();
      // Lucene marks any later merge that takes in the optimized segment as forced.
      long deadline = System.nanoTime() + 30_000_000_000L;
      int flushes = 1;
      while (index.segmentCount() >= flushes && System.nanoTime() < deadline) {
        index.add(batch(optimized));
        index.refresh();
        flushes++;
        Thread.sleep(20);
      }
      assertThat(index.segmentCount()).as("a merge happened").isLessThan(flushes);
      index.commit();
    }
    // A segment with a graph can only be the optimized one, untouched by the merge.
    assertThat(graphSizes()).allMatch(size -> size == 0 || size == optimized);
  }

  /** Flushes small segments until Lucene's merge policy merges some; the graph sizes then. */
  private List<Integer> graphsAfterNaturalMerge(IndexConfig.GraphBuild build) throws Exception {
    Path indexDir = dir.resolve(build.name());
    IndexConfig config = new IndexConfig(DIM, IndexConfig.VectorEncoding.FLOAT32, 16, 100, 64, build);
    try (LuceneMemoryIndex index = LuceneMemoryIndex.open(indexDir, config)) {
      int flushes = 0;
      long deadline = System.nanoTime() + 30_000_000_000L;
      // Merges run in the background; more flushes also prompt the policy to find one.
      while (index.segmentCount() >= flushes && System.nanoTime() < deadline) {
        index.add(batch(300));
        index.refresh();
        flushes++;
        Thread.sleep(20);
      }
      assertThat(index.segmentCount()).as("a merge happened").isLessThan(flushes);
      assertThat(exactRecall(index)).isGreaterThan(0.9);
      index.commit();
    }
    return graphSizes(indexDir);
  }

  private List<Integer> graphSizes() throws IOException {
    return graphSizes(dir);
  }

  /** The number of graph nodes in each segment's vector field; 0 for a segment kept flat. */
  private static List<Integer> graphSizes(Path dir) throws IOException {
    List<Integer> sizes = new ArrayList<>();
    try (var directory = FSDirectory.open(dir); DirectoryReader reader = DirectoryReader.open(directory)) {
      for (LeafReaderContext leaf : reader.leaves()) {
        KnnVectorsReader vectors = ((CodecReader) leaf.reader()).getVectorReader();
        KnnVectorsReader field = ((PerFieldKnnVectorsFormat.FieldsReader) vectors).getFieldReader(MemoryDocuments.VECTOR);
        sizes.add(((HnswGraphProvider) field).getGraph(MemoryDocuments.VECTOR).size());
      }
    }
    return sizes;
  }

  private static List<Integer> segmentSizes(Path dir) throws IOException {
    try (var directory = FSDirectory.open(dir); DirectoryReader reader = DirectoryReader.open(directory)) {
      return reader.leaves().stream().map(leaf -> leaf.reader().maxDoc()).toList();
    }
  }

  /** Recall@10 of the index against an exact scan, over 50 queries. */
  private double exactRecall(LuceneMemoryIndex index) throws IOException {
    int found = 0;
    for (int q = 0; q < 50; q++) {
      float[] query = MemoryDocuments.normalized(vector());
      List<Cid> exact = all.stream()
          .sorted(Comparator.comparingDouble((IndexedMemory m) -> -dot(query, MemoryDocuments.normalized(m.memory().embedding().vector()))))
          .limit(10).map(IndexedMemory::cid).toList();
      List<Cid> got = index.recall(RecallQuery.of("ns", null, query, 10, RecallMode.VECTOR)).hits().stream()
          .map(RecallHit::cid).toList();
      found += (int) got.stream().filter(exact::contains).count();
    }
    return found / 500.0;
  }

  private List<IndexedMemory> batch(int n) {
    List<IndexedMemory> batch = IntStream.range(0, n)
        .mapToObj(i -> LuceneMemoryIndexTest.memory("ns", "memory " + all.size() + "-" + i, vector(), Map.of(), List.of(),
            1_000 + all.size() + i, 1))
        .toList();
    all.addAll(batch);
    return batch;
  }

  private float[] vector() {
    float[] v = new float[DIM];
    for (int i = 0; i < DIM; i++) {
      v[i] = (float) random.nextGaussian();
    }
    return v;
  }

  private static double dot(float[] a, float[] b) {
    double sum = 0;
    for (int i = 0; i < a.length; i++) {
      sum += a[i] * b[i];
    }
    return sum;
  }
}
