package dev.mnemo.node;

import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.model.Memory;

/**
 * A memory by its CID, and the earliest time an invalidate ends its validity at (null if none
 * has); in a history, {@code memory} is null where that version was forgotten.
 */
public record MemoryVersion(Cid cid, Memory memory, Long invalidatedAt) {
  public MemoryVersion(Cid cid, Memory memory) {
    this(cid, memory, null);
  }
}
