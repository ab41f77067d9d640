package dev.mnemo.index;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.log.Appended;
import dev.mnemo.store.model.Embedding;
import dev.mnemo.store.model.Memory;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The indexer over a real store and a real Lucene index: writes indexed before they are
 * acknowledged, searchable from the next recall, and merging when writes pause.
 */
class LogIndexerTest {
  @TempDir Path dir;

  @Test
  void writesPausedMergeTheIndexIntoOneSegmentAndRecallStillFindsEverything() throws Exception {
    try (MnemoStore store = MnemoStore.open(dir.resolve("data"));
         LuceneMemoryIndex index = LuceneMemoryIndex.open(dir.resolve("index"), IndexConfig.defaults(8))) {
      LogIndexer indexer = new LogIndexer(store.log(), index, 60_000, 300);
      Random random = new Random(7);
      List<float[]> vectors = new ArrayList<>();
      List<Appended> batches = new ArrayList<>();
      // One batch at a time, each searched before the next: one small segment each.
      for (int b = 0; b < 6; b++) {
        List<Memory> memories = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
          float[] v = new float[8];
          for (int d = 0; d < v.length; d++) {
            v[d] = (float) random.nextGaussian();
          }
          vectors.add(v);
          memories.add(new Memory("alice", "memory " + b + "-" + i, Map.of(), List.of(), 1000L * (b * 50 + i),
              new Embedding("test", v), null));
        }
        Appended appended = store.log().append("alice", memories);
        indexer.awaitApplied(appended.position());
        indexer.awaitVisible();
        batches.add(appended);
      }
      assertThat(index.segmentCount()).as("segments while writing").isGreaterThan(1);

      long deadline = System.nanoTime() + 20_000_000_000L;
      while (index.segmentCount() > 1 && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertThat(index.segmentCount()).as("segments after writes paused").isEqualTo(1);
      assertThat(index.size()).isEqualTo(300);
      for (int b = 0; b < batches.size(); b++) {
        float[] v = vectors.get(b * 50 + 7);
        List<RecallHit> hits = index.recall(RecallQuery.of("alice", null, v, 1, RecallMode.VECTOR)).hits();
        assertThat(hits).extracting(RecallHit::cid).containsExactly(batches.get(b).memories().get(7));
      }
      assertThat(index.optimize()).as("optimizing one segment again").isFalse();
      indexer.close();
    }
  }

  @Test
  void writesWithNoRecallBetweenThemAreFlushedTogetherAndTheNextRecallSeesThemAll() throws Exception {
    try (MnemoStore store = MnemoStore.open(dir.resolve("data"));
         LuceneMemoryIndex index = LuceneMemoryIndex.open(dir.resolve("index"), IndexConfig.defaults(8))) {
      LogIndexer indexer = new LogIndexer(store.log(), index, 60_000);
      Random random = new Random(11);
      long last = 0;
      for (int b = 0; b < 6; b++) {
        Appended appended = store.log().append("alice", batch(random, b, 50));
        indexer.awaitApplied(appended.position());
        last = appended.position();
      }
      assertThat(indexer.appliedPosition()).isEqualTo(last);
      assertThat(indexer.visiblePosition()).as("no recall came, so no writer refreshed").isLessThan(last);

      indexer.beforeSearch();

      assertThat(indexer.visiblePosition()).isEqualTo(last);
      assertThat(index.size()).isEqualTo(300);
      assertThat(index.segmentCount()).as("one flush for six batches").isEqualTo(1);
      indexer.close();
    }
  }

