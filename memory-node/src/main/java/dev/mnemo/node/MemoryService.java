package dev.mnemo.node;

import dev.mnemo.index.LogIndexer;
import dev.mnemo.index.MemoryIndex;
import dev.mnemo.index.RecallFilter;
import dev.mnemo.index.RecallHit;
import dev.mnemo.index.RecallMode;
import dev.mnemo.index.RecallQuery;
import dev.mnemo.node.embed.Embedder;
import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.acl.Ability;
import dev.mnemo.store.acl.NamespaceAcl;
import dev.mnemo.store.acl.UnauthorizedException;
import dev.mnemo.store.car.NamespaceCar;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.identity.DidKey;
import dev.mnemo.store.log.Appended;
import dev.mnemo.store.log.MemoryNotFoundException;
import dev.mnemo.store.log.MemoryPage;
import dev.mnemo.store.log.MemoryState;
import dev.mnemo.store.log.NamespaceLog;
import dev.mnemo.store.model.Embedding;
import dev.mnemo.store.model.Memory;
import dev.mnemo.store.model.Namespace;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.regex.MatchResult;
import java.util.regex.Pattern;

/**
 * What the node does for agents, the one front door every API (HTTP, and any later one) calls:
 * domain requests in, domain results out, blocking. Every call names its {@link Caller}, whose
 * writes are signed as its author. Each write returns only after it is durable in the log; every
 * recall sees every write acknowledged before it (while the node is not being searched, a write
 * may return before it is indexed, and the next recall waits for the index: {@link LogIndexer}).
 *
 * <p>Refusals are the exceptions of this package ({@link NotFoundException},
 * {@link UnknownPrevException}, {@link InvalidCursorException}, {@link InvalidRequestException}),
 * the embedder's {@code EmbedderUnavailableException}, and the store's (an {@link UnauthorizedException},
 * a {@code NamespaceExistsException},
 * a rejected or malformed import, an export that could not finish, an unavailable block store).
 */
public final class MemoryService {
  private final MnemoStore store;
  private final NamespaceLog log;
  private final MemoryIndex index;
  private final LogIndexer indexer;
  private final Embedder embedder;
  private final int dimension;
  private final EmbedContext defaultContext;
  private volatile Consumer<String> afterWrite = ns -> {};

  public MemoryService(MnemoStore store, MemoryIndex index, LogIndexer indexer, Embedder embedder, int dimension) {
    this(store, index, indexer, embedder, dimension, EmbedContext.NONE);
  }

  /** @param defaultContext the metadata a text is embedded with when its memory names none */
  public MemoryService(MnemoStore store, MemoryIndex index, LogIndexer indexer, Embedder embedder, int dimension,
      EmbedContext defaultContext) {
    this.defaultContext = defaultContext;
    this.store = store;
    this.log = store.log();
    this.index = index;
    this.indexer = indexer;
    this.embedder = embedder;
    this.dimension = dimension;
    this.nearCosine = nearDuplicateCosine(embedder.model());
  }

  /** The near-duplicate threshold of this node's model, looked up once, not at every comparison. */
  private final double nearCosine;
  private volatile dev.mnemo.index.Fusion defaultFusion = dev.mnemo.index.Fusion.DEFAULT;

  /** The fusion a recall gets for whatever it does not choose (the node's configuration). */
  public void defaultFusion(dev.mnemo.index.Fusion fusion) {
    this.defaultFusion = java.util.Objects.requireNonNull(fusion);
  }

  /** Called with the namespace after every acknowledged local write (sync announces heads). */
  public void afterWrite(Consumer<String> listener) {
    this.afterWrite = listener;
  }

  /** Whether the node can embed text now, will once its model has warmed up, or cannot. */
  public Embedder.Readiness embedderReadiness() {
    return embedder.readiness();
  }

  /** The vector length of this node's memories and queries. */
  public int dimension() {
    return dimension;
  }

