package dev.mnemo.node;

import dev.mnemo.index.RecallFilter;
import dev.mnemo.index.RecallMode;

/**
 * A recall as a caller asks it: like the index's {@link dev.mnemo.index.RecallQuery}, but the query
 * vector may be missing where the node is to embed the text ({@link #needsEmbedding}).
 */
public record RecallRequest(String ns, String text, float[] vector, int k, RecallMode mode, RecallFilter filter,
    double recencyWeight, long recencyHalfLifeMillis, boolean includeSuperseded) {

  public RecallRequest {
    filter = filter == null ? RecallFilter.NONE : filter;
  }

  /** A recall of current memories only. */
  public RecallRequest(String ns, String text, float[] vector, int k, RecallMode mode, RecallFilter filter,
      double recencyWeight, long recencyHalfLifeMillis) {
    this(ns, text, vector, k, mode, filter, recencyWeight, recencyHalfLifeMillis, false);
  }

  /** Whether the node must embed the text before searching: the mode uses a vector and none came with the request. */
  public boolean needsEmbedding() {
    return mode != RecallMode.KEYWORD && vector == null && text != null;
  }

  public RecallRequest withVector(float[] queryVector) {
    return new RecallRequest(ns, text, queryVector, k, mode, filter, recencyWeight, recencyHalfLifeMillis, includeSuperseded);
  }
}
