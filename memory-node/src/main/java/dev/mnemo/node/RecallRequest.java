package dev.mnemo.node;

import dev.mnemo.index.RecallFilter;
import dev.mnemo.index.RecallMode;

/**
 * A recall as a caller asks it: like the index's {@link dev.mnemo.index.RecallQuery}, but the query
 * vector may be missing where the node is to embed the text ({@link #needsEmbedding}).
 */
public record RecallRequest(String ns, String text, float[] vector, int k, RecallMode mode, RecallFilter filter,
    double recencyWeight, long recencyHalfLifeMillis, FusionChoice fusion, boolean includeSuperseded) {

  public RecallRequest {
    filter = filter == null ? RecallFilter.NONE : filter;
    fusion = fusion == null ? FusionChoice.NODE_DEFAULTS : fusion;
  }

  public RecallRequest(String ns, String text, float[] vector, int k, RecallMode mode, RecallFilter filter,
      double recencyWeight, long recencyHalfLifeMillis, FusionChoice fusion) {
    this(ns, text, vector, k, mode, filter, recencyWeight, recencyHalfLifeMillis, fusion, false);
  }

  public RecallRequest(String ns, String text, float[] vector, int k, RecallMode mode, RecallFilter filter,
      double recencyWeight, long recencyHalfLifeMillis, boolean includeSuperseded) {
    this(ns, text, vector, k, mode, filter, recencyWeight, recencyHalfLifeMillis, FusionChoice.NODE_DEFAULTS,
        includeSuperseded);
  }

  /**
   * The fusion settings a recall chose, each null where the node's configured default applies.
   */
  public record FusionChoice(Double keyword, Double context, Integer depth) {
    public static final FusionChoice NODE_DEFAULTS = new FusionChoice(null, null, null);

    /** These settings over the node's defaults; an invalid value is an IllegalArgumentException. */
    public dev.mnemo.index.Fusion over(dev.mnemo.index.Fusion defaults) {
      return new dev.mnemo.index.Fusion(keyword != null ? keyword : defaults.keyword(),
          context != null ? context : defaults.context(), depth != null ? depth : defaults.depth());
    }
  }

  /** A recall of current memories only, with the node's fusion. */
  public RecallRequest(String ns, String text, float[] vector, int k, RecallMode mode, RecallFilter filter,
      double recencyWeight, long recencyHalfLifeMillis) {
    this(ns, text, vector, k, mode, filter, recencyWeight, recencyHalfLifeMillis, FusionChoice.NODE_DEFAULTS, false);
  }

  /** Whether the node must embed the text before searching: the mode uses a vector and none came with the request. */
  public boolean needsEmbedding() {
    return mode != RecallMode.KEYWORD && vector == null && text != null;
  }

  public RecallRequest withVector(float[] queryVector) {
    return new RecallRequest(ns, text, queryVector, k, mode, filter, recencyWeight, recencyHalfLifeMillis, fusion,
        includeSuperseded);
  }
}