  /**
   * The least cosine between two memories' vectors for {@code dedup: "near"} to fold one into the
   * other (which must also have equal metadata, tags, prev and numbers in the text): the node's
   * model's {@link dev.mnemo.node.embed.OnnxEmbedder.Model#nearDuplicateCosine}, or the BGE
   * figure for a node that embeds nothing (README "Remember", NearDuplicateMeasurement).
   */
  public static double nearDuplicateCosine(String model) {
    for (dev.mnemo.node.embed.OnnxEmbedder.Model m : dev.mnemo.node.embed.OnnxEmbedder.Model.values()) {
      if (m.modelName().equals(model)) {
        return m.nearDuplicateCosine();
      }
    }
    return dev.mnemo.node.embed.OnnxEmbedder.Model.BGE_SMALL_EN_V15.nearDuplicateCosine();
  }
  /** Candidates a near-duplicate search looks at: those that pass the vector but differ in metadata or prev are skipped. */
  private static final int NEAR_CANDIDATES = 8;
  /**
   * One near-duplicate remember at a time per namespace (striped: namespaces share a lock by hash),
   * so that its lookup sees the one before it.
   */
  private final ReentrantLock[] nearLocks = new ReentrantLock[64];

  {
    Arrays.setAll(nearLocks, i -> new ReentrantLock());
  }

