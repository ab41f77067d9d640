package dev.mnemo.node.embed;

import java.util.ArrayList;
import java.util.List;

/**
 * Turns texts into vectors: the SPI between the node and whatever embeds. Implementations run
 * in-process models (the default, {@link OnnxEmbedder}), call an embeddings endpoint, or refuse
 * (client vectors only; {@link EmbedderUnavailableException}). {@link Embedders#create} builds the
 * stack the node uses: a query cache over a batcher over a model.
 *
 * <p>Calls block for as long as the model runs, so callers on an event loop move them to a worker.
 * Implementations are thread-safe. Vectors come back L2-normalized, so cosine similarity is a dot
 * product; each returned array belongs to the caller.
 *
 * <p>Texts must not be blank ({@link IllegalArgumentException}). A closed embedder refuses calls
 * with {@link IllegalStateException}.
 */
public interface Embedder extends AutoCloseable {

  /**
   * A stable model name, recorded in each memory's embedding (e.g. {@code bge-small-en-v1.5-q}).
   */
  String model();

  /** The length of every vector this embedder returns. */
  int dimension();

  /** Whether texts can be embedded: a model may still be loading ({@link WarmingEmbedder}). */
  enum Readiness {
    /** Loading or running its first text: a text call waits. */
    WARMING,
    READY,
    /** The model could not be loaded: text calls fail. */
    FAILED,
    /** No model at all: clients send vectors ({@link EmbedderUnavailableException}). */
    NONE;

    /** The name in {@code /health} and {@code /v1/node}. */
    public String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  default Readiness readiness() {
    return Readiness.READY;
  }

  /** Embeds texts to be stored (passages), in order. */
  List<float[]> embedPassages(List<String> texts);

  /** Embeds a query; a model may treat queries differently from passages. */
  float[] embedQuery(String text);

  /**
   * Embeds several queries, in order: {@link #embedQuery} for each. Exists so that a batcher can
   * hand many callers' queries to a model in one call; models that embed a list faster than one
   * text at a time override it.
   */
  default List<float[]> embedQueries(List<String> texts) {
    List<float[]> vectors = new ArrayList<>(texts.size());
    for (String text : texts) {
      vectors.add(embedQuery(text));
    }
    return vectors;
  }

  @Override
  default void close() {}
}
