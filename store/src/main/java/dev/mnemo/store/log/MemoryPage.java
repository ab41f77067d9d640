package dev.mnemo.store.log;

import dev.mnemo.store.cid.Cid;
import java.util.List;

/** One page of a namespace's live memories in write order; {@code next} is null on the last page. */
public record MemoryPage(List<Cid> memories, String next) {}
