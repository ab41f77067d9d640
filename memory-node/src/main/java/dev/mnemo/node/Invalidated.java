package dev.mnemo.node;

import dev.mnemo.store.cid.Cid;

/**
 * A durable invalidate: the memory, the log entry that invalidated it, and the time its validity
 * now ends at by invalidates (the earliest of them, which may predate this one's).
 */
public record Invalidated(Cid memory, Cid entry, long invalidatedAt) {}
