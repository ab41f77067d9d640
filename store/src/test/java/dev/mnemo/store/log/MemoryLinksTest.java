package dev.mnemo.store.log;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.model.Embedding;
import dev.mnemo.store.model.Memory;
import dev.mnemo.store.rocks.RocksStorage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;

/** Successors by prev and live memories by content, as the log writer keeps them (MemoryLinks). */
class MemoryLinksTest {
  static final String NS = "links";
  @TempDir Path dir;
  MnemoStore store;
  NamespaceLog log;

  @BeforeEach
  void open() throws Exception {
    store = MnemoStore.open(dir);
    log = store.log();
  }

  @AfterEach
  void close() throws Exception {
    store.close();
  }

  static Memory memory(String text, long ts, Cid prev) {
    return new Memory(NS, text, Map.of("who", "bob"), List.of("pref"), ts, null, prev);
  }

  static BitSet all(int n) {
    BitSet bits = new BitSet();
    bits.set(0, n);
    return bits;
  }

  @Test
  void aMemoryIsSupersededWhileALiveMemoryNamesItAsPrev() throws Exception {
    Cid a = log.append(NS, List.of(memory("Bob drinks tea", 1, null))).memories().get(0);
    assertThat(log.isSuperseded(NS, a)).isFalse();
    Appended b = log.append(NS, List.of(memory("Bob drinks coffee", 2, a)));
    Appended c = log.append(NS, List.of(memory("Bob drinks water", 3, a)));
    Cid bCid = b.memories().get(0);
    Cid cCid = c.memories().get(0);
    assertThat(log.successors(NS, a)).containsExactlyInAnyOrder(bCid, cCid);
    assertThat(log.isSuperseded(NS, a)).isTrue();
    assertThat(log.isSuperseded(NS, bCid)).isFalse();
    // The index learns at each entry's position which memories to look at again.
    assertThat(log.successorsChangedAt(b.position())).containsExactly(a);
    assertThat(log.successorsChangedAt(c.position())).containsExactly(a);

    Appended forgetB = log.forget(NS, List.of(bCid));
    assertThat(log.successorsChangedAt(forgetB.position())).containsExactly(a);
    assertThat(log.successors(NS, a)).containsExactly(cCid);
    log.forget(NS, List.of(cCid));
    assertThat(log.successors(NS, a)).isEmpty();
    assertThat(log.isSuperseded(NS, a)).as("current again once no live memory supersedes it").isFalse();
  }

  @Test
  void aSuccessorThatArrivesFirstSupersedesItsPrevWhenThatArrives() throws Exception {
    Memory older = memory("Bob drinks tea", 1, null);
    Cid a = Cid.dagCbor(older.encode());
    Cid b = log.append(NS, List.of(memory("Bob drinks coffee", 2, a))).memories().get(0);
    assertThat(log.isSuperseded(NS, a)).isTrue();
    log.append(NS, List.of(older));
    assertThat(log.state(NS, a)).isEqualTo(MemoryState.LIVE);
    assertThat(log.successors(NS, a)).containsExactly(b);
  }

  @Test
  void anEqualMemoryFoldsIntoTheLiveOneWithoutAnEntry() throws Exception {
    Appended first = log.append(log.nodeAuthor(), NS, List.of(memory("Bob drinks tea", 1, null)), all(1));
    assertThat(first.deduplicated()).containsExactly(false);
    Set<Cid> heads = log.heads(NS);
    long last = log.lastPosition();

    Appended again = log.append(log.nodeAuthor(), NS, List.of(memory("Bob drinks tea", 2, null)), all(1));
    assertThat(again.memories()).isEqualTo(first.memories());
    assertThat(again.deduplicated()).containsExactly(true);
    assertThat(again.entry()).isNull();
    assertThat(again.position()).isEqualTo(first.position());
    assertThat(log.heads(NS)).isEqualTo(heads);
    assertThat(log.lastPosition()).isEqualTo(last);

    // Another vector is the same content; other tags, metadata or prev are not.
    Memory withVector = memory("Bob drinks tea", 3, null).withEmbedding(new Embedding("m", new float[] {1, 0}));
    assertThat(log.append(log.nodeAuthor(), NS, List.of(withVector), all(1)).deduplicated()).containsExactly(true);
    Memory otherTags = new Memory(NS, "Bob drinks tea", Map.of("who", "bob"), List.of("other"), 4, null, null);
    Memory otherPrev = memory("Bob drinks tea", 5, first.memories().get(0));
    Appended different = log.append(log.nodeAuthor(), NS, List.of(otherTags, otherPrev), all(2));
    assertThat(different.deduplicated()).containsExactly(false, false);
    assertThat(different.entry()).isNotNull();

    // Not asked to fold: a second copy.
    Appended unfolded = log.append(log.nodeAuthor(), NS, List.of(memory("Bob drinks tea", 6, null)), new BitSet());
    assertThat(unfolded.memories()).doesNotContainAnyElementsOf(first.memories());
  }

