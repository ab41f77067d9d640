package dev.mnemo.benchmarks.index;

import dev.mnemo.benchmarks.data.Corpus;
import dev.mnemo.index.IndexConfig;
import dev.mnemo.index.IndexedMemory;
import dev.mnemo.index.LuceneMemoryIndex;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.model.Embedding;
import dev.mnemo.store.model.Memory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/** Builds a Lucene recall index from the corpus, and computes exact top-k by brute force. */
public final class IndexFixture {
  public static final String NS = "bench";

  private IndexFixture() {}

  public record Built(LuceneMemoryIndex index, Path dir, List<Cid> cids, double buildSeconds) {}

  public static Built build(Corpus corpus, IndexConfig config) throws IOException {
    Path dir = Files.createTempDirectory("mnemo-index-bench");
    LuceneMemoryIndex index = LuceneMemoryIndex.open(dir, config);
    List<Cid> cids = new ArrayList<>(corpus.docTexts().size());
    long start = System.nanoTime();
    List<IndexedMemory> batch = new ArrayList<>(1000);
    for (int i = 0; i < corpus.docTexts().size(); i++) {
      Memory memory = new Memory(NS, corpus.docTexts().get(i), java.util.Map.of("n", (long) (i % 100)), List.of(),
          1_700_000_000_000L + i * 1000L, new Embedding("bge-small-en-v1.5-q", corpus.docVectors()[i]), null);
      Cid cid = Cid.dagCbor(memory.encode());
      cids.add(cid);
      batch.add(new IndexedMemory(cid, i + 1, memory));
      if (batch.size() == 1000) {
        index.add(batch);
        batch.clear();
      }
    }
    index.add(batch);
    index.markApplied(corpus.docTexts().size());
    index.commit();
    index.refresh();
    double seconds = (System.nanoTime() - start) / 1e9;
    return new Built(index, dir, cids, seconds);
  }

  /** Indices of the exact top-k documents by dot product (vectors are unit length; Lucene's SIMD dot product). */
  public static int[] exactTopK(float[][] docs, float[] query, int k) {
    int[] best = new int[k];
    float[] scores = new float[k];
    java.util.Arrays.fill(scores, Float.NEGATIVE_INFINITY);
    for (int d = 0; d < docs.length; d++) {
      float dot = org.apache.lucene.util.VectorUtil.dotProduct(docs[d], query);
      if (dot > scores[k - 1]) {
        int pos = k - 1;
        while (pos > 0 && scores[pos - 1] < dot) {
          scores[pos] = scores[pos - 1];
          best[pos] = best[pos - 1];
          pos--;
        }
        scores[pos] = dot;
        best[pos] = d;
      }
    }
    return best;
  }

  public static long sizeOnDisk(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      return files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    }
  }

  public static void delete(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
