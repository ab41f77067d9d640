package dev.mnemo.node.embed;

import dev.mnemo.index.ContextEmbedder;
import java.util.List;

/** The node's text embedder as the index's {@link ContextEmbedder}. */
public final class ContextEmbedders {
  private ContextEmbedders() {}

  /**
   * The context embedder over {@code embedder}, or null when it embeds nothing (clients send
   * vectors) or context is weighed 0: then the index keeps no context vectors and never pays
   * for them.
   */
  public static ContextEmbedder of(Embedder embedder, double contextWeight) {
    if (embedder instanceof NoEmbedder || contextWeight <= 0) {
      return null;
    }
    return new ContextEmbedder() {
      @Override
      public String model() {
        return embedder.model();
      }

      @Override
      public List<float[]> embed(List<String> texts) {
        return embedder.embedPassages(texts);
      }
    };
  }
}
