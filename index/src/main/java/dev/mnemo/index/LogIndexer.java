package dev.mnemo.index;

import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.log.MemoryState;
import dev.mnemo.store.log.NamespaceLog;
import dev.mnemo.store.log.PositionedEntry;
import dev.mnemo.store.model.Memory;
import dev.mnemo.store.model.Op;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Keeps a {@link MemoryIndex} caught up with the namespace log, in log position order: the one
 * path by which local writes, entries from peers and catch-up after a crash reach the index.
 *
 * <p>Read-your-writes comes in two halves. A writer that got position P back from the log calls
 * {@link #awaitApplied} before acknowledging: it returns once the index holds everything up to P.
 * A reader calls {@link #beforeSearch}: it refreshes the searcher when the index holds entries the
 * searcher does not see yet, so every acknowledged write is in the next recall.
 *
 * <p>Who pays for the refresh depends on whether the index is being searched, as Elasticsearch
 * does for a search-idle shard. While recalls keep coming ({@link #SEARCH_IDLE_MILLIS}), a writer
 * refreshes before it returns, so recalls never wait for a flush: with 16 clients recalling while
 * writes came in, readers that refreshed themselves got half the throughput and a p99 of 0.5 s.
 * Once no recall has come for that long, writers skip the refresh and the next recall makes their
 * writes searchable: a stream of writes then fills Lucene's RAM buffer and flushes large
 * segments, instead of one small segment per batch (profiled: 44% of the writing thread went to
 * those flushes, and merging the small segments cost more again). Concurrent callers share the
 * work on both halves.
 *
 * <p>A background task commits the index every few seconds, saving how far it got, and once
 * writes have paused for a while merges the index into one segment ({@link MemoryIndex#optimize}).
 */
public final class LogIndexer implements AutoCloseable {
  private static final int PAGE = 1_000;
  /**
   * A recall that came within this long makes writers refresh the searcher before they return;
   * after it, the next recall refreshes instead.
   */
  public static final long SEARCH_IDLE_MILLIS = 5_000;
  private static final long SEARCH_IDLE_NANOS = TimeUnit.MILLISECONDS.toNanos(SEARCH_IDLE_MILLIS);

  private final NamespaceLog log;
  private final MemoryIndex index;
  private final ReentrantLock applying = new ReentrantLock();
  private final ReentrantLock refreshing = new ReentrantLock();
  private final ScheduledExecutorService committer;
  private volatile long visible;
  private final long optimizeIdleNanos;
  /**
   * Memories their writer has in hand, keyed by CID, so applying them need not read and decode
   * their blocks again (a tenth of ingest CPU when profiled). Only an optimization: whatever is
   * not here is read from the log. Entries leave when an entry that lists them is applied.
   */
  private final Map<Cid, Memory> handedOver = new ConcurrentHashMap<>();
  private volatile long lastApplyNanos = System.nanoTime();
  private volatile long lastSearchNanos = System.nanoTime() - TimeUnit.DAYS.toNanos(1);
  /** The highest position {@link #awaitApplied} has returned for: what a recall must see. */
  private final AtomicLong acknowledged = new AtomicLong();
  /** Pages applied so far; an optimize counts as covering the writes only if none came during it. */
  private volatile long pagesApplied;
  private volatile long pagesAppliedAtLastOptimize = -1;

  /** An indexer that never optimizes on its own (for offline tools; see {@link #rebuild}). */
  public LogIndexer(NamespaceLog log, MemoryIndex index, long commitIntervalMillis) throws IOException {
    this(log, index, commitIntervalMillis, 0);
  }

  /**
   * @param optimizeIdleMillis after this long without new entries, merge the index into one
   *     segment (0: never)
   */
  public LogIndexer(NamespaceLog log, MemoryIndex index, long commitIntervalMillis, long optimizeIdleMillis)
      throws IOException {
    this.log = log;
    this.index = index;
    this.optimizeIdleNanos = TimeUnit.MILLISECONDS.toNanos(optimizeIdleMillis);
    this.visible = index.appliedPosition();
    this.acknowledged.set(visible);
    this.committer = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform()
        .name("mnemo-index-commit").daemon(true).unstarted(r));
    committer.scheduleWithFixedDelay(this::commitQuietly, commitIntervalMillis, commitIntervalMillis, TimeUnit.MILLISECONDS);
    if (optimizeIdleMillis > 0) {
      long check = Math.max(100, optimizeIdleMillis / 4);
      committer.scheduleWithFixedDelay(this::optimizeIfIdle, check, check, TimeUnit.MILLISECONDS);
    }
  }

  /** Progress of a catch-up or rebuild: entries applied so far of the total to apply. */
  public interface Progress {
    void update(long done, long total);
  }

  /** Applies everything the log holds that the index has not seen, then makes it visible. */
  public long catchUp(Progress progress) throws IOException {
    long start;
    applying.lock();
    try {
      start = index.appliedPosition();
      applyAll(progress);
    } finally {
      applying.unlock();
    }
    // Outside the lock: writers need not wait for this flush.
    awaitVisible();
    return index.appliedPosition() - start;
  }

  /** Applies every log entry after the index's position, page by page; the caller holds the lock. */
  private void applyAll(Progress progress) throws IOException {
    long start = index.appliedPosition();
    long end = log.lastPosition();
    long position = start;
    while (true) {
      List<PositionedEntry> page = log.entriesAfter(position, PAGE);
      if (page.isEmpty()) {
        return;
      }
      apply(page);
      lastApplyNanos = System.nanoTime();
      pagesApplied++;
      position = page.get(page.size() - 1).position();
      if (progress != null) {
        progress.update(position - start, Math.max(end - start, position - start));
      }
    }
  }

  /**
   * Returns once the index holds everything up to {@code position}, as {@link #awaitApplied(long)},
   * taking the memories just appended (in {@code appended}'s order) from the caller.
   */
  public void awaitApplied(long position, List<Cid> cids, List<Memory> memories) throws IOException {
    if (index.appliedPosition() >= position) {
      return;
    }
    for (int i = 0; i < cids.size(); i++) {
      handedOver.put(cids.get(i), memories.get(i));
    }
    try {
      awaitApplied(position);
    } finally {
      // Whatever another thread applied before these were handed over stays behind otherwise.
      cids.forEach(handedOver::remove);
    }
  }

  /**
   * Returns once the index holds everything up to {@code position}, and, while the index is being
   * searched, searchable; otherwise the next {@link #beforeSearch} makes it searchable. Whoever
   * holds the lock applies everything the log holds; writers that queued behind it find their
   * position applied and return without work of their own.
   */
  public void awaitApplied(long position) throws IOException {
    if (index.appliedPosition() < position) {
      applying.lock();
      try {
        if (index.appliedPosition() < position) {
          applyAll(null);
        }
      } finally {
        applying.unlock();
      }
    }
    if (System.nanoTime() - lastSearchNanos < SEARCH_IDLE_NANOS) {
      awaitVisible(position);
    }
    acknowledged.accumulateAndGet(position, Math::max);
  }

  /**
   * Called before every search: makes every acknowledged write visible and marks the index
   * searched. Waits for no write still on its way: a writer that refreshes before it returns must
   * not hold up the recalls it refreshes for.
   */
  public void beforeSearch() throws IOException {
    lastSearchNanos = System.nanoTime();
    awaitVisible(acknowledged.get());
  }

  /**
   * Returns once a search sees everything the index held when this was called: every write
   * acknowledged before it. Refreshes the searcher only when something new was applied; readers
   * that queue behind a refresh return without one of their own.
   */
  public void awaitVisible() throws IOException {
    awaitVisible(index.appliedPosition());
  }

  private void awaitVisible(long wanted) throws IOException {
    if (visible >= wanted) {
      return;
    }
    refreshing.lock();
    try {
      if (visible >= wanted) {
        return; // the refresh this one queued behind covered it
      }
      // Read before the refresh: whatever is applied meanwhile may miss this one.
      long target = index.appliedPosition();
      index.refresh();
      visible = target;
    } finally {
      refreshing.unlock();
    }
  }

  /** The log position a search sees. */
  public long visiblePosition() {
    return visible;
  }

  /** The log position the index holds, searchable or not yet. */
  public long appliedPosition() {
    return index.appliedPosition();
  }

  /** Drops the index and rebuilds it from the log. */
  public long rebuild(Progress progress) throws IOException {
    applying.lock();
    try {
      refreshing.lock();
      try {
        index.clear();
        visible = 0;
      } finally {
        refreshing.unlock();
      }
      long applied = catchUp(progress);
      index.optimize();
      index.commit();
      return applied;
    } finally {
      applying.unlock();
    }
  }

  private void apply(List<PositionedEntry> page) throws IOException {
    List<IndexedMemory> adds = new ArrayList<>();
    List<Cid> removes = new ArrayList<>();
    for (PositionedEntry positioned : page) {
      String ns = positioned.entry().ns();
      for (Cid ref : positioned.entry().refs()) {
        if (positioned.entry().op() == Op.FORGET) {
          removes.add(ref);
        } else {
          Memory handed = handedOver.remove(ref);
          if (log.state(ns, ref) == MemoryState.LIVE) {
            // A memory forgotten since is skipped: its block may be gone, and it must not come back.
            Optional<Memory> memory = handed != null ? Optional.of(handed) : log.memory(ref);
            if (memory.isPresent()) {
              adds.add(new IndexedMemory(ref, positioned.position(), memory.get()));
            }
          }
        }
      }
      if (positioned.entry().op() == Op.FORGET && !adds.isEmpty()) {
        // Keep add-then-forget order within the page.
        flush(adds, removes);
      }
    }
    flush(adds, removes);
    index.markApplied(page.get(page.size() - 1).position());
  }

  private void flush(List<IndexedMemory> adds, List<Cid> removes) throws IOException {
    if (!adds.isEmpty()) {
      index.add(adds);
      adds.clear();
    }
    if (!removes.isEmpty()) {
      index.remove(removes);
      removes.clear();
    }
  }

  /**
   * Runs on the commit thread, so a merge never overlaps a commit. Writes may go on during the
   * merge (at 1M memories it takes minutes); whatever they add leaves the index in several
   * segments again, so it counts as optimized only if nothing was applied meanwhile.
   */
  private void optimizeIfIdle() {
    long applied = pagesApplied;
    if (applied != pagesAppliedAtLastOptimize && System.nanoTime() - lastApplyNanos >= optimizeIdleNanos) {
      try {
        long start = System.nanoTime();
        awaitVisible();
        int segments = index.segmentCount();
        if (index.optimize()) {
          System.getLogger(LogIndexer.class.getName()).log(System.Logger.Level.INFO, String.format(java.util.Locale.ROOT,
              "writes paused: merged the recall index from %d segments into one in %.1f s", segments,
              (System.nanoTime() - start) / 1e9));
          commitQuietly();
        }
        pagesAppliedAtLastOptimize = applied;
      } catch (IOException | RuntimeException e) {
        System.getLogger(LogIndexer.class.getName()).log(System.Logger.Level.WARNING,
            "merging the recall index failed (will retry): " + e.getMessage());
      }
    }
  }

  private void commitQuietly() {
    try {
      index.commit();
    } catch (IOException | RuntimeException e) {
      System.getLogger(LogIndexer.class.getName()).log(System.Logger.Level.WARNING,
          "index commit failed (will retry): " + e.getMessage());
    }
  }

  /** Stops the commit task and commits once more. The index itself is the caller's to close. */
  @Override
  public void close() throws IOException {
    committer.shutdown();
    try {
      committer.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    index.commit();
  }
}
