package dev.mnemo.store.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.acl.Ability;
import dev.mnemo.store.acl.Delegation;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.codec.DagCbor;
import dev.mnemo.store.identity.AgentKey;
import dev.mnemo.store.identity.Author;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Log entry format 2: the access-control ops, proofs, and version 1 entries still read. */
class LogEntryV2Test {
  private static final AgentKey OWNER = AgentKey.generate();
  private static final AgentKey AGENT = AgentKey.generate();
  private static final AgentKey NODE = AgentKey.generate();
  private static final Cid M1 = Cid.dagCbor("one".getBytes(StandardCharsets.UTF_8));
  private static final Cid P1 = Cid.dagCbor("parent".getBytes(StandardCharsets.UTF_8));

  @Test
  void aVersionOneEntryDecodesVerifiesAndKeepsItsBytes() throws Exception {
    LogEntry unsigned = new LogEntry(1, "notes", Op.ADD, List.of(M1), List.of(P1), 2, OWNER.did(), null, null, null, null);
    LogEntry v1 = new LogEntry(1, "notes", Op.ADD, List.of(M1), List.of(P1), 2, OWNER.did(), null, null, null,
        OWNER.sign(unsigned.signingBytes()));
    byte[] block = v1.encode();
    assertThat(DagCbor.decodeMap(block)).containsEntry("v", 1L).doesNotContainKeys("to", "can", "proof");
    LogEntry decoded = LogEntry.decode(block);
    assertThat(decoded.version()).isEqualTo(1);
    assertThat(decoded.hasValidSignature()).isTrue();
    assertThat(decoded.encode()).isEqualTo(block);
    assertThatThrownBy(() -> new LogEntry(1, "notes", Op.GRANT, List.of(), List.of(P1), 2, OWNER.did(), AGENT.did(),
        Set.of(Ability.READ), null, null)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void grantRevokeAndCreateRoundTrip() throws Exception {
    Author owner = Author.of(OWNER);
    for (LogEntry entry : List.of(
        LogEntry.signed(owner, "notes", Op.CREATE, List.of(), List.of(), 1, null, null),
        LogEntry.signed(owner, "notes", Op.GRANT, List.of(), List.of(P1), 2, AGENT.did(), Set.of(Ability.REMEMBER, Ability.READ)),
        LogEntry.signed(owner, "notes", Op.REVOKE, List.of(), List.of(P1), 2, AGENT.did(), Set.of(Ability.ADMIN)))) {
      byte[] block = entry.encode();
      LogEntry decoded = LogEntry.decode(block);
      assertThat(decoded).isEqualTo(entry);
      assertThat(decoded.encode()).isEqualTo(block);
      assertThat(decoded.signatureProblem()).isNull();
      Map<String, Object> map = DagCbor.decodeMap(block);
      assertThat(map).containsEntry("v", 2L).containsEntry("op", entry.op().wire()).containsEntry("refs", List.of());
      if (entry.op() == Op.GRANT) {
        assertThat(map).containsEntry("to", AGENT.did().toString()).containsEntry("can", List.of("read", "remember"));
      }
    }
  }

  @Test
  void anInvalidateIsVersionThreeWithItsTimeAndEveryOtherEntryStaysVersionTwo() throws Exception {
    Author agent = Author.of(AGENT);
    LogEntry invalidate = LogEntry.signed(agent, "notes", Op.INVALIDATE, List.of(M1), List.of(P1), 2, null, null, -42L);
    byte[] block = invalidate.encode();
    Map<String, Object> map = DagCbor.decodeMap(block);
    assertThat(map).containsEntry("v", 3L).containsEntry("op", "invalidate").containsEntry("at", -42L)
        .containsEntry("refs", List.of(M1)).doesNotContainKeys("to", "can", "proof");
    LogEntry decoded = LogEntry.decode(block);
    assertThat(decoded).isEqualTo(invalidate);
    assertThat(decoded.at()).isEqualTo(-42L);
    assertThat(decoded.encode()).isEqualTo(block);
    assertThat(decoded.signatureProblem()).isNull();
    // The time is signed: another one is another entry, whose signature does not stand.
    Map<String, Object> moved = new LinkedHashMap<>(map);
    moved.put("at", 0L);
    assertThat(LogEntry.decode(DagCbor.encode(moved)).signatureProblem()).contains("bad signature");

    assertThat(DagCbor.decodeMap(LogEntry.signed(agent, "notes", Op.ADD, List.of(M1), List.of(P1), 2, null, null).encode()))
        .containsEntry("v", 2L).doesNotContainKey("at");
    assertThat(LogEntry.versionFor(Op.FORGET)).isEqualTo(2);
    assertThat(LogEntry.versionFor(Op.INVALIDATE)).isEqualTo(3);

    assertThatThrownBy(() -> LogEntry.signed(agent, "notes", Op.INVALIDATE, List.of(M1), List.of(P1), 2, null, null, null))
        .hasMessageContaining("'at'");
    assertThatThrownBy(() -> LogEntry.signed(agent, "notes", Op.INVALIDATE, List.of(), List.of(P1), 2, null, null, 1L))
        .hasMessageContaining("references 1-");
    assertThatThrownBy(() -> new LogEntry(2, "notes", Op.INVALIDATE, List.of(M1), List.of(P1), 2, AGENT.did(), null, null,
        1L, null, null)).hasMessageContaining("version 3");
    Map<String, Object> asVersionTwo = new LinkedHashMap<>(map);
    asVersionTwo.put("v", 2L);
    assertThatThrownBy(() -> LogEntry.decode(DagCbor.encode(asVersionTwo)))
        .isInstanceOf(InvalidFormatException.class).hasMessageContaining("version 3");
  }

  @Test
  void accessControlEntriesAreWellFormedOrRefused() {
    Author owner = Author.of(OWNER);
    assertThatThrownBy(() -> LogEntry.signed(owner, "n", Op.CREATE, List.of(), List.of(P1), 2, null, null))
        .hasMessageContaining("no parents");
    assertThatThrownBy(() -> LogEntry.signed(owner, "n", Op.GRANT, List.of(), List.of(P1), 2, null, null))
        .hasMessageContaining("'to'");
    assertThatThrownBy(() -> LogEntry.signed(owner, "n", Op.GRANT, List.of(M1), List.of(P1), 2, AGENT.did(), Set.of(Ability.READ)))
        .hasMessageContaining("no memories");
    assertThatThrownBy(() -> LogEntry.signed(owner, "n", Op.REVOKE, List.of(), List.of(P1), 2, AGENT.did(), Set.of()))
        .hasMessageContaining("at least one ability");
    assertThatThrownBy(() -> LogEntry.signed(owner, "n", Op.ADD, List.of(M1), List.of(P1), 2, AGENT.did(), Set.of(Ability.READ)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void decodeRefusesNonCanonicalOrUnknownAbilities() throws Exception {
    LogEntry grant = LogEntry.signed(Author.of(OWNER), "notes", Op.GRANT, List.of(), List.of(P1), 2, AGENT.did(),
        Set.of(Ability.REMEMBER, Ability.READ));
    for (Object can : List.of(List.of("remember", "read"), List.of("read", "read"), List.of("read", "fly"), List.of())) {
      Map<String, Object> map = new LinkedHashMap<>(DagCbor.decodeMap(grant.encode()));
      map.put("can", can);
      assertThatThrownBy(() -> LogEntry.decode(DagCbor.encode(map))).as("%s", can).isInstanceOf(InvalidFormatException.class);
    }
    Map<String, Object> noTo = new LinkedHashMap<>(DagCbor.decodeMap(grant.encode()));
    noTo.remove("to");
    assertThatThrownBy(() -> LogEntry.decode(DagCbor.encode(noTo))).isInstanceOf(InvalidFormatException.class);
  }

  @Test
  void anEntryUnderADelegationIsSignedByItsAudienceAndCheckedAgainstIt() throws Exception {
    byte[] proof = Delegation.sign(AGENT, NODE.did(), "notes", Set.of(Ability.REMEMBER)).encode();
    Author delegated = new Author(AGENT.did(), NODE, proof);
    LogEntry entry = LogEntry.signed(delegated, "notes", Op.ADD, List.of(M1), List.of(P1), 2, null, null);
    assertThat(entry.author()).isEqualTo(AGENT.did());
    LogEntry decoded = LogEntry.decode(entry.encode());
    assertThat(decoded.proof()).isEqualTo(proof);
    assertThat(decoded.signatureProblem()).isNull();

    // The delegation does not cover forgetting, nor another namespace.
    assertThat(LogEntry.signed(delegated, "notes", Op.FORGET, List.of(M1), List.of(P1), 2, null, null).signatureProblem())
        .contains("does not delegate 'forget'");
    assertThat(LogEntry.signed(delegated, "other", Op.ADD, List.of(M1), List.of(P1), 2, null, null).signatureProblem())
        .contains("does not delegate");
    // Signed by a key that is not the delegation's audience.
    AgentKey stranger = AgentKey.generate();
    assertThat(LogEntry.signed(new Author(AGENT.did(), stranger, proof), "notes", Op.ADD, List.of(M1), List.of(P1), 2, null, null)
        .signatureProblem()).contains("delegate");
    // A delegation issued by someone else than the entry's author.
    byte[] others = Delegation.sign(stranger, NODE.did(), "notes", Set.of(Ability.ADMIN)).encode();
    assertThat(LogEntry.signed(new Author(AGENT.did(), NODE, others), "notes", Op.ADD, List.of(M1), List.of(P1), 2, null, null)
        .signatureProblem()).contains("not by its author");
    // A proof whose bytes were altered.
    Map<String, Object> map = new LinkedHashMap<>(DagCbor.decodeMap(proof));
    map.put("can", List.of("admin"));
    byte[] widened = DagCbor.encode(map);
    assertThat(LogEntry.signed(new Author(AGENT.did(), NODE, widened), "notes", Op.GRANT, List.of(), List.of(P1), 2,
        stranger.did(), Set.of(Ability.READ)).signatureProblem()).contains("bad proof");
    // The entry's own bytes altered after signing.
    Map<String, Object> entryMap = new LinkedHashMap<>(DagCbor.decodeMap(entry.encode()));
    entryMap.put("clock", 3L);
    assertThat(LogEntry.decode(DagCbor.encode(entryMap)).signatureProblem()).contains("bad signature by the delegate");
  }
}
