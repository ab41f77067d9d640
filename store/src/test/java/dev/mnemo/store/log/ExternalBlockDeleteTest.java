package dev.mnemo.store.log;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.block.Block;
import dev.mnemo.store.block.BlockStore;
import dev.mnemo.store.block.BlockStoreUnavailableException;
import dev.mnemo.store.cid.Cid;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A forget on a node whose blocks live outside the engine (an IPFS node) commits first and removes
 * the block after. When the removal fails, the forget must still be committed and the log stay
 * consistent (the next write gets the next position, one head), and the removal must happen once
 * the block store works again, after a restart too. The block store here is an in-memory stand-in
 * for the IPFS store (the real one is tested against a real IPFS node in memory-node).
 */
class ExternalBlockDeleteTest {
  @TempDir Path dir;

  @Test
  void aFailedBlockRemovalNeitherFailsTheForgetNorIsLost() throws Exception {
    FlakyBlockStore blocks = new FlakyBlockStore();
    Cid forgotten;
    try (MnemoStore store = MnemoStore.open(dir, blocks)) {
      NamespaceLog log = store.log();
      Appended added = log.append("alice", List.of(NamespaceLogTest.memory("alice", "a secret")));
      forgotten = added.memories().get(0);
      assertThat(blocks.has(forgotten)).isTrue();

      blocks.deletesFail = true;
      Appended forget = log.forget("alice", List.of(forgotten));
      assertThat(forget.position()).isEqualTo(added.position() + 1);
      assertThat(log.state("alice", forgotten)).isEqualTo(MemoryState.FORGOTTEN);
      assertThat(blocks.has(forgotten)).as("the block the store could not remove").isTrue();

      Appended next = log.append("alice", List.of(NamespaceLogTest.memory("alice", "after the forget")));
      assertThat(next.position()).as("the position after the forget's").isEqualTo(forget.position() + 1);
      assertThat(log.heads("alice")).containsExactly(next.entry());
      assertThat(log.lastPosition()).isEqualTo(next.position());
    }

    blocks.deletesFail = false;
    try (MnemoStore store = MnemoStore.open(dir, blocks)) {
      // The writer retries left-over removals when idle, right after opening.
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (blocks.has(forgotten) && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(blocks.has(forgotten)).as("the forgotten block after a restart with a working store").isFalse();
      assertThat(store.log().state("alice", forgotten)).isEqualTo(MemoryState.FORGOTTEN);
    }
  }

  @Test
  void aForgottenMemoryWhoseBlockOutlivesTheForgetIsNotCached() throws Exception {
    FlakyBlockStore blocks = new FlakyBlockStore();
    try (MnemoStore store = MnemoStore.open(dir, blocks)) {
      NamespaceLog log = store.log();
      Cid cid = log.append("alice", List.of(NamespaceLogTest.memory("alice", "a secret"))).memories().get(0);
      blocks.deletesFail = true;
      log.forget("alice", List.of(cid));
      // The block store still holds the block (its removal waits for a retry): a read must
      // neither return the forgotten text (a recall racing the forget would show it) nor cache it.
      assertThat(log.memoryUncached(cid)).as("the block outlives the forget").isPresent();
      assertThat(log.memory(cid)).isEmpty();
      assertThat(log.memoryCacheStats().entries()).isZero();
      blocks.deletesFail = false;
    }
  }

  @Test
  void removedBlocksAreReportedSoThatCachesDropThem() throws Exception {
    FlakyBlockStore blocks = new FlakyBlockStore();
    try (MnemoStore store = MnemoStore.open(dir, blocks)) {
      Cid cid = store.log().append("alice", List.of(NamespaceLogTest.memory("alice", "a secret"))).memories().get(0);
      List<Cid> reported = new java.util.ArrayList<>();
      PendingDeletes deletes = new PendingDeletes(store.storage(), blocks, reported::addAll);

      blocks.deletesFail = true;
      deletes.removeCommitted(List.of(cid));
      assertThat(reported).as("nothing removed yet").isEmpty();

      blocks.deletesFail = false;
      deletes.removeCommitted(List.of());
      assertThat(reported).as("not due before the retry delay").isEmpty();
      deletes.removeCommitted(List.of(cid));
      assertThat(reported).containsExactly(cid);
      assertThat(blocks.has(cid)).isFalse();
    }
  }

  /** Blocks in a map; deletes fail like an unreachable IPFS node while {@code deletesFail}. */
  private static final class FlakyBlockStore implements BlockStore {
    final Map<Cid, byte[]> blocks = new ConcurrentHashMap<>();
    volatile boolean deletesFail;

    @Override
    public void put(Block block) {
      blocks.put(block.cid(), block.data());
    }

    @Override
    public void putAll(Collection<Block> all) {
      all.forEach(this::put);
    }

    @Override
    public Optional<byte[]> get(Cid cid) {
      return Optional.ofNullable(blocks.get(cid));
    }

    @Override
    public boolean has(Cid cid) {
      return blocks.containsKey(cid);
    }

    @Override
    public void delete(Cid cid) throws IOException {
      if (deletesFail) {
        throw new BlockStoreUnavailableException("block store down", 5, null);
      }
      blocks.remove(cid);
    }

    @Override
    public void forEachCid(Consumer<Cid> visitor) {
      blocks.keySet().forEach(visitor);
    }

    @Override
    public void close() {}
  }
}
