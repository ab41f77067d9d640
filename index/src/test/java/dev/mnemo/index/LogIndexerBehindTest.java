package dev.mnemo.index;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.log.Appended;
import dev.mnemo.store.model.Memory;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Writers that return before their memories are indexed ({@code maxBehind > 0}), over a real
 * store and a real Lucene index whose {@code add} a test can hold up: no acknowledged write is
 * ever missing from a recall, the bound holds, and nothing left behind is lost.
 */
class LogIndexerBehindTest {
  @TempDir Path dir;
  private MnemoStore store;
  private LuceneMemoryIndex lucene;
  private final Random random = new Random(29);
  /** Open while adds may go on; a test closes it to hold the index's adds up. */
  private volatile CountDownLatch addsAllowed = new CountDownLatch(0);
  /** Counted down by every add that starts. */
  private final CountDownLatch addStarted = new CountDownLatch(1);
  private final AtomicBoolean failNextAdd = new AtomicBoolean();
  private final AtomicBoolean errorNextAdd = new AtomicBoolean();
  private MemoryIndex index;
  private LogIndexer indexer;

  @BeforeEach
  void open() throws IOException {
    store = MnemoStore.open(dir.resolve("data"));
    lucene = LuceneMemoryIndex.open(dir.resolve("index"), IndexConfig.defaults(8));
    index = new ForwardingIndex(lucene) {
      @Override
      public void add(List<IndexedMemory> memories) throws IOException {
        holdOrFail();
        super.add(memories);
      }

      @Override
      public void addNew(List<IndexedMemory> memories) throws IOException {
        holdOrFail();
        super.addNew(memories);
      }
    };
  }

  private void holdOrFail() throws IOException {
    addStarted.countDown();
    try {
      addsAllowed.await();
    } catch (InterruptedException e) {
      throw new java.io.InterruptedIOException();
    }
    if (failNextAdd.getAndSet(false)) {
      throw new IOException("disk full (test)");
    }
    if (errorNextAdd.getAndSet(false)) {
      throw new AssertionError("an Error in the indexing thread (test)");
    }
  }

  @AfterEach
  void close() throws IOException {
    addsAllowed.countDown();
    try {
      if (indexer != null) {
        indexer.close();
      }
    } finally {
      lucene.close();
      store.close();
    }
  }

  private LogIndexer indexer(int maxBehind) throws IOException {
    indexer = new LogIndexer(store.log(), index, 60_000, 0, maxBehind);
    return indexer;
  }

  private Appended write(LogIndexer indexer, int b, int size) throws IOException {
    List<Memory> memories = LogIndexerTest.batch(random, b, size);
    Appended appended = store.log().append("alice", memories);
    indexer.awaitApplied(appended.position(), appended.memories(), memories);
    return appended;
  }

  private static <T> T within(CompletableFuture<T> future) throws Exception {
    return future.get(20, TimeUnit.SECONDS);
  }

  private static void stillWaiting(CompletableFuture<?> future, String what) throws Exception {
    assertThatThrownBy(() -> future.get(300, TimeUnit.MILLISECONDS)).as(what).isInstanceOf(TimeoutException.class);
  }

  @Test
  void aSearchIdleWriterReturnsBeforeIndexingAndTheNextRecallWaitsForItsMemories() throws Exception {
    LogIndexer indexer = indexer(100);
    addsAllowed = new CountDownLatch(1);

    Appended appended = within(CompletableFuture.supplyAsync(() -> uncheck(() -> write(indexer, 0, 10))));
    assertThat(index.appliedPosition()).as("indexed when the write returned").isLessThan(appended.position());

    CompletableFuture<Void> recall = CompletableFuture.runAsync(() -> uncheck(() -> {
      indexer.beforeSearch();
      return null;
    }));
    stillWaiting(recall, "a recall while the acknowledged write is not indexed");
    addsAllowed.countDown();
    within(recall);

    assertThat(indexer.visiblePosition()).isGreaterThanOrEqualTo(appended.position());
    assertThat(index.recall(RecallQuery.of("alice", "memory", null, 20, RecallMode.KEYWORD)).hits()).hasSize(10);
  }

  @Test
  void aWriterThatWouldLeaveMoreThanMaxBehindWaitsUntilTheIndexCatchesUp() throws Exception {
    LogIndexer indexer = indexer(15);
    addsAllowed = new CountDownLatch(1);
    within(CompletableFuture.supplyAsync(() -> uncheck(() -> write(indexer, 0, 10))));

    CompletableFuture<Appended> second = CompletableFuture.supplyAsync(() -> uncheck(() -> write(indexer, 1, 10)));
    stillWaiting(second, "a write that leaves 20 memories behind with maxBehind 15");
    addsAllowed.countDown();
    within(second);

    indexer.beforeSearch();
    assertThat(index.size()).isEqualTo(20);
  }

