package dev.mnemo.index;

import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.model.Memory;

/**
 * A memory as the index takes it: its CID, the log position that added it, the memory, the
 * earliest time an invalidate ends its validity at (null if none has), whether a live memory of
 * its namespace names it as prev (superseded: left out of recall by default), and its
 * conversation context (null when it has none).
 */
public record IndexedMemory(Cid cid, long position, Memory memory, Long invalidatedAt, boolean superseded,
    Context context) {

  /** A memory no invalidate names, nothing supersedes, without context. */
  public IndexedMemory(Cid cid, long position, Memory memory) {
    this(cid, position, memory, null, false, null);
  }

  public IndexedMemory(Cid cid, long position, Memory memory, Long invalidatedAt) {
    this(cid, position, memory, invalidatedAt, false, null);
  }

  public IndexedMemory(Cid cid, long position, Memory memory, boolean superseded) {
    this(cid, position, memory, null, superseded, null);
  }

  /**
   * The memory written just before this one in its namespace (see {@link ConversationContext}):
   * its CID, its text, and the vector of both texts together (null without a context embedder).
   */
  public record Context(Cid cid, String text, float[] vector) {}

  IndexedMemory withContext(Context context) {
    return new IndexedMemory(cid, position, memory, invalidatedAt, superseded, context);
  }
}
