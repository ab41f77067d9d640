package dev.mnemo.store.log;

import dev.mnemo.store.cid.Cid;
import java.util.List;

/**
 * A durable write: the entry that recorded it, that entry's local apply position, and the memory
 * CIDs in the order the caller gave them. Concurrent writes to a namespace may share one entry.
 */
public record Appended(Cid entry, long position, List<Cid> memories) {}
