package dev.mnemo.node;

import dev.mnemo.store.cid.Cid;
import java.util.Collections;
import java.util.List;

/**
 * A durable remember: the memories' CIDs in request order, and the log entry that added them (null
 * when every memory folded into a live one). {@code deduplicated} says which CIDs are of live
 * memories that a request's memory duplicated, rather than of memories this call stored;
 * {@code embedMillis} how long the node took to embed their texts (0 if every memory brought its
 * vector).
 */
public record Remembered(List<Cid> cids, Cid entry, List<Boolean> deduplicated, double embedMillis) {
  public Remembered {
    cids = List.copyOf(cids);
    deduplicated = List.copyOf(deduplicated);
  }

  public Remembered(List<Cid> cids, Cid entry) {
    this(cids, entry, Collections.nCopies(cids.size(), false), 0);
  }

  public Remembered(List<Cid> cids, Cid entry, List<Boolean> deduplicated) {
    this(cids, entry, deduplicated, 0);
  }

  Remembered withEmbedMillis(double millis) {
    return new Remembered(cids, entry, deduplicated, millis);
  }

  /** Whether any memory of the request was stored. */
  public boolean storedAny() {
    return deduplicated.contains(false);
  }
}
