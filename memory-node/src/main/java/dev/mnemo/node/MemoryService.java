package dev.mnemo.node;

import dev.mnemo.index.LogIndexer;
import dev.mnemo.index.MemoryIndex;
import dev.mnemo.index.RecallHit;
import dev.mnemo.index.RecallQuery;
import dev.mnemo.node.api.ApiException;
import dev.mnemo.node.embed.Embedder;
import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.car.NamespaceCar;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.log.Appended;
import dev.mnemo.store.log.MemoryNotFoundException;
import dev.mnemo.store.log.MemoryPage;
import dev.mnemo.store.log.MemoryState;
import dev.mnemo.store.log.NamespaceLog;
import dev.mnemo.store.model.Embedding;
import dev.mnemo.store.model.Memory;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * What the node does for agents, as blocking calls: the HTTP layer runs these on worker threads.
 * Each write returns only after it is durable in the log; every recall sees every write
 * acknowledged before it (while the node is not being searched, a write may return before it is
 * indexed, and the next recall waits for the index: {@link LogIndexer}).
 */
public final class MemoryService {
  /** A recall result joined with its memory. */
  public record Recalled(RecallHit hit, Memory memory) {}

  /** One version in a memory's history: the memory, or null where that version was forgotten. */
  public record Version(Cid cid, Memory memory) {}

  private final MnemoStore store;
  private final NamespaceLog log;
  private final MemoryIndex index;
  private final LogIndexer indexer;
  private final Embedder embedder;
  private final int dimension;
  private volatile java.util.function.Consumer<String> afterWrite = ns -> {};

  public MemoryService(MnemoStore store, MemoryIndex index, LogIndexer indexer, Embedder embedder, int dimension) {
    this.store = store;
    this.log = store.log();
    this.index = index;
    this.indexer = indexer;
    this.embedder = embedder;
    this.dimension = dimension;
  }

  /** Called with the namespace after every acknowledged local write (sync announces heads). */
  public void afterWrite(java.util.function.Consumer<String> listener) {
    this.afterWrite = listener;
  }

  public Embedder embedder() {
    return embedder;
  }

  public int dimension() {
    return dimension;
  }

  /** Remembers a batch, all or nothing; returns the CIDs in request order. */
  public List<Cid> remember(String ns, List<NewMemory> items) throws IOException {
    for (NewMemory item : items) {
      if (item.prev() != null && log.state(ns, item.prev()) == MemoryState.UNKNOWN) {
        throw ApiException.unprocessable("unknown_prev", "prev " + item.prev() + " is not a memory of namespace " + ns);
      }
    }
    List<float[]> vectors = vectorsFor(items);
    long now = System.currentTimeMillis();
    List<Memory> memories = new ArrayList<>(items.size());
    for (int i = 0; i < items.size(); i++) {
      NewMemory item = items.get(i);
      Embedding embedding = new Embedding(item.vector() != null ? "client" : embedder.model(), vectors.get(i));
      memories.add(new Memory(ns, item.text(), item.metadata(), item.tags(), item.ts() == null ? now : item.ts(),
          embedding, item.prev()));
    }
    Appended appended = log.append(ns, memories);
    indexer.awaitApplied(appended.position(), appended.memories(), memories);
    afterWrite.accept(ns);
    return appended.memories();
  }

