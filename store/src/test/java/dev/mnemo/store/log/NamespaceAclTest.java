package dev.mnemo.store.log;

import static dev.mnemo.store.log.NamespaceLogTest.memory;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.acl.Ability;
import dev.mnemo.store.acl.Delegation;
import dev.mnemo.store.acl.NamespaceAcl;
import dev.mnemo.store.acl.NamespaceExistsException;
import dev.mnemo.store.acl.UnauthorizedException;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.identity.AgentKey;
import dev.mnemo.store.identity.Author;
import dev.mnemo.store.model.LogEntry;
import dev.mnemo.store.model.Op;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Local writes under access control: owners, grants, revokes, delegations, and what a restart keeps. */
class NamespaceAclTest {
  private static final AgentKey ALICE = AgentKey.generate();
  private static final AgentKey BOB = AgentKey.generate();
  private static final AgentKey CAROL = AgentKey.generate();
  private static final Author A = Author.of(ALICE);
  private static final Author B = Author.of(BOB);
  private static final Author C = Author.of(CAROL);

  @TempDir Path dir;

  @Test
  void theFirstWriteMakesItsAuthorTheOwnerAndOthersNeedAGrant() throws Exception {
    try (MnemoStore store = MnemoStore.open(dir)) {
      NamespaceLog log = store.log();
      assertThat(log.acl("notes").exists()).isFalse();
      Appended first = log.append(A, "notes", List.of(memory("notes", "alice's")));
      assertThat(log.entry(first.entry()).orElseThrow().isRoot()).isTrue();
      NamespaceAcl acl = log.acl("notes");
      assertThat(acl.exists()).isTrue();
      assertThat(acl.owners()).containsExactly(ALICE.did());
      assertThat(acl.can(ALICE.did(), Ability.ADMIN)).isTrue();
      assertThat(acl.can(BOB.did(), Ability.REMEMBER)).isFalse();

      assertThatThrownBy(() -> log.append(B, "notes", List.of(memory("notes", "bob's"))))
          .isInstanceOfSatisfying(UnauthorizedException.class, e -> {
            assertThat(e.author()).isEqualTo(BOB.did());
            assertThat(e.ability()).isEqualTo(Ability.REMEMBER);
          });
      assertThatThrownBy(() -> log.forget(B, "notes", first.memories()))
          .isInstanceOf(UnauthorizedException.class);
      assertThatThrownBy(() -> log.grant(B, "notes", BOB.did(), Set.of(Ability.ADMIN)))
          .isInstanceOf(UnauthorizedException.class);
      assertThat(log.heads("notes")).as("nothing of a refused write is stored").containsExactly(first.entry());

      log.grant(A, "notes", BOB.did(), Set.of(Ability.REMEMBER));
      assertThat(log.acl("notes").grants()).containsEntry(BOB.did(), Set.of(Ability.REMEMBER));
      Appended bobs = log.append(B, "notes", List.of(memory("notes", "bob's")));
      assertThat(log.state("notes", bobs.memories().get(0))).isEqualTo(MemoryState.LIVE);
      assertThat(log.entry(bobs.entry()).orElseThrow().author()).isEqualTo(BOB.did());
      assertThatThrownBy(() -> log.forget(B, "notes", bobs.memories()))
          .as("remember does not imply forget").isInstanceOf(UnauthorizedException.class);
      // Someone else's namespace is created by whoever writes to it first.
      log.append(B, "bobs", List.of(memory("bobs", "mine")));
      assertThat(log.acl("bobs").owners()).containsExactly(BOB.did());
    }
  }

  @Test
  void adminGrantsAndRevokesAndOwnersCannotBeRevoked() throws Exception {
    try (MnemoStore store = MnemoStore.open(dir)) {
      NamespaceLog log = store.log();
      Appended created = log.create(A, "team");
      assertThat(created.memories()).isEmpty();
      assertThat(log.entry(created.entry()).orElseThrow().op()).isEqualTo(Op.CREATE);
      assertThatThrownBy(() -> log.create(B, "team")).isInstanceOf(NamespaceExistsException.class);
      assertThatThrownBy(() -> log.create(A, "team")).isInstanceOf(NamespaceExistsException.class);

      log.grant(A, "team", BOB.did(), Set.of(Ability.ADMIN));
      assertThat(log.acl("team").can(BOB.did(), Ability.FORGET)).as("admin implies every ability").isTrue();
      log.grant(B, "team", CAROL.did(), Set.of(Ability.REMEMBER, Ability.READ));
      log.append(C, "team", List.of(memory("team", "carol's")));

      log.revoke(B, "team", CAROL.did(), Set.of(Ability.REMEMBER));
      assertThat(log.acl("team").grants()).containsEntry(CAROL.did(), Set.of(Ability.READ));
      assertThatThrownBy(() -> log.append(C, "team", List.of(memory("team", "again"))))
          .isInstanceOf(UnauthorizedException.class);
      // A grant made after the revoke, which it has in its past, counts again.
      log.grant(B, "team", CAROL.did(), Set.of(Ability.REMEMBER));
      log.append(C, "team", List.of(memory("team", "again")));

      // Revoking an owner is written but changes nothing.
      log.revoke(B, "team", ALICE.did(), Set.of(Ability.ADMIN));
      assertThat(log.acl("team").isOwner(ALICE.did())).isTrue();
      log.append(A, "team", List.of(memory("team", "owner's")));

      // Revoking admin leaves the holder nothing it held through it.
      log.revoke(A, "team", BOB.did(), Set.of(Ability.ADMIN));
      assertThat(log.acl("team").grants()).doesNotContainKey(BOB.did());
      assertThatThrownBy(() -> log.grant(B, "team", CAROL.did(), Set.of(Ability.FORGET)))
          .isInstanceOf(UnauthorizedException.class);
      assertThat(log.acl("team").can(CAROL.did(), Ability.REMEMBER))
          .as("grants a revoked admin made before stay").isTrue();
    }
  }

