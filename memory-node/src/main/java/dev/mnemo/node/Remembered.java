package dev.mnemo.node;

import dev.mnemo.store.cid.Cid;
import java.util.List;

/** A durable remember: the memories' CIDs in request order, and the log entry that added them. */
public record Remembered(List<Cid> cids, Cid entry) {}