  /** Client vectors where given; the rest embedded in one batch. */
  private List<float[]> vectorsFor(List<NewMemory> items) {
    List<String> toEmbed = new ArrayList<>();
    for (NewMemory item : items) {
      if (item.vector() == null) {
        toEmbed.add(item.text());
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

  /** Embeds the query text when the mode needs a vector and the client sent none. */
  public float[] queryVector(String text) {
    return embedder.embedQuery(text);
  }

  public List<Recalled> recall(RecallQuery query, double[] tookMillis) throws IOException {
    // If no recall came lately, writers may have returned before indexing; this one catches up first.
    indexer.beforeSearch();
    MemoryIndex.RecallResult result = index.recall(query);
    tookMillis[0] = result.tookMillis();
    List<Recalled> out = new ArrayList<>(result.hits().size());
    for (RecallHit hit : result.hits()) {
      // A memory forgotten between the search and here is simply left out.
      log.memory(hit.cid()).ifPresent(memory -> out.add(new Recalled(hit, memory)));
    }
    return out;
  }

  public Optional<Memory> get(Cid cid) throws IOException {
    Optional<Memory> memory = log.memory(cid);
    if (memory.isPresent() && log.state(memory.get().ns(), cid) != MemoryState.LIVE) {
      return Optional.empty();
    }
    return memory;
  }

  /** The chain of versions through {@code prev}, newest first. */
  public List<Version> history(Cid cid, int max) throws IOException {
    Memory first = get(cid).orElseThrow(() -> ApiException.notFound("no memory " + cid));
    List<Version> chain = new ArrayList<>();
    chain.add(new Version(cid, first));
    Set<Cid> seen = new HashSet<>(Set.of(cid));
    Cid prev = first.prev();
    while (prev != null && chain.size() < max && seen.add(prev)) {
      Optional<Memory> older = get(prev);
      chain.add(new Version(prev, older.orElse(null)));
      prev = older.map(Memory::prev).orElse(null);
    }
    return chain;
  }

  public record ListedPage(List<Version> memories, String next) {}

  public ListedPage list(String ns, String cursor, int limit) throws IOException {
    MemoryPage page;
    try {
      page = log.list(ns, cursor, limit);
    } catch (dev.mnemo.store.InvalidFormatException e) {
      throw ApiException.badRequest("invalid_cursor", e.getMessage());
    }
    List<Version> memories = new ArrayList<>(page.memories().size());
    for (Cid cid : page.memories()) {
      log.memory(cid).ifPresent(m -> memories.add(new Version(cid, m)));
    }
    return new ListedPage(memories, page.next());
  }

  public Appended forget(String ns, Cid cid) throws IOException {
    try {
      Appended appended = log.forget(ns, List.of(cid));
      indexer.awaitApplied(appended.position());
      afterWrite.accept(ns);
      return appended;
    } catch (MemoryNotFoundException e) {
      throw ApiException.notFound(e.getMessage());
    }
  }

  public Optional<byte[]> block(Cid cid) throws IOException {
    return store.blocks().get(cid);
  }

  /** The requested blocks this node has, as CAR v1 with no roots (the sync batch endpoint). */
  public void blocksAsCar(List<Cid> cids, OutputStream out) throws IOException {
    dev.mnemo.store.car.CarWriter car = new dev.mnemo.store.car.CarWriter(out, List.of());
    for (Cid cid : cids) {
      Optional<byte[]> data = store.blocks().get(cid);
      if (data.isPresent()) {
        car.write(new dev.mnemo.store.block.Block(cid, data.get()));
      }
    }
  }

  public byte[] headsDigest() {
    return dev.mnemo.sync.HeadsDigest.of(log).encode();
  }

  /** Whether this node holds any entry of {@code ns}. */
  public boolean hasNamespace(String ns) {
    return !log.heads(ns).isEmpty();
  }

  /** The namespace as a CAR v1 (see {@link NamespaceCar#export}). */
  public byte[] export(String ns) throws IOException {
    ByteArrayOutputStream car = new ByteArrayOutputStream();
    try {
      NamespaceCar.export(log, ns, car);
    } catch (NamespaceCar.ChangedDuringExportException e) {
      throw new ApiException(503, "unavailable", e.getMessage() + "; retry when forgets pause");
    }
    return car.toByteArray();
  }

  public NamespaceCar.Imported importCar(String ns, InputStream in) throws IOException {
    NamespaceCar.Imported imported = NamespaceCar.importCar(log, in, ns);
    indexer.awaitApplied(log.lastPosition());
    if (imported.entriesApplied() > 0) {
      afterWrite.accept(ns);
    }
    return imported;
  }
}
