package dev.mnemo.index;

import java.util.List;

/**
 * Embeds a memory together with the one written before it (its conversation context), for the
 * context vector the index keeps beside the memory's own. The node provides its text embedder;
 * an index without one keeps only the keyword context.
 */
public interface ContextEmbedder {
  /**
   * The model whose vectors these are. Only memories whose own embedding came from this model get
   * a context vector: a query vector is compared with both, so they must share one space.
   */
  String model();

  /** One unit vector a text, in order. */
  List<float[]> embed(List<String> texts);
}
