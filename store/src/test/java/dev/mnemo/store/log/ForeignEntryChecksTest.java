package dev.mnemo.store.log;

import static dev.mnemo.store.log.NamespaceLogTest.memory;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.block.Block;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.cid.Multicodec;
import dev.mnemo.store.identity.AgentKey;
import dev.mnemo.store.identity.Author;
import dev.mnemo.store.model.LogEntry;
import dev.mnemo.store.model.Op;
import dev.mnemo.store.rocks.RocksStorage.Family;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.WriteBatch;

/**
 * What a peer or a CAR file may not do with a validly signed entry: bring the same bytes in again
 * under another CID, tie two namespaces' logs together, set a clock that pushes the namespace's
 * towards overflow, or leave more heads than an entry may list so that no one can write again.
 */
class ForeignEntryChecksTest {
  private static final AgentKey PEER = AgentKey.generate();

  @TempDir Path dir;

  @Test
  void theSameEntryUnderAnotherCodecOrCidVersionIsRejected() throws Exception {
    try (MnemoStore target = MnemoStore.open(dir)) {
      Block entry = create(PEER, "alice");
      for (Cid alias : List.of(Cid.of(Multicodec.RAW, entry.data()), Cid.v1(Multicodec.DAG_PB, entry.cid().multihash()))) {
        assertThatThrownBy(() -> target.log().applyBlocks(List.of(new Block(alias, entry.data()))))
            .isInstanceOf(RejectedEntryException.class).hasMessageContaining("dag-cbor");
      }
      assertThat(target.log().applyBlocks(List.of(entry))).isEqualTo(1);
      assertThat(target.log().heads("alice")).containsExactly(entry.cid());
    }
  }

  @Test
  void anEntryWhoseParentBelongsToAnotherNamespaceIsRejected() throws Exception {
    try (MnemoStore store = MnemoStore.open(dir)) {
      Cid bobs = store.log().append("bob", List.of(memory("bob", "bob's"))).entry();
      Block alices = entry(store.nodeKey(), "alice", Op.FORGET, List.of(junk(2)), List.of(bobs), 2);
      assertThatThrownBy(() -> store.log().applyBlocks(List.of(alices)))
          .isInstanceOf(RejectedEntryException.class).hasMessageContaining("namespace bob");
      // In one batch with its parent, the same.
      Block root = create(PEER, "carol");
      Block child = entry(PEER, "alice", Op.FORGET, List.of(junk(4)), List.of(root.cid()), 2);
      assertThatThrownBy(() -> store.log().applyBlocks(List.of(root, child)))
          .isInstanceOf(RejectedEntryException.class).hasMessageContaining("namespace carol");
      assertThat(store.log().heads("alice")).isEmpty();
      assertThat(store.log().heads("carol")).as("nothing of a rejected call is stored").isEmpty();
    }
  }

  @Test
  void aClockThatIsNotOnePastTheHighestParentIsRejected() throws Exception {
    try (MnemoStore store = MnemoStore.open(dir)) {
      Cid head = store.log().append("alice", List.of(memory("alice", "one"))).entry();
      long clock = store.log().clock("alice");
      for (long bad : List.of(Long.MAX_VALUE, clock + 2, clock)) {
        Block entry = entry(store.nodeKey(), "alice", Op.FORGET, List.of(junk(5)), List.of(head), bad);
        assertThatThrownBy(() -> store.log().applyBlocks(List.of(entry)))
            .isInstanceOf(RejectedEntryException.class).hasMessageContaining("clock " + bad);
      }
      Block badRoot = Block.dagCbor(LogEntry.signed(Author.of(PEER), "dave", Op.CREATE, List.of(), List.of(), 2, null, null).encode());
      assertThatThrownBy(() -> store.log().applyBlocks(List.of(badRoot)))
          .as("a root entry's clock is 1").isInstanceOf(RejectedEntryException.class).hasMessageContaining("clock 2");
      Block good = entry(store.nodeKey(), "alice", Op.FORGET, List.of(junk(5)), List.of(head), clock + 1);
      assertThat(store.log().applyBlocks(List.of(good))).isEqualTo(1);
      assertThat(store.log().append("alice", List.of(memory("alice", "two"))).position()).isPositive();
      assertThat(store.log().clock("alice")).isEqualTo(clock + 2);
    }
  }

