package dev.mnemo.index;

import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.model.Memory;

/**
 * A memory as the index takes it: its CID, the log position that added it, the memory, and the
 * earliest time an invalidate ends its validity at (null if none has).
 */
public record IndexedMemory(Cid cid, long position, Memory memory, Long invalidatedAt) {
  /** A memory no invalidate names. */
  public IndexedMemory(Cid cid, long position, Memory memory) {
    this(cid, position, memory, null);
  }
}
