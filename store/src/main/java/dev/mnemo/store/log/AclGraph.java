package dev.mnemo.store.log;

import dev.mnemo.store.acl.Ability;
import dev.mnemo.store.acl.NamespaceAcl;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.identity.DidKey;
import dev.mnemo.store.model.LogEntry;
import dev.mnemo.store.model.Op;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntPredicate;

/**
 * The access-control entries of one namespace (its roots, grants and revokes) as a small DAG
 * kept whole in memory, and the decisions the rules ask of them. Immutable: the log writer stages
 * a changed copy ({@link #with}) and publishes it when the batch that holds the change commits.
 *
 * <p>Every other entry knows its place relative to these through its ACL frontier: the maximal
 * grant and revoke entries in its causal past, by apply position. The grants and revokes in an
 * entry's past are then the frontier's down-closure here ({@link #closure}), so an entry's causal
 * check costs a walk over the namespace's few ACL entries, never over its log.
 *
 * <p>The rules (README, "Access control"): an entry by X needing ability a is valid when X is an
 * owner or holds a in the ACL state of its past; X holds a through a grant G of a (or of admin)
 * that is not void, unless a revoke of a (or of admin, for an admin grant) that G's past does not
 * hold counts against it. A grant (or add) is void when a revoke of its author concurrent with it
 * leaves it no grant to stand on: revokes win over concurrent entries.
 */
final class AclGraph {
  /**
   * One access-control entry. {@code past}: the indices of the grants and revokes in its strict
   * causal past. Roots (a create, or a namespace's first add) have an empty past and are never in
   * another entry's: they only name owners.
   */
  record Node(int index, Cid cid, long position, Op op, DidKey author, DidKey to, Set<Ability> can, BitSet past) {
    boolean isRoot() {
      return to == null;
    }
  }

  private static final long[] NONE = new long[0];

  private final String ns;
  private final List<Node> nodes;
  private final Map<Long, Integer> byPosition;
  private final Set<DidKey> owners;
  /** Per node: not void (always true for roots and revokes). */
  private final boolean[] live;
  private final Map<DidKey, int[]> revokesOf;
  /** The grants and revokes no other one has in its past: the frontier of an entry that follows them all. */
  private final long[] maxima;
  private final NamespaceAcl acl;
  /** Liveness within a causal past, per past: most entries share a handful. Writer thread only. */
  private final Map<BitSet, boolean[]> liveWithin = new HashMap<>();

  private AclGraph(String ns, List<Node> nodes) {
    this.ns = ns;
    this.nodes = nodes;
    this.byPosition = new HashMap<>();
    Set<DidKey> owners = new LinkedHashSet<>();
    Map<DidKey, List<Integer>> revokes = new HashMap<>();
    for (Node node : nodes) {
      byPosition.put(node.position, node.index);
      if (node.isRoot()) {
        owners.add(node.author);
      } else if (node.op == Op.REVOKE) {
        revokes.computeIfAbsent(node.to, k -> new ArrayList<>()).add(node.index);
      }
    }
    this.owners = Set.copyOf(owners);
    this.revokesOf = new HashMap<>();
    revokes.forEach((did, list) -> revokesOf.put(did, list.stream().mapToInt(Integer::intValue).toArray()));
    this.live = new boolean[nodes.size()];
    for (Node node : nodes) {
      // Apply order is a causal order, so every grant in a node's past is decided before it.
      int i = node.index;
      live[i] = node.op != Op.GRANT || holds(node.author, Ability.ADMIN, node.past, live,
          r -> r != i && !nodes.get(r).past.get(i));
    }
    BitSet dominated = new BitSet();
    BitSet acl = new BitSet();
    for (Node node : nodes) {
      if (!node.isRoot()) {
        acl.set(node.index);
        dominated.or(node.past);
      }
    }
    acl.andNot(dominated);
    this.maxima = positions(acl);
    this.acl = computeAcl();
  }

  static AclGraph empty(String ns) {
    return new AclGraph(ns, List.of());
  }

