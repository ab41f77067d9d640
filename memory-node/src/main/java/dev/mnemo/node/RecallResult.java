package dev.mnemo.node;

import java.util.List;

/** A recall's results, best first, and how long the index search took (not the embedding or the lookups). */
public record RecallResult(List<Recalled> results, double tookMillis) {}
