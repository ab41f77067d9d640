package dev.mnemo.store.log;

import dev.mnemo.store.block.Block;
import dev.mnemo.store.block.BlockStore;
import dev.mnemo.store.block.CorruptBlockException;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.identity.AgentKey;
import dev.mnemo.store.model.LogEntry;
import dev.mnemo.store.model.Op;
import dev.mnemo.store.rocks.RocksStorage;
import dev.mnemo.store.rocks.RocksStorage.Family;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;

/**
 * The one thread that writes a node's namespace logs. Writers enqueue requests; the thread drains
 * every request waiting, coalesces consecutive writes to the same namespace into one signed entry,
 * and commits the whole group in one durable batch: memory blocks, entries, heads, clocks and
 * positions together. So N concurrent writers cost one Ed25519 signature and one WAL sync per
 * namespace per group, not N, and heads are never read and written by two threads at once.
 */
final class LogWriter implements Staging.Committed {
  /** At most this many requests share one commit, bounding the batch and the latency of its first. */
  private static final int MAX_GROUP = 512;

  sealed interface Request permits Add, Forget, Apply {}

  record Add(String ns, List<Block> memories, CompletableFuture<Appended> done) implements Request {}

  record Forget(String ns, List<Cid> refs, CompletableFuture<Appended> done) implements Request {}

  /**
   * Entries from outside, already hash- and signature-checked, in causal order. {@code forgotten}:
   * per namespace, the memories some entry of the batch forgets; {@code forgottenLater}: memories
   * of the batch's namespace that only entries of a later batch of the same pull forget (added
   * without their blocks, left unknown); {@code storedParents}: the stored entries the batch names
   * as parents, decoded.
   */
  record Apply(List<VerifiedEntry> entries, Map<Cid, Block> memories, Map<String, Set<Cid>> forgotten,
      Set<Cid> forgottenLater, Map<Cid, LogEntry> storedParents, CompletableFuture<Integer> done) implements Request {}

  record VerifiedEntry(Block block, LogEntry entry) {}

  private final RocksStorage storage;
  private final BlockStore blocks;
  private final boolean blocksInEngine;
  private final AgentKey signer;
  private final NamespaceLog reads;
  private final BlockingQueue<Request> queue = new LinkedBlockingQueue<>();
  private final Thread thread;
  private volatile boolean closing;

  // Committed state the writer keeps in memory; touched by the writer thread only.
  private final Map<String, Set<Cid>> committedHeads = new HashMap<>();
  private final Map<String, Long> committedClocks = new HashMap<>();
  private final PendingDeletes pendingDeletes;
  private long nextPosition;

  LogWriter(RocksStorage storage, BlockStore blocks, boolean blocksInEngine, AgentKey signer, NamespaceLog reads) {
    this.storage = storage;
    this.blocks = blocks;
    this.blocksInEngine = blocksInEngine;
    this.signer = signer;
    this.reads = reads;
    this.nextPosition = reads.lastPosition() + 1;
    this.pendingDeletes = blocksInEngine ? null : new PendingDeletes(storage, blocks, reads::evictRemoved);
    this.thread = Thread.ofPlatform().name("mnemo-log-writer").daemon(true).unstarted(this::run);
    thread.start();
  }

  <T> CompletableFuture<T> submit(Request request, CompletableFuture<T> done) {
    if (closing) {
      done.completeExceptionally(new IOException("the namespace log is closed"));
      return done;
    }
    queue.add(request);
    if (closing && queue.remove(request)) {
      // close() began between the check above and the add, and may have drained the queue for
      // the last time already: nobody else would complete this one.
      done.completeExceptionally(new IOException("the namespace log is closed"));
    }
    return done;
  }

  void close() throws InterruptedException {
    closing = true;
    thread.join(TimeUnit.SECONDS.toMillis(30));
    // Anything that raced in after the last drain is refused, not dropped silently.
    List<Request> left = new ArrayList<>();
    queue.drainTo(left);
    IOException closed = new IOException("the namespace log is closed");
    for (Request request : left) {
      future(request).completeExceptionally(closed);
    }
  }

