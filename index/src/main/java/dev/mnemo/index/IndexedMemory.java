package dev.mnemo.index;

import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.model.Memory;

/**
 * A memory as the index takes it: its CID, the log position that added it, the memory, the
 * earliest time an invalidate ends its validity at (null if none has), and its conversation
 * context (null when it has none).
 */
public record IndexedMemory(Cid cid, long position, Memory memory, Long invalidatedAt, Context context) {

  /** A memory no invalidate names, without context. */
  public IndexedMemory(Cid cid, long position, Memory memory) {
    this(cid, position, memory, null, null);
  }

  public IndexedMemory(Cid cid, long position, Memory memory, Long invalidatedAt) {
    this(cid, position, memory, invalidatedAt, null);
  }

  /**
   * The memory written just before this one in its namespace (see {@link ConversationContext}):
   * its CID, its text, and the vector of both texts together (null without a context embedder).
   */
  public record Context(Cid cid, String text, float[] vector) {}

  IndexedMemory withContext(Context context) {
    return new IndexedMemory(cid, position, memory, invalidatedAt, context);
  }
}
