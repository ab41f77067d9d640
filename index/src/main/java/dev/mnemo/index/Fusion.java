package dev.mnemo.index;

/**
 * How a recall weighs its signals. Each signal's scores are scaled to [0, 1] over its own
 * candidates (BM25 divided by its best, cosine min-max), then summed with these weights:
 * {@code keyword} is the keyword family's share in hybrid mode (the vector family has the rest),
 * and {@code context} is, within each family, the share of the memory-with-its-predecessor
 * signal (see {@link ConversationContext}); the memory's own signal has the rest.
 *
 * @param keyword 0 to 1; used by hybrid mode only
 * @param context 0 to 1; 0 ranks by the memory alone
 * @param depth candidates taken from each signal, 1 to 1000; 0 for the index's default
 *     (the larger of 4k and its search depth)
 */
public record Fusion(double keyword, double context, int depth) {
  /**
   * The defaults, chosen on both development sets together (benchmarks/RECALL-QUALITY.md):
   * LoCoMo's five development conversations and the project's own set.
   */
  public static final Fusion DEFAULT = new Fusion(0.5, 0.5, 0);

  public static final int MAX_DEPTH = 1000;

  public Fusion {
    if (!(keyword >= 0 && keyword <= 1)) {
      throw new IllegalArgumentException("fusion keyword weight must be between 0 and 1");
    }
    if (!(context >= 0 && context <= 1)) {
      throw new IllegalArgumentException("fusion context weight must be between 0 and 1");
    }
    if (depth < 0 || depth > MAX_DEPTH) {
      throw new IllegalArgumentException("fusion depth must be between 1 and " + MAX_DEPTH + " (0 for the default)");
    }
  }
}
