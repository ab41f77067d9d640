package dev.mnemo.store.log;

import static dev.mnemo.store.log.NamespaceLogTest.memory;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.acl.Ability;
import dev.mnemo.store.block.Block;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.identity.AgentKey;
import dev.mnemo.store.identity.Author;
import dev.mnemo.store.model.LogEntry;
import dev.mnemo.store.model.Memory;
import dev.mnemo.store.model.Op;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Head flooding (issue 22): a CAR of thousands of separate roots once left as many heads, and the
 * next local write listed 1,024 parents. An import may add a bounded number of heads, a pull's
 * batch may leave a bounded number, and a local write lists a bounded number of parents while
 * later writes merge the rest.
 */
class HeadsBoundTest {
  @TempDir Path dir;

  @Test
  void anImportOfMoreSeparateRootsThanTheLimitIsRefusedWholeNamingTheLimit() throws Exception {
    try (MnemoStore store = MnemoStore.open(dir)) {
      NamespaceLog log = store.log();
      Cid first = log.append("alice", List.of(memory("alice", "first"))).entry();
      List<Block> flood = roots(store.nodeKey(), "alice", NamespaceLog.DEFAULT_MAX_IMPORTED_HEADS + 1, "flood");
      assertThatThrownBy(() -> log.applyBlocks(flood, "alice"))
          .isInstanceOf(TooManyHeadsException.class)
          .hasMessageContaining("add " + (NamespaceLog.DEFAULT_MAX_IMPORTED_HEADS + 1) + " heads")
          .hasMessageContaining("at most " + NamespaceLog.DEFAULT_MAX_IMPORTED_HEADS)
          .satisfies(e -> assertThat(((TooManyHeadsException) e).limit()).isEqualTo(NamespaceLog.DEFAULT_MAX_IMPORTED_HEADS));
      assertThat(log.heads("alice")).as("nothing of a refused import is stored").containsExactly(first);

      List<Block> fits = roots(store.nodeKey(), "alice", NamespaceLog.DEFAULT_MAX_IMPORTED_HEADS, "fits");
      assertThat(log.applyBlocks(fits, "alice")).isEqualTo(NamespaceLog.DEFAULT_MAX_IMPORTED_HEADS);
      assertThat(log.heads("alice")).hasSize(NamespaceLog.DEFAULT_MAX_IMPORTED_HEADS + 1);
      // The limit is per import: one that merges heads, or adds none, is not counted against it.
      log.append("alice", List.of(memory("alice", "merge")));
      Cid merge = log.append("alice", List.of(memory("alice", "merge again"))).entry();
      assertThat(log.heads("alice")).as("two writes merge a whole import's heads").containsExactly(merge);
    }
  }

  @Test
  void theImportLimitIsConfigurable() throws Exception {
    try (MnemoStore store = MnemoStore.open(dir)) {
      store.log().limitHeads(3, NamespaceLog.DEFAULT_MAX_REPLICATED_HEADS, NamespaceLog.DEFAULT_MAX_LOCAL_PARENTS);
      store.log().append("alice", List.of(memory("alice", "first")));
      assertThatThrownBy(() -> store.log().applyBlocks(roots(store.nodeKey(), "alice", 4, "x"), "alice"))
          .isInstanceOf(TooManyHeadsException.class).hasMessageContaining("at most 3");
      assertThat(store.log().applyBlocks(roots(store.nodeKey(), "alice", 3, "y"), "alice")).isEqualTo(3);
    }
  }

  @Test
  void aLocalWriteListsBoundedParentsAndLaterWritesMergeTheRest() throws Exception {
    try (MnemoStore store = MnemoStore.open(dir)) {
      NamespaceLog log = store.log();
      log.append("alice", List.of(memory("alice", "first")));
      int fan = 3_000;
      // As an older node, or a store written before the bound, may hold them.
      log.applyBlocks(roots(store.nodeKey(), "alice", fan, "old"), "alice", Set.of(), HeadsLimit.NONE);
      assertThat(log.heads("alice")).hasSize(fan + 1);

      int max = NamespaceLog.DEFAULT_MAX_LOCAL_PARENTS;
      Cid next = log.append("alice", List.of(memory("alice", "next"))).entry();
      LogEntry entry = log.entry(next).orElseThrow();
      assertThat(entry.parents()).hasSize(max);
      int bytes = log.blocks().get(next).orElseThrow().length;
      System.out.printf("a write after %d separate roots: %d parents, an entry of %d bytes%n", fan, entry.parents().size(), bytes);
      assertThat(bytes).as("the entry's bytes").isLessThan(4_000);
      assertThat(log.heads("alice")).hasSize(fan + 1 - max + 1);
      int writes = 1;
      while (log.heads("alice").size() > 1) {
        log.append("alice", List.of(memory("alice", "merge " + writes)));
        writes++;
      }
      assertThat(writes).as("each write merges max - 1 heads").isEqualTo((fan + max - 1) / (max - 1));
      // A grant or revoke still lists every head it may (up to LogEntry.MAX_PARENTS).
      log.applyBlocks(roots(store.nodeKey(), "alice", 200, "again"), "alice", Set.of(), HeadsLimit.NONE);
      Cid grant = log.grant(store.log().nodeAuthor(), "alice", AgentKey.generate().did(), Set.of(Ability.REMEMBER)).entry();
      assertThat(log.entry(grant).orElseThrow().parents()).hasSize(201);
    }
  }