  @Test
  void aGrantInANamespaceWithNoEntriesCreatesItFirst() throws Exception {
    try (MnemoStore store = MnemoStore.open(dir)) {
      Appended grant = store.log().grant(A, "fresh", BOB.did(), Set.of(Ability.REMEMBER));
      LogEntry entry = store.log().entry(grant.entry()).orElseThrow();
      assertThat(entry.op()).isEqualTo(Op.GRANT);
      assertThat(entry.parents()).hasSize(1);
      assertThat(store.log().entry(entry.parents().get(0)).orElseThrow().op()).isEqualTo(Op.CREATE);
      assertThat(store.log().acl("fresh").owners()).containsExactly(ALICE.did());
    }
  }

  @Test
  void theAccessControlStateSurvivesARestartAndStoresFromBeforeItAreOwnedByTheirRootsAuthors() throws Exception {
    NamespaceAcl before;
    try (MnemoStore store = MnemoStore.open(dir)) {
      NamespaceLog log = store.log();
      log.append("legacy", List.of(memory("legacy", "by the node")));
      log.append(A, "notes", List.of(memory("notes", "one")));
      log.grant(A, "notes", BOB.did(), Set.of(Ability.ADMIN));
      log.grant(B, "notes", CAROL.did(), Set.of(Ability.REMEMBER, Ability.FORGET));
      log.revoke(A, "notes", CAROL.did(), Set.of(Ability.FORGET));
      before = log.acl("notes");
    }
    try (MnemoStore store = MnemoStore.open(dir)) {
      assertThat(store.log().acl("notes")).isEqualTo(before);
      assertThat(store.log().acl("notes").grants()).containsEntry(CAROL.did(), Set.of(Ability.REMEMBER));
      assertThat(store.log().acl("legacy").owners()).containsExactly(store.nodeKey().did());
      store.log().append(C, "notes", List.of(memory("notes", "after the restart")));
      assertThatThrownBy(() -> store.log().forget(C, "notes", List.of(Cid.dagCbor(new byte[] {1}))))
          .isInstanceOf(UnauthorizedException.class);
    }
  }

