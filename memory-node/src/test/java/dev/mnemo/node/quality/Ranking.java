package dev.mnemo.node.quality;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** Ranked lists of memory indexes, recall@k over questions, and the fusion variants tried. */
final class Ranking {
  private Ranking() {}

  static final int[] KS = {1, 5, 10};

  /** 1-based rank of the first evidence memory in {@code ranked}, or 0 when absent. */
  static int rankOf(List<Integer> ranked, Set<Integer> evidence) {
    for (int i = 0; i < ranked.size(); i++) {
      if (evidence.contains(ranked.get(i))) {
        return i + 1;
      }
    }
    return 0;
  }

  /** recall@1, @5, @10: the share of questions whose evidence is in the top k. */
  static double[] recall(List<Integer> ranks) {
    double[] out = new double[KS.length];
    for (int r : ranks) {
      for (int i = 0; i < KS.length; i++) {
        if (r > 0 && r <= KS[i]) {
          out[i]++;
        }
      }
    }
    for (int i = 0; i < out.length; i++) {
      out[i] /= Math.max(1, ranks.size());
    }
    return out;
  }

  static String format(double[] r) {
    return String.format(Locale.ROOT, "%.3f  %.3f  %.3f", r[0], r[1], r[2]);
  }

  /**
   * Weighted reciprocal rank fusion of the top {@code depth} of each list: each list adds
   * {@code weight / (k + rank)}; ties go to the lower index (as LuceneMemoryIndex breaks them by doc id).
   */
  static List<Integer> rrf(List<Integer> keyword, List<Integer> vector, int depth, double k, double keywordWeight) {
    Map<Integer, Double> fused = new LinkedHashMap<>();
    add(fused, keyword, depth, k, keywordWeight);
    add(fused, vector, depth, k, 2 - keywordWeight);
    return sorted(fused);
  }

  private static void add(Map<Integer, Double> fused, List<Integer> list, int depth, double k, double weight) {
    for (int i = 0; i < Math.min(depth, list.size()); i++) {
      fused.merge(list.get(i), weight / (k + i + 1), Double::sum);
    }
  }

  /** How a list's scores are brought to [0, 1] before a convex combination. */
  enum Norm {
    /** (s - min) / (max - min) over the list's top depth. */
    MIN_MAX,
    /** s / max: the theoretical minimum 0 (BM25 scores are never negative; cosine rarely is). */
    MAX
  }

  /**
   * Convex combination of normalized scores over each list's top {@code depth} (a document
   * missing from a list gets 0 from it): alpha * keyword + (1 - alpha) * vector.
   */
  static List<Integer> convex(List<Integer> keyword, List<Double> keywordScores, List<Integer> vector,
      List<Double> vectorScores, int depth, double alpha) {
    return convex(keyword, keywordScores, Norm.MIN_MAX, vector, vectorScores, Norm.MIN_MAX, depth, alpha);
  }

  static List<Integer> convex(List<Integer> keyword, List<Double> keywordScores, Norm keywordNorm,
      List<Integer> vector, List<Double> vectorScores, Norm vectorNorm, int depth, double alpha) {
    Map<Integer, Double> fused = new HashMap<>();
    normalizedInto(fused, keyword, keywordScores, keywordNorm, depth, alpha);
    normalizedInto(fused, vector, vectorScores, vectorNorm, depth, 1 - alpha);
    return sorted(fused);
  }

  private static void normalizedInto(Map<Integer, Double> fused, List<Integer> docs, List<Double> scores, Norm norm,
      int depth, double weight) {
    int n = Math.min(depth, docs.size());
    if (n == 0) {
      return;
    }
    double max = scores.get(0);
    double min = norm == Norm.MAX ? 0 : scores.get(n - 1);
    for (int i = 0; i < n; i++) {
      double s = max > min ? (scores.get(i) - min) / (max - min) : 1;
      fused.merge(docs.get(i), weight * s, Double::sum);
    }
  }

  private static List<Integer> sorted(Map<Integer, Double> fused) {
    List<Map.Entry<Integer, Double>> entries = new ArrayList<>(fused.entrySet());
    entries.sort(Map.Entry.<Integer, Double>comparingByValue(Collections.reverseOrder())
        .thenComparing(Map.Entry.comparingByKey()));
    List<Integer> out = new ArrayList<>(entries.size());
    for (Map.Entry<Integer, Double> e : entries) {
      out.add(e.getKey());
    }
    return out;
  }
}