  /** This graph with one more node, applied after all it holds; {@code frontier}: the new node's (ignored for roots). */
  AclGraph with(Cid cid, long position, LogEntry entry, long[] frontier) {
    List<Node> more = new ArrayList<>(nodes.size() + 1);
    more.addAll(nodes);
    BitSet past = entry.isRoot() ? new BitSet() : closure(frontier);
    more.add(new Node(nodes.size(), cid, position, entry.op(), entry.author(), entry.to(), entry.can(), past));
    return new AclGraph(ns, List.copyOf(more));
  }

  /** One recorded access-control entry, as {@link #build} takes them. */
  record Recorded(Cid cid, long position, LogEntry entry, long[] frontier) {}

  /** The graph of recorded entries in apply order, decided once (not once per entry, as {@link #with} would). */
  static AclGraph build(String ns, List<Recorded> recorded) {
    List<Node> nodes = new ArrayList<>(recorded.size());
    Map<Long, Integer> byPosition = new HashMap<>();
    for (Recorded r : recorded) {
      BitSet past = new BitSet();
      if (!r.entry().isRoot()) {
        for (long position : r.frontier()) {
          Integer index = byPosition.get(position);
          if (index == null) {
            throw new IllegalStateException("ACL frontier names position " + position + ", not an earlier ACL entry of " + ns);
          }
          past.set(index);
          past.or(nodes.get(index).past);
        }
      }
      LogEntry e = r.entry();
      nodes.add(new Node(nodes.size(), r.cid(), r.position(), e.op(), e.author(), e.to(), e.can(), past));
      byPosition.put(r.position(), nodes.size() - 1);
    }
    return new AclGraph(ns, List.copyOf(nodes));
  }

  String ns() {
    return ns;
  }

  List<Node> nodes() {
    return nodes;
  }

  boolean hasRoot() {
    return !owners.isEmpty();
  }

  boolean isOwner(DidKey did) {
    return owners.contains(did);
  }

  /** Whether the namespace has grants or revokes: otherwise every entry's frontier is empty and nothing is recorded. */
  boolean hasGrants() {
    return owners.size() < nodes.size();
  }

  NamespaceAcl acl() {
    return acl;
  }

  /** The frontier of an entry whose past holds every entry here. */
  long[] maxima() {
    return maxima;
  }

  boolean isLive(int index) {
    return live[index];
  }

  Node node(long position) {
    Integer index = byPosition.get(position);
    return index == null ? null : nodes.get(index);
  }

  /** The grants and revokes in the down-closure of a frontier (the frontier itself included). */
  BitSet closure(long[] frontier) {
    BitSet set = new BitSet();
    for (long position : frontier) {
      Integer index = byPosition.get(position);
      if (index == null) {
        throw new IllegalStateException("ACL frontier names position " + position + ", not an ACL entry of " + ns);
      }
      set.set(index);
      set.or(nodes.get(index).past);
    }
    return set;
  }

  /** The maximal members of a union of inclusive frontiers: the frontier of an entry with those parents. */
  long[] frontierOf(List<long[]> parentFrontiers) {
    if (parentFrontiers.isEmpty()) {
      return NONE;
    }
    if (parentFrontiers.size() == 1) {
      return parentFrontiers.get(0);
    }
    BitSet all = new BitSet();
    for (long[] f : parentFrontiers) {
      for (long position : f) {
        Integer index = byPosition.get(position);
        if (index == null) {
          throw new IllegalStateException("ACL frontier names position " + position + ", not an ACL entry of " + ns);
        }
        all.set(index);
      }
    }
    BitSet dominated = new BitSet();
    for (int i = all.nextSetBit(0); i >= 0; i = all.nextSetBit(i + 1)) {
      dominated.or(nodes.get(i).past);
    }
    all.andNot(dominated);
    return positions(all);
  }

  private long[] positions(BitSet indices) {
    long[] out = new long[indices.cardinality()];
    int k = 0;
    for (int i = indices.nextSetBit(0); i >= 0; i = indices.nextSetBit(i + 1)) {
      out[k++] = nodes.get(i).position;
    }
    return out;
  }