  /** A store of layout 1 (before access control) opens, and each namespace is owned by its root's author. */
  @Test
  void aStoreFromBeforeAccessControlIsMigrated() throws Exception {
    Cid entry;
    try (MnemoStore store = MnemoStore.open(dir)) {
      store.log().append("old", List.of(memory("old", "written before")));
      entry = store.log().append(A, "alices", List.of(memory("alices", "hers"))).entry();
      // Back to layout 1: no access-control records, format "1".
      try (org.rocksdb.WriteBatch batch = new org.rocksdb.WriteBatch();
           org.rocksdb.RocksIterator it = store.storage().iterator(dev.mnemo.store.rocks.RocksStorage.Family.ACL)) {
        for (it.seekToFirst(); it.isValid(); it.next()) {
          batch.delete(store.storage().handle(dev.mnemo.store.rocks.RocksStorage.Family.ACL), it.key());
        }
        batch.put(store.storage().handle(dev.mnemo.store.rocks.RocksStorage.Family.META),
            "format".getBytes(java.nio.charset.StandardCharsets.UTF_8), "1".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        store.storage().writeDurably(batch);
      }
    }
    try (MnemoStore store = MnemoStore.open(dir)) {
      assertThat(store.storage().openedFormat()).isEqualTo(dev.mnemo.store.rocks.RocksStorage.FORMAT_VERSION);
      assertThat(store.log().acl("old").owners()).containsExactly(store.nodeKey().did());
      assertThat(store.log().acl("alices").owners()).containsExactly(ALICE.did());
      assertThat(store.log().heads("alices")).containsExactly(entry);
      store.log().append("old", List.of(memory("old", "written after")));
      assertThatThrownBy(() -> store.log().append("alices", List.of(memory("alices", "the node's"))))
          .isInstanceOf(UnauthorizedException.class);
    }
    try (MnemoStore store = MnemoStore.open(dir)) {
      assertThat(store.log().acl("alices").owners()).containsExactly(ALICE.did());
    }
  }

  @Test
  void writesOfOneNamespaceByDifferentAuthorsAreSeparateEntriesAndOnlyTheRefusedOnesFail() throws Exception {
    try (MnemoStore store = MnemoStore.open(dir)) {
      NamespaceLog log = store.log();
      log.append(A, "notes", List.of(memory("notes", "root")));
      log.grant(A, "notes", BOB.did(), Set.of(Ability.REMEMBER));
      List<CompletableFuture<Appended>> alices = new java.util.ArrayList<>();
      List<CompletableFuture<Appended>> bobs = new java.util.ArrayList<>();
      List<CompletableFuture<Appended>> carols = new java.util.ArrayList<>();
      for (int i = 0; i < 30; i++) {
        alices.add(log.appendAsync(A, "notes", List.of(memory("notes", "a" + i))));
        bobs.add(log.appendAsync(B, "notes", List.of(memory("notes", "b" + i))));
        carols.add(log.appendAsync(C, "notes", List.of(memory("notes", "c" + i))));
      }
      for (int i = 0; i < 30; i++) {
        Appended a = alices.get(i).join();
        Appended b = bobs.get(i).join();
        assertThat(log.entry(a.entry()).orElseThrow().author()).isEqualTo(ALICE.did());
        assertThat(log.entry(b.entry()).orElseThrow().author()).isEqualTo(BOB.did());
        assertThat(carols.get(i)).failsWithin(java.time.Duration.ofSeconds(10))
            .withThrowableOfType(java.util.concurrent.ExecutionException.class)
            .withCauseInstanceOf(UnauthorizedException.class);
      }
    }
  }

  @Test
  void aNodeWritesForAnAgentUnderItsDelegationAndOnlyWithinIt() throws Exception {
    try (MnemoStore store = MnemoStore.open(dir)) {
      NamespaceLog log = store.log();
      AgentKey node = store.nodeKey();
      byte[] proof = Delegation.sign(ALICE, node.did(), "notes", Set.of(Ability.REMEMBER)).encode();
      Author viaNode = new Author(ALICE.did(), node, proof);
      Appended first = log.append(viaNode, "notes", List.of(memory("notes", "kept by the node for alice")));
      LogEntry entry = log.entry(first.entry()).orElseThrow();
      assertThat(entry.author()).isEqualTo(ALICE.did());
      assertThat(entry.proof()).isEqualTo(proof);
      assertThat(entry.signatureProblem()).isNull();
      assertThat(log.acl("notes").owners()).containsExactly(ALICE.did());

      assertThatThrownBy(() -> log.forget(viaNode, "notes", first.memories()))
          .as("the delegation covers remember only").isInstanceOf(UnauthorizedException.class)
          .hasMessageContaining("does not delegate");
      assertThatThrownBy(() -> log.append(viaNode, "other", List.of(memory("other", "x"))))
          .isInstanceOf(UnauthorizedException.class);
      Author wrongSigner = new Author(ALICE.did(), BOB, proof);
      assertThatThrownBy(() -> log.append(wrongSigner, "notes", List.of(memory("notes", "y"))))
          .isInstanceOf(UnauthorizedException.class);

      // A replica checks the same entry: delegation, signature and ownership.
      try (MnemoStore replica = MnemoStore.open(dir.resolve("replica"))) {
        List<dev.mnemo.store.block.Block> blocks = List.of(
            new dev.mnemo.store.block.Block(first.entry(), store.blocks().get(first.entry()).orElseThrow()),
            new dev.mnemo.store.block.Block(first.memories().get(0), store.blocks().get(first.memories().get(0)).orElseThrow()));
        assertThat(replica.log().applyBlocks(blocks)).isEqualTo(1);
        assertThat(replica.log().acl("notes").owners()).containsExactly(ALICE.did());
        assertThat(replica.log().state("notes", first.memories().get(0))).isEqualTo(MemoryState.LIVE);
      }
    }
  }

  @Test
  void aRevokedAuthorsMemoriesLeaveTheLiveSetOnlyWhenConcurrent() throws Exception {
    try (MnemoStore store = MnemoStore.open(dir)) {
      NamespaceLog log = store.log();
      log.create(A, "notes");
      log.grant(A, "notes", BOB.did(), Set.of(Ability.REMEMBER));
      Appended bobs = log.append(B, "notes", List.of(memory("notes", "before the revoke")));
      log.revoke(A, "notes", BOB.did(), Set.of(Ability.REMEMBER));
      assertThat(log.state("notes", bobs.memories().get(0))).as("the revoke follows the add: it stays")
          .isEqualTo(MemoryState.LIVE);
      assertThat(log.voidedBy(log.lastPosition())).isEmpty();
      assertThat(log.acl("notes").grants()).doesNotContainKey(BOB.did());
      assertThat(Map.copyOf(log.acl("notes").grants())).isEmpty();
    }
  }
}
