package dev.mnemo.store.log;

import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.block.Block;
import dev.mnemo.store.block.BlockStore;
import dev.mnemo.store.block.CorruptBlockException;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.cid.Multicodec;
import dev.mnemo.store.codec.DagCbor;
import dev.mnemo.store.acl.Ability;
import dev.mnemo.store.acl.NamespaceAcl;
import dev.mnemo.store.identity.AgentKey;
import dev.mnemo.store.identity.Author;
import dev.mnemo.store.identity.DidKey;
import dev.mnemo.store.log.LogWriter.VerifiedEntry;
import dev.mnemo.store.model.LogEntry;
import dev.mnemo.store.model.Memory;
import dev.mnemo.store.model.Namespace;
import dev.mnemo.store.model.Op;
import dev.mnemo.store.rocks.RocksBlockStore;
import dev.mnemo.store.rocks.RocksStorage;
import dev.mnemo.store.rocks.RocksStorage.Family;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.Predicate;
import org.rocksdb.RocksIterator;

/**
 * The namespace logs of one node: append-only Merkle-DAGs of signed entries, and the state they
 * imply (memories added by entries that are not void and not forgotten; forget wins; and when
 * invalidates end their validity, {@link #invalidatedAt}), and who may write what ({@link #acl}):
 * each namespace has an owner, and grants and revokes in its log.
 *
 * <p>A write returns once its memory blocks, its signed entry and the namespace's new heads are
 * durable in one atomic batch. Every applied entry gets the next local apply position, a counter
 * that only grows, so derived state (the Lucene index) can record how far it got and resume with
 * {@link #entriesAfter}. Writes go through a single writer thread (see {@code LogWriter}); reads
 * go straight to the storage engine and see every acknowledged write.
 */
public final class NamespaceLog implements AutoCloseable {
  private static final String CURSOR = "cursor";
  /** Decoded memories kept for reads by default: some 30,000 memories with 384-dimension vectors. */
  public static final long DEFAULT_MEMORY_CACHE_BYTES = 64L << 20;

  private final RocksStorage storage;
  private final BlockStore blocks;
  private final LogWriter writer;
  private final MemoryCache memoryCache;
  private final Author node;
  /**
   * The namespaces that may hold invalidations: read from the store at open, grown by the writer
   * before it commits one. {@link #invalidatedAt} answers the others without a read, so that
   * indexing and recalling in a namespace that never had an invalidate costs nothing more.
   */
  private final Set<String> invalidatedNamespaces = java.util.concurrent.ConcurrentHashMap.newKeySet();
  /** Heads one import may add to a namespace by default: a few exports' worth of concurrent writers. */
  public static final int DEFAULT_MAX_IMPORTED_HEADS = 64;
  /**
   * Heads a replicated batch may leave a namespace with by default: the most an announcement may
   * name, so the most an honest peer can ever have told of.
   */
  public static final int DEFAULT_MAX_REPLICATED_HEADS = LogEntry.MAX_PARENTS;
  /**
   * Parents a local memory write lists by default: some 2.4 KB of links (1,024 made 42 KB). With
   * imports adding at most {@link #DEFAULT_MAX_IMPORTED_HEADS}, two writes merge a whole import's heads.
   */
  public static final int DEFAULT_MAX_LOCAL_PARENTS = 64;
  private volatile HeadsLimit importLimit = HeadsLimit.added(DEFAULT_MAX_IMPORTED_HEADS);
  private volatile HeadsLimit replicationLimit = HeadsLimit.total(DEFAULT_MAX_REPLICATED_HEADS);
  private volatile int maxLocalParents = DEFAULT_MAX_LOCAL_PARENTS;
  private final Object namespaceCountLock = new Object();
  /** Guarded by namespaceCountLock; -1 until first asked for. */
  private long namespaceCount = -1;
  private final List<java.util.function.Consumer<String>> headsListeners = new java.util.concurrent.CopyOnWriteArrayList<>();

  public NamespaceLog(RocksStorage storage, BlockStore blocks, AgentKey signer) throws IOException {
    this(storage, blocks, signer, DEFAULT_MEMORY_CACHE_BYTES);
  }

  /** As {@link #NamespaceLog(RocksStorage, BlockStore, AgentKey)}, keeping up to {@code memoryCacheBytes} of decoded memories (0: none). */
  public NamespaceLog(RocksStorage storage, BlockStore blocks, AgentKey signer, long memoryCacheBytes) throws IOException {
    this.storage = storage;
    this.blocks = blocks;
    this.memoryCache = new MemoryCache(memoryCacheBytes);
    this.node = Author.of(signer);
    boolean blocksInEngine = blocks instanceof RocksBlockStore r && r.isBackedBy(storage);
    loadInvalidatedNamespaces();
    // Migrates a store of an older layout first (see LogWriter).
    this.writer = new LogWriter(storage, blocks, blocksInEngine, this);
  }

