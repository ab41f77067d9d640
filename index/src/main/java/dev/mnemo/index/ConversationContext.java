package dev.mnemo.index;

import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.log.MemoryState;
import dev.mnemo.store.log.NamespaceLog;
import dev.mnemo.store.model.LogEntry;
import dev.mnemo.store.model.Memory;
import dev.mnemo.store.model.Op;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A memory's conversation context: the memory written just before it in its namespace, as the
 * signed log records it, so that every replica and every rebuild finds the same one. Within one
 * add entry that is the previous memory of the entry; for an entry's first memory, the last
 * memory of its first parent entry that adds any (walking up through grants and forgets, a few
 * steps at most). The predecessor counts only while it is live: forgetting it takes it out of its
 * successor's context too, since the index is the only place a context is kept.
 *
 * <p>Why: questions about a conversation are often answered by a turn that only makes sense after
 * the one before it ("Yes, it was amazing!" after "Did you like the concert?"). On LoCoMo's
 * development half, BM25 over a turn with its predecessor's text found the evidence in the top 5
 * for 0.728 of the questions, against 0.632 without (benchmarks/RECALL-QUALITY.md).
 */
final class ConversationContext {
  /** How many parent entries without memories (grants, forgets) are walked through. */
  private static final int MAX_WALK = 8;

  private final NamespaceLog log;
  private final Map<Cid, Memory> handedOver;

  ConversationContext(NamespaceLog log, Map<Cid, Memory> handedOver) {
    this.log = log;
    this.handedOver = handedOver;
  }

  /** The CID of the memory before {@code entry.refs().get(index)}, or null. */
  Cid predecessor(LogEntry entry, int index) throws IOException {
    if (index > 0) {
      return entry.refs().get(index - 1);
    }
    LogEntry at = entry;
    for (int step = 0; step < MAX_WALK && !at.parents().isEmpty(); step++) {
      Optional<LogEntry> parent = log.entry(at.parents().get(0));
      if (parent.isEmpty()) {
        return null;
      }
      at = parent.get();
      if (at.op() == Op.ADD && !at.refs().isEmpty()) {
        return at.refs().get(at.refs().size() - 1);
      }
    }
    return null;
  }

  /** The predecessor's memory if it is live and its block is here; else empty. */
  Optional<Memory> liveMemory(String ns, Cid predecessor) throws IOException {
    if (predecessor == null || log.state(ns, predecessor) != MemoryState.LIVE) {
      return Optional.empty();
    }
    Memory handed = handedOver.get(predecessor);
    return handed != null ? Optional.of(handed) : log.memory(predecessor);
  }

  /**
   * Gives each memory its context: the predecessor's text, and the vector of both texts when an
   * embedder is given and the memory's own vector is that embedder's (a query vector is compared
   * with both). Memories without a live predecessor are returned as they are.
   */
  static List<IndexedMemory> withVectors(List<IndexedMemory> memories, ContextEmbedder embedder) {
    if (embedder == null) {
      return memories;
    }
    List<Integer> embed = new ArrayList<>();
    List<String> texts = new ArrayList<>();
    for (int i = 0; i < memories.size(); i++) {
      IndexedMemory m = memories.get(i);
      if (m.context() != null && m.memory().embedding() != null
          && embedder.model().equals(m.memory().embedding().model())) {
        embed.add(i);
        texts.add(text(m.context().text(), m.memory().text()));
      }
    }
    if (texts.isEmpty()) {
      return memories;
    }
    List<float[]> vectors;
    try {
      vectors = embedder.embed(texts);
    } catch (RuntimeException e) {
      // A model that failed to load must not wedge indexing (the page would be retried for
      // ever): these memories keep their keyword context and their own vectors.
      System.getLogger(ConversationContext.class.getName()).log(System.Logger.Level.WARNING,
          "cannot embed the context of " + texts.size() + " memories (" + e + "); indexed without context vectors");
      return memories;
    }
    List<IndexedMemory> out = new ArrayList<>(memories);
    for (int j = 0; j < embed.size(); j++) {
      IndexedMemory m = out.get(embed.get(j));
      out.set(embed.get(j), m.withContext(new IndexedMemory.Context(m.context().cid(), m.context().text(), vectors.get(j))));
    }
    return out;
  }

  /** What the context vector embeds: the predecessor's text, a line break, the memory's text. */
  static String text(String predecessor, String memory) {
    return predecessor + "\n" + memory;
  }
}
