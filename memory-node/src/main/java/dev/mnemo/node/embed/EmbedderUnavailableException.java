package dev.mnemo.node.embed;

/**
 * Thrown when a node configured without an embedder is asked to embed: the client must send its own
 * vectors. A client mistake, not a fault of the node.
 */
public final class EmbedderUnavailableException extends RuntimeException {
  private final int dimension;

  public EmbedderUnavailableException(int dimension) {
    super("this node has no embedder: send vectors (" + dimension + " dimensions)");
    this.dimension = dimension;
  }

  /** The vector length the node expects from clients. */
  public int dimension() {
    return dimension;
  }
}
