package dev.mnemo.store.log;

import dev.mnemo.store.cid.Cid;
import java.util.Collections;
import java.util.List;

/**
 * A durable write: the entry that recorded it, that entry's local apply position, and the memory
 * CIDs in the order the caller gave them. Concurrent writes to a namespace may share one entry.
 *
 * <p>An add may fold memories into live ones of equal content ({@link NamespaceLog#append(
 * dev.mnemo.store.identity.Author, String, List, java.util.BitSet)}): {@code deduplicated} says
 * which, their CIDs are those of the live memories, and {@code position} is the latest of the
 * positions that made the answered memories live. {@code entry} is null when every memory folded
 * and nothing was written.
 */
public record Appended(Cid entry, long position, List<Cid> memories, List<Boolean> deduplicated) {
  public Appended {
    memories = List.copyOf(memories);
    deduplicated = List.copyOf(deduplicated);
    if (deduplicated.size() != memories.size()) {
      throw new IllegalArgumentException("one deduplicated flag per memory");
    }
  }

  /** A write that folded nothing. */
  public Appended(Cid entry, long position, List<Cid> memories) {
    this(entry, position, memories, Collections.nCopies(memories.size(), false));
  }
}
