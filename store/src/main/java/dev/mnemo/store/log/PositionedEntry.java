package dev.mnemo.store.log;

import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.model.LogEntry;

/** An applied entry with its CID and its local apply position. */
public record PositionedEntry(long position, Cid cid, LogEntry entry) {}
