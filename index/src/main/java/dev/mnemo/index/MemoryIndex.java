package dev.mnemo.index;

import dev.mnemo.store.cid.Cid;
import java.io.Closeable;
import java.io.IOException;
import java.util.List;

/**
 * The recall index: the SPI at the edge of the index module. It is derived state: it records the
 * last log position it applied, persists it with each commit, and is caught up from the
 * namespace log by {@link LogIndexer}. Changes become visible to {@link #recall} after
 * {@link #refresh}; they survive a crash after {@link #commit}.
 */
public interface MemoryIndex extends Closeable {

  /** Adds memories, replacing any already indexed under the same CID (so re-applying is harmless). */
  void add(List<IndexedMemory> memories) throws IOException;

  /**
   * Adds memories the caller knows are not indexed, without first deleting any copy under the
   * same CID, which {@link #add} must do for each one; adding a memory that is indexed leaves two
   * copies. The default is {@link #add}.
   */
  default void addNew(List<IndexedMemory> memories) throws IOException {
    add(memories);
  }

  /**
   * Removes the namespace's memories with these CIDs. A memory of another namespace stays, even
   * under the same CID: a forget in one namespace says nothing about another's.
   */
  void remove(String ns, List<Cid> memories) throws IOException;

  /**
   * The namespace's indexed memories whose conversation context is one of {@code predecessors}
   * (see {@link IndexedMemory.Context}), counting what was added but is not yet visible; none for
   * an index that keeps no context.
   */
  default List<Cid> contextDependents(String ns, List<Cid> predecessors) throws IOException {
    return List.of();
  }

  /**
   * Records that an indexed memory's validity ends at {@code invalidatedAt} (the earliest time
   * of the invalidates that name it, as the log holds it), in place: the memory is not indexed
   * again. A memory not indexed is left alone.
   */
  void invalidated(Cid memory, long invalidatedAt) throws IOException;

  /**
   * True only when the index certainly holds no memory, counting what was added but is not yet
   * visible or committed; an index that cannot tell answers false.
   */
  default boolean isEmpty() throws IOException {
    return false;
  }

  /** Records that everything up to {@code position} is applied; saved by the next commit. */
  void markApplied(long position);

  /**
   * The position marked applied (after open: the one the last commit saved, 0 for a new index,
   * and recall already sees everything up to it).
   */
  long appliedPosition();

  /** Makes applied changes visible to recall. */
  void refresh() throws IOException;

  /** Makes applied changes and the applied position durable. */
  void commit() throws IOException;

  /** Drops every document and resets the applied position to 0, for a rebuild. */
  void clear() throws IOException;

  /** Number of indexed memories. */
  int size() throws IOException;

  /** Number of segments a search visits (each has its own vector graph). */
  int segmentCount() throws IOException;

  /**
   * Merges the index into one segment and makes the result visible, blocking until done; a
   * search then walks one vector graph instead of one per segment. Writes may go on meanwhile.
   * Returns false (at once) when there is nothing to merge.
   */
  boolean optimize() throws IOException;

  RecallResult recall(RecallQuery query) throws IOException;

  /** Hits best first, and how long the search took. */
  record RecallResult(List<RecallHit> hits, double tookMillis) {}
}
