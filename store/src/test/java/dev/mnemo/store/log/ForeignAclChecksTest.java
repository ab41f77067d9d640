package dev.mnemo.store.log;

import static dev.mnemo.store.log.NamespaceLogTest.memory;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.acl.Ability;
import dev.mnemo.store.acl.Delegation;
import dev.mnemo.store.block.Block;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.identity.AgentKey;
import dev.mnemo.store.identity.Author;
import dev.mnemo.store.identity.DidKey;
import dev.mnemo.store.model.LogEntry;
import dev.mnemo.store.model.Memory;
import dev.mnemo.store.model.Op;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a replica refuses of entries from outside, however validly signed: an author without the
 * ability in the entry's causal past, a second root, a proof that does not cover the entry. The
 * whole call is refused and nothing of it is stored.
 */
class ForeignAclChecksTest {
  private static final String NS = "notes";
  private static final AgentKey OWNER = AgentKey.generate();
  private static final AgentKey WRITER = AgentKey.generate();
  private static final AgentKey STRANGER = AgentKey.generate();

  @TempDir Path dir;
  private MnemoStore target;
  private Block root;
  private Block grant;

  @BeforeEach
  void namespaceOwnedByOwnerWithARememberGrant() throws Exception {
    target = MnemoStore.open(dir);
    root = block(LogEntry.signed(Author.of(OWNER), NS, Op.CREATE, List.of(), List.of(), 1, null, null));
    grant = block(LogEntry.signed(Author.of(OWNER), NS, Op.GRANT, List.of(), List.of(root.cid()), 2, WRITER.did(),
        Set.of(Ability.REMEMBER)));
    assertThat(target.log().applyBlocks(List.of(grant, root))).isEqualTo(2);
  }

  @org.junit.jupiter.api.AfterEach
  void close() throws Exception {
    target.close();
  }

  @Test
  void aGranteesAddIsTakenAndAStrangersIsRefusedWithItsReason() throws Exception {
    Memory m = memory(NS, "writer's");
    Block good = add(WRITER, m, grant.cid(), 3);
    assertThat(target.log().applyBlocks(List.of(good, Block.dagCbor(m.encode())))).isEqualTo(1);
    assertThat(target.log().state(NS, Block.dagCbor(m.encode()).cid())).isEqualTo(MemoryState.LIVE);

    Memory s = memory(NS, "stranger's");
    Block bad = add(STRANGER, s, good.cid(), 4);
    assertRefused(List.of(bad, Block.dagCbor(s.encode())), bad.cid(), "does not hold 'remember'");
    // Remember does not let the writer forget, nor grant.
    Block forget = block(LogEntry.signed(WRITER, NS, Op.FORGET, List.of(Block.dagCbor(m.encode()).cid()), List.of(good.cid()), 4));
    assertRefused(List.of(forget), forget.cid(), "does not hold 'forget'");
    Block selfGrant = block(LogEntry.signed(Author.of(WRITER), NS, Op.GRANT, List.of(), List.of(good.cid()), 4,
        STRANGER.did(), Set.of(Ability.REMEMBER)));
    assertRefused(List.of(selfGrant), selfGrant.cid(), "does not hold 'admin'");
  }

  @Test
  void aSecondRootIsRefusedAndAnOldFormatRootToo() throws Exception {
    Block other = block(LogEntry.signed(Author.of(STRANGER), NS, Op.CREATE, List.of(), List.of(), 1, null, null));
    assertRefused(List.of(other), other.cid(), "already exists");
    Memory m = memory(NS, "a root add");
    Block rootAdd = block(LogEntry.signed(STRANGER, NS, Op.ADD, List.of(Block.dagCbor(m.encode()).cid()), List.of(), 1));
    assertRefused(List.of(rootAdd, Block.dagCbor(m.encode())), rootAdd.cid(), "already exists");
    assertThat(target.log().acl(NS).owners()).containsExactly(OWNER.did());
  }

