package dev.mnemo.node;

import dev.mnemo.store.cid.Cid;
import java.util.List;

/**
 * A durable remember: the memories' CIDs in request order, the log entry that added them, and how
 * long the node took to embed their texts (0 if every memory brought its vector).
 */
public record Remembered(List<Cid> cids, Cid entry, double embedMillis) {}