  private void run() {
    List<Request> group = new ArrayList<>(MAX_GROUP);
    while (!closing || !queue.isEmpty()) {
      try {
        Request first = queue.poll(100, TimeUnit.MILLISECONDS);
        if (first == null) {
          if (pendingDeletes != null) {
            pendingDeletes.retryIfDue();
          }
          continue;
        }
        group.add(first);
        queue.drainTo(group, MAX_GROUP - 1);
        commit(group);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException | Error e) {
        for (Request request : group) {
          future(request).completeExceptionally(e);
        }
      } finally {
        group.clear();
      }
    }
  }

  private void commit(List<Request> group) {
    Staging root = Staging.root(this, nextPosition);
    List<Runnable> onCommit = new ArrayList<>();
    int i = 0;
    while (i < group.size()) {
      Request request = group.get(i);
      int end = i + 1;
      if (!(request instanceof Apply)) {
        end = coalescedEnd(group, i);
      }
      List<Request> run = group.subList(i, end);
      try {
        switch (request) {
          case Add add -> stageAdds(root, run, onCommit);
          case Forget forget -> stageForgets(root, run, onCommit);
          case Apply apply -> stageApply(root, apply, onCommit);
        }
      } catch (RuntimeException e) {
        // Staged into a child that was never merged: the rest of the group goes on without it.
        List<Request> failed = List.copyOf(run);
        onCommit.add(() -> failed.forEach(r -> future(r).completeExceptionally(e)));
      }
      i = end;
    }
    if (root.isEmpty()) {
      onCommit.forEach(Runnable::run);
      return;
    }
    List<Cid> externalDeletes;
    try {
      externalDeletes = write(root);
    } catch (IOException | RuntimeException e) {
      for (Request request : group) {
        future(request).completeExceptionally(e);
      }
      return;
    }
    // Durable from here on: whatever follows must not fail the group or lose its state.
    nextPosition = root.nextPosition;
    committedHeads.putAll(root.heads);
    for (Map.Entry<String, Long> e : root.clocks.entrySet()) {
      committedClocks.put(e.getKey(), e.getValue());
    }
    List<Cid> removed = new ArrayList<>();
    root.blocks.forEach((cid, data) -> {
      if (data == null) {
        removed.add(cid);
      }
    });
    reads.evictRemoved(removed);
    if (pendingDeletes != null) {
      pendingDeletes.removeCommitted(externalDeletes);
    }
    onCommit.forEach(Runnable::run);
  }

  /** The end of the run of requests, starting at {@code start}, that can share one entry. */
  private static int coalescedEnd(List<Request> group, int start) {
    Request first = group.get(start);
    int refs = refCount(first);
    int end = start + 1;
    while (end < group.size()) {
      Request next = group.get(end);
      boolean sameKind = next.getClass() == first.getClass() && namespace(next).equals(namespace(first));
      if (!sameKind || refs + refCount(next) > LogEntry.MAX_REFS) {
        break;
      }
      refs += refCount(next);
      end++;
    }
    return end;
  }

  private void stageAdds(Staging root, List<Request> adds, List<Runnable> onCommit) {
    String ns = namespace(adds.get(0));
    Staging s = root.child();
    Map<Cid, Block> memories = new HashMap<>();
    Set<Cid> refs = new LinkedHashSet<>();
    for (Request request : adds) {
      for (Block block : ((Add) request).memories()) {
        memories.put(block.cid(), block);
        refs.add(block.cid());
      }
    }
    List<Cid> parents = parents(s, ns);
    LogEntry entry = LogEntry.signed(signer, ns, Op.ADD, List.copyOf(refs), parents, clockAfter(s, ns, parents));
    Block entryBlock = Block.dagCbor(entry.encode());
    long position = s.nextPosition;
    stageEntry(s, entryBlock.cid(), entryBlock.data(), entry, memories, Set.of());
    s.mergeIntoParent();
    for (Request request : adds) {
      Add add = (Add) request;
      List<Cid> cids = add.memories().stream().map(Block::cid).toList();
      onCommit.add(() -> add.done().complete(new Appended(entryBlock.cid(), position, cids)));
    }
  }