  /**
   * 1,025 concurrent entries leave more heads than an entry may list. Local writes once failed
   * for good then; now each merges as many as it may, and a replica takes them all.
   */
  @Test
  void moreHeadsThanAnEntryMayListAreMergedByTheNextWrites() throws Exception {
    try (MnemoStore store = MnemoStore.open(dir.resolve("a"));
         MnemoStore replica = MnemoStore.open(dir.resolve("b"))) {
      NamespaceLog log = store.log();
      // The largest bounds there are (see HeadsBoundTest for the defaults).
      log.limitHeads(Integer.MAX_VALUE, Integer.MAX_VALUE, LogEntry.MAX_PARENTS);
      replica.log().limitHeads(Integer.MAX_VALUE, Integer.MAX_VALUE, LogEntry.MAX_PARENTS);
      Cid root = log.append("alice", List.of(memory("alice", "root"))).entry();
      List<Block> siblings = new ArrayList<>();
      for (int i = 0; i < LogEntry.MAX_PARENTS + 1; i++) {
        siblings.add(entry(store.nodeKey(), "alice", Op.FORGET, List.of(junk(100 + i)), List.of(root), 2));
      }
      // One sibling gets a child, at clock 3, whose CID sorts after every other head: the one
      // head the next write leaves out, so that its clock must come from the heads it lists.
      Cid highestSibling = siblings.stream().map(Block::cid).max(Cid::compareTo).orElseThrow();
      Block last = siblings.get(0);
      Block later = null;
      for (int i = 0; later == null; i++) {
        Block candidate = entry(store.nodeKey(), "alice", Op.FORGET, List.of(junk(10_000 + i)), List.of(last.cid()), 3);
        if (candidate.cid().compareTo(highestSibling) > 0) {
          later = candidate;
        }
      }
      siblings.add(later);
      assertThat(log.applyBlocks(siblings)).isEqualTo(LogEntry.MAX_PARENTS + 2);
      assertThat(log.heads("alice")).hasSize(LogEntry.MAX_PARENTS + 1).contains(later.cid());

      Cid first = log.append("alice", List.of(memory("alice", "first"))).entry();
      LogEntry firstEntry = log.entry(first).orElseThrow();
      assertThat(firstEntry.parents()).hasSize(LogEntry.MAX_PARENTS).doesNotContain(later.cid());
      assertThat(firstEntry.clock()).as("one past the parents it lists, not the namespace's").isEqualTo(3);
      assertThat(log.heads("alice")).containsExactlyInAnyOrder(first, later.cid());
      Cid second = log.append("alice", List.of(memory("alice", "second"))).entry();
      assertThat(log.heads("alice")).containsExactly(second);

      List<Block> everything = new ArrayList<>();
      log.walk("alice", positioned -> {
        try {
          everything.add(new Block(positioned.cid(), log.blocks().get(positioned.cid()).orElseThrow()));
          for (Cid ref : positioned.entry().refs()) {
            log.blocks().get(ref).ifPresent(bytes -> everything.add(new Block(ref, bytes)));
          }
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
        return true;
      });
      replica.log().applyBlocks(everything);
      assertThat(replica.log().heads("alice")).containsExactly(second);
    }
  }

  /** A write that cannot be staged fails alone, not the other writes committed with it. */
  @Test
  void aWriteThatCannotBeStagedFailsAloneNotItsGroup() throws Exception {
    try (MnemoStore store = MnemoStore.open(dir)) {
      // A namespace at the largest clock, as a store written before clocks were checked may hold.
      try (WriteBatch batch = new WriteBatch()) {
        batch.put(store.storage().handle(Family.META), LogKeys.clockKey("wedged"), LogKeys.position(Long.MAX_VALUE));
        store.storage().writeDurably(batch);
      }
      List<CompletableFuture<?>> good = new ArrayList<>();
      List<CompletableFuture<?>> wedged = new ArrayList<>();
      for (int round = 0; round < 20; round++) {
        good.add(store.log().appendAsync("fine", List.of(memory("fine", "before " + round))));
        wedged.add(store.log().appendAsync("wedged", List.of(memory("wedged", "stuck " + round))));
        good.add(store.log().appendAsync("fine", List.of(memory("fine", "after " + round))));
      }
      for (CompletableFuture<?> f : good) {
        assertThat(f).succeedsWithin(java.time.Duration.ofSeconds(30));
      }
      for (CompletableFuture<?> f : wedged) {
        assertThat(f).failsWithin(java.time.Duration.ofSeconds(30));
      }
      assertThat(store.log().heads("wedged")).isEmpty();
    }
  }

  private static Block entry(AgentKey key, String ns, Op op, List<Cid> refs, List<Cid> parents, long clock) {
    return Block.dagCbor(LogEntry.signed(key, ns, op, refs, parents, clock).encode());
  }

  private static Block create(AgentKey key, String ns) {
    return Block.dagCbor(LogEntry.signed(Author.of(key), ns, Op.CREATE, List.of(), List.of(), 1, null, null).encode());
  }

  private static Cid junk(int i) {
    return Cid.dagCbor(("junk " + i).getBytes(StandardCharsets.UTF_8));
  }
}
