package dev.mnemo.store.log;

/**
 * The cache of decoded memories that {@link NamespaceLog#memory} reads through: its bound and
 * estimated size in bytes of heap, its entries, and hits and misses since the log was opened.
 */
public record MemoryCacheStats(long maxBytes, long bytes, long entries, long hits, long misses) {}
