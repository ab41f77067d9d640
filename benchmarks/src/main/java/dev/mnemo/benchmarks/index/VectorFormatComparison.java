package dev.mnemo.benchmarks.index;

import dev.mnemo.benchmarks.data.Corpus;
import dev.mnemo.index.IndexConfig;
import dev.mnemo.index.RecallHit;
import dev.mnemo.index.RecallMode;
import dev.mnemo.index.RecallQuery;
import dev.mnemo.store.cid.Cid;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.HdrHistogram.Histogram;

/**
 * Float HNSW against Lucene's 7-bit quantized HNSW on the same corpus: build time, size on disk,
 * vector recall@10 against exact brute force, and single-thread latency of vector and hybrid
 * recall (p50/p99 over the held-out queries, after a warm-up pass). Prints a Markdown table.
 *
 * <p>Usage: {@code VectorFormatComparison [docs=100000]}; needs the corpus (prepare-corpus.sh).
 */
public final class VectorFormatComparison {
  public static void main(String[] args) throws Exception {
    int docs = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
    Corpus corpus = Corpus.read(Corpus.defaultPath(), docs);
    int dim = corpus.dimension();
    System.out.printf("corpus: %d documents, %d queries, dim %d%n%n", corpus.docTexts().size(), corpus.queryTexts().size(), dim);

    int[][] truth = new int[corpus.queryTexts().size()][];
    for (int q = 0; q < truth.length; q++) {
      truth[q] = IndexFixture.exactTopK(corpus.docVectors(), corpus.queryVectors()[q], 10);
    }
    System.out.println("| encoding | m | beam | search depth | segments | build s | index MB | recall@10 | vector p50 ms | vector p99 ms | hybrid p50 ms | hybrid p99 ms |");
    System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|");
    List<IndexConfig> configs = List.of(
        new IndexConfig(dim, IndexConfig.VectorEncoding.FLOAT32, 16, 100, 64),
        new IndexConfig(dim, IndexConfig.VectorEncoding.FLOAT32, 16, 100, 100),
        new IndexConfig(dim, IndexConfig.VectorEncoding.INT7, 16, 100, 64),
        new IndexConfig(dim, IndexConfig.VectorEncoding.INT7, 16, 100, 100));
    for (IndexConfig config : configs) {
      IndexFixture.Built built = IndexFixture.build(corpus, config);
      try {
        Map<Cid, Integer> ordinal = new HashMap<>();
        for (int i = 0; i < built.cids().size(); i++) {
          ordinal.put(built.cids().get(i), i);
        }
        // As built (several segments, as right after ingest), then merged into one segment, which
        // is what a node does once writes pause (indexOptimizeIdleMs).
        printRow(corpus, truth, config, built, ordinal, "as built (" + built.index().segmentCount() + ")", built.buildSeconds());
        long mergeStart = System.nanoTime();
        built.index().optimize();
        built.index().commit();   // until a commit, the merged-away segments stay on disk
        printRow(corpus, truth, config, built, ordinal, "merged (" + built.index().segmentCount() + ")",
            built.buildSeconds() + (System.nanoTime() - mergeStart) / 1e9);
      } finally {
        built.index().close();
        IndexFixture.delete(built.dir());
      }
    }
  }

  /** Two passes over all held-out queries (the first warms up); prints the second pass. */
  private static void printRow(Corpus corpus, int[][] truth, IndexConfig config, IndexFixture.Built built,
      Map<Cid, Integer> ordinal, String segments, double buildSeconds) throws Exception {
    double recall = 0;
    Histogram vector = new Histogram(3);
    Histogram hybrid = new Histogram(3);
    for (int pass = 0; pass < 2; pass++) {
      recall = 0;
      vector.reset();
      hybrid.reset();
      for (int q = 0; q < truth.length; q++) {
        float[] qv = corpus.queryVectors()[q];
        long t0 = System.nanoTime();
        List<RecallHit> hits = built.index().recall(RecallQuery.of(IndexFixture.NS, null, qv, 10, RecallMode.VECTOR)).hits();
        vector.recordValue((System.nanoTime() - t0) / 1000);
        long t1 = System.nanoTime();
        built.index().recall(RecallQuery.of(IndexFixture.NS, corpus.queryTexts().get(q), qv, 10, RecallMode.HYBRID));
        hybrid.recordValue((System.nanoTime() - t1) / 1000);
        Set<Integer> expected = new HashSet<>();
        for (int d : truth[q]) {
          expected.add(d);
        }
        int found = 0;
        for (RecallHit hit : hits) {
          if (expected.contains(ordinal.get(hit.cid()))) {
            found++;
          }
        }
        recall += found / 10.0;
      }
    }
    recall /= truth.length;
    System.out.printf("| %s | %d | %d | %d | %s | %.1f | %.0f | %.3f | %.2f | %.2f | %.2f | %.2f |%n",
        config.encoding().name().toLowerCase(), config.hnswM(), config.hnswBeamWidth(), config.searchDepth(), segments,
        buildSeconds, IndexFixture.sizeOnDisk(built.dir()) / 1e6, recall,
        vector.getValueAtPercentile(50) / 1000.0, vector.getValueAtPercentile(99) / 1000.0,
        hybrid.getValueAtPercentile(50) / 1000.0, hybrid.getValueAtPercentile(99) / 1000.0);
  }
}
