package dev.mnemo.node.embed;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Coalesces concurrent callers' texts into few model calls, made by one dedicated thread; each
 * caller blocks until its own vectors are back. Group commit for embeddings: however many workers
 * ask at once, the model sees one call at a time, so the number of texts in flight stays bounded by
 * the model's own threads and queries can be put first. For an embeddings endpoint a call is a
 * request, so batches save round trips. For {@link OnnxEmbedder} it does not raise throughput (a
 * text costs the same alone or in a batch; see EmbedderThroughput): it bounds concurrency.
 *
 * <p>A request larger than the batch limit is split, so one big import cannot hold the thread for
 * long. Each round takes up to {@code maxBatch} query texts and up to {@code maxBatch} passage
 * texts, whole requests in arrival order, and embeds the queries first: a recall waits for at most
 * one round of passages, and neither kind starves. If a model call fails, each request in it is
 * retried alone, so only the caller whose text failed sees the exception.
 *
 * <p>{@link #close} stops taking requests, finishes those queued, then closes the delegate.
 */
public final class BatchingEmbedder implements Embedder {
  public static final int DEFAULT_MAX_BATCH = 32;

  private final Embedder delegate;
  private final int maxBatch;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition queued = lock.newCondition();
  private final ArrayDeque<Request> queries = new ArrayDeque<>(); // guarded by lock
  private final ArrayDeque<Request> passages = new ArrayDeque<>(); // guarded by lock
  private boolean closed; // guarded by lock
  private final AtomicBoolean closing = new AtomicBoolean();
  private final Thread thread;
  private final LongAdder modelCalls = new LongAdder();
  private final LongAdder textsEmbedded = new LongAdder();

  private record Request(List<String> texts, CompletableFuture<List<float[]>> result) {}

  public BatchingEmbedder(Embedder delegate) {
    this(delegate, DEFAULT_MAX_BATCH);
  }

  /**
   * @param maxBatch the most texts of one kind (queries or passages) in one model call
   */
  public BatchingEmbedder(Embedder delegate, int maxBatch) {
    if (maxBatch < 1) {
      throw new IllegalArgumentException("maxBatch must be at least 1, got " + maxBatch);
    }
    this.delegate = delegate;
    this.maxBatch = maxBatch;
    this.thread =
        Thread.ofPlatform().name("mnemo-embed-batch").daemon(true).start(this::runBatches);
  }

  @Override
  public String model() {
    return delegate.model();
  }

  @Override
  public int dimension() {
    return delegate.dimension();
  }

  @Override
  public List<float[]> embedPassages(List<String> texts) {
    Texts.requireNonBlank(texts);
    return submit(passages, texts);
  }

  @Override
  public float[] embedQuery(String text) {
    Texts.requireNonBlank(text);
    return submit(queries, List.of(text)).get(0);
  }

  @Override
  public List<float[]> embedQueries(List<String> texts) {
    Texts.requireNonBlank(texts);
    return submit(queries, texts);
  }

  /** Model calls made so far; with {@link #textsEmbedded} gives the mean batch size. */
  public long modelCalls() {
    return modelCalls.sum();
  }

  public long textsEmbedded() {
    return textsEmbedded.sum();
  }

  /** Whether the batch thread is alive: until {@link #close} has finished the queue. */
  boolean running() {
    return thread.isAlive();
  }

  private List<float[]> submit(ArrayDeque<Request> queue, List<String> texts) {
    if (texts.isEmpty()) {
      return List.of();
    }
    List<CompletableFuture<List<float[]>>> parts = new ArrayList<>();
    lock.lock();
    try {
      if (closed) {
        throw new IllegalStateException("embedder is closed");
      }
      for (int from = 0; from < texts.size(); from += maxBatch) {
        List<String> part =
            List.copyOf(texts.subList(from, Math.min(texts.size(), from + maxBatch)));
        Request request = new Request(part, new CompletableFuture<>());
        queue.add(request);
        parts.add(request.result);
      }
      queued.signal();
    } finally {
      lock.unlock();
    }
    List<float[]> vectors = new ArrayList<>(texts.size());
    for (CompletableFuture<List<float[]>> part : parts) {
      try {
        vectors.addAll(part.get());
      } catch (InterruptedException e) {
        parts.forEach(p -> p.cancel(false)); // the batch thread skips cancelled requests
        Thread.currentThread().interrupt();
        throw new CancellationException("interrupted while waiting for embeddings");
      } catch (ExecutionException e) {
        parts.forEach(p -> p.cancel(false));
        // The delegate's own exception, so that one error handler maps it (blank text, closed, ...)
        if (e.getCause() instanceof RuntimeException r) {
          throw r;
        }
        if (e.getCause() instanceof Error err) {
          throw err;
        }
        throw new IllegalStateException("embedding failed", e.getCause());
      }
    }
    return vectors;
  }

  private void runBatches() {
    try {
      while (true) {
        List<Request> queryBatch = new ArrayList<>();
        List<Request> passageBatch = new ArrayList<>();
        lock.lock();
        try {
          while (queries.isEmpty() && passages.isEmpty()) {
            if (closed) {
              return;
            }
            queued.awaitUninterruptibly();
          }
          take(queries, queryBatch);
          take(passages, passageBatch);
        } finally {
          lock.unlock();
        }
        embed(queryBatch, true);
        embed(passageBatch, false);
      }
    } finally {
      failQueued(); // only reached with work queued if this thread died of an Error
    }
  }

  /** Moves whole requests from queue into batch while they fit in maxBatch texts, at least one. */
  private void take(ArrayDeque<Request> queue, List<Request> batch) {
    int texts = 0;
    while (!queue.isEmpty() && (batch.isEmpty() || texts + queue.peek().texts.size() <= maxBatch)) {
      Request request = queue.poll();
      if (!request.result.isDone()) {
        batch.add(request);
        texts += request.texts.size();
      }
    }
  }

  private void embed(List<Request> batch, boolean query) {
    batch.removeIf(r -> r.result.isDone());
    if (batch.isEmpty()) {
      return;
    }
    List<String> texts = new ArrayList<>();
    for (Request request : batch) {
      texts.addAll(request.texts);
    }
    List<float[]> vectors;
    try {
      vectors = query ? delegate.embedQueries(texts) : delegate.embedPassages(texts);
      if (vectors.size() != texts.size()) {
        throw new IllegalStateException(
            delegate.model()
                + " returned "
                + vectors.size()
                + " vectors for "
                + texts.size()
                + " texts");
      }
    } catch (Throwable t) {
      if (batch.size() == 1) {
        batch.get(0).result.completeExceptionally(t);
      } else {
        for (Request request : batch) {
          embed(new ArrayList<>(List.of(request)), query);
        }
      }
      return;
    }
    modelCalls.increment();
    textsEmbedded.add(texts.size());
    int at = 0;
    for (Request request : batch) {
      int n = request.texts.size();
      request.result.complete(new ArrayList<>(vectors.subList(at, at + n)));
      at += n;
    }
  }

  private void failQueued() {
    lock.lock();
    try {
      closed = true;
      IllegalStateException stopped = new IllegalStateException("embedding thread stopped");
      queries.forEach(r -> r.result.completeExceptionally(stopped));
      passages.forEach(r -> r.result.completeExceptionally(stopped));
      queries.clear();
      passages.clear();
    } finally {
      lock.unlock();
    }
  }

  /** Refuses new requests, finishes the queued ones, then closes the delegate. Idempotent. */
  @Override
  public void close() {
    if (!closing.compareAndSet(false, true)) {
      return;
    }
    lock.lock();
    try {
      closed = true;
      queued.signalAll();
    } finally {
      lock.unlock();
    }
    boolean interrupted = false;
    while (thread.isAlive()) {
      try {
        thread.join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    delegate.close();
  }

  @Override
  public String toString() {
    return "BatchingEmbedder[" + delegate + ", maxBatch=" + maxBatch + "]";
  }
}