  @Test
  void aBatchFoldsEachItemAlsoIntoAnEarlierItem() throws Exception {
    Cid live = log.append(NS, List.of(memory("known", 1, null))).memories().get(0);
    Appended batch = log.append(log.nodeAuthor(), NS,
        List.of(memory("new", 2, null), memory("known", 3, null), memory("new", 4, null)), all(3));
    assertThat(batch.deduplicated()).containsExactly(false, true, true);
    assertThat(batch.memories().get(1)).isEqualTo(live);
    assertThat(batch.memories().get(2)).isEqualTo(batch.memories().get(0));
    assertThat(log.entry(batch.entry()).orElseThrow().refs()).containsExactly(batch.memories().get(0));
  }

  @Test
  void aForgottenMemoryDoesNotAbsorbANewCopy() throws Exception {
    Cid first = log.append(NS, List.of(memory("gone", 1, null))).memories().get(0);
    log.forget(NS, List.of(first));
    Appended again = log.append(log.nodeAuthor(), NS, List.of(memory("gone", 2, null)), all(1));
    assertThat(again.deduplicated()).containsExactly(false);
    assertThat(log.state(NS, again.memories().get(0))).isEqualTo(MemoryState.LIVE);
  }

  @Test
  void concurrentEqualWritesLeaveOneMemory() throws Exception {
    int writers = 16;
    ExecutorService pool = Executors.newFixedThreadPool(writers);
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<Appended>> futures = new ArrayList<>();
      for (int i = 0; i < writers; i++) {
        long ts = 100 + i;
        futures.add(pool.submit(() -> {
          start.await();
          return log.append(log.nodeAuthor(), NS, List.of(memory("said twice", ts, null)), all(1));
        }));
      }
      start.countDown();
      Set<Cid> answered = new HashSet<>();
      int stored = 0;
      for (Future<Appended> f : futures) {
        Appended appended = f.get();
        answered.addAll(appended.memories());
        stored += appended.deduplicated().get(0) ? 0 : 1;
      }
      assertThat(answered).hasSize(1);
      assertThat(stored).isEqualTo(1);
      assertThat(log.list(NS, null, 100).memories()).containsExactlyElementsOf(answered);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aStoreFromBeforeLinksIsLinkedWhenOpened() throws Exception {
    Cid a = log.append(NS, List.of(memory("old fact", 1, null))).memories().get(0);
    Cid b = log.append(NS, List.of(memory("new fact", 2, a))).memories().get(0);
    // Back to layout 2: no link records, format "2".
    try (WriteBatch batch = new WriteBatch(); RocksIterator it = store.storage().iterator(RocksStorage.Family.LINKS)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        batch.delete(store.storage().handle(RocksStorage.Family.LINKS), it.key());
      }
      batch.put(store.storage().handle(RocksStorage.Family.META), "format".getBytes(StandardCharsets.UTF_8),
          "2".getBytes(StandardCharsets.UTF_8));
      store.storage().writeDurably(batch);
    }
    store.close();
    store = MnemoStore.open(dir);
    log = store.log();
    assertThat(store.storage().openedFormat()).isEqualTo(RocksStorage.FORMAT_VERSION);
    assertThat(log.successors(NS, a)).containsExactly(b);
    Appended again = log.append(log.nodeAuthor(), NS, List.of(memory("old fact", 3, null)), all(1));
    assertThat(again.memories()).containsExactly(a);
    assertThat(again.deduplicated()).containsExactly(true);
  }
}