  @Test
  void anotherRootByTheOwnerIsTakenAsItsConcurrentFirstWrite() throws Exception {
    Memory m = memory(NS, "the owner's first write on another node");
    Cid ref = Block.dagCbor(m.encode()).cid();
    Block rootAdd = block(LogEntry.signed(OWNER, NS, Op.ADD, List.of(ref), List.of(), 1));
    assertThat(target.log().applyBlocks(List.of(rootAdd, Block.dagCbor(m.encode())))).isEqualTo(1);
    assertThat(target.log().state(NS, ref)).isEqualTo(MemoryState.LIVE);
    assertThat(target.log().heads(NS)).containsExactlyInAnyOrder(grant.cid(), rootAdd.cid());
    assertThat(target.log().acl(NS).owners()).containsExactly(OWNER.did());
    assertThat(target.log().acl(NS).can(WRITER.did(), Ability.REMEMBER)).isTrue();
  }

  @Test
  void anEntryWhoseAuthorWasRevokedInItsPastIsRefused() throws Exception {
    Block revoke = block(LogEntry.signed(Author.of(OWNER), NS, Op.REVOKE, List.of(), List.of(grant.cid()), 3,
        WRITER.did(), Set.of(Ability.REMEMBER)));
    Memory m = memory(NS, "after the revoke");
    Block late = add(WRITER, m, revoke.cid(), 4);
    assertRefused(List.of(revoke, late, Block.dagCbor(m.encode())), late.cid(), "does not hold 'remember'");
    assertThat(target.log().heads(NS)).as("nothing of the call, not even the valid revoke").containsExactly(grant.cid());
    assertThat(target.log().applyBlocks(List.of(revoke))).isEqualTo(1);
    assertThat(target.log().acl(NS).grants()).doesNotContainKey(WRITER.did());
  }

  @Test
  void aDelegatedEntryNeedsAProofThatCoversItAndAnAuthorThatMay() throws Exception {
    AgentKey node = AgentKey.generate();
    Memory m = memory(NS, "via a node");
    Cid ref = Block.dagCbor(m.encode()).cid();
    byte[] forgetOnly = Delegation.sign(WRITER, node.did(), NS, Set.of(Ability.FORGET)).encode();
    Block uncovered = block(LogEntry.signed(new Author(WRITER.did(), node, forgetOnly), NS, Op.ADD, List.of(ref),
        List.of(grant.cid()), 3, null, null));
    assertRefused(List.of(uncovered, Block.dagCbor(m.encode())), uncovered.cid(), "does not delegate 'remember'");

    byte[] strangers = Delegation.sign(STRANGER, node.did(), "*", Set.of(Ability.ADMIN)).encode();
    Block byStranger = block(LogEntry.signed(new Author(STRANGER.did(), node, strangers), NS, Op.ADD, List.of(ref),
        List.of(grant.cid()), 3, null, null));
    assertRefused(List.of(byStranger, Block.dagCbor(m.encode())), byStranger.cid(), "does not hold 'remember'");

    byte[] writers = Delegation.sign(WRITER, node.did(), "*", Set.of(Ability.REMEMBER)).encode();
    Block good = block(LogEntry.signed(new Author(WRITER.did(), node, writers), NS, Op.ADD, List.of(ref),
        List.of(grant.cid()), 3, null, null));
    assertThat(target.log().applyBlocks(List.of(good, Block.dagCbor(m.encode())))).isEqualTo(1);
    assertThat(target.log().state(NS, ref)).isEqualTo(MemoryState.LIVE);
  }

