package dev.mnemo.node;

import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.model.Memory;

/** A memory by its CID; in a history, {@code memory} is null where that version was forgotten. */
public record MemoryVersion(Cid cid, Memory memory) {}