  /**
   * Sets how far entries from outside may widen a namespace (see {@link HeadsLimit}) and how many
   * parents a local memory write lists.
   *
   * @param importedHeads heads one import ({@link #applyStreamed}, {@link #applyBlocks(Collection, String)}) may add
   * @param replicatedHeads heads a pull's batch ({@link #applyBlocks(Collection, String, Set)}) may leave
   * @param localParents parents of a local add, forget or invalidate, 2-{@link LogEntry#MAX_PARENTS}
   *     (with one, a write would merge no heads)
   */
  public void limitHeads(int importedHeads, int replicatedHeads, int localParents) {
    if (localParents < 2 || localParents > LogEntry.MAX_PARENTS) {
      throw new IllegalArgumentException("a write lists 2-" + LogEntry.MAX_PARENTS + " parents");
    }
    this.importLimit = HeadsLimit.added(importedHeads);
    this.replicationLimit = HeadsLimit.total(replicatedHeads);
    this.maxLocalParents = localParents;
  }

  int maxLocalParents() {
    return maxLocalParents;
  }

  /**
   * Calls {@code listener} with a namespace each time a commit has changed its heads (on the
   * writer thread, after the commit is durable: it must be quick and must not write).
   */
  public void onHeadsChanged(java.util.function.Consumer<String> listener) {
    headsListeners.add(listener);
  }

  void headsChanged(String ns) {
    for (java.util.function.Consumer<String> listener : headsListeners) {
      try {
        listener.accept(ns);
      } catch (RuntimeException e) {
        System.getLogger(NamespaceLog.class.getName()).log(System.Logger.Level.WARNING, "heads listener failed: " + e);
      }
    }
  }

  /** The node itself as an author: what the writes that name no author are by. */
  public Author nodeAuthor() {
    return node;
  }

  public BlockStore blocks() {
    return blocks;
  }

  // ---- writes ----

  /** Remembers memories as the node itself; see {@link #append(Author, String, List)}. */
  public Appended append(String ns, List<Memory> memories) throws IOException {
    return append(node, ns, memories);
  }

  public CompletableFuture<Appended> appendAsync(String ns, List<Memory> memories) {
    return appendAsync(node, ns, memories);
  }

  /**
   * Remembers memories by {@code author} (a batch is all-or-nothing) and returns once they are
   * durable. The first write to a namespace with no entries creates it, owned by the author;
   * otherwise the author needs {@code remember} ({@link dev.mnemo.store.acl.UnauthorizedException}
   * if not, and nothing is written).
   */
  public Appended append(Author author, String ns, List<Memory> memories) throws IOException {
    return await(appendAsync(author, ns, memories));
  }

  public CompletableFuture<Appended> appendAsync(Author author, String ns, List<Memory> memories) {
    return appendAsync(author, ns, memories, new BitSet());
  }

  /**
   * As {@link #append(Author, String, List)}, but the i-th memory, where {@code foldEqual} has bit
   * i set, is not added when a live memory of the namespace has the same text, metadata, tags and
   * prev (or an earlier memory of the same write does): the write answers that memory's CID and
   * marks it {@link Appended#deduplicated}. Decided in the writer thread, so two concurrent equal
   * writes leave one memory.
   */
  public Appended append(Author author, String ns, List<Memory> memories, BitSet foldEqual) throws IOException {
    return await(appendAsync(author, ns, memories, foldEqual));
  }

  public CompletableFuture<Appended> appendAsync(Author author, String ns, List<Memory> memories, BitSet foldEqual) {
    requireAuthor(author);
    Namespace.requireValid(ns);
    if (memories.isEmpty() || memories.size() > LogEntry.MAX_REFS) {
      throw new IllegalArgumentException("a batch holds 1-" + LogEntry.MAX_REFS + " memories");
    }
    List<Block> encoded = new ArrayList<>(memories.size());
    List<MemoryLinks.Link> links = new ArrayList<>(memories.size());
    for (Memory memory : memories) {
      if (!memory.ns().equals(ns)) {
        throw new IllegalArgumentException("memory of namespace " + memory.ns() + " written to " + ns);
      }
      // Encoding and hashing happen on the caller's thread, in parallel; the writer only signs.
      encoded.add(Block.dagCbor(memory.encode()));
      links.add(MemoryLinks.Link.of(memory));
    }
    CompletableFuture<Appended> done = new CompletableFuture<>();
    return writer.submit(new LogWriter.Add(ns, author, List.copyOf(encoded), List.copyOf(links),
        (BitSet) foldEqual.clone(), done), done);
  }

  /** Forgets memories as the node itself; see {@link #forget(Author, String, List)}. */
  public Appended forget(String ns, List<Cid> memories) throws IOException, MemoryNotFoundException {
    return forget(node, ns, memories);
  }

  public CompletableFuture<Appended> forgetAsync(String ns, List<Cid> memories) {
    return forgetAsync(node, ns, memories);
  }

  /**
   * Forgets live memories of a namespace by {@code author}, who needs {@code forget}; throws
   * {@link MemoryNotFoundException} for any memory that is not live.
   */
  public Appended forget(Author author, String ns, List<Cid> memories) throws IOException, MemoryNotFoundException {
    try {
      return await(forgetAsync(author, ns, memories));
    } catch (WrappedNotFound e) {
      throw e.notFound;
    }
  }

