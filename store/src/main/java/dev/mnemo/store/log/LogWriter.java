package dev.mnemo.store.log;

import dev.mnemo.store.block.Block;
import dev.mnemo.store.block.BlockStore;
import dev.mnemo.store.block.CorruptBlockException;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.acl.Ability;
import dev.mnemo.store.acl.NamespaceExistsException;
import dev.mnemo.store.acl.UnauthorizedException;
import dev.mnemo.store.identity.Author;
import dev.mnemo.store.identity.DidKey;
import dev.mnemo.store.model.LogEntry;
import dev.mnemo.store.model.Op;
import dev.mnemo.store.rocks.RocksStorage;
import dev.mnemo.store.rocks.RocksStorage.Family;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;

/**
 * The one thread that writes a node's namespace logs. Writers enqueue requests; the thread drains
 * every request waiting, coalesces consecutive writes to the same namespace by the same author into
 * one signed entry, and commits the whole group in one durable batch: memory blocks, entries,
 * heads, clocks, positions and access-control records together. So N concurrent writers cost one
 * Ed25519 signature and one WAL sync per namespace and author per group, not N, and heads are
 * never read and written by two threads at once.
 *
 * <p>It also decides access control (see {@link AclGraph}): a local write is checked against the
 * namespace's current graph, an entry from outside against the state of its own causal past, and
 * a revoke voids what its target wrote concurrently.
 */
final class LogWriter implements Staging.Committed {
  /** At most this many requests share one commit, bounding the batch and the latency of its first. */
  private static final int MAX_GROUP = 512;

  sealed interface Request permits Add, Forget, Invalidate, Control, Apply {}

  /**
   * Memories to add; {@code links} are theirs (same order), and a memory whose bit is set in
   * {@code foldEqual} is not added when a live memory of the namespace has its content (see
   * {@link MemoryLinks}): the write answers that memory instead.
   */
  record Add(String ns, Author author, List<Block> memories, List<MemoryLinks.Link> links, BitSet foldEqual,
      CompletableFuture<Appended> done) implements Request {}

  record Forget(String ns, Author author, List<Cid> refs, CompletableFuture<Appended> done) implements Request {}

  /** Ends the validity of live memories at {@code at}: one entry a request, never coalesced (each has its own time). */
  record Invalidate(String ns, Author author, List<Cid> refs, long at, CompletableFuture<Appended> done) implements Request {}

  /** A create, grant or revoke written here ({@code to} and {@code can} null for a create). */
  record Control(String ns, Author author, Op op, DidKey to, Set<Ability> can, CompletableFuture<Appended> done)
      implements Request {}

  /**
   * Entries from outside, already hash- and signature-checked, in causal order. {@code forgotten}:
   * per namespace, the memories some entry of the batch forgets; {@code forgottenLater}: memories
   * of the batch's namespace that only entries of a later batch of the same pull forget (added
   * without their blocks, left unknown); {@code storedParents}: the stored entries the batch names
   * as parents, decoded; {@code limit}: what the batch may do to a namespace's heads.
   */
  record Apply(List<VerifiedEntry> entries, Brought memories, Map<String, Set<Cid>> forgotten,
      Set<Cid> forgottenLater, Map<Cid, LogEntry> storedParents, Map<Cid, MemoryLinks.Link> links,
      HeadsLimit limit, CompletableFuture<Integer> done) implements Request {}

  record VerifiedEntry(Block block, LogEntry entry) {}

  /**
   * The memory blocks a request brings: bytes in the heap, or (an import) blocks whose bytes stay
   * in a spill file until the batch is written, so that the heap holds one of them at a time.
   */
  record Brought(Map<Cid, Block> inHeap, Set<Cid> spilledCids, NamespaceLog.SpilledBlocks spill) {
    static Brought inHeap(Map<Cid, Block> blocks) {
      return new Brought(blocks, Set.of(), null);
    }

    boolean contains(Cid cid) {
      return inHeap.containsKey(cid) || spilledCids.contains(cid);
    }

    void stage(Staging s, Cid cid) {
      Block block = inHeap.get(cid);
      if (block != null) {
        s.blocks.put(cid, block.data());
      } else {
        s.stageSpilled(cid, spill);
      }
    }
  }

  private final RocksStorage storage;
  private final BlockStore blocks;
  private final boolean blocksInEngine;
  private final NamespaceLog reads;
  private final BlockingQueue<Request> queue = new LinkedBlockingQueue<>();
  private final Thread thread;
  private volatile boolean closing;

  // Committed state the writer keeps in memory; touched by the writer thread only.
  private final Map<String, Set<Cid>> committedHeads = new HashMap<>();
  private final Map<String, Long> committedClocks = new HashMap<>();
  /** Every namespace's access-control graph as committed; read by other threads through {@link #acl}. */
  private final Map<String, AclGraph> committedGraphs = new ConcurrentHashMap<>();
  private final PendingDeletes pendingDeletes;
  private long nextPosition;