  @Test
  void whileRecallsComeWritersIndexBeforeTheyReturn() throws Exception {
    LogIndexer indexer = indexer(1_000);
    indexer.beforeSearch();

    Appended appended = write(indexer, 0, 10);

    assertThat(index.appliedPosition()).isEqualTo(appended.position());
    assertThat(indexer.visiblePosition()).isEqualTo(appended.position());
  }

  @Test
  void closingIndexesWhatWritersLeftBehind() throws Exception {
    LogIndexer indexer = indexer(1_000);
    addsAllowed = new CountDownLatch(1);
    write(indexer, 0, 10);
    assertThat(addStarted.await(20, TimeUnit.SECONDS)).as("the applier took the first batch").isTrue();
    // Appended after the applier took its pass: only a drain on close indexes these.
    for (int b = 1; b < 5; b++) {
      write(indexer, b, 10);
    }

    Thread closer = Thread.ofPlatform().start(() -> uncheck(() -> {
      indexer.close();
      return null;
    }));
    // Let the applier finish its pass only once close() waits for it: then it takes no second pass.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (closer.getState() != Thread.State.TIMED_WAITING && System.nanoTime() < deadline) {
      Thread.sleep(1);
    }
    addsAllowed.countDown();
    closer.join(TimeUnit.SECONDS.toMillis(20));
    assertThat(closer.isAlive()).as("close() returned").isFalse();

    assertThat(index.appliedPosition()).isEqualTo(store.log().lastPosition());
    index.refresh();
    assertThat(index.size()).isEqualTo(50);
  }

  /**
   * An Error ends the background applier for good. What writers had left it was then never
   * dropped once indexed: it stayed counted, and held, until the node stopped.
   */
  @Test
  void afterTheApplierDiesWritersDropWhatWasLeftBehindOnceItIsIndexed() throws Exception {
    LogIndexer indexer = indexer(1_000);
    errorNextAdd.set(true);
    write(indexer, 0, 10);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (indexer.indexingBehind() && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(indexer.indexingBehind()).as("the applier died").isFalse();
    assertThat(indexer.leftBehindCount()).as("the first write's memories, left behind").isEqualTo(10);

    Appended second = write(indexer, 1, 10);
    assertThat(index.appliedPosition()).as("the writer indexed both writes itself").isGreaterThanOrEqualTo(second.position());
    assertThat(indexer.leftBehindCount()).isZero();
    indexer.beforeSearch();
    assertThat(index.size()).isEqualTo(20);
  }

  @Test
  void afterABackgroundFailureWritersIndexThemselvesUntilARetryWorks() throws Exception {
    LogIndexer indexer = indexer(1_000);
    failNextAdd.set(true);
    Appended first = write(indexer, 0, 10);
    // The applier fails once, then retries on its own and indexes the write.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (index.appliedPosition() < first.position() && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(index.appliedPosition()).as("indexed by the applier's retry").isGreaterThanOrEqualTo(first.position());
    assertThat(failNextAdd.get()).as("the failure happened").isFalse();

    // Retried and working again: a writer returns before its memories are indexed, as before.
    while (!indexer.indexingBehind() && System.nanoTime() < deadline) {
      Thread.sleep(10); // the retry's pass clears the failure just after it applies
    }
    addsAllowed = new CountDownLatch(1);
    Appended second = within(CompletableFuture.supplyAsync(() -> uncheck(() -> write(indexer, 1, 10))));
    assertThat(index.appliedPosition()).isLessThan(second.position());
    addsAllowed.countDown();
    indexer.beforeSearch();
    assertThat(index.size()).isEqualTo(20);
  }

  @Test
  void concurrentWritersLeavingMemoriesBehindAreAllSeenByTheNextCatchUp() throws Exception {
    LogIndexer indexer = indexer(50);
    java.util.concurrent.atomic.AtomicInteger acknowledged = new java.util.concurrent.atomic.AtomicInteger();
    List<Thread> writers = new java.util.ArrayList<>();
    for (int w = 0; w < 3; w++) {
      int writer = w;
      writers.add(Thread.ofPlatform().start(() -> uncheck(() -> {
        Random own = new Random(31 + writer);
        for (int b = 0; b < 40; b++) {
          List<Memory> memories = LogIndexerTest.batch(own, writer * 1000 + b, 10);
          Appended appended = store.log().append("alice", memories);
          indexer.awaitApplied(appended.position(), appended.memories(), memories);
          acknowledged.addAndGet(10);
        }
        return null;
      })));
    }
    int checks = 0;
    while (writers.stream().anyMatch(Thread::isAlive) || checks == 0) {
      int before = acknowledged.get();
      // As a recall would, but without marking the index searched: writers keep returning early.
      indexer.awaitAcknowledged();
      assertThat(index.size()).as("memories visible, %d acknowledged before", before).isGreaterThanOrEqualTo(before);
      checks++;
    }
    for (Thread writer : writers) {
      writer.join();
    }
    indexer.awaitAcknowledged();
    assertThat(index.size()).isEqualTo(1_200);
  }

  private interface IoSupplier<T> {
    T get() throws IOException;
  }

  private static <T> T uncheck(IoSupplier<T> body) {
    try {
      return body.get();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