  public CompletableFuture<Appended> forgetAsync(Author author, String ns, List<Cid> memories) {
    requireAuthor(author);
    Namespace.requireValid(ns);
    if (memories.isEmpty() || memories.size() > LogEntry.MAX_REFS || new HashSet<>(memories).size() != memories.size()) {
      throw new IllegalArgumentException("a forget names 1-" + LogEntry.MAX_REFS + " distinct memories");
    }
    CompletableFuture<Appended> done = new CompletableFuture<>();
    return writer.submit(new LogWriter.Forget(ns, author, List.copyOf(memories), done), done);
  }

  /**
   * Ends the validity of live memories of a namespace at {@code at} (epoch millis), without
   * forgetting them: one signed {@code invalidate} entry by {@code author}, who needs
   * {@code remember}. Throws {@link MemoryNotFoundException} for any memory that is not live, and
   * writes nothing then. A memory's validity ends at the earliest time any invalidate names
   * ({@link #invalidatedAt}), so a later, later-dated invalidate changes nothing.
   */
  public Appended invalidate(Author author, String ns, List<Cid> memories, long at) throws IOException, MemoryNotFoundException {
    requireAuthor(author);
    Namespace.requireValid(ns);
    if (memories.isEmpty() || memories.size() > LogEntry.MAX_REFS || new HashSet<>(memories).size() != memories.size()) {
      throw new IllegalArgumentException("an invalidate names 1-" + LogEntry.MAX_REFS + " distinct memories");
    }
    CompletableFuture<Appended> done = new CompletableFuture<>();
    try {
      return await(writer.submit(new LogWriter.Invalidate(ns, author, List.copyOf(memories), at, done), done));
    } catch (WrappedNotFound e) {
      throw e.notFound;
    }
  }

  /**
   * The earliest time an invalidate applied here ends the memory's validity at, if any has: the
   * same on every node that holds the same entries, in whatever order they came. The memory's
   * own {@code validTo} is not counted; it may end sooner.
   */
  public OptionalLong invalidatedAt(String ns, Cid memory) throws IOException {
    if (!invalidatedNamespaces.contains(ns)) {
      return OptionalLong.empty();
    }
    byte[] value = storage.get(Family.ACL, LogKeys.invalidatedKey(ns, memory));
    return value == null ? OptionalLong.empty() : OptionalLong.of(LogKeys.invalidatedAt(value));
  }

  /** Called by the writer before it stages an invalidation in {@code ns}. */
  void mayHoldInvalidations(String ns) {
    invalidatedNamespaces.add(ns);
  }

  /** One seek a namespace: the invalidation records are keyed {@code 'i' ns 0x00 memory-CID}. */
  private void loadInvalidatedNamespaces() {
    try (RocksIterator it = storage.iterator(Family.ACL)) {
      it.seek(new byte[] {LogKeys.INVALIDATED});
      while (it.isValid() && it.key().length > 0 && it.key()[0] == LogKeys.INVALIDATED) {
        String ns = LogKeys.nsOf(it.key(), 1);
        invalidatedNamespaces.add(ns);
        byte[] next = LogKeys.invalidatedKey(ns, new byte[0]);
        next[next.length - 1] = 1;
        it.seek(next);
      }
    }
  }

  /**
   * Creates a namespace owned by {@code author}: its root entry. Throws
   * {@link dev.mnemo.store.acl.NamespaceExistsException} if it has a root here already.
   */
  public Appended create(Author author, String ns) throws IOException {
    return control(author, ns, Op.CREATE, null, null);
  }

  /**
   * Grants {@code to} the abilities {@code can} in the namespace; the author needs {@code admin}
   * (owners hold it). A namespace with no entries is created first, owned by the author.
   */
  public Appended grant(Author author, String ns, DidKey to, Set<Ability> can) throws IOException {
    return control(author, ns, Op.GRANT, requireDid(to), requireAbilities(can));
  }

  /**
   * Revokes abilities of {@code to} in the namespace; the author needs {@code admin}. Revoking an
   * owner changes nothing (owners hold every ability for good), but is still written.
   */
  public Appended revoke(Author author, String ns, DidKey to, Set<Ability> can) throws IOException {
    return control(author, ns, Op.REVOKE, requireDid(to), requireAbilities(can));
  }

  private Appended control(Author author, String ns, Op op, DidKey to, Set<Ability> can) throws IOException {
    requireAuthor(author);
    Namespace.requireValid(ns);
    CompletableFuture<Appended> done = new CompletableFuture<>();
    return await(writer.submit(new LogWriter.Control(ns, author, op, to, can == null ? null : Set.copyOf(can), done), done));
  }

  private static void requireAuthor(Author author) {
    if (author == null) {
      throw new IllegalArgumentException("an author is required");
    }
  }

  private static DidKey requireDid(DidKey to) {
    if (to == null) {
      throw new IllegalArgumentException("a grant or revoke names who it is to");
    }
    return to;
  }

  private static Set<Ability> requireAbilities(Set<Ability> can) {
    if (can == null || can.isEmpty()) {
      throw new IllegalArgumentException("a grant or revoke names at least one ability");
    }
    return can;
  }

  /**
   * Who may do what in the namespace, as of the entries this node holds (its heads' past, revoke
   * wins applied). An in-memory read, cheap enough for every request.
   */
  public NamespaceAcl acl(String ns) {
    return writer.acl(ns);
  }

