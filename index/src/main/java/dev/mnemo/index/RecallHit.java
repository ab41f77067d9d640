package dev.mnemo.index;

import dev.mnemo.store.cid.Cid;

/**
 * A recalled memory: its CID, the final score (higher is better), each signal's own score
 * ({@code keyword}: BM25; {@code vector}: cosine similarity; null when the signal was not asked
 * for or did not match), and its timestamp.
 */
public record RecallHit(Cid cid, double score, Double keyword, Double vector, long ts) {}