  @Test
  void everyRecallSeesEveryWriteAcknowledgedBeforeIt() throws Exception {
    try (MnemoStore store = MnemoStore.open(dir.resolve("data"));
         LuceneMemoryIndex index = LuceneMemoryIndex.open(dir.resolve("index"), IndexConfig.defaults(8))) {
      LogIndexer indexer = new LogIndexer(store.log(), index, 60_000);
      AtomicInteger acknowledged = new AtomicInteger();
      Thread writer = Thread.ofPlatform().start(() -> {
        Random random = new Random(13);
        try {
          for (int b = 0; b < 40; b++) {
            Appended appended = store.log().append("alice", batch(random, b, 10));
            indexer.awaitApplied(appended.position());
            acknowledged.addAndGet(10);
          }
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      int recalls = 0;
      while (writer.isAlive() || recalls == 0) {
        int before = acknowledged.get();
        indexer.awaitVisible();
        assertThat(index.size()).as("memories a recall sees, %d acknowledged before it", before)
            .isGreaterThanOrEqualTo(before);
        recalls++;
      }
      writer.join();
      indexer.awaitVisible();
      assertThat(index.size()).isEqualTo(400);
      indexer.close();
    }
  }

  static List<Memory> batch(Random random, int b, int size) {
    List<Memory> memories = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      float[] v = new float[8];
      for (int d = 0; d < v.length; d++) {
        v[d] = (float) random.nextGaussian();
      }
      memories.add(new Memory("alice", "memory " + b + "-" + i, Map.of(), List.of(), 1000L * (b * size + i),
          new Embedding("test", v), null));
    }
    return memories;
  }

  @Test
  void writesThatArriveDuringAnIdleMergeAreMergedOnceWritesPauseAgain() throws Exception {
    try (MnemoStore store = MnemoStore.open(dir.resolve("data"));
         LuceneMemoryIndex lucene = LuceneMemoryIndex.open(dir.resolve("index"), IndexConfig.defaults(8))) {
      CountDownLatch firstMergeStarted = new CountDownLatch(1);
      CountDownLatch writtenDuringIt = new CountDownLatch(1);
      AtomicInteger merges = new AtomicInteger();
      // The real index, except that its first merge returns only once the test has written more.
      MemoryIndex index = new ForwardingIndex(lucene) {
        @Override
        public boolean optimize() throws IOException {
          // Counted before merging: the test may see one segment as soon as the merge is done.
          int merge = merges.incrementAndGet();
          boolean merged = super.optimize();
          if (merge == 1) {
            // Writes that come after the merge took its segments, before it returns.
            firstMergeStarted.countDown();
            try {
              writtenDuringIt.await();
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
          return merged;
        }
      };
      LogIndexer indexer = new LogIndexer(store.log(), index, 60_000, 200);
      Random random = new Random(17);
      for (int b = 0; b < 3; b++) {
        indexer.awaitApplied(store.log().append("alice", batch(random, b, 20)).position());
        indexer.awaitVisible();
      }
      assertThat(firstMergeStarted.await(20, TimeUnit.SECONDS)).isTrue();
      indexer.awaitApplied(store.log().append("alice", batch(random, 3, 20)).position());
      indexer.awaitVisible();
      writtenDuringIt.countDown();

      long deadline = System.nanoTime() + 20_000_000_000L;
      while (lucene.segmentCount() > 1 && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertThat(lucene.segmentCount()).as("segments once writes paused again").isEqualTo(1);
      assertThat(merges.get()).isGreaterThanOrEqualTo(2);
      assertThat(lucene.size()).isEqualTo(80);
      indexer.close();
    }
  }

  @Test
  void whatIsAppliedDuringARefreshIsNotCountedAsVisible() throws Exception {
    try (MnemoStore store = MnemoStore.open(dir.resolve("data"));
         LuceneMemoryIndex lucene = LuceneMemoryIndex.open(dir.resolve("index"), IndexConfig.defaults(8))) {
      AtomicBoolean writeDuringRefresh = new AtomicBoolean(true);
      // The real index, except that a writer applies one more batch while the first refresh runs.
      MemoryIndex index = new ForwardingIndex(lucene) {
        @Override
        public void refresh() throws IOException {
          super.refresh();
          if (writeDuringRefresh.getAndSet(false)) {
            super.markApplied(super.appliedPosition() + 1);
          }
        }
      };
      LogIndexer indexer = new LogIndexer(store.log(), index, 60_000);
      long position = store.log().append("alice", batch(new Random(19), 0, 5)).position();
      indexer.awaitApplied(position);

      indexer.awaitVisible();

      assertThat(indexer.visiblePosition()).as("what the refresh was asked for, not what was applied after it began")
          .isEqualTo(position);
      indexer.close();
    }
  }

  @Test
  void whileRecallsComeWritersRefreshBeforeTheyReturn() throws Exception {
    try (MnemoStore store = MnemoStore.open(dir.resolve("data"));
         LuceneMemoryIndex index = LuceneMemoryIndex.open(dir.resolve("index"), IndexConfig.defaults(8))) {
      LogIndexer indexer = new LogIndexer(store.log(), index, 60_000);
      indexer.beforeSearch();
      Random random = new Random(23);
      for (int b = 0; b < 3; b++) {
        long position = store.log().append("alice", batch(random, b, 10)).position();
        indexer.awaitApplied(position);
        assertThat(indexer.visiblePosition()).as("visible when the write returns, batch %d", b).isEqualTo(position);
      }
      assertThat(index.segmentCount()).as("one refresh per write while searched").isEqualTo(3);
      indexer.close();
    }
  }

  /**
   * A store restored from a backup (or replaced) under an index that saw a longer log: its new
   * writes took positions the index counted as applied, so they never reached recall, and the
   * index kept memories the store no longer held.
   */
  @Test
  void anIndexAheadOfItsLogIsRebuiltFromTheLog() throws Exception {
    Path indexDir = dir.resolve("index");
    try (MnemoStore longer = MnemoStore.open(dir.resolve("longer"));
         LuceneMemoryIndex index = LuceneMemoryIndex.open(indexDir, IndexConfig.defaults(8))) {
      LogIndexer indexer = new LogIndexer(longer.log(), index, 60_000);
      for (int b = 0; b < 5; b++) {
        indexer.awaitApplied(longer.log().append("alice", batch(new Random(b), b, 4)).position());
      }
      indexer.close();
      assertThat(index.appliedPosition()).isEqualTo(5);
    }
    try (MnemoStore restored = MnemoStore.open(dir.resolve("restored"));
         LuceneMemoryIndex index = LuceneMemoryIndex.open(indexDir, IndexConfig.defaults(8))) {
      restored.log().append("alice", batch(new Random(100), 100, 3));
      LogIndexer indexer = new LogIndexer(restored.log(), index, 60_000);
      indexer.catchUp(null);
      long position = restored.log().append("alice", batch(new Random(101), 101, 2)).position();
      indexer.awaitApplied(position);
      indexer.awaitVisible();
      assertThat(index.appliedPosition()).isEqualTo(2);
      assertThat(index.size()).as("the restored store's five memories, nothing else").isEqualTo(5);
      indexer.close();
    }
  }
}
