package dev.mnemo.index;

/** Which signals a recall uses. */
public enum RecallMode {
  /** BM25 over the memory text. */
  KEYWORD,
  /** HNSW k-nearest-neighbours over the memory vectors. */
  VECTOR,
  /** Both, fused by a weighted sum of normalized scores (see LuceneMemoryIndex for the measured reason). */
  HYBRID;

  public static RecallMode parse(String name) {
    for (RecallMode mode : values()) {
      if (mode.name().equalsIgnoreCase(name)) {
        return mode;
      }
    }
    throw new IllegalArgumentException("unknown mode '" + name + "': use keyword, vector or hybrid");
  }
}
