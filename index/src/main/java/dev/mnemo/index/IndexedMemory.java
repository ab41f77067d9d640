package dev.mnemo.index;

import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.model.Memory;

/** A memory as the index takes it: its CID, the log position that added it, and the memory. */
public record IndexedMemory(Cid cid, long position, Memory memory) {}
