package dev.mnemo.index;

import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.model.Memory;

/**
 * A memory as the index takes it: its CID, the log position that added it, the memory, and whether
 * a live memory of its namespace names it as prev (superseded: left out of recall by default).
 */
public record IndexedMemory(Cid cid, long position, Memory memory, boolean superseded) {
  /** A memory nothing supersedes. */
  public IndexedMemory(Cid cid, long position, Memory memory) {
    this(cid, position, memory, false);
  }
}