  /**
   * Whether a stored entry is a void add: its author's ability was revoked concurrently, so it is
   * kept and served but makes no memory live (and an export leaves its memories out).
   */
  public boolean isVoid(Cid entry) {
    return getOrFail(Family.ACL, LogKeys.voidEntryKey(entry)) != null;
  }

  /**
   * The memories that the entry applied at {@code position} made void (a revoke that won over the
   * adds that made them live): the index drops them when it reaches that position. Empty for
   * every other entry.
   */
  public List<Cid> voidedBy(long position) throws IOException {
    byte[] value = storage.get(Family.ACL, LogKeys.voidedKey(position));
    if (value == null) {
      return List.of();
    }
    java.nio.ByteBuffer buf = LogKeys.versioned(value, "voided memories");
    List<Cid> cids = new ArrayList<>();
    for (int n = buf.getInt(); n > 0; n--) {
      cids.add(LogKeys.getCid(buf));
    }
    return cids;
  }

  /**
   * Applies log entries and memory blocks that came from outside (a CAR file, a peer). Every block
   * is hash-checked, every entry decoded and its signature verified, every memory checked to
   * belong to the namespace of the entry that adds it; then the entries are applied in causal
   * order in one atomic batch. One bad block rejects the whole call and nothing of it is stored.
   * Entries already applied are skipped, so applying is idempotent.
   *
   * @return how many entries were newly applied
   */
  public int applyBlocks(Collection<Block> received) throws IOException {
    return applyBlocks(received, null);
  }

  /**
   * As {@link #applyBlocks(Collection)}, refusing entries of any namespace but {@code expectedNs}
   * (when not null). An import: it may add at most the configured imported heads to a namespace
   * ({@link #limitHeads}; {@link TooManyHeadsException} otherwise).
   */
  public int applyBlocks(Collection<Block> received, String expectedNs) throws IOException {
    return applyBlocks(received, expectedNs, Set.of(), importLimit);
  }

  /**
   * As {@link #applyBlocks(Collection, String)}, for one of several batches of a larger pull
   * applied in causal order: {@code forgottenLater} are the memories that entries of later
   * batches forget. An entry here may add one of them without its block, as it may a memory that
   * an entry of the same batch forgets: the peer removed the block at the forget, and forget wins.
   * Such a memory is left unknown here, not forgotten, until the forget itself is applied: should
   * that batch never be, the memory is in no state another node holding the same entries is not.
   * A batch that would leave a namespace with more heads than the configured replicated heads
   * ({@link #limitHeads}) is refused ({@link TooManyHeadsException}), unless it does not add any.
   */
  public int applyBlocks(Collection<Block> received, String expectedNs, Set<Cid> forgottenLater) throws IOException {
    return applyBlocks(received, expectedNs, forgottenLater, replicationLimit);
  }

  /** As {@link #applyBlocks(Collection, String, Set)}, within {@code limit}. */
  public int applyBlocks(Collection<Block> received, String expectedNs, Set<Cid> forgottenLater, HeadsLimit limit)
      throws IOException {
    Received r = new Received(null);
    for (Block block : received) {
      r.add(block);
    }
    return apply(r, expectedNs, forgottenLater, limit);
  }

  /** Blocks read one at a time (a CAR as it is parsed); null at the end. */
  public interface BlockSource {
    Block next() throws IOException;
  }

  /** Memory blocks kept outside the heap (an import's spill file), read back by CID. */
  public interface SpilledBlocks {
    /** The block's bytes, checked against its CID. */
    byte[] read(Cid cid) throws IOException;
  }

  /**
   * As {@link #applyBlocks(Collection, String)}, with the same checks and the same all-or-nothing
   * rule, for blocks read one at a time from a file that holds them all: every block is hash-checked
   * as it is read; entries are kept, decoded, to order and check them; of a memory, only its
   * namespace and links are kept, and its bytes are read back from {@code spilled} when the batch
   * is written. So the heap holds an import's entries and one memory at a time, not the file.
   */
  public int applyStreamed(BlockSource source, SpilledBlocks spilled, String expectedNs) throws IOException {
    Received r = new Received(spilled);
    for (Block block = source.next(); block != null; block = source.next()) {
      r.add(block);
    }
    return apply(r, expectedNs, Set.of(), importLimit);
  }

  /** Blocks received, checked one by one and sorted into entries and memories. */
  private static final class Received {
    final Map<Cid, Block> entryBlocks = new LinkedHashMap<>();
    final Map<Cid, LogEntry> entries = new HashMap<>();
    /** Each memory's namespace: the one the entry that adds it must be of. */
    final Map<Cid, String> memoryNs = new HashMap<>();
    final Map<Cid, MemoryLinks.Link> links = new HashMap<>();
    /** The memories' bytes, unless they are spilled. */
    final Map<Cid, Block> memoryBlocks = new HashMap<>();
    final Set<Cid> spilledMemories = new HashSet<>();
    final SpilledBlocks spill;
    /** One String per namespace name, not one per memory. */
    private final Map<String, String> names = new HashMap<>();

    Received(SpilledBlocks spill) {
      this.spill = spill;
    }

