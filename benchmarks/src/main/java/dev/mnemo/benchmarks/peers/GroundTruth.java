package dev.mnemo.benchmarks.peers;

import java.util.PriorityQueue;
import java.util.stream.IntStream;
import org.apache.lucene.util.VectorUtil;

/**
 * Exact nearest neighbours by inner product, by brute force: the truth that every system's
 * recall@10 is measured against. Queries run in parallel on all cores; Lucene's
 * {@link VectorUtil#dotProduct} uses SIMD when jdk.incubator.vector is enabled.
 */
final class GroundTruth {
  private GroundTruth() {}

  /** For each query, the ids of its k best documents, best first; equal scores rank the lower id first. */
  static int[][] topK(float[][] docs, float[][] queries, int k) {
    int[][] truth = new int[queries.length][];
    IntStream.range(0, queries.length).parallel().forEach(q -> truth[q] = topK(docs, queries[q], k));
    return truth;
  }

  private static int[] topK(float[][] docs, float[] query, int k) {
    // Min-heap of the k best so far: the root is the worst kept, evicted by anything better.
    PriorityQueue<Hit> best = new PriorityQueue<>(k + 1, GroundTruth::worseFirst);
    for (int d = 0; d < docs.length; d++) {
      float score = VectorUtil.dotProduct(docs[d], query);
      // Ids rise with d, so a later document must score strictly higher to displace the worst kept.
      if (best.size() < k) {
        best.add(new Hit(d, score));
      } else if (score > best.peek().score()) {
        best.poll();
        best.add(new Hit(d, score));
      }
    }
    int[] ids = new int[best.size()];
    for (int i = ids.length - 1; i >= 0; i--) {
      ids[i] = best.poll().id();
    }
    return ids;
  }

  /** Orders hits worst first: lower score, then (for equal scores) higher id. */
  private static int worseFirst(Hit a, Hit b) {
    int byScore = Float.compare(a.score(), b.score());
    return byScore != 0 ? byScore : Integer.compare(b.id(), a.id());
  }

  private record Hit(int id, float score) {}
}