  /**
   * The causal check: whether {@code who} may make an entry needing {@code ability} whose past
   * holds exactly the grants and revokes in {@code past}. Grants count only if not void within
   * that past, so every replica decides it alike from the entry alone.
   */
  boolean passes(DidKey who, Ability ability, BitSet past) {
    if (owners.contains(who)) {
      return true;
    }
    boolean[] flags = liveWithin.computeIfAbsent(past, this::liveWithin);
    return holds(who, ability, past, flags, past::get);
  }

  /**
   * Whether an add or grant arriving now with {@code past} stands, given every revoke held here:
   * those outside its past are concurrent with it (an arriving entry is in no stored entry's past).
   */
  boolean standsOnArrival(DidKey who, Ability ability, BitSet past) {
    return owners.contains(who) || holds(who, ability, past, live, r -> true);
  }

  /**
   * Whether a stored add applied at {@code position} still stands: the revokes that count are
   * those applied before it (in its past, or concurrent) and {@code laterConcurrent}, the later
   * ones found concurrent with it.
   */
  boolean standsLater(DidKey who, Ability ability, BitSet past, long position, Set<Long> laterConcurrent) {
    return owners.contains(who) || holds(who, ability, past, live,
        r -> nodes.get(r).position < position || laterConcurrent.contains(nodes.get(r).position));
  }

  private boolean[] liveWithin(BitSet past) {
    boolean[] flags = new boolean[nodes.size()];
    for (int i = past.nextSetBit(0); i >= 0; i = past.nextSetBit(i + 1)) {
      Node node = nodes.get(i);
      int self = i;
      flags[i] = node.op != Op.GRANT || holds(node.author, Ability.ADMIN, node.past, flags,
          r -> past.get(r) && r != self && !nodes.get(r).past.get(self));
    }
    return flags;
  }

  /**
   * Whether {@code who} holds {@code ability} through some grant in {@code past} that {@code flags}
   * call live and that no counting revoke of {@code who} outside the grant's own past cancels.
   */
  private boolean holds(DidKey who, Ability ability, BitSet past, boolean[] flags, IntPredicate revokeCounts) {
    if (owners.contains(who)) {
      return true;
    }
    int[] revokes = revokesOf.getOrDefault(who, new int[0]);
    for (int h = past.nextSetBit(0); h >= 0; h = past.nextSetBit(h + 1)) {
      Node grant = nodes.get(h);
      if (grant.op != Op.GRANT || !grant.to.equals(who) || !flags[h]) {
        continue;
      }
      boolean direct = grant.can.contains(ability);
      boolean viaAdmin = grant.can.contains(Ability.ADMIN);
      for (int r : revokes) {
        if (!direct && !viaAdmin) {
          break;
        }
        if (r == h || grant.past.get(r) || !revokeCounts.test(r)) {
          continue;
        }
        Set<Ability> revoked = nodes.get(r).can;
        if (revoked.contains(ability)) {
          direct = false;
          viaAdmin = false;
        }
        if (revoked.contains(Ability.ADMIN)) {
          viaAdmin = false;
        }
      }
      if (direct || viaAdmin) {
        return true;
      }
    }
    return false;
  }

  private NamespaceAcl computeAcl() {
    BitSet all = new BitSet();
    all.set(0, nodes.size());
    Set<DidKey> grantees = new HashSet<>();
    for (Node node : nodes) {
      if (node.op == Op.GRANT && !owners.contains(node.to)) {
        grantees.add(node.to);
      }
    }
    Map<DidKey, Set<Ability>> grants = new HashMap<>();
    for (DidKey who : grantees) {
      Set<Ability> held = EnumSet.noneOf(Ability.class);
      for (Ability a : Ability.values()) {
        if (holds(who, a, all, live, r -> true)) {
          held.add(a);
        }
      }
      if (!held.isEmpty()) {
        grants.put(who, Set.copyOf(held));
      }
    }
    return new NamespaceAcl(ns, owners, grants);
  }

  /** Grants live here and void in {@code after} (this graph with more nodes). */
  List<Node> voidedIn(AclGraph after) {
    List<Node> voided = new ArrayList<>();
    for (Node node : nodes) {
      if (live[node.index] && !after.live[node.index]) {
        voided.add(node);
      }
    }
    return voided;
  }
}