    void add(Block block) throws IOException {
      if (!block.isIntact()) {
        throw new CorruptBlockException(block.cid(), "bytes do not hash to the CID");
      }
      if (!isLogBlockCid(block.cid())) {
        // The hash check covers the multihash only; the same bytes under another codec or CID
        // version would otherwise come in again as a new entry, with a valid signature.
        throw new RejectedEntryException(block.cid(), "not a CIDv1 of dag-cbor with sha2-256, as every log block is");
      }
      Map<String, Object> map;
      try {
        map = DagCbor.decodeMap(block.data());
      } catch (InvalidFormatException e) {
        throw new RejectedEntryException(block.cid(), e.getMessage());
      }
      try {
        if (map.containsKey("op")) {
          entries.put(block.cid(), LogEntry.decode(block.data()));
          entryBlocks.put(block.cid(), block);
        } else {
          Memory memory = Memory.decode(block.data());
          memoryNs.put(block.cid(), names.computeIfAbsent(memory.ns(), n -> n));
          links.put(block.cid(), MemoryLinks.Link.of(memory));
          if (spill == null) {
            memoryBlocks.put(block.cid(), block);
          } else {
            spilledMemories.add(block.cid());
          }
        }
      } catch (InvalidFormatException e) {
        throw new RejectedEntryException(block.cid(), e.getMessage());
      }
    }
  }

  private int apply(Received r, String expectedNs, Set<Cid> forgottenLater, HeadsLimit limit) throws IOException {
    Map<Cid, LogEntry> entries = r.entries;
    Map<String, Set<Cid>> forgotten = new HashMap<>();
    for (Map.Entry<Cid, LogEntry> e : entries.entrySet()) {
      LogEntry entry = e.getValue();
      if (expectedNs != null && !entry.ns().equals(expectedNs)) {
        throw new RejectedEntryException(e.getKey(), "entry of namespace " + entry.ns() + " where " + expectedNs + " was expected");
      }
      String badSignature = entry.signatureProblem();
      if (badSignature != null) {
        throw new RejectedEntryException(e.getKey(), badSignature);
      }
      for (Cid ref : entry.refs()) {
        String memoryNs = r.memoryNs.get(ref);
        if (memoryNs != null && !memoryNs.equals(entry.ns())) {
          throw new RejectedEntryException(e.getKey(), "memory " + ref + " belongs to namespace " + memoryNs);
        }
        if (entry.op() == Op.FORGET) {
          forgotten.computeIfAbsent(entry.ns(), k -> new HashSet<>()).add(ref);
        }
      }
    }
    Set<Cid> onlyLater = new HashSet<>();
    if (!forgottenLater.isEmpty()) {
      if (expectedNs == null) {
        throw new IllegalArgumentException("memories forgotten later need the namespace they are forgotten in");
      }
      onlyLater.addAll(forgottenLater);
      onlyLater.removeAll(forgotten.getOrDefault(expectedNs, Set.of()));
    }
    List<VerifiedEntry> ordered = new ArrayList<>();
    for (Cid cid : causalOrder(entries)) {
      ordered.add(new VerifiedEntry(r.entryBlocks.get(cid), entries.get(cid)));
    }
    LogWriter.Brought brought = new LogWriter.Brought(r.memoryBlocks, r.spilledMemories, r.spill);
    CompletableFuture<Integer> done = new CompletableFuture<>();
    return await(writer.submit(new LogWriter.Apply(ordered, brought, forgotten, onlyLater, storedParents(entries), r.links,
        limit, done), done));
  }

  private static boolean isLogBlockCid(Cid cid) {
    return cid.version() == 1 && cid.codec() == Multicodec.DAG_CBOR && cid.multihash().code() == Multicodec.SHA2_256;
  }

  /**
   * The stored entries that entries of the batch name as parents, decoded: the log writer checks
   * a parent outside the batch against them (same namespace, clock one below its child's), and
   * refuses one that is not here.
   */
  private Map<Cid, LogEntry> storedParents(Map<Cid, LogEntry> entries) throws IOException {
    Map<Cid, LogEntry> parents = new HashMap<>();
    for (LogEntry entry : entries.values()) {
      for (Cid parent : entry.parents()) {
        if (!entries.containsKey(parent) && !parents.containsKey(parent) && position(parent).isPresent()) {
          entry(parent).ifPresent(stored -> parents.put(parent, stored));
        }
      }
    }
    return parents;
  }