  /**
   * Remembers a batch, all or nothing, in one log entry; the CIDs come in request order. A memory
   * that duplicates a live one of the namespace (see {@link RememberRequest.Dedup}) is not stored
   * again: its CID is the live memory's, and {@link Remembered#deduplicated} says so.
   */
  public Remembered remember(Caller caller, RememberRequest request) throws IOException {
    String ns = request.ns();
    authorize(caller, ns, Ability.REMEMBER);
    for (NewMemory item : request.memories()) {
      if (item.prev() != null && log.state(ns, item.prev()) == MemoryState.UNKNOWN) {
        throw new UnknownPrevException(ns, item.prev());
      }
    }
    long embedStart = System.nanoTime();
    List<float[]> vectors = vectorsFor(request.memories());
    double embedMillis = request.memories().stream().allMatch(m -> m.vector() != null) ? 0 : (System.nanoTime() - embedStart) / 1e6;
    long now = System.currentTimeMillis();
    List<Memory> memories = new ArrayList<>(request.memories().size());
    BitSet foldEqual = new BitSet();
    boolean near = false;
    for (int i = 0; i < request.memories().size(); i++) {
      NewMemory item = request.memories().get(i);
      Embedding embedding = new Embedding(item.vector() != null ? "client" : embedder.model(), vectors.get(i));
      try {
        memories.add(new Memory(ns, item.text(), item.metadata(), item.tags(), item.ts() == null ? now : item.ts(),
            embedding, item.prev(), item.validFrom(), item.validTo()));
      } catch (IllegalArgumentException e) {
        throw new InvalidRequestException(e.getMessage(), e);
      }
      RememberRequest.Dedup dedup = request.dedup() != null ? request.dedup()
          : item.ts() == null ? RememberRequest.Dedup.EXACT : RememberRequest.Dedup.NONE;
      foldEqual.set(i, dedup != RememberRequest.Dedup.NONE);
      near |= dedup == RememberRequest.Dedup.NEAR;
    }
    if (!near) {
      return append(caller, ns, memories, foldEqual).withEmbedMillis(embedMillis);
    }
    ReentrantLock lock = nearLocks[Math.floorMod(ns.hashCode(), nearLocks.length)];
    lock.lock();
    try {
      return rememberNear(caller, ns, memories, foldEqual).withEmbedMillis(embedMillis);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Folds each memory into a near duplicate, an earlier memory of the batch or a live memory of
   * the namespace found by a vector search, and appends the rest. Under the namespace's lock and
   * after the index holds every acknowledged write, so a near duplicate written just before is found.
   */
  private Remembered rememberNear(Caller caller, String ns, List<Memory> memories, BitSet foldEqual)
      throws IOException {
    indexer.awaitAcknowledged();
    int n = memories.size();
    Cid[] folded = new Cid[n];
    int[] sameAs = new int[n];
    Arrays.fill(sameAs, -1);
    List<Memory> rest = new ArrayList<>();
    BitSet restFold = new BitSet();
    int[] restIndex = new int[n];
    for (int i = 0; i < n; i++) {
      Memory memory = memories.get(i);
      for (int j = 0; j < i && sameAs[i] < 0 && folded[i] == null; j++) {
        if (sameAs[j] < 0 && folded[j] == null && sameSetting(memory, memories.get(j))
            && cosine(memory.embedding().vector(), memories.get(j).embedding().vector()) >= nearCosine) {
          sameAs[i] = j;
        }
      }
      if (sameAs[i] < 0) {
        folded[i] = nearDuplicate(ns, memory);
      }
      if (sameAs[i] < 0 && folded[i] == null) {
        restIndex[i] = rest.size();
        restFold.set(rest.size(), foldEqual.get(i));
        rest.add(memory);
      }
    }
    Remembered appended = rest.isEmpty() ? new Remembered(List.of(), null, List.of()) : append(caller, ns, rest, restFold);
    List<Cid> cids = new ArrayList<>(n);
    List<Boolean> deduplicated = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      if (folded[i] != null) {
        cids.add(folded[i]);
        deduplicated.add(true);
      } else if (sameAs[i] >= 0) {
        cids.add(cids.get(sameAs[i]));
        deduplicated.add(true);
      } else {
        cids.add(appended.cids().get(restIndex[i]));
        deduplicated.add(appended.deduplicated().get(restIndex[i]));
      }
    }
    return new Remembered(cids, appended.entry(), deduplicated);
  }

  /** A live memory of the namespace with the same metadata, tags and prev, and a vector at least as close as the threshold. */
  private Cid nearDuplicate(String ns, Memory memory) throws IOException {
    float[] vector = memory.embedding().vector();
    Map<String, Object> metadata = new HashMap<>(memory.metadata());
    RecallFilter filter = new RecallFilter(metadata, Map.of(), memory.tags(), null, null);
    RecallQuery query = new RecallQuery(ns, null, vector, NEAR_CANDIDATES, RecallMode.VECTOR, filter, 0,
        RecallQuery.DEFAULT_HALF_LIFE, System.currentTimeMillis(), true);
    for (RecallHit hit : index.recall(query).hits()) {
      if (hit.vector() == null || hit.vector() < nearCosine) {
        break;
      }
      Optional<Memory> candidate = log.memory(hit.cid());
      if (candidate.isPresent() && sameSetting(memory, candidate.get())) {
        return hit.cid();
      }
    }
    return null;
  }

  /**
   * What near duplicates must share besides a close vector: metadata, tags, prev, and the numbers
   * in their text, since a changed date or amount barely moves the vector ("on 7 May 2023" and "on
   * 8 May 2023" scored 0.973).
   */
  private static boolean sameSetting(Memory a, Memory b) {
    return a.metadata().equals(b.metadata()) && a.tags().equals(b.tags()) && Objects.equals(a.prev(), b.prev())
        && numbers(a.text()).equals(numbers(b.text()));
  }

  private static final Pattern DIGITS = Pattern.compile("\\d+");

  private static List<String> numbers(String text) {
    return DIGITS.matcher(text).results().map(MatchResult::group).toList();
  }

  private static double cosine(float[] a, float[] b) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < Math.min(a.length, b.length); i++) {
      dot += (double) a[i] * b[i];
      na += (double) a[i] * a[i];
      nb += (double) b[i] * b[i];
    }
    return a.length != b.length || na == 0 || nb == 0 ? 0 : dot / Math.sqrt(na * nb);
  }

  /** Appends, folding those {@code foldEqual} names into live memories of equal content (in the log's writer thread). */
  private Remembered append(Caller caller, String ns, List<Memory> memories, BitSet foldEqual) throws IOException {
    // The log checks the author's ability again, in the writer thread, as every replica does.
    boolean creates = !log.acl(ns).exists();
    Appended appended = log.append(caller.author(), ns, memories, foldEqual);
    List<Cid> stored = new ArrayList<>();
    List<Memory> storedMemories = new ArrayList<>();
    for (int i = 0; i < memories.size(); i++) {
      if (!appended.deduplicated().get(i)) {
        stored.add(appended.memories().get(i));
        storedMemories.add(memories.get(i));
      }
    }
    // Only the memories this write stored are handed to the indexer: a folded one is another memory's CID.
    indexer.awaitApplied(appended.position(), stored, storedMemories);
    if (creates) {
      replicateHere(caller, ns);
    }
    if (appended.entry() != null) {
      afterWrite.accept(ns);
    }
    return new Remembered(appended.memories(), appended.entry(), appended.deduplicated());
  }

  /** Client vectors where given; the rest embedded in one batch, each with its {@link EmbedContext}. */
  private List<float[]> vectorsFor(List<NewMemory> items) {
    List<String> toEmbed = new ArrayList<>();
    for (NewMemory item : items) {
      if (item.vector() == null) {
        EmbedContext context = item.embedContext() != null ? item.embedContext() : defaultContext;
        toEmbed.add(context.compose(item.text(), item.metadata()));
      }
    }
    List<float[]> embedded = toEmbed.isEmpty() ? List.of() : embedder.embedPassages(toEmbed);
    List<float[]> vectors = new ArrayList<>(items.size());
    int next = 0;
    for (NewMemory item : items) {
      vectors.add(item.vector() != null ? item.vector() : embedded.get(next++));
    }
    return vectors;
  }

  /**
   * The request with its query text embedded, when it {@link RecallRequest#needsEmbedding needs} it.
   * {@link #recall} does this itself; this is for a caller that embeds and searches on different
   * threads (the HTTP API batches embeddings on one pool and searches on another).
   */
  public RecallRequest embedQuery(Caller caller, RecallRequest request) throws IOException {
    authorize(caller, request.ns(), Ability.READ);
    return request.needsEmbedding() ? request.withVector(embedder.embedQuery(request.text())) : request;
  }

  public RecallResult recall(Caller caller, RecallRequest request) throws IOException {
    RecallRequest embedded = embedQuery(caller, request);
    MemoryIndex.RecallResult found;
    try {
      RecallQuery query = new RecallQuery(embedded.ns(), embedded.text(), embedded.vector(), embedded.k(), embedded.mode(),
          embedded.filter(), embedded.recencyWeight(), embedded.recencyHalfLifeMillis(), System.currentTimeMillis(),
          embedded.fusion().over(defaultFusion), embedded.includeSuperseded());
      // If no recall came lately, writers may have returned before indexing; this one catches up first.
      indexer.beforeSearch();
      found = index.recall(query);
    } catch (IllegalArgumentException e) {
      // The query's own checks, and the index's refusal of a keyword query of too many words.
      throw new InvalidRequestException(e.getMessage(), e);
    }
    List<Recalled> out = new ArrayList<>(found.hits().size());
    for (RecallHit hit : found.hits()) {
      // A memory forgotten between the search and here is simply left out.
      Optional<Memory> memory = log.memory(hit.cid());
      if (memory.isPresent()) {
        // Marked as the store holds it now, which may be ahead of the index the search saw.
        List<Cid> supersededBy = request.includeSuperseded() ? log.successors(embedded.ns(), hit.cid()) : null;
        out.add(new Recalled(hit, memory.get(), invalidatedAt(memory.get().ns(), hit.cid()), supersededBy));
      }
    }
    return new RecallResult(out, found.tookMillis());
  }

  /** The memory if it is live and the caller may read its namespace. */
  public Optional<Memory> get(Caller caller, Cid cid) throws IOException {
    Optional<Memory> memory = log.memory(cid);
    if (memory.isEmpty() || log.state(memory.get().ns(), cid) != MemoryState.LIVE || !allowed(caller, memory.get().ns(), Ability.READ)) {
      return Optional.empty();
    }
    return memory;
  }

  /** As {@link #get}, with the earliest time an invalidate ends the memory's validity at. */
  public Optional<MemoryVersion> version(Caller caller, Cid cid) throws IOException {
    Optional<Memory> memory = get(caller, cid);
    return memory.isEmpty() ? Optional.empty() : Optional.of(versionOf(cid, memory.get()));
  }

  private MemoryVersion versionOf(Cid cid, Memory memory) throws IOException {
    return new MemoryVersion(cid, memory, invalidatedAt(memory.ns(), cid));
  }

  private Long invalidatedAt(String ns, Cid cid) throws IOException {
    java.util.OptionalLong at = log.invalidatedAt(ns, cid);
    return at.isPresent() ? at.getAsLong() : null;
  }

  /**
   * The chain of versions through {@code prev}, newest first, at most {@code max} long, each with
   * its invalidation, so a history shows which versions were ended and when.
   */
  public List<MemoryVersion> history(Caller caller, Cid cid, int max) throws IOException {
    Memory first = get(caller, cid).orElseThrow(() -> new NotFoundException("no memory " + cid));
    List<MemoryVersion> chain = new ArrayList<>();
    chain.add(versionOf(cid, first));
    Set<Cid> seen = new HashSet<>(Set.of(cid));
    Cid prev = first.prev();
    while (prev != null && chain.size() < max && seen.add(prev)) {
      Optional<Memory> older = get(caller, prev);
      chain.add(older.isPresent() ? versionOf(prev, older.get()) : new MemoryVersion(prev, null));
      prev = older.map(Memory::prev).orElse(null);
    }
    return chain;
  }

  public ListedPage list(Caller caller, ListRequest request) throws IOException {
    authorize(caller, request.ns(), Ability.READ);
    MemoryPage page;
    try {
      page = log.list(request.ns(), request.cursor(), request.limit());
    } catch (InvalidFormatException e) {
      throw new InvalidCursorException(e.getMessage(), e);
    }
    List<MemoryVersion> memories = new ArrayList<>(page.memories().size());
    for (Cid cid : page.memories()) {
      Optional<Memory> memory = log.memory(cid);
      if (memory.isPresent()) {
        memories.add(versionOf(cid, memory.get()));
      }
    }
    return new ListedPage(memories, page.next());
  }

  public Forgotten forget(Caller caller, String ns, Cid cid) throws IOException {
    authorize(caller, ns, Ability.FORGET);
    try {
      Appended appended = log.forget(caller.author(), ns, List.of(cid));
      indexer.awaitApplied(appended.position());
      afterWrite.accept(ns);
      return new Forgotten(cid, appended.entry());
    } catch (MemoryNotFoundException e) {
      throw new NotFoundException(e.getMessage());
    }
  }

  /**
   * Ends a live memory's validity at {@code at} (now when null) without forgetting it: one signed
   * {@code invalidate} entry that every replica applies. Needs {@code remember} (an invalidate
   * erases nothing; it says something new about the world, as a remember with {@code prev}
   * does). A memory that is not live here, never added or forgotten, is not found.
   */
  public Invalidated invalidate(Caller caller, String ns, Cid cid, Long at) throws IOException {
    authorize(caller, ns, Ability.REMEMBER);
    long when = at == null ? System.currentTimeMillis() : at;
    try {
      Appended appended = log.invalidate(caller.author(), ns, List.of(cid), when);
      indexer.awaitApplied(appended.position());
      afterWrite.accept(ns);
      return new Invalidated(cid, appended.entry(), log.invalidatedAt(ns, cid).orElse(when));
    } catch (MemoryNotFoundException e) {
      throw new NotFoundException(e.getMessage());
    }
  }

  /**
   * A raw block by CID: a memory or a log entry of a namespace the caller may read. Empty (not
   * found) otherwise, so that a caller cannot tell another namespace's blocks from missing ones.
   */
  public Optional<byte[]> block(Caller caller, Cid cid) throws IOException {
    Optional<byte[]> data = store.blocks().get(cid);
    if (data.isEmpty()) {
      return data;
    }
    Optional<String> ns = Namespace.ofBlock(data.get());
    return ns.isPresent() && allowed(caller, ns.get(), Ability.READ) ? data : Optional.empty();
  }

  /** The namespace as a CAR v1 (see {@link NamespaceCar#export}). */
  public byte[] export(Caller caller, String ns) throws IOException {
    authorize(caller, ns, Ability.READ);
    if (log.heads(ns).isEmpty()) {
      // A CAR v1 needs at least one root (go-car refuses an empty one): nothing to export.
      throw new NotFoundException("namespace " + ns + " has no entries on this node");
    }
    ByteArrayOutputStream car = new ByteArrayOutputStream();
    NamespaceCar.export(log, ns, car);
    return car.toByteArray();
  }

  /**
   * Refuses an import the caller may not make before its body is read: a body of hundreds of MiB
   * is not worth receiving to refuse.
   */
  public void checkImport(Caller caller, String ns) throws UnauthorizedException {
    authorize(caller, ns, Ability.REMEMBER);
  }

  /**
   * Imports the CAR file {@code car} (an import's body spilled to disk, see {@link #importSpillDir}),
   * read block by block: the heap holds its entries, not its memories.
   */
  public NamespaceCar.Imported importCar(Caller caller, String ns, java.nio.file.Path car) throws IOException {
    // The entries keep their own authors, which the log checks; the caller only brings them in.
    authorize(caller, ns, Ability.REMEMBER);
    return afterImport(ns, NamespaceCar.importCar(log, car, ns));
  }

  /** Where import bodies are spilled while they arrive: in the data directory, not in the heap. */
  public java.nio.file.Path importSpillDir() {
    return importSpillDir(store.dataDir());
  }

  public static java.nio.file.Path importSpillDir(java.nio.file.Path dataDir) {
    return dataDir.resolve("import-spill");
  }

  /**
   * Creates the spill directory, empty: a spill file left by a node that died mid-import is of no
   * use to anyone. Called once at start-up, before the API listens.
   */
  public static void cleanImportSpills(java.nio.file.Path dataDir) throws IOException {
    java.nio.file.Path dir = importSpillDir(dataDir);
    if (java.nio.file.Files.isDirectory(dir)) {
      try (var files = java.nio.file.Files.list(dir)) {
        for (java.nio.file.Path file : (Iterable<java.nio.file.Path>) files::iterator) {
          java.nio.file.Files.deleteIfExists(file);
        }
      }
    }
    dev.mnemo.store.identity.PrivateFiles.createDirectories(dir);
  }

  private NamespaceCar.Imported afterImport(String ns, NamespaceCar.Imported imported) throws IOException {
    indexer.awaitApplied(log.lastPosition());
    if (imported.entriesApplied() > 0) {
      afterWrite.accept(ns);
    }
    return imported;
  }

  /**
   * Creates the namespace, owned by the caller: its root entry. Throws the store's
   * {@link dev.mnemo.store.acl.NamespaceExistsException} if it exists here already.
   *
   * @return the root entry
   */
  public Cid create(Caller caller, String ns) throws IOException {
    Appended appended = log.create(caller.author(), ns);
    replicateHere(caller, ns);
    return acknowledged(ns, appended);
  }

  /**
   * A namespace created through this node grants it {@code replicate}, signed by the creator: the
   * node holds the namespace already, and without the grant the replicas its owner grants later
   * would never send it what the owner writes through them.
   */
  private void replicateHere(Caller caller, String ns) throws IOException {
    DidKey node = store.nodeKey().did();
    if (!log.acl(ns).can(node, Ability.REPLICATE)) {
      log.grant(caller.author(), ns, node, Set.of(Ability.REPLICATE));
    }
  }

  /**
   * Grants {@code to} the abilities {@code can} in an existing namespace; the caller needs
   * {@code admin} (owners hold it).
   *
   * @return the grant entry
   */
  public Cid grant(Caller caller, String ns, DidKey to, Set<Ability> can) throws IOException {
    requireChange(caller, ns, can);
    return acknowledged(ns, log.grant(caller.author(), ns, to, can));
  }

  /**
   * Revokes abilities of {@code to} in an existing namespace; the caller needs {@code admin}. An
   * owner cannot be revoked ({@link InvalidRequestException}): the log would take the entry and
   * change nothing, which a caller would read as done. Returns once the index has dropped the
   * memories the revoke made void.
   *
   * @return the revoke entry
   */
  public Cid revoke(Caller caller, String ns, DidKey to, Set<Ability> can) throws IOException {
    requireChange(caller, ns, can);
    if (log.acl(ns).isOwner(to)) {
      throw new InvalidRequestException(to + " owns namespace " + ns + "; an owner holds every ability for good", null);
    }
    return acknowledged(ns, log.revoke(caller.author(), ns, to, can));
  }

  /** Who may do what in the namespace, as this node holds it; the caller needs {@code read}. */
  public NamespaceAcl acl(Caller caller, String ns) throws IOException {
    NamespaceAcl acl = existing(ns);
    authorize(caller, ns, Ability.READ);
    return acl;
  }

  /**
   * Checks before a grant or revoke: the namespace exists (the log would create it, owned by the
   * caller, which is never what a grant to someone else means), the caller administers it, and
   * something is granted. The log checks the caller's {@code admin} again as it writes.
   */
  private void requireChange(Caller caller, String ns, Set<Ability> can) throws IOException {
    existing(ns);
    authorize(caller, ns, Ability.ADMIN);
    if (can == null || can.isEmpty()) {
      throw new InvalidRequestException("name at least one ability", null);
    }
  }

  private NamespaceAcl existing(String ns) throws NotFoundException {
    NamespaceAcl acl = log.acl(ns);
    if (!acl.exists()) {
      throw new NotFoundException("namespace " + ns + " does not exist on this node");
    }
    return acl;
  }

  /** A durable change of a namespace's ACL: indexed (a revoke may void memories), then announced. */
  private Cid acknowledged(String ns, Appended appended) throws IOException {
    indexer.awaitApplied(appended.position());
    afterWrite.accept(ns);
    return appended.entry();
  }

  /** Refuses the call unless the caller holds {@code ability} in {@code ns}. */
  private void authorize(Caller caller, String ns, Ability ability) throws UnauthorizedException {
    if (!allowed(caller, ns, ability)) {
      throw new UnauthorizedException(caller.agent(), ns, ability);
    }
  }

  /**
   * The one place the service decides who may do what: the namespace's owners and grants as this
   * node holds them ({@link NamespaceLog#acl}). Any agent may write to a namespace that does not
   * exist here yet, which makes it the owner; reading or forgetting in one finds nothing. So a
   * name's existence is not secret (a stranger gets 403 where it exists); its memories are. The
   * log checks each write's author again, as every replica does.
   */
  private boolean allowed(Caller caller, String ns, Ability ability) {
    NamespaceAcl acl = log.acl(ns);
    if (!acl.exists()) {
      return ability != Ability.ADMIN && ability != Ability.REPLICATE;
    }
    return acl.can(caller.agent(), ability);
  }
}
