package dev.mnemo.store.log;

import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.model.Embedding;
import dev.mnemo.store.model.Memory;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Memories recently read from the block store, already hash-verified and decoded. A recall reads
 * ten or so memories; from RocksDB's block cache each costs a lookup (~6 µs), a SHA-256 check and
 * a strict decode (~2.5 µs each), and from an IPFS node a round trip, while an entry here costs a
 * map lookup. Content addressing makes the cache simple: a CID's bytes never change, so an entry
 * can only go stale by its memory being forgotten: the log caches only live memories, and
 * {@link #evict} runs for every block a commit removes.
 *
 * <p>Bounded by an estimate of the heap its entries take; least recently used go first. Striped
 * into segments, each a small access-ordered map under its own lock, so concurrent recalls rarely
 * meet.
 */
final class MemoryCache {
  static final int SEGMENTS = 16;

  private final Segment[] segments;
  private final long maxBytes;
  // Bumped by every eviction. A reader that fetched from the store before a forget committed
  // must not put back what the forget evicted: it re-checks this after putting (see load).
  private final AtomicLong evictions = new AtomicLong();
  private final AtomicLong hits = new AtomicLong();
  private final AtomicLong misses = new AtomicLong();

  /** A cache of at most about {@code maxBytes} of heap; 0 (or less than a byte a segment) disables it. */
  MemoryCache(long maxBytes) {
    if (maxBytes < 0) {
      throw new IllegalArgumentException("memory cache size must be >= 0, not " + maxBytes);
    }
    this.maxBytes = maxBytes < SEGMENTS ? 0 : maxBytes;
    this.segments = new Segment[SEGMENTS];
    for (int i = 0; i < SEGMENTS; i++) {
      segments[i] = new Segment(this.maxBytes / SEGMENTS);
    }
  }

  /** What a fetch from the block store returns; IOException passes through. */
  interface Fetch {
    Memory fetch() throws java.io.IOException;
  }

  /** Whether a fetched memory is live: only live memories are served and cached. */
  interface Live {
    boolean test(Memory memory) throws java.io.IOException;
  }

  /**
   * The cached memory of {@code cid}, or what {@code fetch} returns if {@code live} says so, then
   * cached; null when absent or not live. On a block store outside the engine (IPFS) a forgotten
   * memory's block stays readable until it is removed, and removal may fail and wait for a retry.
   * The check runs after the fetch, within the window the eviction counter guards: a forget
   * commits its state before it evicts, so either the check sees the forget or the eviction comes
   * after the put.
   */
  Memory load(Cid cid, Fetch fetch, Live live) throws java.io.IOException {
    if (maxBytes == 0) {
      Memory fetched = fetch.fetch();
      return fetched != null && live.test(fetched) ? fetched : null;
    }
    Segment segment = segment(cid);
    Memory cached = segment.get(cid);
    if (cached != null) {
      hits.incrementAndGet();
      return cached;
    }
    misses.incrementAndGet();
    long before = evictions.get();
    Memory fetched = fetch.fetch();
    if (fetched == null || !live.test(fetched)) {
      return null;
    }
    segment.put(cid, fetched, weight(fetched));
    if (evictions.get() != before) {
      // An eviction ran meanwhile, maybe of this very memory after our read: drop what we put.
      // Forgets are rare, so this costs a few needless misses at most.
      segment.remove(cid);
    }
    return fetched;
  }

  /** Drops the memories whose blocks a commit removed. Called after the commit is durable. */
  void evict(Collection<Cid> removed) {
    if (maxBytes == 0 || removed.isEmpty()) {
      return;
    }
    evictions.incrementAndGet();
    for (Cid cid : removed) {
      segment(cid).remove(cid);
    }
  }

  MemoryCacheStats stats() {
    long entries = 0;
    long bytes = 0;
    for (Segment s : segments) {
      synchronized (s) {
        entries += s.map.size();
        bytes += s.bytes;
      }
    }
    return new MemoryCacheStats(maxBytes, bytes, entries, hits.get(), misses.get());
  }

  private Segment segment(Cid cid) {
    return segments[segmentIndex(cid)];
  }

  static int segmentIndex(Cid cid) {
    return Math.floorMod(cid.hashCode() * 0x9E3779B9, SEGMENTS);
  }

  /**
   * An estimate of the heap a cached memory holds, with its key and map entry: object headers and
   * references at 16 bytes, strings at two bytes a character (an upper bound: Latin-1 strings
   * take one).
   */
  static long weight(Memory memory) {
    long bytes = 400 + 2L * memory.text().length() + 2L * memory.ns().length();
    for (Map.Entry<String, Object> e : memory.metadata().entrySet()) {
      bytes += 96 + 2L * e.getKey().length() + (e.getValue() instanceof String s ? 56 + 2L * s.length() : 16);
    }
    for (String tag : memory.tags()) {
      bytes += 72 + 2L * tag.length();
    }
    Embedding embedding = memory.embedding();
    if (embedding != null) {
      bytes += 96 + 2L * embedding.model().length() + 4L * embedding.dim();
    }
    if (memory.prev() != null) {
      bytes += 96;
    }
    return bytes;
  }

  private static final class Segment {
    private final long maxBytes;
    private final LinkedHashMap<Cid, Entry> map = new LinkedHashMap<>(64, 0.75f, true);
    private long bytes;

    Segment(long maxBytes) {
      this.maxBytes = maxBytes;
    }

    synchronized Memory get(Cid cid) {
      Entry e = map.get(cid);
      return e == null ? null : e.memory;
    }

    synchronized void put(Cid cid, Memory memory, long weight) {
      if (weight > maxBytes) {
        return;
      }
      Entry old = map.put(cid, new Entry(memory, weight));
      bytes += weight - (old == null ? 0 : old.weight);
      var it = map.values().iterator();
      while (bytes > maxBytes && it.hasNext()) {
        bytes -= it.next().weight;
        it.remove();
      }
    }

    synchronized void remove(Cid cid) {
      Entry old = map.remove(cid);
      if (old != null) {
        bytes -= old.weight;
      }
    }
  }

  private record Entry(Memory memory, long weight) {}
}
