package dev.mnemo.index;

import static dev.mnemo.index.LogIndexerTest.batch;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.block.Block;
import dev.mnemo.store.car.CarWriter;
import dev.mnemo.store.car.NamespaceCar;
import dev.mnemo.store.identity.AgentKey;
import dev.mnemo.store.model.LogEntry;
import dev.mnemo.store.model.Op;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.log.Appended;
import dev.mnemo.store.model.Memory;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Memories new to the index are added without the delete that makes re-adding harmless; these
 * are the cases where a memory could reach the index twice, over a real store and real Lucene.
 */
class LogIndexerAddsOnceTest {
  @TempDir Path dir;

  /** The real index, counting the memories that come through each kind of add. */
  static class CountingIndex extends ForwardingIndex {
    final AtomicInteger replacing = new AtomicInteger();
    final AtomicInteger fresh = new AtomicInteger();

    CountingIndex(MemoryIndex real) {
      super(real);
    }

    @Override
    public void add(List<IndexedMemory> memories) throws IOException {
      replacing.addAndGet(memories.size());
      super.add(memories);
    }

    @Override
    public void addNew(List<IndexedMemory> memories) throws IOException {
      fresh.addAndGet(memories.size());
      super.addNew(memories);
    }
  }

  @Test
  void anEmptyIndexTakesEveryMemoryWithoutADeleteTermAlsoThoseWrittenBeforeItsIndexerStarted() throws Exception {
    try (MnemoStore store = MnemoStore.open(dir.resolve("data"));
         LuceneMemoryIndex lucene = LuceneMemoryIndex.open(dir.resolve("index"), IndexConfig.defaults(8))) {
      store.log().append("alice", batch(new Random(1), 0, 12));
      CountingIndex index = new CountingIndex(lucene);
      LogIndexer indexer = new LogIndexer(store.log(), index, 60_000);
      store.log().append("alice", batch(new Random(2), 1, 3));

      indexer.catchUp(null);

      assertThat(index.fresh).hasValue(15);
      assertThat(index.replacing).hasValue(0);
      assertThat(lucene.size()).isEqualTo(15);
      indexer.close();
    }
  }

  @Test
  void aMemoryListedByASecondEntryIsIndexedOnce() throws Exception {
    try (MnemoStore store = MnemoStore.open(dir.resolve("data"));
         LuceneMemoryIndex index = LuceneMemoryIndex.open(dir.resolve("index"), IndexConfig.defaults(8))) {
      LogIndexer indexer = new LogIndexer(store.log(), index, 60_000);
      List<Memory> first = batch(new Random(3), 0, 10);
      store.log().append("alice", first);
      // Remembered again with five more: the second entry lists all fifteen.
      List<Memory> again = new ArrayList<>(first);
      again.addAll(batch(new Random(4), 1, 5));
      Appended second = store.log().append("alice", again);
      assertThat(second.memories()).hasSize(15);

      indexer.catchUp(null);

      assertThat(index.size()).isEqualTo(15);
      indexer.close();
    }
  }

  @Test
  void aForgetInAnotherNamespaceLeavesTheMemoryInItsOwnNamespacesRecall() throws Exception {
    try (MnemoStore store = MnemoStore.open(dir.resolve("data"));
         LuceneMemoryIndex index = LuceneMemoryIndex.open(dir.resolve("index"), IndexConfig.defaults(8))) {
      LogIndexer indexer = new LogIndexer(store.log(), index, 60_000);
      Cid alices = store.log().append("alice", batch(new Random(9), 0, 1)).memories().get(0);
      // Someone's signed forget in bob that names alice's memory, arriving in a CAR.
      AgentKey someone = AgentKey.generate();
      Block bob = Block.dagCbor(LogEntry.signed(dev.mnemo.store.identity.Author.of(someone), "bob", Op.CREATE, List.of(),
          List.of(), 1, null, null).encode());
      Block forget = Block.dagCbor(LogEntry.signed(someone, "bob", Op.FORGET, List.of(alices), List.of(bob.cid()), 2)
          .encode());
      ByteArrayOutputStream car = new ByteArrayOutputStream();
      CarWriter writer = new CarWriter(car, List.of(forget.cid()));
      writer.write(bob);
      writer.write(forget);
      NamespaceCar.importCar(store.log(), new ByteArrayInputStream(car.toByteArray()));
      assertThat(store.log().liveSince("alice", alices)).as("alice's state").isPositive();

      indexer.catchUp(null);

      assertThat(index.size()).isEqualTo(1);
      indexer.close();
    }
  }

