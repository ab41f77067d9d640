package dev.mnemo.store.log;

import static dev.mnemo.store.log.NamespaceLogTest.memory;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.acl.Ability;
import dev.mnemo.store.acl.UnauthorizedException;
import dev.mnemo.store.block.Block;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.identity.AgentKey;
import dev.mnemo.store.identity.Author;
import dev.mnemo.store.model.LogEntry;
import dev.mnemo.store.model.Memory;
import dev.mnemo.store.model.Op;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code invalidate} op: it ends a live memory's validity without forgetting it, needs
 * {@code remember} locally and on every replica, and its effect (the earliest {@code at} per
 * memory) is the same whatever order the entries arrive in, also before the memory's add.
 */
class InvalidateTest {
  private static final String NS = "facts";
  private static final AgentKey OWNER = AgentKey.generate();
  private static final AgentKey WRITER = AgentKey.generate();
  private static final AgentKey FORGETTER = AgentKey.generate();

  @TempDir Path dir;
  private final List<MnemoStore> opened = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    for (MnemoStore store : opened) {
      store.close();
    }
  }

  @Test
  void aLocalInvalidateKeepsTheMemoryLiveAndTheEarliestTimeWins() throws Exception {
    NamespaceLog log = open("local").log();
    Author owner = Author.of(OWNER);
    Memory m = memory(NS, "Bob lives in Paris");
    Cid ref = log.append(owner, NS, List.of(m)).memories().get(0);
    assertThat(log.invalidatedAt(NS, ref)).isEmpty();

    Appended first = log.invalidate(owner, NS, List.of(ref), 5_000);
    LogEntry entry = log.entry(first.entry()).orElseThrow();
    assertThat(entry.op()).isEqualTo(Op.INVALIDATE);
    assertThat(entry.version()).isEqualTo(3);
    assertThat(entry.at()).isEqualTo(5_000L);
    assertThat(entry.refs()).containsExactly(ref);
    assertThat(log.invalidatedAt(NS, ref)).hasValue(5_000);
    assertThat(log.state(NS, ref)).isEqualTo(MemoryState.LIVE);
    assertThat(log.memory(ref)).contains(m);
    assertThat(log.heads(NS)).containsExactly(first.entry());

    log.invalidate(owner, NS, List.of(ref), 9_000);
    assertThat(log.invalidatedAt(NS, ref)).as("a later time changes nothing").hasValue(5_000);
    log.invalidate(owner, NS, List.of(ref), -7);
    assertThat(log.invalidatedAt(NS, ref)).as("an earlier one wins").hasValue(-7);
  }

  @Test
  void invalidationsAreFoundAgainAfterARestartInEveryNamespaceThatHasThem() throws Exception {
    Path data = dir.resolve("restart");
    Author owner = Author.of(OWNER);
    List<String> namespaces = List.of("a", "a.b", "b", "b-", "c");
    List<Cid> refs = new ArrayList<>();
    try (MnemoStore store = MnemoStore.open(data)) {
      for (String ns : namespaces) {
        for (int i = 0; i < 3; i++) {
          refs.add(store.log().append(owner, ns, List.of(memory(ns, "fact " + i))).memories().get(0));
        }
      }
      for (int n = 0; n < namespaces.size(); n++) {
        if (n != 2) {
          for (int i = 0; i < 3; i++) {
            store.log().invalidate(owner, namespaces.get(n), List.of(refs.get(3 * n + i)), 100L * n + i);
          }
        }
      }
    }
    try (MnemoStore store = MnemoStore.open(data)) {
      for (int n = 0; n < namespaces.size(); n++) {
        for (int i = 0; i < 3; i++) {
          assertThat(store.log().invalidatedAt(namespaces.get(n), refs.get(3 * n + i))).as("%s #%d", namespaces.get(n), i)
              .isEqualTo(n == 2 ? OptionalLong.empty() : OptionalLong.of(100L * n + i));
        }
      }
    }
  }

  @Test
  void anUnknownOrForgottenMemoryIsNotFoundAndNothingIsWritten() throws Exception {
    NamespaceLog log = open("missing").log();
    Author owner = Author.of(OWNER);
    Cid ref = log.append(owner, NS, List.of(memory(NS, "soon gone"))).memories().get(0);
    Cid unknown = Block.dagCbor(memory(NS, "never written").encode()).cid();
    long before = log.lastPosition();
    assertThatThrownBy(() -> log.invalidate(owner, NS, List.of(unknown), 1))
        .isInstanceOfSatisfying(MemoryNotFoundException.class, e -> assertThat(e.cid()).isEqualTo(unknown));
    assertThatThrownBy(() -> log.invalidate(owner, "elsewhere", List.of(ref), 1)).isInstanceOf(MemoryNotFoundException.class);
    assertThat(log.lastPosition()).isEqualTo(before);
    assertThat(log.namespaces()).containsExactly(NS);

    log.forget(owner, NS, List.of(ref));
    assertThatThrownBy(() -> log.invalidate(owner, NS, List.of(ref), 1)).isInstanceOf(MemoryNotFoundException.class);
    assertThat(log.invalidatedAt(NS, ref)).isEmpty();
  }

  @Test
  void invalidatingNeedsRememberNotForget() throws Exception {
    NamespaceLog log = open("abilities").log();
    Author owner = Author.of(OWNER);
    Cid ref = log.append(owner, NS, List.of(memory(NS, "a fact"))).memories().get(0);
    log.grant(owner, NS, FORGETTER.did(), Set.of(Ability.FORGET, Ability.READ));
    log.grant(owner, NS, WRITER.did(), Set.of(Ability.REMEMBER));
    long before = log.lastPosition();
    assertThatThrownBy(() -> log.invalidate(Author.of(FORGETTER), NS, List.of(ref), 1))
        .isInstanceOf(UnauthorizedException.class)
        .hasMessageContaining("remember");
    assertThat(log.lastPosition()).isEqualTo(before);
    log.invalidate(Author.of(WRITER), NS, List.of(ref), 1);
    assertThat(log.invalidatedAt(NS, ref)).hasValue(1);
  }

  /**
   * The owner invalidates a memory a writer added concurrently (the owner's entry does not have
   * the add in its past): a replica may get the invalidate first. Both orders, and both together,
   * end with the same earliest time, and the memory live.
   */
  @Test
  void anInvalidateThatArrivesBeforeItsMemoryStillCounts() throws Exception {
    Block root = block(LogEntry.signed(Author.of(OWNER), NS, Op.CREATE, List.of(), List.of(), 1, null, null));
    Block grant = block(LogEntry.signed(Author.of(OWNER), NS, Op.GRANT, List.of(), List.of(root.cid()), 2, WRITER.did(),
        Set.of(Ability.REMEMBER)));
    Memory m = memory(NS, "Alice works at Acme");
    Block memoryBlock = Block.dagCbor(m.encode());
    Cid ref = memoryBlock.cid();
    Block add = block(LogEntry.signed(WRITER, NS, Op.ADD, List.of(ref), List.of(grant.cid()), 3));
    Block early = invalidate(OWNER, ref, grant.cid(), 3, 2_000);
    Block late = invalidate(WRITER, ref, add.cid(), 4, 3_000);

    NamespaceLog invalidateFirst = open("invalidate-first").log();
    assertThat(invalidateFirst.applyBlocks(List.of(root, grant, early))).isEqualTo(3);
    assertThat(invalidateFirst.state(NS, ref)).isEqualTo(MemoryState.UNKNOWN);
    assertThat(invalidateFirst.invalidatedAt(NS, ref)).hasValue(2_000);
    assertThat(invalidateFirst.applyBlocks(List.of(add, memoryBlock, late))).isEqualTo(2);

    NamespaceLog addFirst = open("add-first").log();
    assertThat(addFirst.applyBlocks(List.of(root, grant, add, memoryBlock, late))).isEqualTo(4);
    assertThat(addFirst.invalidatedAt(NS, ref)).hasValue(3_000);
    assertThat(addFirst.applyBlocks(List.of(early))).isEqualTo(1);

    NamespaceLog together = open("together").log();
    assertThat(together.applyBlocks(List.of(late, memoryBlock, early, add, grant, root))).isEqualTo(5);

    for (NamespaceLog log : List.of(invalidateFirst, addFirst, together)) {
      assertThat(log.invalidatedAt(NS, ref)).isEqualTo(OptionalLong.of(2_000));
      assertThat(log.state(NS, ref)).isEqualTo(MemoryState.LIVE);
      assertThat(log.heads(NS)).containsExactlyInAnyOrder(early.cid(), late.cid());
    }
  }

  @Test
  void aReplicaRefusesAnInvalidateWhoseAuthorLacksRemember() throws Exception {
    Block root = block(LogEntry.signed(Author.of(OWNER), NS, Op.CREATE, List.of(), List.of(), 1, null, null));
    Block grant = block(LogEntry.signed(Author.of(OWNER), NS, Op.GRANT, List.of(), List.of(root.cid()), 2,
        FORGETTER.did(), Set.of(Ability.FORGET)));
    Memory m = memory(NS, "owner's");
    Block memoryBlock = Block.dagCbor(m.encode());
    Block add = block(LogEntry.signed(OWNER, NS, Op.ADD, List.of(memoryBlock.cid()), List.of(grant.cid()), 3));
    NamespaceLog log = open("replica").log();
    assertThat(log.applyBlocks(List.of(root, grant, add, memoryBlock))).isEqualTo(3);

    Block byForgetter = invalidate(FORGETTER, memoryBlock.cid(), add.cid(), 4, 1);
    assertThatThrownBy(() -> log.applyBlocks(List.of(byForgetter)))
        .isInstanceOfSatisfying(RejectedEntryException.class, e -> assertThat(e.cid()).isEqualTo(byForgetter.cid()))
        .hasMessageContaining("does not hold 'remember'");
    assertThat(log.invalidatedAt(NS, memoryBlock.cid())).isEmpty();
    assertThat(log.heads(NS)).containsExactly(add.cid());
  }

  /**
   * As a forget, an invalidate is decided by its causal past alone: one concurrent with a revoke
   * of its author's remember is taken in either order (only adds are voided by a revoke).
   */
  @Test
  void anInvalidateConcurrentWithItsAuthorsRevokeAppliesInEitherOrder() throws Exception {
    Block root = block(LogEntry.signed(Author.of(OWNER), NS, Op.CREATE, List.of(), List.of(), 1, null, null));
    Block grant = block(LogEntry.signed(Author.of(OWNER), NS, Op.GRANT, List.of(), List.of(root.cid()), 2, WRITER.did(),
        Set.of(Ability.REMEMBER)));
    Memory m = memory(NS, "owner's");
    Block memoryBlock = Block.dagCbor(m.encode());
    Block add = block(LogEntry.signed(OWNER, NS, Op.ADD, List.of(memoryBlock.cid()), List.of(grant.cid()), 3));
    Block revoke = block(LogEntry.signed(Author.of(OWNER), NS, Op.REVOKE, List.of(), List.of(add.cid()), 4, WRITER.did(),
        Set.of(Ability.REMEMBER)));
    Block byWriter = invalidate(WRITER, memoryBlock.cid(), add.cid(), 4, 77);
    for (List<Block> order : List.of(List.of(revoke, byWriter), List.of(byWriter, revoke))) {
      NamespaceLog log = open("revoke-" + order.get(0).cid()).log();
      assertThat(log.applyBlocks(List.of(root, grant, add, memoryBlock))).isEqualTo(3);
      for (Block entry : order) {
        assertThat(log.applyBlocks(List.of(entry))).isEqualTo(1);
      }
      assertThat(log.invalidatedAt(NS, memoryBlock.cid())).hasValue(77);
      assertThat(log.state(NS, memoryBlock.cid())).isEqualTo(MemoryState.LIVE);
      assertThat(log.acl(NS).can(WRITER.did(), Ability.REMEMBER)).isFalse();
    }
  }

  private MnemoStore open(String name) throws Exception {
    MnemoStore store = MnemoStore.open(dir.resolve(name));
    opened.add(store);
    return store;
  }

  private static Block invalidate(AgentKey key, Cid ref, Cid parent, long clock, long at) {
    return block(LogEntry.signed(Author.of(key), NS, Op.INVALIDATE, List.of(ref), List.of(parent), clock, null, null, at));
  }

  private static Block block(LogEntry entry) {
    return Block.dagCbor(entry.encode());
  }
}
