package dev.mnemo.index;

/**
 * One recall: the namespace, the query text and/or vector, how many results, which signals, the
 * filter, how much recency counts (0 = not at all, 1 = only recency) with its half-life, and
 * whether superseded memories (those a live memory names as prev) may be found too.
 */
public record RecallQuery(String ns, String text, float[] vector, int k, RecallMode mode, RecallFilter filter,
    double recencyWeight, long recencyHalfLifeMillis, long nowMillis, Fusion fusion, boolean includeSuperseded) {

  /** A recall of current memories only. */
  public RecallQuery(String ns, String text, float[] vector, int k, RecallMode mode, RecallFilter filter,
      double recencyWeight, long recencyHalfLifeMillis, long nowMillis, Fusion fusion) {
    this(ns, text, vector, k, mode, filter, recencyWeight, recencyHalfLifeMillis, nowMillis, fusion, false);
  }

  /** With the default fusion. */
  public RecallQuery(String ns, String text, float[] vector, int k, RecallMode mode, RecallFilter filter,
      double recencyWeight, long recencyHalfLifeMillis, long nowMillis, boolean includeSuperseded) {
    this(ns, text, vector, k, mode, filter, recencyWeight, recencyHalfLifeMillis, nowMillis, Fusion.DEFAULT,
        includeSuperseded);
  }

  public static final long DEFAULT_HALF_LIFE = 30L * 24 * 3600 * 1000;

  public RecallQuery {
    if (k < 1) {
      throw new IllegalArgumentException("k must be at least 1");
    }
    if (recencyWeight < 0 || recencyWeight > 1) {
      throw new IllegalArgumentException("recency weight must be between 0 and 1");
    }
    if (mode != RecallMode.VECTOR && (text == null || text.isBlank())) {
      throw new IllegalArgumentException(mode.name().toLowerCase() + " recall needs query text");
    }
    if (mode != RecallMode.KEYWORD && vector == null) {
      throw new IllegalArgumentException(mode.name().toLowerCase() + " recall needs a query vector");
    }
    filter = filter == null ? RecallFilter.NONE : filter;
    fusion = fusion == null ? Fusion.DEFAULT : fusion;
  }

  /** With the default fusion, of current memories only. */
  public RecallQuery(String ns, String text, float[] vector, int k, RecallMode mode, RecallFilter filter,
      double recencyWeight, long recencyHalfLifeMillis, long nowMillis) {
    this(ns, text, vector, k, mode, filter, recencyWeight, recencyHalfLifeMillis, nowMillis, Fusion.DEFAULT, false);
  }

  public static RecallQuery of(String ns, String text, float[] vector, int k, RecallMode mode) {
    return new RecallQuery(ns, text, vector, k, mode, RecallFilter.NONE, 0, DEFAULT_HALF_LIFE, System.currentTimeMillis());
  }
}
