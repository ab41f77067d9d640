package dev.mnemo.store.log;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.block.Block;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.model.Memory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cache of decoded memories: its own rules, then the log reading through it on a real RocksDB store. */
class MemoryCacheTest {
  @TempDir Path dir;

  private static Memory memory(String text) {
    return NamespaceLogTest.memory("alice", text);
  }

  private static Cid cidOf(Memory memory) {
    return Block.dagCbor(memory.encode()).cid();
  }

  /** Loads through the cache, caching whatever the fetch returns. */
  private static Memory load(MemoryCache cache, Cid cid, MemoryCache.Fetch fetch) throws Exception {
    return cache.load(cid, fetch, memory -> true);
  }

  /** A fetch that returns {@code memory} and counts how often it was asked. */
  private record CountingFetch(Memory memory, AtomicInteger count) implements MemoryCache.Fetch {
    CountingFetch(Memory memory) {
      this(memory, new AtomicInteger());
    }

    @Override
    public Memory fetch() {
      count.incrementAndGet();
      return memory;
    }
  }

  @Test
  void aSecondLoadIsServedWithoutFetching() throws Exception {
    MemoryCache cache = new MemoryCache(1 << 20);
    Memory m = memory("one");
    CountingFetch fetch = new CountingFetch(m);
    assertThat(load(cache, cidOf(m), fetch)).isEqualTo(m);
    assertThat(load(cache, cidOf(m), fetch)).isEqualTo(m);
    assertThat(fetch.count()).hasValue(1);
    assertThat(cache.stats().hits()).isEqualTo(1);
    assertThat(cache.stats().misses()).isEqualTo(1);
    assertThat(cache.stats().entries()).isEqualTo(1);
  }

  @Test
  void sizeZeroFetchesEveryTimeAndAbsentMemoriesAreNotCached() throws Exception {
    MemoryCache off = new MemoryCache(0);
    Memory m = memory("one");
    CountingFetch fetch = new CountingFetch(m);
    load(off, cidOf(m), fetch);
    load(off, cidOf(m), fetch);
    assertThat(fetch.count()).hasValue(2);

    MemoryCache cache = new MemoryCache(1 << 20);
    assertThat(load(cache, cidOf(m), () -> null)).isNull();
    assertThat(load(cache, cidOf(m), () -> m)).as("absent before, present now").isEqualTo(m);
  }

  @Test
  void aMemoryThatIsNotLiveIsNeitherReturnedNorCached() throws Exception {
    MemoryCache cache = new MemoryCache(1 << 20);
    Memory m = memory("one");
    CountingFetch fetch = new CountingFetch(m);
    assertThat(cache.load(cidOf(m), fetch, x -> false)).isNull();
    assertThat(cache.load(cidOf(m), fetch, x -> false)).isNull();
    assertThat(fetch.count()).hasValue(2);
    assertThat(cache.stats().entries()).isZero();
    MemoryCache off = new MemoryCache(0);
    assertThat(off.load(cidOf(m), fetch, x -> false)).as("with the cache off too").isNull();
    assertThat(off.load(cidOf(m), fetch, x -> true)).isEqualTo(m);
  }

  @Test
  void fewerBytesThanSegmentsIsOff() throws Exception {
    MemoryCache tiny = new MemoryCache(MemoryCache.SEGMENTS - 1);
    Memory m = memory("one");
    load(tiny, cidOf(m), () -> m);
    assertThat(tiny.stats().maxBytes()).isZero();
    assertThat(tiny.stats().misses()).as("an off cache counts nothing").isZero();
  }

  @Test
  void evictionDropsAnEntry() throws Exception {
    MemoryCache cache = new MemoryCache(1 << 20);
    Memory m = memory("one");
    load(cache, cidOf(m), () -> m);
    cache.evict(List.of(cidOf(m)));
    assertThat(load(cache, cidOf(m), () -> null)).as("after eviction the store is asked again").isNull();
    assertThat(cache.stats().entries()).isZero();
    assertThat(cache.stats().bytes()).isZero();
  }

