package dev.mnemo.store.log;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mnemo.store.acl.Ability;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.identity.AgentKey;
import dev.mnemo.store.identity.DidKey;
import dev.mnemo.store.model.LogEntry;
import dev.mnemo.store.model.Op;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The rules on small hand-built graphs: each case one sentence of the README. */
class AclGraphTest {
  private static final DidKey OWNER = AgentKey.generate().did();
  private static final DidKey X = AgentKey.generate().did();
  private static final DidKey Y = AgentKey.generate().did();
  private static final DidKey Z = AgentKey.generate().did();
  private static final Cid SOME_PARENT = Cid.dagCbor("p".getBytes(StandardCharsets.UTF_8));

  private AclGraph graph = AclGraph.empty("ns");
  private long position;

  private long root() {
    return add(new LogEntry(2, "ns", Op.CREATE, List.of(), List.of(), 1, OWNER, null, null, null, null));
  }

  private long control(Op op, DidKey by, DidKey to, Set<Ability> can, long... frontier) {
    return add(new LogEntry(2, "ns", op, List.of(), List.of(SOME_PARENT), 2, by, to, can, null, null), frontier);
  }

  private long add(LogEntry entry, long... frontier) {
    position++;
    graph = graph.with(Cid.dagCbor(("entry " + position).getBytes(StandardCharsets.UTF_8)), position, entry, frontier);
    return position;
  }

  @Test
  void aRevokeOfOneAbilityTakesItFromAnAdminToo() {
    root();
    long g = control(Op.GRANT, OWNER, X, Set.of(Ability.ADMIN));
    control(Op.REVOKE, OWNER, X, Set.of(Ability.REMEMBER), g);
    Set<Ability> all = EnumSet.allOf(Ability.class);
    all.remove(Ability.REMEMBER);
    assertThat(graph.acl().grants().get(X)).isEqualTo(all);
    assertThat(graph.acl().can(X, Ability.REMEMBER)).isFalse();
    assertThat(graph.acl().can(OWNER, Ability.REMEMBER)).isTrue();
  }

  @Test
  void aRevokeWinsOverAConcurrentGrantAndAGrantAfterItCountsAgain() {
    root();
    long g = control(Op.GRANT, OWNER, Y, Set.of(Ability.REMEMBER));
    long r = control(Op.REVOKE, OWNER, Y, Set.of(Ability.REMEMBER));
    assertThat(graph.acl().can(Y, Ability.REMEMBER)).as("grant and revoke concurrent").isFalse();
    // An entry that knows only the grant: the causal check passes, but it stands on nothing.
    assertThat(graph.passes(Y, Ability.REMEMBER, graph.closure(new long[] {g}))).isTrue();
    assertThat(graph.standsOnArrival(Y, Ability.REMEMBER, graph.closure(new long[] {g}))).isFalse();
    assertThat(graph.passes(Y, Ability.REMEMBER, graph.closure(new long[] {g, r}))).isFalse();
    control(Op.GRANT, OWNER, Y, Set.of(Ability.REMEMBER), g, r);
    assertThat(graph.acl().can(Y, Ability.REMEMBER)).as("a grant with the revoke in its past").isTrue();
  }

  @Test
  void aGrantByAnAdminRevokedConcurrentlyIsVoidAndSoIsWhatStandsOnIt() {
    root();
    long admin = control(Op.GRANT, OWNER, X, Set.of(Ability.ADMIN));
    long byX = control(Op.GRANT, X, Z, Set.of(Ability.REMEMBER), admin);
    assertThat(graph.acl().can(Z, Ability.REMEMBER)).isTrue();
    control(Op.REVOKE, OWNER, X, Set.of(Ability.ADMIN), admin);
    assertThat(graph.acl().can(Z, Ability.REMEMBER)).as("the grant by X is void").isFalse();
    assertThat(graph.acl().can(X, Ability.ADMIN)).isFalse();
    assertThat(graph.passes(Z, Ability.REMEMBER, graph.closure(new long[] {byX}))).isTrue();
    assertThat(graph.standsOnArrival(Z, Ability.REMEMBER, graph.closure(new long[] {byX}))).isFalse();
  }

  @Test
  void grantsMadeBeforeTheirAuthorsRevokeStayAndOwnersCannotBeRevoked() {
    root();
    long admin = control(Op.GRANT, OWNER, X, Set.of(Ability.ADMIN));
    long byX = control(Op.GRANT, X, Z, Set.of(Ability.REMEMBER), admin);
    control(Op.REVOKE, OWNER, X, Set.of(Ability.ADMIN), byX);
    control(Op.REVOKE, X, OWNER, Set.of(Ability.ADMIN), admin);
    assertThat(graph.acl().can(Z, Ability.REMEMBER)).isTrue();
    assertThat(graph.acl().isOwner(OWNER)).isTrue();
    assertThat(graph.acl().can(OWNER, Ability.ADMIN)).isTrue();
    assertThat(graph.maxima()).hasSize(2);
  }

  @Test
  void aFreshBuildDecidesAsTheIncrementalOne() {
    root();
    long admin = control(Op.GRANT, OWNER, X, Set.of(Ability.ADMIN));
    long byX = control(Op.GRANT, X, Z, Set.of(Ability.REMEMBER, Ability.READ), admin);
    control(Op.REVOKE, OWNER, X, Set.of(Ability.ADMIN), admin);
    control(Op.GRANT, OWNER, Y, Set.of(Ability.FORGET), byX);
    List<AclGraph.Recorded> recorded = new java.util.ArrayList<>();
    for (AclGraph.Node node : graph.nodes()) {
      long[] frontier = node.past().stream().mapToLong(i -> graph.nodes().get(i).position()).toArray();
      recorded.add(new AclGraph.Recorded(node.cid(), node.position(), new LogEntry(2, "ns", node.op(),
          List.of(), node.isRoot() ? List.of() : List.of(SOME_PARENT), node.isRoot() ? 1 : 2, node.author(), node.to(),
          node.can(), null, null), frontier));
    }
    assertThat(AclGraph.build("ns", recorded).acl()).isEqualTo(graph.acl());
  }
}
