package dev.mnemo.store.rocks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.block.Block;
import dev.mnemo.store.block.BlockStore;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.codec.DagCbor;
import dev.mnemo.store.rocks.RocksStorage.Family;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.WriteBatch;

class RocksBlockStoreTest {
  @TempDir Path dir;
  MnemoStore store;
  BlockStore blocks;

  @BeforeEach
  void open() throws IOException {
    store = MnemoStore.open(dir);
    blocks = store.blocks();
  }

  @AfterEach
  void close() throws IOException {
    if (store != null) {
      store.close();
    }
  }

  private void reopen() throws IOException {
    store.close();
    store = null;
    store = MnemoStore.open(dir);
    blocks = store.blocks();
  }

  static Block block(String text) {
    return Block.dagCbor(DagCbor.encode(Map.of("text", text)));
  }

  private Set<Cid> storedCids() throws IOException {
    Set<Cid> cids = new HashSet<>();
    blocks.forEachCid(cid -> assertThat(cids.add(cid)).as("forEachCid visits %s once", cid).isTrue());
    return cids;
  }

  @Test
  void putThenGetReturnsTheSameBytes() throws IOException {
    Block a = block("a");
    blocks.put(a);
    assertThat(blocks.get(a.cid())).hasValueSatisfying(data -> assertThat(data).isEqualTo(a.data()));
    assertThat(blocks.has(a.cid())).isTrue();
  }

  @Test
  void getOfAnAbsentBlockIsEmptyAndHasIsFalse() throws IOException {
    blocks.put(block("present"));
    Cid absent = block("absent").cid();
    assertThat(blocks.get(absent)).isEmpty();
    assertThat(blocks.has(absent)).isFalse();
  }

  @Test
  void putIsIdempotent() throws IOException {
    Block a = block("a");
    blocks.put(a);
    blocks.put(a);
    assertThat(storedCids()).containsExactly(a.cid());
  }

  @Test
  void deleteRemovesOnlyThatBlockAndDeletingAnAbsentBlockIsFine() throws IOException {
    Block a = block("a");
    Block b = block("b");
    blocks.putAll(List.of(a, b));
    blocks.delete(a.cid());
    assertThat(blocks.get(a.cid())).isEmpty();
    assertThat(blocks.has(a.cid())).isFalse();
    assertThat(blocks.get(b.cid())).hasValueSatisfying(data -> assertThat(data).isEqualTo(b.data()));

    blocks.delete(a.cid());
    blocks.delete(block("never stored").cid());
    assertThat(storedCids()).containsExactly(b.cid());
  }