  @Test
  void memoriesACommitTookBeyondItsPositionAreNotIndexedTwiceAfterARestart() throws Exception {
    Path indexDir = dir.resolve("index");
    try (MnemoStore store = MnemoStore.open(dir.resolve("data"))) {
      store.log().append("alice", batch(new Random(5), 0, 20));
      try (LuceneMemoryIndex lucene = LuceneMemoryIndex.open(indexDir, IndexConfig.defaults(8))) {
        // The periodic commit runs while a page is being applied: it saves the position before the
        // page with the page's memories. The process then dies before another commit saves more.
        MemoryIndex index = new ForwardingIndex(lucene) {
          @Override
          public void addNew(List<IndexedMemory> memories) throws IOException {
            super.addNew(memories);
            super.commit();
          }

          @Override
          public void add(List<IndexedMemory> memories) throws IOException {
            super.add(memories);
            super.commit();
          }

          @Override
          public void markApplied(long position) {
            // Never saved: the crash comes first.
          }
        };
        LogIndexer indexer = new LogIndexer(store.log(), index, 60_000);
        indexer.catchUp(null);
        indexer.close();
        assertThat(lucene.appliedPosition()).as("the position the commit saved").isZero();
      }
      try (LuceneMemoryIndex reopened = LuceneMemoryIndex.open(indexDir, IndexConfig.defaults(8))) {
        assertThat(reopened.size()).as("memories the commit took").isEqualTo(20);
        CountingIndex index = new CountingIndex(reopened);
        LogIndexer indexer = new LogIndexer(store.log(), index, 60_000);
        store.log().append("alice", batch(new Random(6), 1, 7));
        indexer.catchUp(null);

        assertThat(reopened.size()).isEqualTo(27);
        assertThat(index.replacing).as("replayed, may be in the index").hasValue(20);
        assertThat(index.fresh).as("written after the indexer started").hasValue(7);
        indexer.close();
      }
    }
  }

  @ParameterizedTest(name = "failing with an Error: {0}")
  @ValueSource(booleans = {false, true})
  void aPageThatFailedHalfWayIsAppliedAgainWithoutIndexingItsMemoriesTwice(boolean error) throws Exception {
    try (MnemoStore store = MnemoStore.open(dir.resolve("data"));
         LuceneMemoryIndex lucene = LuceneMemoryIndex.open(dir.resolve("index"), IndexConfig.defaults(8))) {
      AtomicBoolean failNextRemove = new AtomicBoolean(true);
      MemoryIndex index = new ForwardingIndex(lucene) {
        @Override
        public void remove(String ns, List<Cid> memories) throws IOException {
          if (failNextRemove.getAndSet(false)) {
            if (error) {
              throw new OutOfMemoryError("disk full (test, as an Error)");
            }
            throw new IOException("disk full (test)");
          }
          super.remove(ns, memories);
        }
      };
      LogIndexer indexer = new LogIndexer(store.log(), index, 60_000);
      // One page: an entry that adds ten memories, then one that forgets one of them. The nine
      // still live go in before the forget, and the forget fails.
      Appended added = store.log().append("alice", batch(new Random(8), 0, 10));
      store.log().forget("alice", List.of(added.memories().get(0)));
      assertThatThrownBy(() -> indexer.catchUp(null)).hasMessageContaining("disk full");

      indexer.catchUp(null);

      assertThat(lucene.size()).isEqualTo(9);
      indexer.close();
    }
  }
}
