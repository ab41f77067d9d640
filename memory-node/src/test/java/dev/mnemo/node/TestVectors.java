package dev.mnemo.node;

import java.util.Random;

/**
 * Client vectors for nodes without an embedder: unit vectors in 384 dimensions, reproducible from
 * a seed. Independent random directions in 384 dimensions are nearly orthogonal (cosine about
 * ±0.05), so each one is clearly its own nearest neighbour.
 */
public final class TestVectors {
  public static final int DIMENSION = 384;

  private TestVectors() {}

  public static float[] random(long seed) {
    Random random = new Random(seed);
    float[] v = new float[DIMENSION];
    for (int i = 0; i < DIMENSION; i++) {
      v[i] = (float) random.nextGaussian();
    }
    return normalized(v);
  }

  /** {@code base} moved by random noise of about {@code noise} (its cosine to base is ~1/sqrt(1+noise²)). */
  public static float[] near(float[] base, double noise, long seed) {
    float[] direction = random(seed);
    float[] v = new float[DIMENSION];
    for (int i = 0; i < DIMENSION; i++) {
      v[i] = (float) (base[i] + noise * direction[i]);
    }
    return normalized(v);
  }

  /** The vector as base64 of little-endian float32, the API's compact vector form. */
  public static String base64(float[] v) {
    java.nio.ByteBuffer bytes = java.nio.ByteBuffer.allocate(v.length * Float.BYTES).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    bytes.asFloatBuffer().put(v);
    return java.util.Base64.getEncoder().encodeToString(bytes.array());
  }

  public static double cosine(float[] a, float[] b) {
    double dot = 0;
    for (int i = 0; i < a.length; i++) {
      dot += (double) a[i] * b[i];
    }
    return dot;
  }

  private static float[] normalized(float[] v) {
    double sum = 0;
    for (float f : v) {
      sum += (double) f * f;
    }
    float scale = (float) (1 / Math.sqrt(sum));
    for (int i = 0; i < v.length; i++) {
      v[i] *= scale;
    }
    return v;
  }
}
