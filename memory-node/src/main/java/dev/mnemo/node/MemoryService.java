package dev.mnemo.node;

import dev.mnemo.index.LogIndexer;
import dev.mnemo.index.MemoryIndex;
import dev.mnemo.index.RecallHit;
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
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

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
  }

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

  /** Remembers a batch, all or nothing, in one log entry; the CIDs come in request order. */
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
    for (int i = 0; i < request.memories().size(); i++) {
      NewMemory item = request.memories().get(i);
      Embedding embedding = new Embedding(item.vector() != null ? "client" : embedder.model(), vectors.get(i));
      try {
        memories.add(new Memory(ns, item.text(), item.metadata(), item.tags(), item.ts() == null ? now : item.ts(),
            embedding, item.prev(), item.validFrom(), item.validTo()));
      } catch (IllegalArgumentException e) {
        throw new InvalidRequestException(e.getMessage(), e);
      }
    }
    // The log checks the author's ability again, in the writer thread, as every replica does.
    boolean creates = !log.acl(ns).exists();
    Appended appended = log.append(caller.author(), ns, memories);
    indexer.awaitApplied(appended.position(), appended.memories(), memories);
    if (creates) {
      replicateHere(caller, ns);
    }
    afterWrite.accept(ns);
    return new Remembered(appended.memories(), appended.entry(), embedMillis);
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
          embedded.fusion().over(defaultFusion));
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
        out.add(new Recalled(hit, memory.get(), invalidatedAt(memory.get().ns(), hit.cid())));
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

  public NamespaceCar.Imported importCar(Caller caller, String ns, InputStream in) throws IOException {
    // The entries keep their own authors, which the log checks; the caller only brings them in.
    authorize(caller, ns, Ability.REMEMBER);
    NamespaceCar.Imported imported = NamespaceCar.importCar(log, in, ns);
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
