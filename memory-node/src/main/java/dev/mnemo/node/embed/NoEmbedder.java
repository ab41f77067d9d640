package dev.mnemo.node.embed;

import java.util.List;

/** The embedder of a node that takes client vectors only: it knows the dimension and refuses. */
final class NoEmbedder implements Embedder {
  private final int dimension;

  NoEmbedder(int dimension) {
    if (dimension < 1) {
      throw new IllegalArgumentException(
          "a node without an embedder needs the dimension of client vectors, got " + dimension);
    }
    this.dimension = dimension;
  }

  @Override
  public String model() {
    return Embedders.NONE;
  }

  @Override
  public int dimension() {
    return dimension;
  }

  @Override
  public Readiness readiness() {
    return Readiness.NONE;
  }

  @Override
  public List<float[]> embedPassages(List<String> texts) {
    throw new EmbedderUnavailableException(dimension);
  }

  @Override
  public float[] embedQuery(String text) {
    throw new EmbedderUnavailableException(dimension);
  }

  @Override
  public List<float[]> embedQueries(List<String> texts) {
    throw new EmbedderUnavailableException(dimension);
  }
}
