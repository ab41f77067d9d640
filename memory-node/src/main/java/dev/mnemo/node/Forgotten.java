package dev.mnemo.node;

import dev.mnemo.store.cid.Cid;

/** A durable forget: the memory forgotten and the log entry that forgot it. */
public record Forgotten(Cid memory, Cid entry) {}