  /**
   * Orders entries parents-first (Kahn's algorithm over the parents inside the set; ties in CID
   * order), and revokes as early as that allows: every revoke and its ancestors in the set come
   * before any other entry. An add concurrent with a revoke of its author then arrives after the
   * revoke, void, and may come without its memories (an export or a peer that holds it void leaves
   * them out). Refuses a set whose parent links form a cycle.
   */
  public static List<Cid> causalOrder(Map<Cid, LogEntry> entries) throws RejectedEntryException {
    Map<Cid, Integer> waiting = new HashMap<>();
    Map<Cid, List<Cid>> children = new HashMap<>();
    Deque<Cid> toMark = new ArrayDeque<>();
    for (Map.Entry<Cid, LogEntry> e : entries.entrySet()) {
      int inSet = 0;
      for (Cid parent : e.getValue().parents()) {
        if (entries.containsKey(parent)) {
          inSet++;
          children.computeIfAbsent(parent, k -> new ArrayList<>()).add(e.getKey());
        }
      }
      waiting.put(e.getKey(), inSet);
      if (e.getValue().op() == Op.REVOKE) {
        toMark.add(e.getKey());
      }
    }
    Set<Cid> early = new HashSet<>();
    while (!toMark.isEmpty()) {
      Cid cid = toMark.poll();
      if (early.add(cid)) {
        for (Cid parent : entries.get(cid).parents()) {
          if (entries.containsKey(parent) && !early.contains(parent)) {
            toMark.add(parent);
          }
        }
      }
    }
    TreeSet<Cid> readyEarly = new TreeSet<>();
    TreeSet<Cid> readyLate = new TreeSet<>();
    for (Map.Entry<Cid, Integer> e : waiting.entrySet()) {
      if (e.getValue() == 0) {
        (early.contains(e.getKey()) ? readyEarly : readyLate).add(e.getKey());
      }
    }
    List<Cid> order = new ArrayList<>(entries.size());
    while (!readyEarly.isEmpty() || !readyLate.isEmpty()) {
      Cid next = !readyEarly.isEmpty() ? readyEarly.pollFirst() : readyLate.pollFirst();
      order.add(next);
      for (Cid child : children.getOrDefault(next, List.of())) {
        if (waiting.merge(child, -1, Integer::sum) == 0) {
          (early.contains(child) ? readyEarly : readyLate).add(child);
        }
      }
    }
    if (order.size() != entries.size()) {
      Cid stuck = waiting.entrySet().stream().filter(e -> e.getValue() > 0).findFirst().orElseThrow().getKey();
      throw new RejectedEntryException(stuck, "entries form a cycle");
    }
    return order;
  }

  // ---- reads ----

  /** The namespace's current heads (entries no other entry names as a parent). */
  public Set<Cid> heads(String ns) {
    Set<Cid> heads = new TreeSet<>();
    byte[] prefix = LogKeys.nsPrefix(ns);
    try (RocksIterator it = storage.iterator(Family.HEADS)) {
      for (it.seek(prefix); it.isValid() && LogKeys.hasPrefix(it.key(), prefix); it.next()) {
        heads.add(cidOrCorrupt(LogKeys.suffix(it.key(), prefix)));
      }
    }
    return heads;
  }

  /**
   * Every namespace this node holds entries of, with its heads, in one pass over the heads (as
   * committed while the pass runs: a namespace changed meanwhile may show either state).
   */
  public void forEachNamespaceHeads(java.util.function.BiConsumer<String, Set<Cid>> visitor) {
    try (RocksIterator it = storage.iterator(Family.HEADS)) {
      String current = null;
      Set<Cid> heads = new TreeSet<>();
      for (it.seekToFirst(); it.isValid(); it.next()) {
        byte[] key = it.key();
        int zero = LogKeys.nsEnd(key, 0);
        String ns = new String(key, 0, zero, java.nio.charset.StandardCharsets.US_ASCII);
        if (!ns.equals(current)) {
          if (current != null) {
            visitor.accept(current, heads);
          }
          current = ns;
          heads = new TreeSet<>();
        }
        heads.add(cidOrCorrupt(java.util.Arrays.copyOfRange(key, zero + 1, key.length)));
      }
      if (current != null) {
        visitor.accept(current, heads);
      }
    }
  }

  /** Every namespace this node holds entries of. */
  public Set<String> namespaces() {
    return new TreeSet<>(namespaces(null, Integer.MAX_VALUE));
  }

  /**
   * Up to {@code limit} namespaces this node holds entries of, in name order, each after
   * {@code after} (null: from the first). One seek a namespace, never a pass over all of them.
   */
  public List<String> namespaces(String after, int limit) {
    List<String> names = new ArrayList<>();
    try (RocksIterator it = storage.iterator(Family.HEADS)) {
      if (after == null) {
        it.seekToFirst();
      } else {
        it.seek(LogKeys.afterNs(after));
      }
      while (it.isValid() && names.size() < limit) {
        String ns = LogKeys.nsOf(it.key(), 0);
        names.add(ns);
        it.seek(LogKeys.afterNs(ns));
      }
    }
    return names;
  }

  /**
   * How many namespaces this node holds entries of. Counted once (a seek a namespace), then kept
   * by the writer as namespaces appear: a namespace, once it has heads, always has some.
   */
  public long namespaceCount() {
    synchronized (namespaceCountLock) {
      if (namespaceCount < 0) {
        namespaceCount = namespaces(null, Integer.MAX_VALUE).size();
      }
      return namespaceCount;
    }
  }

  /**
   * Runs the writer's durable write of a batch that creates {@code created} namespaces and
   * counts them, both under the lock a first count holds: so the count sees a namespace either in
   * the store or by this increment, never both, never neither.
   */
  <E extends Exception> void countingNamespaces(int created, ThrowingRunnable<E> write) throws E {
    if (created == 0) {
      write.run();
      return;
    }
    synchronized (namespaceCountLock) {
      write.run();
      if (namespaceCount >= 0) {
        namespaceCount += created;
      }
    }
  }