  LogWriter(RocksStorage storage, BlockStore blocks, boolean blocksInEngine, NamespaceLog reads) throws IOException {
    this.storage = storage;
    this.blocks = blocks;
    this.blocksInEngine = blocksInEngine;
    this.reads = reads;
    this.nextPosition = reads.lastPosition() + 1;
    if (storage.openedFormat() < 2) {
      migrateToAcl();
    }
    if (storage.openedFormat() < 3) {
      migrateToLinks();
    }
    if (storage.openedFormat() < RocksStorage.FORMAT_VERSION) {
      storage.markFormat();
    }
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
      if (request instanceof Add || request instanceof Forget) {
        end = coalescedEnd(group, i);
      }
      List<Request> run = group.subList(i, end);
      try {
        switch (request) {
          case Add add -> stageAdds(root, run, onCommit);
          case Forget forget -> stageForgets(root, run, onCommit);
          case Invalidate invalidate -> stageInvalidate(root, invalidate, onCommit);
          case Control control -> stageControl(root, control, onCommit);
          case Apply apply -> stageApply(root, apply, onCommit);
        }
      } catch (Refused e) {
        List<Request> failed = List.copyOf(run);
        onCommit.add(() -> failed.forEach(r -> future(r).completeExceptionally(e.reason)));
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
    root.heads.keySet().forEach(reads::headsChanged);
    committedGraphs.putAll(root.graphs);
    for (Map.Entry<String, Long> e : root.clocks.entrySet()) {
      committedClocks.put(e.getKey(), e.getValue());
    }
    List<Cid> removed = new ArrayList<>();
    root.blocks.forEach((cid, data) -> {
      if (data == null) {
        removed.add(cid);
      }
    });
    removed.addAll(root.voided);
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
      boolean sameKind = next.getClass() == first.getClass() && namespace(next).equals(namespace(first))
          && sameAuthor(author(next), author(first));
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
    // Per request, each memory's answer: its own CID, or the live memory it folds into. In the
    // writer thread, so that two concurrent identical writes never both add.
    List<List<Cid>> answers = new ArrayList<>(adds.size());
    List<List<Boolean>> folded = new ArrayList<>(adds.size());
    Map<MemoryLinks.ContentKey, Cid> addedHere = new HashMap<>();
    for (Request request : adds) {
      Add add = (Add) request;
      List<Cid> answer = new ArrayList<>(add.memories().size());
      List<Boolean> folds = new ArrayList<>(add.memories().size());
      for (int i = 0; i < add.memories().size(); i++) {
        Block block = add.memories().get(i);
        MemoryLinks.Link link = add.links().get(i);
        MemoryLinks.ContentKey content = new MemoryLinks.ContentKey(link.contentKey());
        Cid same = addedHere.get(content);
        if (same == null && add.foldEqual().get(i)) {
          List<Cid> live = MemoryLinks.withContent(s, ns, link.contentKey());
          same = live.isEmpty() ? null : live.get(0);
        }
        if (same != null && add.foldEqual().get(i)) {
          answer.add(same);
          folds.add(true);
          continue;
        }
        memories.put(block.cid(), block);
        s.broughtLinks.put(block.cid(), link);
        refs.add(block.cid());
        addedHere.putIfAbsent(content, block.cid());
        answer.add(block.cid());
        folds.add(false);
      }
      answers.add(answer);
      folded.add(folds);
    }
    Author author = ((Add) adds.get(0)).author();
    // Checks the author even when every memory folds: a duplicate must not reveal what it matches.
    Local local = prepareLocal(s, ns, author, Op.ADD);
    Cid entryCid = null;
    long position = 0;
    if (!refs.isEmpty()) {
      LogEntry entry = LogEntry.signed(author, ns, Op.ADD, List.copyOf(refs), local.parents, local.clock, null, null);
      Block entryBlock = Block.dagCbor(entry.encode());
      entryCid = entryBlock.cid();
      position = s.nextPosition;
      stageEntry(s, entryBlock.cid(), entryBlock.data(), entry, Brought.inHeap(memories), Set.of(), false);
      recordAcl(s, entryBlock.cid(), position, entry, local.frontier, false, local.coversAll);
    }
    for (int r = 0; r < adds.size(); r++) {
      Add add = (Add) adds.get(r);
      List<Cid> cids = answers.get(r);
      List<Boolean> folds = folded.get(r);
      // A folded memory is acknowledged once the entry that made it live is indexed.
      long await = folds.contains(false) ? position : 0;
      for (int i = 0; i < cids.size(); i++) {
        if (folds.get(i)) {
          byte[] state = s.state(LogKeys.nsKey(ns, cids.get(i)));
          await = Math.max(await, LogKeys.addedPosition(state));
        }
      }
      Appended appended = new Appended(folds.contains(false) ? entryCid : null, await, List.copyOf(cids), List.copyOf(folds));
      onCommit.add(() -> add.done().complete(appended));
    }
    s.mergeIntoParent();
  }

  private void stageForgets(Staging root, List<Request> forgets, List<Runnable> onCommit) {
    String ns = namespace(forgets.get(0));
    Author author = ((Forget) forgets.get(0)).author();
    Local local = root.heads(ns).isEmpty() ? null : prepareLocal(root, ns, author, Op.FORGET);
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
    LogEntry entry = LogEntry.signed(author, ns, Op.FORGET, List.copyOf(refs), local.parents, local.clock, null, null);
    Block entryBlock = Block.dagCbor(entry.encode());
    long position = s.nextPosition;
    stageEntry(s, entryBlock.cid(), entryBlock.data(), entry, NOTHING_BROUGHT, Set.of(), false);
    recordAcl(s, entryBlock.cid(), position, entry, local.frontier, false, local.coversAll);
    s.mergeIntoParent();
    for (Forget forget : accepted) {
      onCommit.add(() -> forget.done().complete(new Appended(entryBlock.cid(), position, forget.refs())));
    }
  }

  /** As a forget: every memory named must be live here (else not found, and nothing is written). */
  private void stageInvalidate(Staging root, Invalidate request, List<Runnable> onCommit) {
    String ns = request.ns();
    Cid missing = request.refs().stream().filter(ref -> !isLive(root, ns, ref)).findFirst().orElse(null);
    if (missing != null) {
      onCommit.add(() -> request.done().completeExceptionally(new MemoryNotFoundException(ns, missing)));
      return;
    }
    Staging s = root.child();
    Local local = prepareLocal(s, ns, request.author(), Op.INVALIDATE);
    LogEntry entry = LogEntry.signed(request.author(), ns, Op.INVALIDATE, request.refs(), local.parents, local.clock,
        null, null, request.at());
    Block entryBlock = Block.dagCbor(entry.encode());
    long position = s.nextPosition;
    stageEntry(s, entryBlock.cid(), entryBlock.data(), entry, NOTHING_BROUGHT, Set.of(), false);
    recordAcl(s, entryBlock.cid(), position, entry, local.frontier, false, local.coversAll);
    s.mergeIntoParent();
    onCommit.add(() -> request.done().complete(new Appended(entryBlock.cid(), position, request.refs())));
  }

  private void stageApply(Staging root, Apply apply, List<Runnable> onCommit) {
    Staging s = root.child();
    s.broughtLinks.putAll(apply.links());
    Map<Cid, LogEntry> batch = new HashMap<>();
    apply.entries().forEach(v -> batch.put(v.block().cid(), v.entry()));
    Map<Cid, Cid> missingUnlessVoided = new LinkedHashMap<>();
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
        AclGraph graph = s.graph(entry.ns());
        long[] frontier = NO_FRONTIER;
        boolean isVoid = false;
        if (entry.isRoot()) {
          if (entry.op() != Op.CREATE && entry.op() != Op.ADD) {
            throw new RejectedEntryException(cid, "a root entry (no parents) creates the namespace or adds to it, not " + entry.op().wire());
          }
          // Another root by an owner is that owner's concurrent first write on another node (one
          // agent writing through several nodes at once); a root by anyone else would take over
          // a namespace that exists.
          if (graph.hasRoot() && !graph.isOwner(entry.author())) {
            throw new RejectedEntryException(cid, "namespace " + entry.ns() + " already exists (a second root entry, by "
                + entry.author() + ", who is not its owner)");
          }
        } else {
          frontier = frontierOf(s, graph, entry.parents());
          BitSet past = graph.closure(frontier);
          Ability needs = entry.op().needs();
          if (!graph.passes(entry.author(), needs, past)) {
            throw new RejectedEntryException(cid, "unauthorized: " + entry.author() + " does not hold '" + needs.wire()
                + "' in namespace " + entry.ns() + " as of the entry's causal past");
          }
          // Revoke wins: an add whose author lost the ability by a revoke it does not know of is stored, not live.
          isVoid = entry.op() == Op.ADD && !graph.standsOnArrival(entry.author(), needs, past);
        }
        Set<Cid> leftUnknown = apply.forgottenLater();
        if (entry.op() == Op.ADD && !isVoid) {
          for (Cid ref : entry.refs()) {
            boolean known = s.state(LogKeys.nsKey(entry.ns(), ref)) != null;
            if (!known && !apply.memories().contains(ref) && !apply.forgotten().getOrDefault(entry.ns(), Set.of()).contains(ref)
                && !apply.forgottenLater().contains(ref)) {
              if (graph.isOwner(entry.author())) {
                throw new RejectedEntryException(cid, "its memory " + ref + " is missing");
              }
              // Exports leave out the memories of void adds. A revoke later in this batch may void
              // this one: it is refused at the end of the batch unless one does.
              missingUnlessVoided.putIfAbsent(cid, ref);
              if (leftUnknown == apply.forgottenLater()) {
                leftUnknown = new HashSet<>(apply.forgottenLater());
              }
              leftUnknown.add(ref);
            }
          }
        }
        boolean coversAll = new HashSet<>(entry.parents()).equals(s.heads(entry.ns()));
        long position = s.nextPosition;
        stageEntry(s, cid, verified.block().data(), entry, apply.memories(), leftUnknown, isVoid);
        recordAcl(s, cid, position, entry, frontier, isVoid, coversAll);
        applied++;
      }
      for (Map.Entry<Cid, Cid> missing : missingUnlessVoided.entrySet()) {
        if (!s.voidedEntries.contains(missing.getKey())) {
          throw new RejectedEntryException(missing.getKey(), "its memory " + missing.getValue() + " is missing");
        }
      }
      for (Map.Entry<String, Set<Cid>> e : s.heads.entrySet()) {
        apply.limit().check(e.getKey(), root.heads(e.getKey()).size(), e.getValue().size());
      }
    } catch (RejectedEntryException e) {
      onCommit.add(() -> apply.done().completeExceptionally(e));
      return;
    }
    s.mergeIntoParent();
    int count = applied;
    onCommit.add(() -> apply.done().complete(count));
  }

  private static final long[] NO_FRONTIER = new long[0];
  private static final Brought NOTHING_BROUGHT = Brought.inHeap(Map.of());

  /** A local write refused for its author, carried out of the staging code to fail its requests alone. */
  private static final class Refused extends RuntimeException {
    final IOException reason;

    Refused(IOException reason) {
      super(reason.getMessage(), reason, false, false);
      this.reason = reason;
    }
  }

  /** Where a local entry goes: its parents, clock and ACL frontier; {@code coversAll}: its parents are all the heads. */
  private record Local(List<Cid> parents, long clock, long[] frontier, boolean coversAll) {}

  /**
   * Places a local entry of {@code op} by {@code author} and checks the author may write it: a
   * namespace's first entry is a root and needs nothing; any other needs the op's ability in the
   * state of the entry's past, which, with every head a parent, is the namespace's current
   * {@link AclGraph#acl()}: one in-memory lookup. A proof must let the signer write for the author.
   */
  private Local prepareLocal(Staging s, String ns, Author author, Op op) {
    checkProof(author, ns, op);
    // A grant or revoke lists every head it may: a revoke that leaves heads out is concurrent with
    // the adds behind them and voids them, though this node knew of them when it was written.
    // They are rare; memory writes are not, and each carries only a bounded lot of parents.
    int max = op.touchesMemories() ? reads.maxLocalParents() : LogEntry.MAX_PARENTS;
    List<Cid> parents = parents(s, ns, max);
    if (parents.isEmpty()) {
      return new Local(parents, clockAfter(s, ns, parents), NO_FRONTIER, true);
    }
    AclGraph graph = s.graph(ns);
    boolean coversAll = parents.size() == s.heads(ns).size();
    long[] frontier = coversAll ? graph.maxima() : frontierOf(s, graph, parents);
    Ability needs = op.needs();
    boolean may = coversAll ? graph.acl().can(author.did(), needs) : graph.passes(author.did(), needs, graph.closure(frontier));
    if (!may) {
      throw new Refused(new UnauthorizedException(author.did(), ns, needs));
    }
    return new Local(parents, clockAfter(s, ns, parents), frontier, coversAll);
  }

  private static void checkProof(Author author, String ns, Op op) {
    if (author.proof() == null) {
      return;
    }
    String problem = LogEntry.proofProblem(author.did(), ns, op, author.proof());
    if (problem == null) {
      try {
        if (!dev.mnemo.store.acl.Delegation.decodeVerified(author.proof()).aud().equals(author.signer().did())) {
          problem = "the delegation is not to the key that signs";
        }
      } catch (dev.mnemo.store.InvalidFormatException e) {
        problem = e.getMessage();
      }
    }
    if (problem != null) {
      Ability needs = op.needs() != null ? op.needs() : Ability.ADMIN;
      throw new Refused(new UnauthorizedException(author.did(), ns, needs, problem));
    }
  }

  /** Stages a local create, grant or revoke. A grant or revoke in a namespace without entries creates it first. */
  private void stageControl(Staging root, Control control, List<Runnable> onCommit) {
    String ns = control.ns();
    Author author = control.author();
    Staging s = root.child();
    if (control.op() == Op.CREATE && (!s.heads(ns).isEmpty() || s.graph(ns).hasRoot())) {
      throw new Refused(new NamespaceExistsException(ns));
    }
    if (s.heads(ns).isEmpty() && control.op() != Op.CREATE) {
      stageLocal(s, ns, author, Op.CREATE, null, null);
    }
    Appended appended = stageLocal(s, ns, author, control.op(), control.to(), control.can());
    s.mergeIntoParent();
    onCommit.add(() -> control.done().complete(appended));
  }

  private Appended stageLocal(Staging s, String ns, Author author, Op op, DidKey to, Set<Ability> can) {
    Local local = prepareLocal(s, ns, author, op);
    LogEntry entry = LogEntry.signed(author, ns, op, List.of(), local.parents, local.clock, to, can);
    Block block = Block.dagCbor(entry.encode());
    long position = s.nextPosition;
    stageEntry(s, block.cid(), block.data(), entry, NOTHING_BROUGHT, Set.of(), false);
    recordAcl(s, block.cid(), position, entry, local.frontier, false, local.coversAll);
    return new Appended(block.cid(), position, List.of());
  }

  /**
   * Records what access control needs of a staged entry: a root or a grant or revoke joins the
   * namespace's graph; a frontier that is not empty is kept for the entry's children; a live add
   * by a non-owner is indexed under its author, for a later revoke to find; a revoke voids what it
   * wins over.
   */
  private void recordAcl(Staging s, Cid cid, long position, LogEntry entry, long[] frontier, boolean isVoid,
      boolean coversAll) {
    String ns = entry.ns();
    AclGraph graph = s.graph(ns);
    if (entry.isRoot() || entry.op() == Op.GRANT || entry.op() == Op.REVOKE) {
      long[] own = entry.isRoot() ? NO_FRONTIER : frontier;
      AclGraph after = graph.with(cid, position, entry, own);
      s.graphs.put(ns, after);
      byte[] cidBytes = cid.toBytes();
      ByteBuffer value = ByteBuffer.allocate(1 + 2 + cidBytes.length + 4 + 8 * own.length)
          .put(LogKeys.ACL_RECORD_VERSION).putShort((short) cidBytes.length).put(cidBytes).putInt(own.length);
      for (long p : own) {
        value.putLong(p);
      }
      s.acl.put(new Staging.Key(LogKeys.aclNodeKey(ns, position)), value.array());
      if (!entry.isRoot()) {
        s.acl.put(new Staging.Key(LogKeys.frontierKey(cid)), LogKeys.frontierValue(new long[] {position}));
      }
      if (entry.op() == Op.REVOKE) {
        revokeEffects(s, graph, after, entry, position, coversAll);
      }
      return;
    }
    if (frontier.length > 0) {
      s.acl.put(new Staging.Key(LogKeys.frontierKey(cid)), LogKeys.frontierValue(frontier));
    }
    if (isVoid) {
      s.acl.put(new Staging.Key(LogKeys.voidEntryKey(cid)), new byte[] {LogKeys.ACL_RECORD_VERSION});
    }
    if (entry.op() == Op.ADD && !isVoid && !graph.isOwner(entry.author())) {
      s.acl.put(new Staging.Key(LogKeys.authorKey(ns, entry.author().raw(), position)),
          authorValue(entry.clock(), cid, Set.of()));
    }
  }

  private static byte[] authorValue(long clock, Cid cid, Set<Long> laterRevokes) {
    byte[] cidBytes = cid.toBytes();
    ByteBuffer buf = ByteBuffer.allocate(1 + 8 + 2 + cidBytes.length + 4 + 8 * laterRevokes.size())
        .put(LogKeys.ACL_RECORD_VERSION).putLong(clock).putShort((short) cidBytes.length).put(cidBytes)
        .putInt(laterRevokes.size());
    laterRevokes.forEach(buf::putLong);
    return buf.array();
  }

  /** A non-owner's live add, as its author record holds it. */
  private record AuthoredAdd(byte[] key, long position, long clock, Cid cid, Set<Long> laterRevokes) {}

  private List<AuthoredAdd> authoredAdds(Staging s, String ns, DidKey author) {
    byte[] prefix = LogKeys.authorPrefix(ns, author.raw());
    Map<Staging.Key, byte[]> records = new java.util.TreeMap<>((a, b) -> Arrays.compareUnsigned(a.bytes(), b.bytes()));
    try (RocksIterator it = storage.iterator(Family.ACL)) {
      for (it.seek(prefix); it.isValid() && LogKeys.hasPrefix(it.key(), prefix); it.next()) {
        records.put(new Staging.Key(it.key()), it.value());
      }
    }
    s.overlayAcl(prefix, records);
    List<AuthoredAdd> adds = new ArrayList<>();
    try {
      for (Map.Entry<Staging.Key, byte[]> e : records.entrySet()) {
        byte[] key = e.getKey().bytes();
        long position = ByteBuffer.wrap(key, key.length - 8, 8).getLong();
        ByteBuffer value = LogKeys.versioned(e.getValue(), "author");
        long clock = value.getLong();
        Cid cid = LogKeys.getCid(value);
        Set<Long> later = new HashSet<>();
        for (int n = value.getInt(); n > 0; n--) {
          later.add(value.getLong());
        }
        adds.add(new AuthoredAdd(key, position, clock, cid, later));
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return adds;
  }

  /**
   * Applies revoke-wins for a revoke just staged: the adds of its target that it is concurrent
   * with, and the adds that stood on grants it made void, are re-decided; those left without a
   * grant become void, and their memories leave the namespace's live set. The memories are
   * recorded under the revoke's position, where the index drops them.
   */
  private void revokeEffects(Staging s, AclGraph before, AclGraph after, LogEntry revoke, long position, boolean coversAll) {
    String ns = revoke.ns();
    DidKey target = revoke.to();
    Set<DidKey> affected = new LinkedHashSet<>();
    for (AclGraph.Node grant : before.voidedIn(after)) {
      if (!after.isOwner(grant.to())) {
        affected.add(grant.to());
      }
    }
    Set<Cid> concurrent = Set.of();
    if (!coversAll && !after.isOwner(target)) {
      List<AuthoredAdd> targets = authoredAdds(s, ns, target);
      if (!targets.isEmpty()) {
        concurrent = notInPast(s, revoke.parents(), revoke.clock(), targets);
        if (!concurrent.isEmpty()) {
          affected.add(target);
        }
      }
    }
    List<Cid> voidedMemories = new ArrayList<>();
    for (DidKey author : affected) {
      for (AuthoredAdd add : authoredAdds(s, ns, author)) {
        boolean isConcurrent = author.equals(target) && concurrent.contains(add.cid());
        Set<Long> later = add.laterRevokes();
        if (isConcurrent) {
          later = new HashSet<>(later);
          later.add(position);
        }
        BitSet past = after.closure(inclusiveFrontier(s, add.cid()));
        if (!after.standsLater(author, Ability.REMEMBER, past, add.position(), later)) {
          s.acl.put(new Staging.Key(add.key()), null);
          s.voidedEntries.add(add.cid());
          s.acl.put(new Staging.Key(LogKeys.voidEntryKey(add.cid())), new byte[] {LogKeys.ACL_RECORD_VERSION});
          voidMemories(s, ns, add, position, voidedMemories);
        } else if (isConcurrent) {
          s.acl.put(new Staging.Key(add.key()), authorValue(add.clock(), add.cid(), later));
        }
      }
    }
    if (!voidedMemories.isEmpty()) {
      int size = 1 + 4;
      for (Cid cid : voidedMemories) {
        size += 2 + cid.toBytes().length;
      }
      ByteBuffer value = ByteBuffer.allocate(size).put(LogKeys.ACL_RECORD_VERSION).putInt(voidedMemories.size());
      voidedMemories.forEach(cid -> LogKeys.putCid(value, cid));
      s.acl.put(new Staging.Key(LogKeys.voidedKey(position)), value.array());
      s.voided.addAll(voidedMemories);
    }
  }

  /**
   * Which of {@code candidates} are not in the causal past of an entry with {@code parents}: a walk
   * back from the parents that stops below the oldest candidate's clock (an ancestor's clock is
   * always lower than its descendant's). Only a revoke that arrives from elsewhere, not knowing all
   * this node holds, needs it.
   */
  private Set<Cid> notInPast(Staging s, List<Cid> parents, long clock, List<AuthoredAdd> candidates) {
    Set<Cid> concurrent = new HashSet<>();
    Set<Cid> missing = new HashSet<>();
    long oldest = Long.MAX_VALUE;
    for (AuthoredAdd add : candidates) {
      if (add.clock() >= clock) {
        concurrent.add(add.cid()); // an ancestor's clock is lower: no walk needed
      } else {
        missing.add(add.cid());
        oldest = Math.min(oldest, add.clock());
      }
    }
    Deque<Cid> pending = new ArrayDeque<>(parents);
    Set<Cid> seen = new HashSet<>(parents);
    while (!pending.isEmpty() && !missing.isEmpty()) {
      Cid cid = pending.poll();
      missing.remove(cid);
      LogEntry entry = entryOf(s, cid);
      if (entry.clock() <= oldest) {
        continue;
      }
      for (Cid parent : entry.parents()) {
        if (seen.add(parent)) {
          pending.add(parent);
        }
      }
    }
    concurrent.addAll(missing);
    return concurrent;
  }

  /** Takes the memories a now void add made live out of the live set (those another add made live stay). */
  private void voidMemories(Staging s, String ns, AuthoredAdd add, long position, List<Cid> out) {
    LogEntry entry = entryOf(s, add.cid());
    for (Cid ref : entry.refs()) {
      byte[] stateKey = LogKeys.nsKey(ns, ref);
      byte[] state = s.state(stateKey);
      if (state != null && state[0] == LogKeys.ADDED && LogKeys.addedPosition(state) == add.position()) {
        byte[] listing = Arrays.copyOfRange(state, 1, state.length);
        s.listings.put(new Staging.Key(LogKeys.nsKey(ns, listing)), null);
        byte[] other = otherLiveAdd(s, ns, ref, add.position());
        if (other != null) {
          s.listings.put(new Staging.Key(LogKeys.nsKey(ns, other)), ref.toBytes());
          s.states.put(new Staging.Key(stateKey), LogKeys.addedState(other));
        } else {
          s.states.put(new Staging.Key(stateKey), LogKeys.voidedState());
          MemoryLinks.leftLive(s, ns, ref, position);
          out.add(ref);
        }
      }
    }
  }

  /**
   * The listing under which another add that is not void keeps {@code memory} live, or null: one
   * recorded as adding it again while it was live (an owner's add, or a non-owner's still indexed
   * under its author).
   */
  private byte[] otherLiveAdd(Staging s, String ns, Cid memory, long voidedPosition) {
    byte[] prefix = LogKeys.alsoAddedPrefix(ns, memory);
    Map<Staging.Key, byte[]> records = new java.util.TreeMap<>((a, b) -> Arrays.compareUnsigned(a.bytes(), b.bytes()));
    try (RocksIterator it = storage.iterator(Family.ACL)) {
      for (it.seek(prefix); it.isValid() && LogKeys.hasPrefix(it.key(), prefix); it.next()) {
        records.put(new Staging.Key(it.key()), it.value());
      }
    }
    s.overlayAcl(prefix, records);
    AclGraph graph = s.graph(ns);
    try {
      for (Map.Entry<Staging.Key, byte[]> e : records.entrySet()) {
        byte[] key = e.getKey().bytes();
        long position = ByteBuffer.wrap(key, key.length - 8, 8).getLong();
        if (position == voidedPosition) {
          continue;
        }
        ByteBuffer value = LogKeys.versioned(e.getValue(), "also added");
        int index = value.getInt();
        Cid cid = LogKeys.getCid(value);
        DidKey author = entryOf(s, cid).author();
        boolean live = graph.isOwner(author)
            || (s.aclRecord(LogKeys.authorKey(ns, author.raw(), position)) != null && !s.voidedEntries.contains(cid));
        if (live) {
          return LogKeys.listing(position, index);
        }
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return null;
  }

  /** The frontier of an entry with {@code parents}: the maximal grants and revokes among their inclusive frontiers. */
  private long[] frontierOf(Staging s, AclGraph graph, List<Cid> parents) {
    if (!graph.hasGrants()) {
      return NO_FRONTIER;
    }
    List<long[]> frontiers = new ArrayList<>(parents.size());
    for (Cid parent : parents) {
      long[] f = inclusiveFrontier(s, parent);
      if (f.length > 0) {
        frontiers.add(f);
      }
    }
    return graph.frontierOf(frontiers);
  }

  private static long[] inclusiveFrontier(Staging s, Cid entry) {
    byte[] value = s.aclRecord(LogKeys.frontierKey(entry));
    if (value == null) {
      return NO_FRONTIER;
    }
    try {
      return LogKeys.readFrontier(LogKeys.versioned(value, "frontier"));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /**
   * Loads a namespace's access-control graph from its recorded entries, on first use: opening the
   * store reads nothing, and a namespace nobody asks about costs nothing.
   */
  private AclGraph loadGraph(String ns) {
    List<AclGraph.Recorded> recorded = new ArrayList<>();
    byte[] prefix = LogKeys.aclNodePrefix(ns);
    try (RocksIterator it = storage.iterator(Family.ACL)) {
      for (it.seek(prefix); it.isValid() && LogKeys.hasPrefix(it.key(), prefix); it.next()) {
        byte[] key = it.key();
        long position = ByteBuffer.wrap(key, key.length - 8, 8).getLong();
        ByteBuffer value = LogKeys.versioned(it.value(), "ACL entry");
        Cid cid = LogKeys.getCid(value);
        long[] frontier = LogKeys.readFrontier(value);
        LogEntry entry = reads.entry(cid).orElseThrow(() -> new CorruptBlockException(cid, "an ACL entry's block is missing"));
        recorded.add(new AclGraph.Recorded(cid, position, entry, frontier));
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return AclGraph.build(ns, recorded);
  }

  /**
   * From layout 1 (before access control): every root entry stored makes its author an owner of
   * its namespace. Reads every entry once; then records the layout as current.
   */
  private void migrateToAcl() throws IOException {
    try (WriteBatch batch = new WriteBatch(); RocksIterator it = storage.iterator(Family.POSITIONS)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        Cid cid = Cid.fromBytes(it.value());
        LogEntry entry = reads.entry(cid).orElseThrow(() -> new CorruptBlockException(cid, "applied entry's block is missing"));
        if (entry.isRoot()) {
          byte[] cidBytes = cid.toBytes();
          byte[] value = ByteBuffer.allocate(1 + 2 + cidBytes.length + 4).put(LogKeys.ACL_RECORD_VERSION)
              .putShort((short) cidBytes.length).put(cidBytes).putInt(0).array();
          batch.put(storage.handle(Family.ACL), LogKeys.aclNodeKey(entry.ns(), LogKeys.position(it.key())), value);
        }
      }
      storage.writeDurably(batch);
    } catch (RocksDBException | dev.mnemo.store.InvalidFormatException e) {
      throw new IOException("migrating the store to access control failed: " + e.getMessage(), e);
    }
  }

  /**
   * From layout 2 (before memory links): links every live memory, read from its block, as if it
   * had just become live. The index gets the supersede marks from a rebuild (its schema changed).
   */
  private void migrateToLinks() throws IOException {
    Staging s = Staging.root(this, nextPosition);
    int staged = 0;
    try (RocksIterator it = storage.iterator(Family.MEMORIES)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        String ns = LogKeys.nsOf(it.key(), 0);
        Cid memory = Cid.fromBytes(it.value());
        java.util.Optional<dev.mnemo.store.model.Memory> block = reads.memoryUncached(memory);
        if (block.isEmpty()) {
          // As the index does: a live memory without its block is said, not a reason not to open.
          System.getLogger(LogWriter.class.getName()).log(System.Logger.Level.WARNING,
              "memory " + memory + " is live in namespace " + ns + " but its block is missing; it is not linked");
          continue;
        }
        MemoryLinks.becameLive(s, ns, memory, 0, MemoryLinks.Link.of(block.get()));
        if (++staged % 10_000 == 0) {
          // In bounded memory: what is written here is what the next lot reads its lists from.
          writeLinks(s);
          s = Staging.root(this, nextPosition);
        }
      }
    } catch (dev.mnemo.store.InvalidFormatException e) {
      throw new IOException("storage corruption detected: " + e.getMessage(), e);
    }
    writeLinks(s);
  }

  private void writeLinks(Staging s) throws IOException {
    // Position 0 holds no entry: no index ever reads what the migration "changed" there.
    s.links.remove(new Staging.Key(MemoryLinks.changedKey(0)));
    try (WriteBatch batch = new WriteBatch()) {
      for (Map.Entry<Staging.Key, byte[]> e : s.links.entrySet()) {
        batch.put(storage.handle(Family.LINKS), e.getKey().bytes(), e.getValue());
      }
      storage.writeDurably(batch);
    } catch (RocksDBException e) {
      throw new IOException("migrating the store to memory links failed: " + e.getMessage(), e);
    }
  }

  /**
   * A new local entry's parents: the namespace's heads, or, if there are more than {@code max}
   * (concurrent writers elsewhere, an import of separate roots), {@code max} of them. The heads
   * left out stay heads, so each later write merges the next lot: {@code max - 1} fewer heads a
   * write until they fit. The lot is chosen so that its parents' access-control past is the
   * namespace's whole one (every maximal grant and revoke is behind some chosen head), so the
   * author is checked, here and on every replica, against the same grants as with every head a
   * parent; the rest are the first heads in CID order.
   */
  private List<Cid> parents(Staging s, String ns, int max) {
    Set<Cid> heads = s.heads(ns);
    if (heads.size() <= max) {
      return List.copyOf(heads);
    }
    List<Cid> sorted = heads.stream().sorted().toList();
    AclGraph graph = s.graph(ns);
    if (!graph.hasGrants()) {
      return sorted.subList(0, max);
    }
    Set<Long> uncovered = new HashSet<>();
    for (long position : graph.maxima()) {
      uncovered.add(position);
    }
    Set<Cid> chosen = new LinkedHashSet<>();
    for (Cid head : sorted) {
      if (uncovered.isEmpty() || chosen.size() == max) {
        break;
      }
      boolean covers = false;
      for (long position : inclusiveFrontier(s, head)) {
        covers |= uncovered.remove(position);
      }
      if (covers) {
        chosen.add(head);
      }
    }
    for (Cid head : sorted) {
      if (chosen.size() == max) {
        break;
      }
      chosen.add(head);
    }
    return List.copyOf(chosen);
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

  /**
   * Stages one entry: its block, position, heads, clock, and its effect on the memory state. A
   * void add ({@code isVoid}) stores its memories' blocks, for peers that will need them to apply
   * it, but makes none of them live.
   */
  private void stageEntry(Staging s, Cid cid, byte[] entryBytes, LogEntry entry, Brought memories,
      Set<Cid> forgottenLater, boolean isVoid) {
    String ns = entry.ns();
    long position = s.nextPosition++;
    s.entries.put(cid, position);
    s.blocks.put(cid, entryBytes);
    Set<Cid> heads = new HashSet<>(s.heads(ns));
    entry.parents().forEach(heads::remove);
    heads.add(cid);
    s.heads.put(ns, heads);
    s.clocks.put(ns, Math.max(s.clock(ns), entry.clock()));
    if (!entry.op().touchesMemories()) {
      return;
    }
    if (entry.op() == Op.INVALIDATE) {
      reads.mayHoldInvalidations(ns);
      stageInvalidations(s, ns, entry.refs(), entry.at());
      return;
    }
    List<Cid> refs = entry.refs();
    for (int i = 0; i < refs.size(); i++) {
      Cid ref = refs.get(i);
      byte[] stateKey = LogKeys.nsKey(ns, ref);
      byte[] state = s.state(stateKey);
      boolean voided = state != null && state[0] == LogKeys.VOIDED;
      if (entry.op() == Op.ADD) {
        boolean brought = memories.contains(ref);
        if (isVoid) {
          if (state == null && brought) {
            memories.stage(s, ref);
            s.states.put(new Staging.Key(stateKey), LogKeys.voidedState());
          }
        } else if ((state == null && brought) || voided) {
          // New, or stored by void entries only (its block is here): this add makes it live.
          byte[] listing = LogKeys.listing(position, i);
          if (brought && state == null) {
            memories.stage(s, ref);
          }
          s.listings.put(new Staging.Key(LogKeys.nsKey(ns, listing)), ref.toBytes());
          s.states.put(new Staging.Key(stateKey), LogKeys.addedState(listing));
          MemoryLinks.becameLive(s, ns, ref, position, s.linkOf(ref));
        } else if (state == null && !forgottenLater.contains(ref)) {
          // Already live, or forgotten (forget wins), or forgotten later in this batch: nothing to add.
          s.states.put(new Staging.Key(stateKey), LogKeys.forgottenState());
        } else if (state != null && state[0] == LogKeys.ADDED && s.graph(ns).hasGrants()) {
          // Live already: should the add that made it live become void, this one keeps it live.
          byte[] cidBytes = cid.toBytes();
          s.acl.put(new Staging.Key(LogKeys.alsoAddedKey(ns, ref, position)), ByteBuffer.allocate(1 + 4 + 2 + cidBytes.length)
              .put(LogKeys.ACL_RECORD_VERSION).putInt(i).putShort((short) cidBytes.length).put(cidBytes).array());
        }
      } else {
        if (state != null && state[0] == LogKeys.ADDED) {
          byte[] listing = Arrays.copyOfRange(state, 1, state.length);
          s.listings.put(new Staging.Key(LogKeys.nsKey(ns, listing)), null);
          MemoryLinks.leftLive(s, ns, ref, position);
        }
        if (state != null && (state[0] == LogKeys.ADDED || voided)) {
          // Forget removes the memory's text from this node; the signed entry stays as a tombstone.
          s.blocks.put(ref, null);
        }
        s.states.put(new Staging.Key(stateKey), LogKeys.forgottenState());
      }
    }
  }

  /**
   * Keeps, per memory, the earliest time any invalidate ends it: a minimum, so replicas that
   * apply the same invalidates in any order, before or after the memory's add, hold the same.
   * A memory's state is left alone: it stays live (or not) as it was.
   */
  private static void stageInvalidations(Staging s, String ns, List<Cid> refs, long at) {
    for (Cid ref : refs) {
      byte[] key = LogKeys.invalidatedKey(ns, ref);
      byte[] earlier = s.aclRecord(key);
      try {
        if (earlier == null || LogKeys.invalidatedAt(earlier) > at) {
          s.acl.put(new Staging.Key(key), LogKeys.invalidatedValue(at));
        }
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
  }

  /**
   * Commits a group: one durable RocksDB batch (blocks first on a store outside the engine).
   * Returns the blocks to remove from a store outside the engine now that the batch committed.
   */
  private List<Cid> write(Staging root) throws IOException {
    List<Block> external = new ArrayList<>();
    long externalBytes = 0;
    List<Cid> externalDeletes = new ArrayList<>();
    try (WriteBatch batch = new WriteBatch()) {
      for (Map.Entry<Cid, byte[]> e : root.blocks.entrySet()) {
        // A spilled block is read here, one at a time: the batch (native memory) holds it, not the heap.
        byte[] data = e.getValue() == Staging.SPILLED ? readSpilled(root, e.getKey()) : e.getValue();
        if (blocksInEngine) {
          if (data == null) {
            batch.delete(storage.handle(Family.BLOCKS), e.getKey().toBytes());
          } else {
            batch.put(storage.handle(Family.BLOCKS), e.getKey().toBytes(), data);
          }
        } else if (data == null) {
          externalDeletes.add(e.getKey());
        } else {
          external.add(new Block(e.getKey(), data));
          externalBytes += data.length;
          if (externalBytes >= EXTERNAL_CHUNK_BYTES) {
            // Before the log points at them, as below; in chunks, so that an import's blocks are never all in the heap.
            blocks.putAll(external);
            external.clear();
            externalBytes = 0;
          }
        }
      }
      for (Map.Entry<Cid, Long> e : root.entries.entrySet()) {
        byte[] position = LogKeys.position(e.getValue());
        batch.put(storage.handle(Family.ENTRIES), e.getKey().toBytes(), position);
        batch.put(storage.handle(Family.POSITIONS), position, e.getKey().toBytes());
      }
      int created = 0;
      for (Map.Entry<String, Set<Cid>> e : root.heads.entrySet()) {
        String ns = e.getKey();
        Set<Cid> before = heads(ns);
        if (before.isEmpty() && !e.getValue().isEmpty()) {
          created++;
        }
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
      for (Map.Entry<Staging.Key, byte[]> e : root.acl.entrySet()) {
        if (e.getValue() == null) {
          batch.delete(storage.handle(Family.ACL), e.getKey().bytes());
        } else {
          batch.put(storage.handle(Family.ACL), e.getKey().bytes(), e.getValue());
        }
      }
      for (Map.Entry<Staging.Key, byte[]> e : root.links.entrySet()) {
        if (e.getValue() == null) {
          batch.delete(storage.handle(Family.LINKS), e.getKey().bytes());
        } else {
          batch.put(storage.handle(Family.LINKS), e.getKey().bytes(), e.getValue());
        }
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
      reads.countingNamespaces(created, () -> storage.writeDurably(batch));
    } catch (RocksDBException e) {
      throw new IOException("staging the log batch failed: " + e.getMessage(), e);
    }
    return externalDeletes;
  }

  /** Blocks a commit hands an outside block store at a time, at most about. */
  private static final long EXTERNAL_CHUNK_BYTES = 8L << 20;

  private static byte[] readSpilled(Staging root, Cid cid) throws IOException {
    try {
      return root.readSpilled(cid);
    } catch (java.io.UncheckedIOException e) {
      throw e.getCause();
    }
  }

  @Override
  public AclGraph graph(String ns) {
    AclGraph graph = committedGraphs.get(ns);
    if (graph != null) {
      return graph;
    }
    graph = loadGraph(ns);
    if (graph.hasRoot()) {
      // The writer publishes with put, after its commit: a load that raced it never hides it. A
      // namespace that does not exist is not kept: asking about any name must not grow the map.
      AclGraph raced = committedGraphs.putIfAbsent(ns, graph);
      return raced != null ? raced : graph;
    }
    return graph;
  }

  @Override
  public byte[] aclRecord(byte[] key) {
    try {
      return storage.get(Family.ACL, key);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Override
  public byte[] linkRecord(byte[] key) {
    try {
      return storage.get(Family.LINKS, key);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Override
  public MemoryLinks.Link storedLink(Cid memory) {
    try {
      return MemoryLinks.Link.of(reads.memoryUncached(memory)
          .orElseThrow(() -> new CorruptBlockException(memory, "a live memory's block is missing")));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** The namespace's access control as committed; any thread. */
  dev.mnemo.store.acl.NamespaceAcl acl(String ns) {
    return graph(ns).acl();
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
      case Invalidate invalidate -> invalidate.refs().size();
      case Control control -> 1;
      case Apply apply -> apply.entries().size();
    };
  }

  private static String namespace(Request request) {
    return switch (request) {
      case Add add -> add.ns();
      case Forget forget -> forget.ns();
      case Invalidate invalidate -> invalidate.ns();
      case Control control -> control.ns();
      case Apply apply -> "";
    };
  }

  private static CompletableFuture<?> future(Request request) {
    return switch (request) {
      case Add add -> add.done();
      case Forget forget -> forget.done();
      case Invalidate invalidate -> invalidate.done();
      case Control control -> control.done();
      case Apply apply -> apply.done();
    };
  }

  private static Author author(Request request) {
    return switch (request) {
      case Add add -> add.author();
      case Forget forget -> forget.author();
      case Invalidate invalidate -> invalidate.author();
      case Control control -> control.author();
      case Apply apply -> null;
    };
  }

  /** Whether two writes may share one entry: the same author, signing key and proof. */
  private static boolean sameAuthor(Author a, Author b) {
    return a != null && b != null && a.did().equals(b.did()) && a.signer().did().equals(b.signer().did())
        && Arrays.equals(a.proof(), b.proof());
  }
}
