package dev.mnemo.store.acl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.codec.DagCbor;
import dev.mnemo.store.identity.AgentKey;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class DelegationTest {
  private static final AgentKey AGENT = AgentKey.generate();
  private static final AgentKey NODE = AgentKey.generate();

  @Test
  void signedDelegationRoundTripsAndVerifies() throws Exception {
    Delegation d = Delegation.sign(AGENT, NODE.did(), "notes", Set.of(Ability.REMEMBER, Ability.FORGET));
    byte[] bytes = d.encode();
    Delegation decoded = Delegation.decode(bytes);
    assertThat(decoded).isEqualTo(d);
    assertThat(decoded.encode()).isEqualTo(bytes);
    assertThat(decoded.verify()).isTrue();
    assertThat(decoded.iss()).isEqualTo(AGENT.did());
    assertThat(decoded.aud()).isEqualTo(NODE.did());
    assertThat(decoded.nonce()).hasSize(12);
    Map<String, Object> map = DagCbor.decodeMap(bytes);
    assertThat(map).containsEntry("v", 1L).containsEntry("sub", "notes").containsEntry("can", List.of("forget", "remember"));
    assertThat(Delegation.decodeVerified(bytes)).isEqualTo(d);
  }

  @Test
  void twoDelegationsOfTheSameScopeDiffer() {
    Delegation a = Delegation.sign(AGENT, NODE.did(), "*", Set.of(Ability.ADMIN));
    Delegation b = Delegation.sign(AGENT, NODE.did(), "*", Set.of(Ability.ADMIN));
    assertThat(a.encode()).isNotEqualTo(b.encode());
  }

  @Test
  void coversItsNamespaceOrEveryOneAndItsAbilitiesWithAdminCoveringAll() {
    Delegation notes = Delegation.sign(AGENT, NODE.did(), "notes", Set.of(Ability.REMEMBER));
    assertThat(notes.covers("notes", Ability.REMEMBER)).isTrue();
    assertThat(notes.covers("notes", Ability.FORGET)).isFalse();
    assertThat(notes.covers("other", Ability.REMEMBER)).isFalse();
    Delegation any = Delegation.sign(AGENT, NODE.did(), "*", Set.of(Ability.ADMIN));
    assertThat(any.covers("whatever", Ability.FORGET)).isTrue();
    assertThat(any.covers("whatever", Ability.ADMIN)).isTrue();
  }

  @Test
  void tamperingBreaksTheSignature() throws Exception {
    Delegation d = Delegation.sign(AGENT, NODE.did(), "notes", Set.of(Ability.REMEMBER));
    for (Map.Entry<String, Object> change : List.of(
        Map.entry("can", (Object) List.of("admin")),
        Map.entry("sub", (Object) "*"),
        Map.entry("aud", (Object) AgentKey.generate().did().toString()),
        Map.entry("iss", (Object) AgentKey.generate().did().toString()))) {
      Map<String, Object> map = new LinkedHashMap<>(DagCbor.decodeMap(d.encode()));
      map.put(change.getKey(), change.getValue());
      byte[] tampered = DagCbor.encode(map);
      assertThat(Delegation.decode(tampered).verify()).as(change.getKey()).isFalse();
      assertThatThrownBy(() -> Delegation.decodeVerified(tampered)).as(change.getKey())
          .isInstanceOf(InvalidFormatException.class).hasMessageContaining("signature");
    }
    // Signed by someone other than the issuer it names.
    Delegation forged = new Delegation(AGENT.did(), NODE.did(), "notes", Set.of(Ability.ADMIN), new byte[12], null);
    Delegation signedByNode = new Delegation(AGENT.did(), NODE.did(), "notes", Set.of(Ability.ADMIN), new byte[12],
        NODE.sign(forged.signingBytes()));
    assertThat(signedByNode.verify()).isFalse();
  }

  @Test
  void decodeRefusesMalformedDelegations() {
    Delegation d = Delegation.sign(AGENT, NODE.did(), "notes", Set.of(Ability.REMEMBER, Ability.READ));
    Map<String, Object> good;
    try {
      good = DagCbor.decodeMap(d.encode());
    } catch (InvalidFormatException e) {
      throw new AssertionError(e);
    }
    List<Map.Entry<String, Object>> damages = List.of(
        Map.entry("v", 2L), Map.entry("can", List.of("remember", "read")), Map.entry("can", List.of()),
        Map.entry("can", List.of("fly")), Map.entry("nonce", new byte[3]), Map.entry("sub", "../x"),
        Map.entry("iss", "did:web:example.com"), Map.entry("extra", 1L), Map.entry("sig", new byte[10]));
    for (Map.Entry<String, Object> damage : damages) {
      Map<String, Object> map = new LinkedHashMap<>(good);
      map.put(damage.getKey(), damage.getValue());
      assertThatThrownBy(() -> Delegation.decode(DagCbor.encode(map))).as(damage.getKey() + "=" + damage.getValue())
          .isInstanceOfSatisfying(InvalidFormatException.class, e -> assertThat(e.format()).isEqualTo("delegation"));
    }
    Map<String, Object> missing = new LinkedHashMap<>(good);
    missing.remove("aud");
    assertThatThrownBy(() -> Delegation.decode(DagCbor.encode(missing))).hasMessageContaining("aud");
    assertThatThrownBy(() -> Delegation.decode(new byte[Delegation.MAX_BYTES + 1])).hasMessageContaining("larger");
  }
}