  @FunctionalInterface
  interface ThrowingRunnable<E extends Exception> {
    void run() throws E;
  }

  /** The highest Lamport clock of any entry applied in the namespace (0 when none). */
  public long clock(String ns) {
    byte[] value = getOrFail(Family.META, LogKeys.clockKey(ns));
    return value == null ? 0 : LogKeys.position(value);
  }

  /** The apply position of an entry, if it has been applied here. */
  public OptionalLong position(Cid entry) {
    byte[] value = getOrFail(Family.ENTRIES, entry.toBytes());
    return value == null ? OptionalLong.empty() : OptionalLong.of(LogKeys.position(value));
  }

  /** The position of the last applied entry, 0 before the first. */
  public long lastPosition() {
    try (RocksIterator it = storage.iterator(Family.POSITIONS)) {
      it.seekToLast();
      return it.isValid() ? LogKeys.position(it.key()) : 0;
    }
  }

  /** Up to {@code limit} applied entries after {@code position}, in apply order. */
  public List<PositionedEntry> entriesAfter(long position, int limit) throws IOException {
    List<PositionedEntry> out = new ArrayList<>();
    try (RocksIterator it = storage.iterator(Family.POSITIONS)) {
      for (it.seek(LogKeys.position(position + 1)); it.isValid() && out.size() < limit; it.next()) {
        Cid cid = cidOrCorrupt(it.value());
        out.add(new PositionedEntry(LogKeys.position(it.key()), cid, entry(cid).orElseThrow(
            () -> new CorruptBlockException(cid, "applied entry's block is missing"))));
      }
    }
    return out;
  }

  /** A stored entry, hash-verified and decoded. */
  public Optional<LogEntry> entry(Cid cid) throws IOException {
    Optional<byte[]> bytes = blocks.get(cid);
    if (bytes.isEmpty()) {
      return Optional.empty();
    }
    try {
      return Optional.of(LogEntry.decode(bytes.get()));
    } catch (InvalidFormatException e) {
      throw new CorruptBlockException(cid, "not a log entry: " + e.getMessage(), e);
    }
  }

  /** A stored memory, hash-verified and decoded; empty when unknown, not a memory, or forgotten here. */
  public Optional<Memory> memory(Cid cid) throws IOException {
    return Optional.ofNullable(memoryCache.load(cid, () -> fetchMemory(cid), m -> state(m.ns(), cid) == MemoryState.LIVE));
  }

  /**
   * As {@link #memory}, reading the block store without using or filling the cache: for scans
   * (index catch-up, rebuilds, imports) that would otherwise push the memories recalls keep
   * reading out of it.
   */
  public Optional<Memory> memoryUncached(Cid cid) throws IOException {
    return Optional.ofNullable(fetchMemory(cid));
  }

  private Memory fetchMemory(Cid cid) throws IOException {
    Optional<byte[]> bytes = blocks.get(cid);
    if (bytes.isEmpty()) {
      return null;
    }
    try {
      return Memory.decode(bytes.get());
    } catch (InvalidFormatException e) {
      if (isLogEntry(bytes.get())) {
        // A log entry's CID where a memory's was asked for: a wrong question, not a corrupt block.
        return null;
      }
      throw new CorruptBlockException(cid, "not a memory: " + e.getMessage(), e);
    }
  }
  private static boolean isLogEntry(byte[] block) {
    try {
      LogEntry.decode(block);
      return true;
    } catch (InvalidFormatException e) {
      return false;
    }
  }


  /** Size and hit counts of the cache of decoded memories that {@link #memory} reads through. */
  public MemoryCacheStats memoryCacheStats() {
    return memoryCache.stats();
  }

  /** Called by the writer once a commit that removes these memories' blocks is durable. */
  void evictRemoved(Collection<Cid> removed) {
    memoryCache.evict(removed);
  }

  public MemoryState state(String ns, Cid memory) {
    byte[] state = rawState(LogKeys.nsKey(ns, memory));
    if (state == null) {
      return MemoryState.UNKNOWN;
    }
    return switch (state[0]) {
      case LogKeys.ADDED -> MemoryState.LIVE;
      case LogKeys.VOIDED -> MemoryState.VOID;
      default -> MemoryState.FORGOTTEN;
    };
  }

  /**
   * The position of the entry that made a memory live here, or -1 when it is not live (never
   * added, or forgotten). A memory is live from one entry at most: later entries that list it
   * again add nothing, and a forgotten memory stays forgotten.
   */
  public long liveSince(String ns, Cid memory) {
    byte[] state = rawState(LogKeys.nsKey(ns, memory));
    return state == null || state[0] != LogKeys.ADDED ? -1 : LogKeys.addedPosition(state);
  }

  /**
   * The live memories of the namespace that name {@code memory} as their prev: while there is one,
   * the memory is superseded (left out of recall unless asked for). Empty when it has none.
   */
  public List<Cid> successors(String ns, Cid memory) throws IOException {
    return MemoryLinks.cids(storage.get(Family.LINKS, MemoryLinks.successorsKey(ns, memory)));
  }

