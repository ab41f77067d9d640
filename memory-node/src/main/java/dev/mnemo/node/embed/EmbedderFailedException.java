package dev.mnemo.node.embed;

/**
 * Thrown for a text call when the node's model could not be loaded at start ({@link
 * WarmingEmbedder}): a fault of the node, not of the client, which the node's log and {@code GET
 * /health} also report. The cause is the load failure.
 */
public final class EmbedderFailedException extends RuntimeException {
  public EmbedderFailedException(String model, Throwable cause) {
    super("the embedder " + model + " failed to load at start: " + cause.getMessage(), cause);
  }
}