  private void stageForgets(Staging root, List<Request> forgets, List<Runnable> onCommit) {
    String ns = namespace(forgets.get(0));
    Set<Cid> refs = new LinkedHashSet<>();
    List<Forget> accepted = new ArrayList<>();
    for (Request request : forgets) {
      Forget forget = (Forget) request;
      Cid missing = forget.refs().stream()
          .filter(ref -> !refs.contains(ref) && !isLive(root, ns, ref))
          .findFirst().orElse(null);
      if (missing != null) {
        onCommit.add(() -> forget.done().completeExceptionally(new MemoryNotFoundException(ns, missing)));
      } else {
        refs.addAll(forget.refs());
        accepted.add(forget);
      }
    }
    if (accepted.isEmpty()) {
      return;
    }
    Staging s = root.child();
    List<Cid> parents = parents(s, ns);
    LogEntry entry = LogEntry.signed(signer, ns, Op.FORGET, List.copyOf(refs), parents, clockAfter(s, ns, parents));
    Block entryBlock = Block.dagCbor(entry.encode());
    long position = s.nextPosition;
    stageEntry(s, entryBlock.cid(), entryBlock.data(), entry, Map.of(), Set.of());
    s.mergeIntoParent();
    for (Forget forget : accepted) {
      onCommit.add(() -> forget.done().complete(new Appended(entryBlock.cid(), position, forget.refs())));
    }
  }

  private void stageApply(Staging root, Apply apply, List<Runnable> onCommit) {
    Staging s = root.child();
    Map<Cid, LogEntry> batch = new HashMap<>();
    apply.entries().forEach(v -> batch.put(v.block().cid(), v.entry()));
    int applied = 0;
    try {
      for (VerifiedEntry verified : apply.entries()) {
        Cid cid = verified.block().cid();
        LogEntry entry = verified.entry();
        if (s.entryPosition(cid) != null) {
          continue;
        }
        long highestParentClock = 0;
        for (Cid parent : entry.parents()) {
          LogEntry p = batch.containsKey(parent) ? batch.get(parent) : apply.storedParents().get(parent);
          if (p == null && s.entryPosition(parent) != null) {
            p = entryOf(s, parent); // stored by another apply since the caller looked
          }
          if (s.entryPosition(parent) == null || p == null) {
            throw new RejectedEntryException(cid, "its parent " + parent + " is neither stored here nor in the batch");
          }
          if (!p.ns().equals(entry.ns())) {
            // It would tie the two logs together: replicating, exporting or importing one would need the other.
            throw new RejectedEntryException(cid, "its parent " + parent + " is an entry of namespace " + p.ns());
          }
          highestParentClock = Math.max(highestParentClock, p.clock());
        }
        // The Lamport rule every writer follows. A larger clock would push every later entry's
        // towards overflow, and then no one could write to the namespace.
        if (entry.clock() != highestParentClock + 1) {
          throw new RejectedEntryException(cid, "its clock " + entry.clock() + " is not one past its highest parent's, "
              + highestParentClock);
        }
        if (entry.op() == Op.ADD) {
          for (Cid ref : entry.refs()) {
            boolean known = s.state(LogKeys.nsKey(entry.ns(), ref)) != null;
            if (!known && !apply.memories().containsKey(ref) && !apply.forgotten().getOrDefault(entry.ns(), Set.of()).contains(ref)
                && !apply.forgottenLater().contains(ref)) {
              throw new RejectedEntryException(cid, "its memory " + ref + " is missing");
            }
          }
        }
        stageEntry(s, cid, verified.block().data(), entry, apply.memories(), apply.forgottenLater());
        applied++;
      }
    } catch (RejectedEntryException e) {
      onCommit.add(() -> apply.done().completeExceptionally(e));
      return;
    }
    s.mergeIntoParent();
    int count = applied;
    onCommit.add(() -> apply.done().complete(count));
  }

