package dev.mnemo.node.embed;

/**
 * One loaded instance of each model for the whole test run (loading takes about a second each).
 * Never closed: their threads are daemons. Tests that close an embedder make their own.
 */
final class TestModels {
  private TestModels() {}

  private static final class Bge {
    static final OnnxEmbedder INSTANCE = new OnnxEmbedder(OnnxEmbedder.Model.BGE_SMALL_EN_V15);
  }

  private static final class MiniLm {
    static final OnnxEmbedder INSTANCE = new OnnxEmbedder(OnnxEmbedder.Model.ALL_MINILM_L6_V2);
  }

  static OnnxEmbedder bge() {
    return Bge.INSTANCE;
  }

  static OnnxEmbedder miniLm() {
    return MiniLm.INSTANCE;
  }

  static OnnxEmbedder of(OnnxEmbedder.Model model) {
    return switch (model) {
      case BGE_SMALL_EN_V15 -> bge();
      case ALL_MINILM_L6_V2 -> miniLm();
      default -> new OnnxEmbedder(model);
    };
  }

  static float dot(float[] a, float[] b) {
    float sum = 0;
    for (int i = 0; i < a.length; i++) {
      sum += a[i] * b[i];
    }
    return sum;
  }

  static double norm(float[] v) {
    double sum = 0;
    for (float f : v) {
      sum += (double) f * f;
    }
    return Math.sqrt(sum);
  }

  /** Cosine of two vectors of any length. */
  static double cosine(float[] a, float[] b) {
    return dot(a, b) / (norm(a) * norm(b));
  }
}
