package dev.mnemo.node.embed;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Remembers query vectors, least recently used out first: agents repeat their recall queries, and a
 * hit costs a map lookup instead of a model run. Passages go straight through; each is embedded
 * once, when stored.
 *
 * <p>Bounded by entries (about 1.6 KB of vector each at 384 dimensions) and by query length:
 * queries longer than {@link #MAX_QUERY_CHARS} are embedded but not kept, so a few huge queries
 * cannot pin memory. Two threads missing on the same query both embed it; the model is
 * deterministic, so they store the same vector.
 */
public final class CachingEmbedder implements Embedder {
  public static final int DEFAULT_MAX_ENTRIES = 10_000;
  public static final int MAX_QUERY_CHARS = 2_048;

  private final Embedder delegate;
  private final LinkedHashMap<String, float[]> entries; // guarded by itself
  private final LongAdder hits = new LongAdder();
  private final LongAdder misses = new LongAdder();

  public CachingEmbedder(Embedder delegate) {
    this(delegate, DEFAULT_MAX_ENTRIES);
  }

  public CachingEmbedder(Embedder delegate, int maxEntries) {
    if (maxEntries < 1) {
      throw new IllegalArgumentException("maxEntries must be at least 1, got " + maxEntries);
    }
    this.delegate = delegate;
    this.entries =
        new LinkedHashMap<>(16, 0.75f, true) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<String, float[]> eldest) {
            return size() > maxEntries;
          }
        };
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
    return delegate.embedPassages(texts);
  }

  @Override
  public float[] embedQuery(String text) {
    Texts.requireNonBlank(text);
    float[] cached = lookup(text);
    if (cached != null) {
      return cached;
    }
    float[] vector = delegate.embedQuery(text);
    remember(text, vector);
    return vector;
  }

  @Override
  public List<float[]> embedQueries(List<String> texts) {
    Texts.requireNonBlank(texts);
    List<float[]> vectors = new ArrayList<>(texts.size());
    List<String> missed = new ArrayList<>();
    List<Integer> missedAt = new ArrayList<>();
    for (String text : texts) {
      float[] cached = lookup(text);
      if (cached == null) {
        missed.add(text);
        missedAt.add(vectors.size());
      }
      vectors.add(cached);
    }
    if (!missed.isEmpty()) {
      List<float[]> embedded = delegate.embedQueries(missed);
      for (int i = 0; i < missed.size(); i++) {
        vectors.set(missedAt.get(i), embedded.get(i));
        remember(missed.get(i), embedded.get(i));
      }
    }
    return vectors;
  }

  /** A copy of the cached vector (callers own what they get), or null. */
  private float[] lookup(String text) {
    float[] vector;
    synchronized (entries) {
      vector = entries.get(text);
    }
    if (vector == null) {
      misses.increment();
      return null;
    }
    hits.increment();
    return vector.clone();
  }

  private void remember(String text, float[] vector) {
    if (text.length() > MAX_QUERY_CHARS) {
      return;
    }
    float[] copy = vector.clone();
    synchronized (entries) {
      entries.put(text, copy);
    }
  }

  public int size() {
    synchronized (entries) {
      return entries.size();
    }
  }

  public long hits() {
    return hits.sum();
  }

  public long misses() {
    return misses.sum();
  }

  /** Closes the delegate and forgets every entry. */
  @Override
  public void close() {
    synchronized (entries) {
      entries.clear();
    }
    delegate.close();
  }

  @Override
  public String toString() {
    return "CachingEmbedder[" + delegate + "]";
  }
}