  @Test
  void forEachCidVisitsEveryStoredBlockOnce() throws IOException {
    // The store itself writes no blocks on open, so the visit is exactly what we put.
    assertThat(storedCids()).isEmpty();
    Set<Cid> expected = new HashSet<>();
    List<Block> batch = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      Block b = block("block " + i);
      batch.add(b);
      expected.add(b.cid());
    }
    blocks.putAll(batch);
    assertThat(storedCids()).isEqualTo(expected);
  }

  @Test
  void putOfBytesThatDoNotHashToTheCidIsRefusedAndStoresNothing() throws IOException {
    Block real = block("real");
    Block forged = new Block(real.cid(), block("forged").data());
    assertThatThrownBy(() -> blocks.put(forged))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(real.cid().toString());
    assertThat(blocks.has(real.cid())).isFalse();
    assertThat(blocks.get(real.cid())).isEmpty();
    assertThat(storedCids()).isEmpty();
  }

  @Test
  void putAllWithOneBadBlockStoresNoneOfTheGoodOnes() throws IOException {
    List<Block> batch = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      batch.add(block("good " + i));
    }
    Block victim = block("victim");
    batch.add(5, new Block(victim.cid(), block("not the victim").data()));

    assertThatThrownBy(() -> blocks.putAll(batch)).isInstanceOf(IllegalArgumentException.class);
    for (Block b : batch) {
      assertThat(blocks.has(b.cid())).as("%s must not be stored", b.cid()).isFalse();
    }
    assertThat(storedCids()).isEmpty();

    // And the survivors of a failed batch did not linger somewhere to be written later.
    reopen();
    assertThat(storedCids()).isEmpty();
  }

  @Test
  void concurrentPutsFromEightThreadsAreAllReadable() throws Exception {
    int threads = 8;
    int perThread = 150;
    CountDownLatch start = new CountDownLatch(1);
    List<Future<List<Block>>> results = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      for (int t = 0; t < threads; t++) {
        int thread = t;
        Callable<List<Block>> writer = () -> {
          List<Block> written = new ArrayList<>();
          start.await();
          for (int i = 0; i < perThread; i++) {
            if (i % 5 == 0) {
              List<Block> batch = List.of(block("t" + thread + " batch " + i + " a"), block("t" + thread + " batch " + i + " b"));
              blocks.putAll(batch);
              written.addAll(batch);
            } else {
              Block b = block("t" + thread + " single " + i);
              blocks.put(b);
              written.add(b);
            }
          }
          return written;
        };
        results.add(pool.submit(writer));
      }
      start.countDown();
      List<Block> all = new ArrayList<>();
      for (Future<List<Block>> f : results) {
        all.addAll(f.get(60, TimeUnit.SECONDS));
      }
      Set<Cid> expected = new HashSet<>();
      for (Block b : all) {
        expected.add(b.cid());
        assertThat(blocks.get(b.cid())).as("block %s", b.cid())
            .hasValueSatisfying(data -> assertThat(data).isEqualTo(b.data()));
      }
      assertThat(expected).hasSize(threads * (perThread + perThread / 5));
      assertThat(storedCids()).isEqualTo(expected);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void blocksSurviveCloseAndReopenAndDeletesStayDeleted() throws IOException {
    Block kept = block("kept");
    Block deleted = block("deleted");
    blocks.putAll(List.of(kept, deleted));
    blocks.delete(deleted.cid());

    reopen();
    assertThat(blocks.get(kept.cid())).hasValueSatisfying(data -> assertThat(data).isEqualTo(kept.data()));
    assertThat(blocks.get(deleted.cid())).isEmpty();
    assertThat(storedCids()).containsExactly(kept.cid());

    // Twice: the second open recovers from SST files the first open flushed, not the WAL.
    reopen();
    assertThat(blocks.get(kept.cid())).hasValueSatisfying(data -> assertThat(data).isEqualTo(kept.data()));
    assertThat(storedCids()).containsExactly(kept.cid());
  }

  @Test
  void aStoreWrittenWithAnotherFormatVersionIsRefusedNamingTheVersion() throws Exception {
    RocksStorage storage = store.storage();
    try (WriteBatch batch = new WriteBatch()) {
      batch.put(storage.handle(Family.META), "format".getBytes(StandardCharsets.UTF_8), "99".getBytes(StandardCharsets.UTF_8));
      storage.writeDurably(batch);
    }
    store.close();
    store = null;

    assertThatThrownBy(() -> MnemoStore.open(dir))
        .isInstanceOf(InvalidFormatException.class)
        .hasMessageContaining("99")
        .hasMessageContaining(Integer.toString(RocksStorage.FORMAT_VERSION))
        .satisfies(e -> assertThat(((InvalidFormatException) e).format()).isEqualTo("store"));
    // The refused open released the engine: a second try gets the same answer, not "in use".
    assertThatThrownBy(() -> MnemoStore.open(dir))
        .isInstanceOf(InvalidFormatException.class)
        .hasMessageContaining("99");
  }

  @Test
  void theCurrentFormatVersionIsRecordedOnCreate() throws IOException {
    byte[] version = store.storage().get(Family.META, "format".getBytes(StandardCharsets.UTF_8));
    assertThat(new String(version, StandardCharsets.UTF_8)).isEqualTo(Integer.toString(RocksStorage.FORMAT_VERSION));
  }

  @Test
  void aSecondOpenOfADirectoryInUseFailsClearly() throws IOException {
    assertThatThrownBy(() -> MnemoStore.open(dir))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("in use")
        .hasMessageContaining(dir.toString());
    // The failed open did not disturb the store that holds the directory.
    Block a = block("still writable");
    blocks.put(a);
    assertThat(blocks.get(a.cid())).isPresent();
  }
}