  /**
   * A new local entry's parents: the namespace's heads, or, if concurrent writers elsewhere left
   * more than an entry may list, the first {@link LogEntry#MAX_PARENTS} of them in CID order. The
   * heads left out stay heads, so each later entry merges the next lot of them.
   */
  static List<Cid> parents(Staging s, String ns) {
    Set<Cid> heads = s.heads(ns);
    if (heads.size() <= LogEntry.MAX_PARENTS) {
      return List.copyOf(heads);
    }
    return heads.stream().sorted().limit(LogEntry.MAX_PARENTS).toList();
  }

  /**
   * One past the highest clock among {@code parents}. With every head a parent that is one past
   * the namespace's clock, since the highest clock is always a head's. Otherwise the parents are
   * read (a namespace with more heads than an entry may list: rare, so the reads are affordable).
   */
  private long clockAfter(Staging s, String ns, List<Cid> parents) {
    if (parents.size() == s.heads(ns).size()) {
      return Math.addExact(s.clock(ns), 1);
    }
    long highest = 0;
    for (Cid parent : parents) {
      highest = Math.max(highest, entryOf(s, parent).clock());
    }
    return Math.addExact(highest, 1);
  }

  private LogEntry entryOf(Staging s, Cid cid) {
    try {
      byte[] staged = s.stagedBlock(cid);
      if (staged != null) {
        return LogEntry.decode(staged);
      }
      return reads.entry(cid).orElseThrow(() -> new CorruptBlockException(cid, "a head's entry block is missing"));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static boolean isLive(Staging s, String ns, Cid ref) {
    byte[] state = s.state(LogKeys.nsKey(ns, ref));
    return state != null && state[0] == LogKeys.ADDED;
  }

  /** Stages one entry: its block, position, heads, clock, and its effect on the memory state. */
  private static void stageEntry(Staging s, Cid cid, byte[] entryBytes, LogEntry entry, Map<Cid, Block> memories,
      Set<Cid> forgottenLater) {
    String ns = entry.ns();
    long position = s.nextPosition++;
    s.entries.put(cid, position);
    s.blocks.put(cid, entryBytes);
    Set<Cid> heads = new HashSet<>(s.heads(ns));
    entry.parents().forEach(heads::remove);
    heads.add(cid);
    s.heads.put(ns, heads);
    s.clocks.put(ns, Math.max(s.clock(ns), entry.clock()));
    List<Cid> refs = entry.refs();
    for (int i = 0; i < refs.size(); i++) {
      Cid ref = refs.get(i);
      byte[] stateKey = LogKeys.nsKey(ns, ref);
      byte[] state = s.state(stateKey);
      if (entry.op() == Op.ADD) {
        Block block = memories.get(ref);
        // Already live, or forgotten (forget wins), or forgotten later in this batch: nothing to add.
        if (state == null && block != null) {
          byte[] listing = LogKeys.listing(position, i);
          s.blocks.put(ref, block.data());
          s.listings.put(new Staging.Key(LogKeys.nsKey(ns, listing)), ref.toBytes());
          s.states.put(new Staging.Key(stateKey), LogKeys.addedState(listing));
        } else if (state == null && !forgottenLater.contains(ref)) {
          s.states.put(new Staging.Key(stateKey), LogKeys.forgottenState());
        }
      } else {
        if (state != null && state[0] == LogKeys.ADDED) {
          byte[] listing = Arrays.copyOfRange(state, 1, state.length);
          s.listings.put(new Staging.Key(LogKeys.nsKey(ns, listing)), null);
          // Forget removes the memory's text from this node; the signed entry stays as a tombstone.
          s.blocks.put(ref, null);
        }
        s.states.put(new Staging.Key(stateKey), LogKeys.forgottenState());
      }
    }
  }

  /**
   * Commits a group: one durable RocksDB batch (blocks first on a store outside the engine).
   * Returns the blocks to remove from a store outside the engine now that the batch committed.
   */
  private List<Cid> write(Staging root) throws IOException {
    List<Block> external = new ArrayList<>();
    List<Cid> externalDeletes = new ArrayList<>();
    try (WriteBatch batch = new WriteBatch()) {
      for (Map.Entry<Cid, byte[]> e : root.blocks.entrySet()) {
        if (blocksInEngine) {
          if (e.getValue() == null) {
            batch.delete(storage.handle(Family.BLOCKS), e.getKey().toBytes());
          } else {
            batch.put(storage.handle(Family.BLOCKS), e.getKey().toBytes(), e.getValue());
          }
        } else if (e.getValue() == null) {
          externalDeletes.add(e.getKey());
        } else {
          external.add(new Block(e.getKey(), e.getValue()));
        }
      }
      for (Map.Entry<Cid, Long> e : root.entries.entrySet()) {
        byte[] position = LogKeys.position(e.getValue());
        batch.put(storage.handle(Family.ENTRIES), e.getKey().toBytes(), position);
        batch.put(storage.handle(Family.POSITIONS), position, e.getKey().toBytes());
      }
      for (Map.Entry<String, Set<Cid>> e : root.heads.entrySet()) {
        String ns = e.getKey();
        Set<Cid> before = heads(ns);
        for (Cid old : before) {
          if (!e.getValue().contains(old)) {
            batch.delete(storage.handle(Family.HEADS), LogKeys.nsKey(ns, old));
          }
        }
        for (Cid head : e.getValue()) {
          if (!before.contains(head)) {
            batch.put(storage.handle(Family.HEADS), LogKeys.nsKey(ns, head), new byte[0]);
          }
        }
      }
      for (Map.Entry<String, Long> e : root.clocks.entrySet()) {
        batch.put(storage.handle(Family.META), LogKeys.clockKey(e.getKey()), LogKeys.position(e.getValue()));
      }
      for (Map.Entry<Staging.Key, byte[]> e : root.states.entrySet()) {
        batch.put(storage.handle(Family.STATES), e.getKey().bytes(), e.getValue());
      }
      for (Map.Entry<Staging.Key, byte[]> e : root.listings.entrySet()) {
        if (e.getValue() == null) {
          batch.delete(storage.handle(Family.MEMORIES), e.getKey().bytes());
        } else {
          batch.put(storage.handle(Family.MEMORIES), e.getKey().bytes(), e.getValue());
        }
      }
      // A block store outside the engine must hold the blocks before the log points at them.
      if (!external.isEmpty()) {
        blocks.putAll(external);
      }
      if (!externalDeletes.isEmpty()) {
        pendingDeletes.stage(batch, externalDeletes);
      }
      storage.writeDurably(batch);
    } catch (RocksDBException e) {
      throw new IOException("staging the log batch failed: " + e.getMessage(), e);
    }
    return externalDeletes;
  }

  @Override
  public Set<Cid> heads(String ns) {
    return committedHeads.computeIfAbsent(ns, reads::heads);
  }

  @Override
  public long clock(String ns) {
    return committedClocks.computeIfAbsent(ns, reads::clock);
  }

  @Override
  public Long entryPosition(Cid entry) {
    java.util.OptionalLong position = reads.position(entry);
    return position.isPresent() ? position.getAsLong() : null;
  }

  @Override
  public byte[] state(byte[] nsCidKey) {
    return reads.rawState(nsCidKey);
  }

  private static int refCount(Request request) {
    return switch (request) {
      case Add add -> add.memories().size();
      case Forget forget -> forget.refs().size();
      case Apply apply -> apply.entries().size();
    };
  }

  private static String namespace(Request request) {
    return switch (request) {
      case Add add -> add.ns();
      case Forget forget -> forget.ns();
      case Apply apply -> "";
    };
  }

  private static CompletableFuture<?> future(Request request) {
    return switch (request) {
      case Add add -> add.done();
      case Forget forget -> forget.done();
      case Apply apply -> apply.done();
    };
  }
}
