package dev.mnemo.node.embed;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.Supplier;

/**
 * An embedder whose model is loaded and run once on its own thread while the node starts. Loading
 * BGE-small takes about a second and its first run a few hundred milliseconds more (ONNX Runtime
 * plans and allocates on the first run, the tokenizer loads its native library); done in {@code
 * MemoryNode.start} before the port was bound, that delayed every request, and a client that timed
 * its first text call saw seconds. Here the node serves everything but text at once, and a text
 * call that arrives before the warm-up ends waits for it ({@link #readiness} says which).
 *
 * <p>If the model cannot load, the node keeps serving what needs no model, and every text call
 * fails with {@link EmbedderFailedException}, whose message is the load failure.
 */
public final class WarmingEmbedder implements Embedder {
  /** What the warm-up embeds: any short passage runs every part of the model path once. */
  static final String WARM_UP_TEXT = "Mnemo warms up its embedder.";

  private final String model;
  private final int dimension;
  private final CompletableFuture<Embedder> loaded = new CompletableFuture<>();
  private volatile long warmMillis = -1;
  private volatile boolean closed;

  /**
   * Starts loading at once on a new daemon thread.
   *
   * @param model the name the loaded embedder will report, known before it loads
   * @param load builds the embedder stack (blocking); its first passage embedding is the warm-up
   */
  public WarmingEmbedder(String model, int dimension, Supplier<Embedder> load) {
    this.model = model;
    this.dimension = dimension;
    Thread.ofPlatform().name("mnemo-embed-warmup").daemon(true).start(() -> warm(load));
  }

  private void warm(Supplier<Embedder> load) {
    long start = System.nanoTime();
    Embedder embedder = null;
    try {
      embedder = load.get();
      embedder.embedPassages(List.of(WARM_UP_TEXT));
      warmMillis = (System.nanoTime() - start) / 1_000_000;
      loaded.complete(embedder);
    } catch (RuntimeException | LinkageError e) {
      if (embedder != null) {
        try {
          embedder.close();
        } catch (RuntimeException suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      loaded.completeExceptionally(e);
    }
  }

  @Override
  public Readiness readiness() {
    if (!loaded.isDone()) {
      return Readiness.WARMING;
    }
    return loaded.isCompletedExceptionally() ? Readiness.FAILED : Readiness.READY;
  }

  /**
   * When the warm-up ends: completes with how long loading and the first run took, in
   * milliseconds, or exceptionally with the load failure.
   */
  public CompletableFuture<Long> whenReady() {
    return loaded.thenApply(e -> warmMillis);
  }

  /** How long loading and the first run took, or -1 while warming or after a failure. */
  public long warmMillis() {
    return warmMillis;
  }

  @Override
  public String model() {
    return model;
  }

  @Override
  public int dimension() {
    return dimension;
  }

  @Override
  public List<float[]> embedPassages(List<String> texts) {
    Texts.requireNonBlank(texts);
    return loaded().embedPassages(texts);
  }

  @Override
  public float[] embedQuery(String text) {
    Texts.requireNonBlank(text);
    return loaded().embedQuery(text);
  }

  @Override
  public List<float[]> embedQueries(List<String> texts) {
    Texts.requireNonBlank(texts);
    return loaded().embedQueries(texts);
  }

  /** The loaded embedder, waiting for the warm-up if it is still running. */
  private Embedder loaded() {
    if (closed) {
      throw new IllegalStateException(model + " embedder is closed");
    }
    boolean interrupted = false;
    try {
      while (true) {
        try {
          return loaded.get();
        } catch (InterruptedException e) {
          // A caller's text waits for the model as for any slow call; the interrupt is kept.
          interrupted = true;
        }
      }
    } catch (ExecutionException e) {
      throw new EmbedderFailedException(model, e.getCause());
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * Refuses later calls and closes the model: now if it is loaded, else when its loading ends
   * (on the warm-up thread), so that stopping a node does not wait for a model it never used.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    loaded.thenAccept(Embedder::close);
  }

  @Override
  public String toString() {
    return "WarmingEmbedder[" + model + ", " + readiness() + "]";
  }
}