  /**
   * The heads a bounded write leaves out must not hold the grant its author writes by: the write
   * would be refused, though the author holds the ability, or (on a replica) judged by a past
   * without the grant.
   */
  @Test
  void theParentsABoundedWriteListsHoldTheGrantsItsAuthorWritesBy() throws Exception {
    try (MnemoStore store = MnemoStore.open(dir)) {
      NamespaceLog log = store.log();
      Cid root = log.append("alice", List.of(memory("alice", "root"))).entry();
      List<Block> siblings = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        siblings.add(Block.dagCbor(LogEntry.signed(store.nodeKey(), "alice", Op.FORGET, List.of(junk(i)), List.of(root), 2).encode()));
      }
      Cid highest = siblings.stream().map(Block::cid).max(Cid::compareTo).orElseThrow();
      // A grant to bob under one sibling, whose CID sorts after every other head: CID order alone
      // would leave it out of a write's 64 parents.
      AgentKey bob;
      Block grant;
      do {
        bob = AgentKey.generate();
        grant = Block.dagCbor(LogEntry.signed(store.log().nodeAuthor(), "alice", Op.GRANT, List.of(), List.of(siblings.get(0).cid()), 3,
            bob.did(), Set.of(Ability.REMEMBER)).encode());
      } while (grant.cid().compareTo(highest) < 0);
      siblings.add(grant);
      log.applyBlocks(siblings, "alice", Set.of(), HeadsLimit.NONE);
      assertThat(log.heads("alice")).hasSize(200);

      Cid bobs = log.append(Author.of(bob), "alice", List.of(memory("alice", "bob's"))).entry();
      assertThat(log.entry(bobs).orElseThrow().parents()).hasSize(NamespaceLog.DEFAULT_MAX_LOCAL_PARENTS).contains(grant.cid());
    }
  }

  @Test
  void aPullsBatchMayNotLeaveMoreHeadsThanAnAnnouncementMayName() throws Exception {
    try (MnemoStore store = MnemoStore.open(dir)) {
      NamespaceLog log = store.log();
      Cid root = log.append("alice", List.of(memory("alice", "root"))).entry();
      int cap = NamespaceLog.DEFAULT_MAX_REPLICATED_HEADS;
      List<Block> siblings = new ArrayList<>();
      for (int i = 0; i < cap + 10; i++) {
        siblings.add(Block.dagCbor(LogEntry.signed(store.nodeKey(), "alice", Op.FORGET, List.of(junk(i)), List.of(root), 2).encode()));
      }
      // In two batches, as a pull applies them: the second would pass the bound.
      assertThat(log.applyBlocks(siblings.subList(0, cap - 5), "alice", Set.of())).isEqualTo(cap - 5);
      assertThatThrownBy(() -> log.applyBlocks(siblings.subList(cap - 5, siblings.size()), "alice", Set.of()))
          .isInstanceOf(TooManyHeadsException.class).hasMessageContaining("with " + (cap + 10) + " heads")
          .hasMessageContaining("at most " + cap);
      assertThat(log.heads("alice")).hasSize(cap - 5);
      assertThat(log.applyBlocks(siblings.subList(cap - 5, cap), "alice", Set.of())).isEqualTo(5);
    }
  }

  /** {@code n} root adds by {@code key}, each with a memory of its own: separate roots of one namespace. */
  private static List<Block> roots(AgentKey key, String ns, int n, String tag) {
    List<Block> blocks = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Memory memory = memory(ns, tag + " " + i);
      Block block = Block.dagCbor(memory.encode());
      blocks.add(block);
      blocks.add(Block.dagCbor(LogEntry.signed(key, ns, Op.ADD, List.of(block.cid()), List.of(), 1).encode()));
    }
    return blocks;
  }

  private static Cid junk(int i) {
    return Cid.dagCbor(("junk " + i).getBytes(StandardCharsets.UTF_8));
  }
}