  /** Whether a live memory of the namespace names {@code memory} as its prev. */
  public boolean isSuperseded(String ns, Cid memory) throws IOException {
    byte[] key = MemoryLinks.successorsKey(ns, memory);
    return storage.mayExist(Family.LINKS, key) && storage.get(Family.LINKS, key) != null;
  }

  /**
   * The memories of the entry's namespace whose successors the entry applied at {@code position}
   * changed (it made a memory that names them as prev live, or took one out of the live set):
   * whether they are superseded may differ since. Empty for most entries.
   */
  public List<Cid> successorsChangedAt(long position) throws IOException {
    byte[] key = MemoryLinks.changedKey(position);
    return storage.mayExist(Family.LINKS, key) ? MemoryLinks.cids(storage.get(Family.LINKS, key)) : List.of();
  }

  byte[] rawState(byte[] nsCidKey) {
    return getOrFail(Family.STATES, nsCidKey);
  }

  /**
   * A page of the namespace's live memories in write order. {@code cursor} is null for the first
   * page, else the {@code next} of the previous page; a malformed cursor is an
   * {@link InvalidFormatException}.
   */
  public MemoryPage list(String ns, String cursor, int limit) throws InvalidFormatException {
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be positive");
    }
    byte[] prefix = LogKeys.nsPrefix(ns);
    byte[] start = cursor == null ? prefix : LogKeys.nsKey(ns, afterCursor(cursor));
    List<Cid> page = new ArrayList<>();
    byte[] lastKey = null;
    boolean more = false;
    try (RocksIterator it = storage.iterator(Family.MEMORIES)) {
      for (it.seek(start); it.isValid() && LogKeys.hasPrefix(it.key(), prefix); it.next()) {
        if (page.size() == limit) {
          more = true;
          break;
        }
        page.add(cidOrCorrupt(it.value()));
        lastKey = it.key();
      }
    }
    String next = more ? encodeCursor(LogKeys.suffix(lastKey, prefix)) : null;
    return new MemoryPage(page, next);
  }

  private static String encodeCursor(byte[] listing) {
    java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(listing);
    return buf.getLong() + "." + buf.getInt();
  }

  /** The listing key just after the one a cursor names. */
  private static byte[] afterCursor(String cursor) throws InvalidFormatException {
    int dot = cursor.indexOf('.');
    try {
      long position = Long.parseLong(cursor.substring(0, dot));
      int index = Integer.parseInt(cursor.substring(dot + 1));
      if (position < 0 || index < 0 || index == Integer.MAX_VALUE) {
        throw new NumberFormatException("negative");
      }
      return LogKeys.listing(position, index + 1);
    } catch (RuntimeException e) {
      throw new InvalidFormatException(CURSOR, "'" + cursor + "' is not a cursor this node issued");
    }
  }

  /**
   * Walks the namespace's DAG from its heads back through parents, breadth first, visiting each
   * entry once. {@code visitor} returns whether to continue past an entry to its parents.
   */
  public void walk(String ns, Predicate<PositionedEntry> visitor) throws IOException {
    walk(ns, heads(ns), visitor);
  }

  /** As {@link #walk(String, Predicate)}, from the given heads (taken earlier) rather than the current ones. */
  public void walk(String ns, Collection<Cid> heads, Predicate<PositionedEntry> visitor) throws IOException {
    Deque<Cid> pending = new ArrayDeque<>(heads);
    Set<Cid> seen = new HashSet<>(pending);
    while (!pending.isEmpty()) {
      Cid cid = pending.poll();
      LogEntry entry = entry(cid).orElseThrow(() -> new CorruptBlockException(cid, "entry block is missing"));
      if (!entry.ns().equals(ns)) {
        // Only a store written before parents were checked to share the namespace holds one.
        continue;
      }
      long position = position(cid).orElse(0);
      if (!visitor.test(new PositionedEntry(position, cid, entry))) {
        continue;
      }
      for (Cid parent : entry.parents()) {
        if (seen.add(parent)) {
          pending.add(parent);
        }
      }
    }
  }

  private byte[] getOrFail(Family family, byte[] key) {
    try {
      return storage.get(family, key);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static Cid cidOrCorrupt(byte[] bytes) {
    try {
      return Cid.fromBytes(bytes);
    } catch (InvalidFormatException e) {
      throw new java.io.UncheckedIOException(new IOException("storage corruption detected: " + e.getMessage(), e));
    }
  }

  private static <T> T await(CompletableFuture<T> future) throws IOException {
    try {
      return future.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting for a durable write");
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof MemoryNotFoundException notFound) {
        throw new WrappedNotFound(notFound);
      }
      if (cause instanceof IOException io) {
        throw io;
      }
      if (cause instanceof RuntimeException re) {
        throw re;
      }
      throw new IOException(cause);
    }
  }

  /** Carries a MemoryNotFoundException through {@link #await} to {@link #forget}. */
  private static final class WrappedNotFound extends RuntimeException {
    final MemoryNotFoundException notFound;

    WrappedNotFound(MemoryNotFoundException notFound) {
      super(notFound.getMessage(), notFound, false, false);
      this.notFound = notFound;
    }
  }

  /** Stops the writer after it has committed what was queued. The storage engine is the caller's. */
  @Override
  public void close() throws IOException {
    try {
      writer.close();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while closing the log");
    }
  }
}
