package dev.mnemo.index;

import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.log.NamespaceLog;
import dev.mnemo.store.log.PositionedEntry;
import dev.mnemo.store.model.LogEntry;
import dev.mnemo.store.model.Memory;
import dev.mnemo.store.model.Op;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Keeps a {@link MemoryIndex} caught up with the namespace log, in log position order: the one
 * path by which local writes, entries from peers and catch-up after a crash reach the index.
 *
 * <p>Read-your-writes comes in two halves. A writer that got position P back from the log calls
 * {@link #awaitApplied} before acknowledging: it returns once the index holds everything up to P
 * (or, see below, once P is recorded as acknowledged for the next recall to wait for).
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
 * <p>With {@code maxBehind > 0}, a search-idle index also lets writers return before their
 * memories are indexed at all: the write is durable in the log, a background thread indexes it
 * on the other core while the writer appends its next batch, and the next recall first waits
 * until the index holds every acknowledged write. Up to {@code maxBehind} memories may wait for
 * that thread; a writer that would leave more waits until it has caught up to the bound.
 * Profiled at 100k memories in bulk mode before this: the log append (encoding, hashing, signing,
 * the synced batch) and Lucene's indexing ran one after the other for each batch, in about a 4:5
 * split, and left the second core mostly idle.
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
  /**
   * The CIDs each writer that returned early handed over, by log position: what the background
   * applier drops from {@link #handedOver} once that position is applied, also when it read the
   * entry from the log before the writer had handed its memories over.
   */
  private final ConcurrentSkipListMap<Long, List<Cid>> leftBehind = new ConcurrentSkipListMap<>();
  /** Memories acknowledged by writers that returned early and not known to be indexed yet. */
  private final AtomicInteger behind = new AtomicInteger();
  private final int maxBehind;
  private final Thread applier;
  private final ReentrantLock behindLock = new ReentrantLock();
  private final Condition workArrived = behindLock.newCondition();
  private final Condition applierProgressed = behindLock.newCondition();
  private boolean workPending;
  private volatile boolean closing;
  /** Set while the background applier's last attempt failed: writers then index themselves. */
  private volatile boolean applierFailing;
  private volatile long lastApplyNanos = System.nanoTime();
  private volatile long lastSearchNanos = System.nanoTime() - TimeUnit.DAYS.toNanos(1);
  /** The highest position {@link #awaitApplied} has returned for: what a recall must see. */
  private final AtomicLong acknowledged = new AtomicLong();
  /** Pages applied so far; an optimize counts as covering the writes only if none came during it. */
  private volatile long pagesApplied;
  private volatile ContextEmbedder contextEmbedder;
  private final ConversationContext context;
  /**
   * Log positions up to here may have memories in the index although it has not marked them
   * applied: a commit takes whatever was added by then, also from a page being applied, with the
   * position before that page; and a page that failed half-way is applied again. Their memories
   * are added with {@link MemoryIndex#add}, which replaces a copy; memories above it with the
   * cheaper {@link MemoryIndex#addNew}. Everything in the index came from the log as it was when
   * this indexer started, so that is where it starts (at 0 for an empty index: a new node, a
   * schema rebuild, an import into a fresh data directory).
   */
  private volatile long mayHoldUpTo;
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
    this(log, index, commitIntervalMillis, optimizeIdleMillis, 0);
  }

  /**
   * @param optimizeIdleMillis after this long without new entries, merge the index into one
   *     segment (0: never)
   * @param maxBehind while the index is search-idle, how many acknowledged memories may wait for
   *     the background applier (0: every writer returns only once its memories are indexed)
   */
  public LogIndexer(NamespaceLog log, MemoryIndex index, long commitIntervalMillis, long optimizeIdleMillis,
      int maxBehind) throws IOException {
    if (maxBehind < 0) {
      throw new IllegalArgumentException("maxBehind must be >= 0, was " + maxBehind);
    }
    this.maxBehind = maxBehind;
    this.log = log;
    this.context = new ConversationContext(log, handedOver);
    this.index = index;
    this.optimizeIdleNanos = TimeUnit.MILLISECONDS.toNanos(optimizeIdleMillis);
    if (index.appliedPosition() > log.lastPosition()) {
      // The index saw a log longer than this one: the store was restored from a backup, or
      // replaced, and the index kept. New writes would take positions it counts as applied and
      // never reach recall, and memories the store does not hold would. Start it over.
      System.getLogger(LogIndexer.class.getName()).log(System.Logger.Level.WARNING,
          "the index has applied log position " + index.appliedPosition() + " but the log ends at "
              + log.lastPosition() + "; rebuilding the index from the log");
      index.clear();
    }
    this.visible = index.appliedPosition();
    this.mayHoldUpTo = index.isEmpty() ? 0 : log.lastPosition();
    this.acknowledged.set(visible);
    this.committer = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform()
        .name("mnemo-index-commit").daemon(true).unstarted(r));
    committer.scheduleWithFixedDelay(this::commitQuietly, commitIntervalMillis, commitIntervalMillis, TimeUnit.MILLISECONDS);
    if (optimizeIdleMillis > 0) {
      long check = Math.max(100, optimizeIdleMillis / 4);
      committer.scheduleWithFixedDelay(this::optimizeIfIdle, check, check, TimeUnit.MILLISECONDS);
    }
    this.applier = maxBehind == 0 ? null
        : Thread.ofPlatform().name("mnemo-index-applier").daemon(true).start(this::applyInBackground);
  }

  /**
   * Progress of a catch-up or rebuild, reported each time memories reach the index (at least every
   * {@link #PROGRESS_BATCH}) and after each page of log entries.
   */
  public interface Progress {
    /**
     * @param memories memories added to the index so far
     * @param entries log entries applied so far, of {@code entriesTotal}
     */
    void update(long memories, long entries, long entriesTotal);
  }

  /**
   * With a {@link Progress} to tell, memories go to the index in batches of at most this many
   * rather than a page of entries at a time: a page of 1,000 entries of text memories, embedded
   * with their context, took seconds, and {@code mnemo reindex} showed nothing meanwhile.
   */
  static final int PROGRESS_BATCH = 100;
  /** The progress of the catch-up under way, or null; set and read under {@link #applying}. */
  private Progress progress;
  private long progressMemories;
  private long progressEntries;
  private long progressEntriesTotal;

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
    applyAll(progress, Long.MAX_VALUE);
  }

  /**
   * As {@link #applyAll(Progress)}, stopping once the index holds {@code upTo}: a recall catching
   * up need not chase writes acknowledged after it started.
   */
  private void applyAll(Progress progress, long upTo) throws IOException {
    long start = index.appliedPosition();
    long end = log.lastPosition();
    long position = start;
    this.progress = progress;
    progressMemories = 0;
    progressEntries = 0;
    progressEntriesTotal = end - start;
    try {
      while (position < upTo) {
        List<PositionedEntry> page = log.entriesAfter(position, PAGE);
        if (page.isEmpty()) {
          return;
        }
        apply(page);
        lastApplyNanos = System.nanoTime();
        pagesApplied++;
        signalProgress();
        position = page.get(page.size() - 1).position();
        progressEntries = position - start;
        progressEntriesTotal = Math.max(progressEntriesTotal, progressEntries);
        reportProgress();
      }
    } finally {
      this.progress = null;
    }
  }

  private void reportProgress() {
    if (progress != null) {
      progress.update(progressMemories, progressEntries, progressEntriesTotal);
    }
  }

  /**
   * Returns once the index holds everything up to {@code position}, as {@link #awaitApplied(long)},
   * taking the memories just appended (in {@code appended}'s order) from the caller. While the
   * index is search-idle and fewer than {@code maxBehind} memories wait, returns at once and
   * leaves them to the background applier; the next {@link #beforeSearch} waits for it.
   */
  public void awaitApplied(long position, List<Cid> cids, List<Memory> memories) throws IOException {
    if (index.appliedPosition() >= position) {
      acknowledged.accumulateAndGet(position, Math::max);
      return;
    }
    for (int i = 0; i < cids.size(); i++) {
      handedOver.put(cids.get(i), memories.get(i));
    }
    if (applier != null && !applierFailing && searchIdle()) {
      leaveBehind(position, cids);
      return;
    }
    try {
      awaitApplied(position);
    } finally {
      // Whatever another thread applied before these were handed over stays behind otherwise.
      cids.forEach(handedOver::remove);
      // And what earlier writers left behind, applied by now: should the background applier have
      // died, nobody else would drop it, and it would stay counted (and any memory of it not yet
      // read held) until the node stopped.
      forgetApplied();
    }
  }

  /** Memories writers left behind that are not known to be applied yet (for tests). */
  int leftBehindCount() {
    return behind.get();
  }

  private boolean searchIdle() {
    return System.nanoTime() - lastSearchNanos >= SEARCH_IDLE_NANOS;
  }

  /**
   * Acknowledges {@code position} without indexing it: wakes the applier and waits only while
   * more than {@code maxBehind} memories are waiting for it.
   */
  private void leaveBehind(long position, List<Cid> cids) throws IOException {
    // Immutable lists: a merge lands wholly before or after the applier removes the position.
    leftBehind.merge(position, List.copyOf(cids), (a, b) -> {
      List<Cid> both = new ArrayList<>(a);
      both.addAll(b);
      return both;
    });
    behind.addAndGet(cids.size());
    // Before returning: a recall that starts after this write is acknowledged must wait for it.
    acknowledged.accumulateAndGet(position, Math::max);
    behindLock.lock();
    try {
      workPending = true;
      workArrived.signal();
      while (forgetApplied() > maxBehind && !applierFailing && !closing && applier.isAlive()) {
        applierProgressed.await(100, TimeUnit.MILLISECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted waiting for the index to catch up");
    } finally {
      behindLock.unlock();
    }
    if (forgetApplied() > maxBehind) {
      // The applier failed, died or is closing: index it here, or report why it cannot be. The
      // write is durable and acknowledged for recalls either way; only this caller hears of it.
      awaitApplied(position);
    }
  }

  /**
   * The background applier: applies whatever writers left behind, until the indexer closes. After
   * a failure writers index their own writes, and the applier tries again every second; should
   * the thread end any other way, writers go on indexing their own.
   */
  private void applyInBackground() {
    try {
      while (!closing) {
        if (!awaitWork()) {
          return;
        }
        try {
          // Only what is in the log now: chasing writes that keep coming would hold the lock a recall waits for.
          long upTo = log.lastPosition();
          applying.lock();
          try {
            applyAll(null, upTo);
          } finally {
            applying.unlock();
          }
          applierFailing = false;
        } catch (IOException | RuntimeException e) {
          applierFailing = true;
          System.getLogger(LogIndexer.class.getName()).log(System.Logger.Level.WARNING,
              "indexing in the background failed; writers index their own writes until a retry works: " + e.getMessage());
        }
        forgetApplied();
        signalProgress();
      }
    } finally {
      if (!closing) {
        applierFailing = true;
        signalProgress();
      }
    }
  }

  /** Waits until a writer left work, or a second after a failure; false once interrupted. */
  private boolean awaitWork() {
    behindLock.lock();
    try {
      if (applierFailing) {
        workArrived.await(1, TimeUnit.SECONDS);
      } else {
        while (!workPending && !closing) {
          workArrived.await(100, TimeUnit.MILLISECONDS);
        }
      }
      workPending = false;
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } finally {
      behindLock.unlock();
    }
  }

  /**
   * Drops the handed-over memories of every position left behind that is applied by now, and
   * returns how many memories writers left behind that are not.
   */
  private int forgetApplied() {
    var applied = leftBehind.headMap(index.appliedPosition(), true);
    for (Long position : applied.keySet()) {
      List<Cid> cids = leftBehind.remove(position);
      if (cids != null) {
        cids.forEach(handedOver::remove);
        behind.addAndGet(-cids.size());
      }
    }
    return behind.get();
  }

  /** Lets writers waiting on the bound re-check it: called after every page applied. */
  private void signalProgress() {
    if (maxBehind > 0 && (behind.get() > 0 || applierFailing)) {
      behindLock.lock();
      try {
        applierProgressed.signalAll();
      } finally {
        behindLock.unlock();
      }
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
          // Up to the log's end as of now, which holds this write: under writes that keep coming,
          // chasing the end would keep this caller indexing other writers' entries for ever.
          applyAll(null, log.lastPosition());
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
    awaitVisible(catchUpToAcknowledged());
  }

  /**
   * Returns once a search sees every acknowledged write, without counting as a search (the node's
   * status, which counts the memories a recall would find).
   */
  public void awaitAcknowledged() throws IOException {
    awaitVisible(catchUpToAcknowledged());
  }

  /** Indexes what writers that returned early left, up to the highest acknowledged position. */
  private long catchUpToAcknowledged() throws IOException {
    long wanted = acknowledged.get();
    if (index.appliedPosition() < wanted) {
      applying.lock();
      try {
        applyAll(null, wanted);
      } finally {
        applying.unlock();
      }
    }
    return wanted;
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

  /** Whether writers may currently leave their memories to the background applier (for tests). */
  boolean indexingBehind() {
    return applier != null && applier.isAlive() && !applierFailing && !closing;
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
        mayHoldUpTo = 0;
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
    boolean applied = false;
    try {
      applyPage(page);
      applied = true;
    } finally {
      if (!applied) {
        // Whatever the page added before it failed (an Error too) stays in the index, and the
        // page is applied again.
        mayHoldUpTo = Math.max(mayHoldUpTo, page.get(page.size() - 1).position());
      }
    }
  }

  private void applyPage(List<PositionedEntry> page) throws IOException {
    List<IndexedMemory> adds = new ArrayList<>();
    Map<String, List<Cid>> removes = new LinkedHashMap<>();
    // Memories whose successors an entry of the page changed, and those the page adds.
    Map<String, Set<Cid>> restatus = new LinkedHashMap<>();
    Set<Cid> addedHere = new HashSet<>();
    for (PositionedEntry positioned : page) {
      String ns = positioned.entry().ns();
      List<Cid> changed = log.successorsChangedAt(positioned.position());
      if (!changed.isEmpty()) {
        restatus.computeIfAbsent(ns, n -> new LinkedHashSet<>()).addAll(changed);
      }
      if (positioned.entry().op() == Op.REVOKE) {
        // A revoke that won over concurrent adds took their memories out of the live set.
        List<Cid> voided = log.voidedBy(positioned.position());
        if (!voided.isEmpty()) {
          flush(adds, removes);
          removes.computeIfAbsent(ns, n -> new ArrayList<>()).addAll(voided);
          flush(adds, removes);
        }
        continue;
      }
      if (positioned.entry().op() == Op.INVALIDATE) {
        flush(adds, removes);
        invalidate(ns, positioned.position(), positioned.entry().refs());
        continue;
      }
      List<Cid> refs = positioned.entry().refs();
      for (int r = 0; r < refs.size(); r++) {
        Cid ref = refs.get(r);
        if (positioned.entry().op() == Op.FORGET) {
          removes.computeIfAbsent(ns, n -> new ArrayList<>()).add(ref);
        } else {
          Memory handed = handedOver.remove(ref);
          // Only the entry that made the memory live adds it. One that lists a live memory again
          // adds nothing; a memory forgotten since is skipped: its block may be gone, and it must
          // not come back.
          if (log.liveSince(ns, ref) == positioned.position()) {
            Optional<Memory> memory = handed != null ? Optional.of(handed) : log.memoryUncached(ref);
            if (memory.isPresent()) {
              // As the store says now: a later change of its successors is at a later position,
              // where this memory is looked at again.
              adds.add(withContext(new IndexedMemory(ref, positioned.position(), memory.get(), invalidatedAt(ns, ref),
                  log.isSuperseded(ns, ref), null), positioned.entry(), r));
              addedHere.add(ref);
              if (progress != null && adds.size() >= PROGRESS_BATCH) {
                // Safe mid-page: the removes pending are of memories forgotten, which no later add
                // brings back (liveSince above), so they go after these adds as the page's own
                // flush would send them.
                flush(adds, removes);
              }
            } else {
              // Live but without its block: say so, rather than leave it out of recall unseen.
              System.getLogger(LogIndexer.class.getName()).log(System.Logger.Level.WARNING,
                  "memory " + ref + " is live in namespace " + ns + " but its block is missing; left out of recall");
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
    restatus(restatus, addedHere, page.get(page.size() - 1).position());
    index.markApplied(page.get(page.size() - 1).position());
  }

  /**
   * Indexes again, with whether they are superseded now, the memories whose successors the page
   * changed and that the index holds: live since a position up to {@code upTo}. One the page added
   * was read after the page was written, so it is right already; one live only from a later
   * position is indexed (as it then is) when the indexer gets there.
   */
  private void restatus(Map<String, Set<Cid>> restatus, Set<Cid> addedHere, long upTo) throws IOException {
    List<IndexedMemory> again = new ArrayList<>();
    for (Map.Entry<String, Set<Cid>> e : restatus.entrySet()) {
      String ns = e.getKey();
      for (Cid cid : e.getValue()) {
        long since = log.liveSince(ns, cid);
        if (since < 0 || since > upTo || addedHere.contains(cid)) {
          continue;
        }
        Optional<Memory> memory = log.memoryUncached(cid);
        if (memory.isPresent()) {
          again.add(withContextAt(new IndexedMemory(cid, since, memory.get(), invalidatedAt(ns, cid),
              log.isSuperseded(ns, cid), null), since));
        }
      }
    }
    if (!again.isEmpty()) {
      index.add(ConversationContext.withVectors(again, contextEmbedder));
    }
  }

  /**
   * The earliest invalidate of a memory, as the log holds it now: possibly from an entry past this
   * page (the log runs ahead of the index), which the index would reach with the same result,
   * since the earliest time only ever moves earlier. An invalidate may also precede the add.
   */
  private Long invalidatedAt(String ns, Cid memory) throws IOException {
    java.util.OptionalLong at = log.invalidatedAt(ns, memory);
    return at.isPresent() ? at.getAsLong() : null;
  }

  /**
   * Brings the index's end of validity of the memories an invalidate at {@code position} names up
   * to the log's, for those made live before it. One made live later (its add came after the
   * invalidate) is indexed with it then; one not live has no document this entry may touch.
   */
  private void invalidate(String ns, long position, List<Cid> refs) throws IOException {
    for (Cid ref : refs) {
      long since = log.liveSince(ns, ref);
      Long at = since >= 0 && since < position ? invalidatedAt(ns, ref) : null;
      if (at != null) {
        index.invalidated(ref, at);
      }
    }
  }

  private IndexedMemory withContext(IndexedMemory memory, LogEntry entry, int ref) throws IOException {
    Cid predecessor = context.predecessor(entry, ref);
    Optional<Memory> before = context.liveMemory(entry.ns(), predecessor);
    return before.isEmpty() ? memory
        : memory.withContext(new IndexedMemory.Context(predecessor, before.get().text(), null));
  }

  /** {@link #withContext} for a memory made live by the entry at {@code position}. */
  private IndexedMemory withContextAt(IndexedMemory memory, long position) throws IOException {
    List<PositionedEntry> at = log.entriesAfter(position - 1, 1);
    if (at.isEmpty() || at.get(0).position() != position) {
      return memory;
    }
    int ref = at.get(0).entry().refs().indexOf(memory.cid());
    return ref < 0 ? memory : withContext(memory, at.get(0).entry(), ref);
  }

  /**
   * Embeds the memories' contexts with the node's text embedder, so that recall can also rank a
   * memory by itself and the memory before it; without one, only the keyword context is kept.
   */
  public void useContextEmbedder(ContextEmbedder embedder) {
    this.contextEmbedder = embedder;
  }

  private void flush(List<IndexedMemory> pending, Map<String, List<Cid>> removes) throws IOException {
    int added = pending.size();
    List<IndexedMemory> adds = ConversationContext.withVectors(pending, contextEmbedder);
    // In log order: those the index may hold already first, then those it cannot.
    int mayBeHeld = 0;
    while (mayBeHeld < adds.size() && adds.get(mayBeHeld).position() <= mayHoldUpTo) {
      mayBeHeld++;
    }
    if (mayBeHeld > 0) {
      index.add(adds.subList(0, mayBeHeld));
    }
    if (mayBeHeld < adds.size()) {
      index.addNew(adds.subList(mayBeHeld, adds.size()));
    }
    pending.clear();
    for (Map.Entry<String, List<Cid>> forgotten : removes.entrySet()) {
      index.remove(forgotten.getKey(), forgotten.getValue());
      dropContext(forgotten.getKey(), forgotten.getValue());
    }
    removes.clear();
    if (added > 0) {
      progressMemories += added;
      reportProgress();
    }
  }

  /**
   * Memories whose context was one of {@code gone} lose it: a forgotten memory's words must not
   * keep its successor findable, and every replica then holds the same (none).
   */
  private void dropContext(String ns, List<Cid> gone) throws IOException {
    List<IndexedMemory> readd = new ArrayList<>();
    for (Cid dependent : index.contextDependents(ns, gone)) {
      long since = log.liveSince(ns, dependent);
      Optional<Memory> memory = since < 0 ? Optional.empty() : log.memory(dependent);
      if (memory.isPresent()) {
        readd.add(new IndexedMemory(dependent, since, memory.get(), invalidatedAt(ns, dependent),
            log.isSuperseded(ns, dependent), null));
      }
    }
    if (!readd.isEmpty()) {
      index.add(readd);
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
    closing = true;
    if (applier != null) {
      try {
        applier.join(TimeUnit.SECONDS.toMillis(30));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    try {
      if (applier != null) {
        // What writers left behind is in the log either way; indexing it now spares the next start.
        applying.lock();
        try {
          applyAll(null);
        } finally {
          applying.unlock();
        }
      }
    } finally {
      shutDownCommitter();
    }
  }

  private void shutDownCommitter() throws IOException {
    committer.shutdown();
    try {
      committer.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    index.commit();
  }
}
