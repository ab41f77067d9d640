package dev.mnemo.node.embed;

import java.util.ArrayList;
import java.util.List;

/** Builds the embedder a node runs, from the names used in configuration. */
public final class Embedders {
  /** The default model: E5-small-v2, quantized. */
  public static final String DEFAULT = OnnxEmbedder.Model.E5_SMALL_V2.configName();

  /** No embedder: clients send vectors. */
  public static final String NONE = "none";

  private Embedders() {}

  /** Every name {@link #create} accepts, the default first. */
  public static List<String> names() {
    List<String> names = new ArrayList<>();
    for (OnnxEmbedder.Model model : OnnxEmbedder.Model.values()) {
      names.add(model.configName());
    }
    names.add(NONE);
    return List.copyOf(names);
  }

  /**
   * The node's embedder for {@code name}: for a model, a {@link CachingEmbedder} over a {@link
   * BatchingEmbedder} over an {@link OnnxEmbedder} with its defaults; for {@link #NONE}, one that
   * throws {@link EmbedderUnavailableException}.
   *
   * @param dimension the vector length the node is configured for: required for {@code none}; for a
   *     model, 0 or the model's own (a mismatch fails here rather than in the index)
   * @throws IllegalArgumentException for an unknown name or a mismatched dimension
   */
  public static Embedder create(String name, int dimension) {
    if (NONE.equals(name)) {
      return new NoEmbedder(dimension);
    }
    return stack(model(name, dimension));
  }

  /**
   * As {@link #create}, but a model loads and runs once on a thread of its own ({@link
   * WarmingEmbedder}) and this returns at once; a bad name or dimension still fails here.
   */
  public static Embedder warming(String name, int dimension) {
    if (NONE.equals(name)) {
      return new NoEmbedder(dimension);
    }
    OnnxEmbedder.Model model = model(name, dimension);
    return new WarmingEmbedder(model.modelName(), model.dimension(), () -> stack(model));
  }

  private static Embedder stack(OnnxEmbedder.Model model) {
    return new CachingEmbedder(new BatchingEmbedder(new OnnxEmbedder(model)));
  }

  private static OnnxEmbedder.Model model(String name, int dimension) {
    OnnxEmbedder.Model model =
        OnnxEmbedder.Model.named(name)
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        "unknown embedder '" + name + "'; choose one of " + names()));
    if (dimension != 0 && dimension != model.dimension()) {
      throw new IllegalArgumentException(
          name
              + " makes "
              + model.dimension()
              + "-dimension vectors, but the node is configured for "
              + dimension);
    }
    return model;
  }
}