  @Test
  void aFetchThatAForgetOvertookIsNotCached() throws Exception {
    MemoryCache cache = new MemoryCache(1 << 20);
    Memory m = memory("one");
    Cid cid = cidOf(m);
    // The read got the block before the forget committed; the forget's eviction ran before the
    // read could put it in the cache. The read's answer stands, but it must not stay cached.
    Memory read = load(cache, cid, () -> {
      cache.evict(List.of(cid));
      return m;
    });
    assertThat(read).isEqualTo(m);
    assertThat(load(cache, cid, () -> null)).isNull();
  }

  @Test
  void theLeastRecentlyUsedGoFirstWithinTheBound() throws Exception {
    Memory probe = memory(String.format("memory %06d", 0));
    long weight = MemoryCache.weight(probe);
    // Room for two memories a segment.
    MemoryCache cache = new MemoryCache(MemoryCache.SEGMENTS * (2 * weight + weight / 2));
    List<Memory> sameSegment = new ArrayList<>();
    int segment = MemoryCache.segmentIndex(cidOf(probe));
    for (int i = 0; sameSegment.size() < 3 && i < 100_000; i++) {
      Memory m = memory(String.format("memory %06d", i)); // all of one weight
      if (MemoryCache.segmentIndex(cidOf(m)) == segment) {
        sameSegment.add(m);
      }
    }
    assertThat(sameSegment).hasSize(3);
    Memory a = sameSegment.get(0);
    Memory b = sameSegment.get(1);
    Memory c = sameSegment.get(2);
    load(cache, cidOf(a), () -> a);
    load(cache, cidOf(b), () -> b);
    load(cache, cidOf(a), () -> a); // a is now the more recent of the two
    load(cache, cidOf(c), () -> c); // over the bound: b goes
    assertThat(load(cache, cidOf(b), () -> null)).as("b, least recently used").isNull();
    assertThat(load(cache, cidOf(a), () -> null)).isEqualTo(a);
    assertThat(cache.stats().bytes()).isLessThanOrEqualTo(cache.stats().maxBytes());
  }

  @Test
  void theWeightCountsTheVector() {
    Memory plain = memory("text");
    Memory withVector = new Memory("alice", "text", plain.metadata(), plain.tags(), plain.ts(),
        new dev.mnemo.store.model.Embedding("bge-small-en-v1.5", new float[384]), null);
    assertThat(MemoryCache.weight(withVector) - MemoryCache.weight(plain)).isGreaterThanOrEqualTo(384 * 4);
  }

  @Test
  void theLogServesRepeatedReadsFromTheCacheAndNeverAForgottenMemory() throws Exception {
    try (MnemoStore store = MnemoStore.open(dir)) {
      NamespaceLog log = store.log();
      Cid cid = log.append("alice", List.of(memory("a secret"))).memories().get(0);
      assertThat(log.memory(cid)).map(Memory::text).contains("a secret");
      assertThat(log.memory(cid)).map(Memory::text).contains("a secret");
      MemoryCacheStats stats = log.memoryCacheStats();
      assertThat(stats.hits()).isEqualTo(1);
      assertThat(stats.entries()).isEqualTo(1);

      log.forget("alice", List.of(cid));
      assertThat(log.memory(cid)).as("a forgotten memory").isEqualTo(Optional.empty());
    }
  }

  @Test
  void uncachedReadsNeitherUseNorFillTheCache() throws Exception {
    try (MnemoStore store = MnemoStore.open(dir)) {
      NamespaceLog log = store.log();
      Cid cid = log.append("alice", List.of(memory("scanned"))).memories().get(0);
      assertThat(log.memoryUncached(cid)).map(Memory::text).contains("scanned");
      assertThat(log.memoryCacheStats().entries()).isZero();
      assertThat(log.memoryCacheStats().misses()).isZero();
    }
  }

  @Test
  void aLogWithoutACacheReadsTheStoreEachTime() throws Exception {
    try (MnemoStore store = MnemoStore.open(dir, null, 0)) {
      NamespaceLog log = store.log();
      Cid cid = log.append("alice", List.of(memory("one"))).memories().get(0);
      log.memory(cid);
      log.memory(cid);
      assertThat(log.memoryCacheStats().hits()).isZero();
      assertThat(log.memoryCacheStats().entries()).isZero();
    }
  }
}