  @Test
  void aForgetConcurrentWithItsAuthorsRevokeStillApplies() throws Exception {
    Block adminGrant = block(LogEntry.signed(Author.of(OWNER), NS, Op.GRANT, List.of(), List.of(grant.cid()), 3,
        STRANGER.did(), Set.of(Ability.REMEMBER, Ability.FORGET)));
    Memory m = memory(NS, "owner's");
    Block add = add(OWNER, m, adminGrant.cid(), 4);
    assertThat(target.log().applyBlocks(List.of(adminGrant, add, Block.dagCbor(m.encode())))).isEqualTo(2);
    Cid ref = Block.dagCbor(m.encode()).cid();
    Block revoke = block(LogEntry.signed(Author.of(OWNER), NS, Op.REVOKE, List.of(), List.of(add.cid()), 5,
        STRANGER.did(), Set.of(Ability.FORGET, Ability.REMEMBER)));
    Block forget = block(LogEntry.signed(STRANGER, NS, Op.FORGET, List.of(ref), List.of(add.cid()), 5));
    assertThat(target.log().applyBlocks(List.of(revoke))).isEqualTo(1);
    assertThat(target.log().applyBlocks(List.of(forget))).isEqualTo(1);
    assertThat(target.log().state(NS, ref)).isEqualTo(MemoryState.FORGOTTEN);
  }

  /** Entries of format 1 (from a node not yet upgraded) are held to the same rules. */
  @Test
  void versionOneEntriesFromOutsideAreCheckedLikeAnyOther() throws Exception {
    Memory m = memory(NS, "from an older node");
    Cid ref = Block.dagCbor(m.encode()).cid();
    Block byOwner = v1(OWNER, Op.ADD, List.of(ref), grant.cid(), 3);
    assertThat(target.log().applyBlocks(List.of(byOwner, Block.dagCbor(m.encode())))).isEqualTo(1);
    assertThat(target.log().entry(byOwner.cid()).orElseThrow().version()).isEqualTo(1);
    assertThat(target.log().state(NS, ref)).isEqualTo(MemoryState.LIVE);
    Block byStranger = v1(STRANGER, Op.FORGET, List.of(ref), byOwner.cid(), 4);
    assertRefused(List.of(byStranger), byStranger.cid(), "does not hold 'forget'");

    // A version 1 root is a namespace's root, as it always was.
    Memory other = memory("elsewhere", "first");
    Block root = Block.dagCbor(signedV1(STRANGER, "elsewhere", Op.ADD, List.of(Block.dagCbor(other.encode()).cid()),
        List.of(), 1).encode());
    assertThat(target.log().applyBlocks(List.of(root, Block.dagCbor(other.encode())))).isEqualTo(1);
    assertThat(target.log().acl("elsewhere").owners()).containsExactly(STRANGER.did());
  }

  private static Block v1(AgentKey key, Op op, List<Cid> refs, Cid parent, long clock) {
    return Block.dagCbor(signedV1(key, NS, op, refs, List.of(parent), clock).encode());
  }

  private static LogEntry signedV1(AgentKey key, String ns, Op op, List<Cid> refs, List<Cid> parents, long clock) {
    LogEntry unsigned = new LogEntry(1, ns, op, refs, parents, clock, key.did(), null, null, null, null);
    return new LogEntry(1, ns, op, refs, parents, clock, key.did(), null, null, null, key.sign(unsigned.signingBytes()));
  }

  private void assertRefused(List<Block> blocks, Cid cid, String reason) throws Exception {
    List<Cid> headsBefore = new ArrayList<>(target.log().heads(NS));
    long before = target.log().lastPosition();
    assertThatThrownBy(() -> target.log().applyBlocks(blocks))
        .isInstanceOfSatisfying(RejectedEntryException.class, e -> assertThat(e.cid()).isEqualTo(cid))
        .hasMessageContaining(reason);
    assertThat(target.log().lastPosition()).isEqualTo(before);
    assertThat(target.log().heads(NS)).containsExactlyInAnyOrderElementsOf(headsBefore);
  }

  private static Block add(AgentKey key, Memory m, Cid parent, long clock) {
    return block(LogEntry.signed(key, NS, Op.ADD, List.of(Block.dagCbor(m.encode()).cid()), List.of(parent), clock));
  }

  private static Block block(LogEntry entry) {
    return Block.dagCbor(entry.encode());
  }

  @SuppressWarnings("unused")
  private static DidKey did(AgentKey key) {
    return key.did();
  }
}
