package dev.mnemo.store.log;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.acl.Ability;
import dev.mnemo.store.acl.Delegation;
import dev.mnemo.store.acl.NamespaceAcl;
import dev.mnemo.store.acl.UnauthorizedException;
import dev.mnemo.store.block.Block;
import dev.mnemo.store.car.NamespaceCar;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.identity.AgentKey;
import dev.mnemo.store.identity.Author;
import dev.mnemo.store.identity.DidKey;
import dev.mnemo.store.identity.NodeKeyFile;
import dev.mnemo.store.model.LogEntry;
import dev.mnemo.store.model.Memory;
import dev.mnemo.store.model.Op;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Access control converges: replicas that hold the same entries, received in any order and
 * grouping, agree on who may do what and on which memories are live, and that agreement is what
 * the rules say. The rules are evaluated here from scratch over the whole DAG (an oracle written
 * from their statement, with full ancestor sets), not through the store's frontiers and records.
 * Seeds are printed on failure; rerun with {@code -Dmnemo.test.seed=N}.
 */
class AclConvergenceTest {
  private static final String NS = "shared";
  private static final long TS = 1_700_000_000_000L;
  private static final List<Ability> WRITE_ABILITIES = List.of(Ability.REMEMBER, Ability.FORGET, Ability.ADMIN);

  @TempDir Path dir;
  private final List<MnemoStore> opened = new ArrayList<>();
  /** Where the run is, for failure messages. */
  private String phase = "setup";

  @AfterEach
  void closeStores() throws IOException {
    for (MnemoStore store : opened) {
      store.close();
    }
  }

  @RepeatedTest(5)
  void grantsAndRevocationsConvergeInAnyOrderToWhatTheRulesSay() {
    long seed = Long.getLong("mnemo.test.seed", System.nanoTime());
    try {
      run(seed);
    } catch (AssertionError e) {
      throw new AssertionError("seed " + seed + ", " + phase + ": " + e.getMessage(), e);
    } catch (Exception e) {
      throw new AssertionError("seed " + seed + ", " + phase + ": " + e, e);
    }
  }

  private void run(long seed) throws Exception {
    Random random = new Random(seed);
    List<MnemoStore> nodes = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      nodes.add(node("node-" + i, random));
    }
    Map<Cid, Block> memoryBlocks = new HashMap<>();
    // Node 3 writes for an agent that keeps its key: as the agent, under its delegation to the node.
    byte[] agentSeed = new byte[32];
    random.nextBytes(agentSeed);
    AgentKey agent = AgentKey.fromSeed(agentSeed);
    List<Author> authors = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      authors.add(nodes.get(i).log().nodeAuthor());
    }
    authors.add(new Author(agent.did(), nodes.get(3).nodeKey(),
        Delegation.sign(agent, nodes.get(3).nodeKey().did(), "*", Set.of(Ability.ADMIN)).encode()));
    NamespaceLog owner = nodes.get(0).log();
    owner.grant(authors.get(0), NS, authors.get(1).did(), Set.of(Ability.REMEMBER, Ability.FORGET));
    owner.grant(authors.get(0), NS, authors.get(2).did(), Set.of(Ability.ADMIN));
    owner.grant(authors.get(0), NS, authors.get(3).did(), Set.of(Ability.REMEMBER));
    for (int j = 1; j < nodes.size(); j++) {
      exchange(nodes.get(j), nodes.get(0), random, true);
    }
    Memory delegated = memory("written by node 3 for the agent");
    memoryBlocks.put(Block.dagCbor(delegated.encode()).cid(), Block.dagCbor(delegated.encode()));
    Cid delegatedEntry = nodes.get(3).log().append(authors.get(3), NS, List.of(delegated)).entry();
    int unique = 0;
    for (int step = 0; step < 90; step++) {
      int i = random.nextInt(nodes.size());
      NamespaceLog log = nodes.get(i).log();
      int roll = random.nextInt(100);
      phase = "step " + step + " at node " + i + ", roll " + roll;
      try {
        if (roll < 35) {
          List<Memory> batch = new ArrayList<>();
          Set<String> texts = new LinkedHashSet<>();
          for (int k = 1 + random.nextInt(3); k > 0; k--) {
            texts.add(random.nextInt(4) == 0 ? "common " + random.nextInt(6) : "node " + i + " #" + unique++);
          }
          for (String text : texts) {
            Memory memory = new Memory(NS, text, Map.of(), List.of(), TS, null, null);
            batch.add(memory);
            Block block = Block.dagCbor(memory.encode());
            memoryBlocks.put(block.cid(), block);
          }
          log.append(authors.get(i), NS, batch);
        } else if (roll < 45) {
          List<Cid> live = ConvergenceTest.live(log);
          if (!live.isEmpty()) {
            log.forget(authors.get(i), NS, List.of(live.get(random.nextInt(live.size()))));
          }
        } else if (roll < 50) {
          List<Cid> live = ConvergenceTest.live(log);
          if (!live.isEmpty()) {
            log.invalidate(authors.get(i), NS, List.of(live.get(random.nextInt(live.size()))), TS + random.nextInt(100));
          }
        } else if (roll < 65) {
          int j = 1 + random.nextInt(nodes.size() - 1);
          Set<Ability> can = EnumSet.noneOf(Ability.class);
          for (Ability a : WRITE_ABILITIES) {
            if (random.nextInt(3) == 0) {
              can.add(a);
            }
          }
          if (can.isEmpty()) {
            can.add(WRITE_ABILITIES.get(random.nextInt(WRITE_ABILITIES.size())));
          }
          if (random.nextInt(5) < 3) {
            log.revoke(authors.get(i), NS, authors.get(j).did(), can);
          } else {
            log.grant(authors.get(i), NS, authors.get(j).did(), can);
          }
        } else {
          int j = (i + 1 + random.nextInt(nodes.size() - 1)) % nodes.size();
          exchange(nodes.get(i), nodes.get(j), random, random.nextBoolean());
        }
      } catch (UnauthorizedException refused) {
        // As this node knows the namespace, its key may not do that now: nothing was written.
      }
    }
    for (MnemoStore to : nodes) {
      for (MnemoStore from : nodes) {
        if (to != from) {
          phase = "full exchange to " + to.dataDir().getFileName() + " from " + from.dataDir().getFileName();
          exchange(to, from, random, random.nextBoolean());
        }
      }
    }

    phase = "checks";
    MnemoStore reference = nodes.get(0);
    Map<Cid, LogEntry> entries = entries(reference.log());
    assertThat(entries.get(delegatedEntry).proof()).as("an entry under a delegation").isNotNull();
    Oracle oracle = new Oracle(entries);
    Set<Cid> expectedLive = oracle.liveMemories();
    NamespaceAcl expectedAcl = oracle.acl();
    State expected = State.of(reference.log(), memoryBlocks.keySet());
    for (MnemoStore node : nodes) {
      State state = State.of(node.log(), memoryBlocks.keySet());
      assertThat(state).as("%s agrees with node 0", node.dataDir().getFileName()).isEqualTo(expected);
    }
    assertThat(expected.live).as("the live memories are the rules'").isEqualTo(expectedLive);
    assertThat(expected.acl).as("the access control is the rules'").isEqualTo(expectedAcl);
    Map<Cid, java.util.OptionalLong> expectedInvalidated = new HashMap<>();
    for (Cid m : memoryBlocks.keySet()) {
      expectedInvalidated.put(m, entries.values().stream().filter(e -> e.op() == Op.INVALIDATE && e.refs().contains(m))
          .mapToLong(LogEntry::at).min());
    }
    assertThat(expected.invalidated).as("each memory's validity ends at its earliest invalidate").isEqualTo(expectedInvalidated);
    for (Cid cid : oracle.voidAdds()) {
      for (Cid ref : entries.get(cid).refs()) {
        if (!expectedLive.contains(ref)) {
          assertThat(reference.log().memory(ref)).as("void memory %s is not read", ref).isEmpty();
        }
      }
    }

    // Fresh replicas: everything at once, shuffled; and in random causal groups, each shuffled.
    List<Block> all = new ArrayList<>();
    for (Cid cid : entries.keySet()) {
      all.add(new Block(cid, reference.blocks().get(cid).orElseThrow()));
    }
    all.addAll(memoryBlocks.values());
    Collections.shuffle(all, random);
    phase = "fresh replicas";
    MnemoStore whole = node("whole", random);
    assertThat(whole.log().applyBlocks(all)).isEqualTo(entries.size());
    assertThat(State.of(whole.log(), memoryBlocks.keySet())).as("all at once").isEqualTo(expected);

    for (int t = 0; t < 2; t++) {
      MnemoStore target = node("grouped-" + t, random);
      List<Cid> order = linearExtension(entries, random);
      int start = 0;
      while (start < order.size()) {
        int end = Math.min(order.size(), start + 1 + random.nextInt(Math.max(1, order.size() / 4)));
        List<Block> blocks = new ArrayList<>();
        for (Cid cid : order.subList(start, end)) {
          blocks.add(new Block(cid, reference.blocks().get(cid).orElseThrow()));
          for (Cid ref : entries.get(cid).refs()) {
            if (entries.get(cid).op() == Op.ADD) {
              blocks.add(memoryBlocks.get(ref));
            }
          }
        }
        Collections.shuffle(blocks, random);
        target.log().applyBlocks(blocks);
        start = end;
      }
      assertThat(State.of(target.log(), memoryBlocks.keySet())).as("grouped %d", t).isEqualTo(expected);
    }
    // And what a restart reads back.
    Path data = nodes.get(1).dataDir();
    nodes.get(1).close();
    opened.remove(nodes.get(1));
    MnemoStore reopened = MnemoStore.open(data);
    opened.add(reopened);
    assertThat(State.of(reopened.log(), memoryBlocks.keySet())).as("after a restart").isEqualTo(expected);
  }

  /** A revoke that arrives after the revoked agent's concurrent adds makes them void everywhere, retroactively. */
  @Test
  void aRevokedAgentsConcurrentAddsAreVoidOnEveryReplica() throws Exception {
    Random random = new Random(7);
    MnemoStore owner = node("owner", random);
    MnemoStore agent = node("agent", random);
    MnemoStore third = node("third", random);
    NamespaceLog o = owner.log();
    Appended before = o.append(o.nodeAuthor(), NS, List.of(memory("owner's")));
    o.grant(o.nodeAuthor(), NS, agent.nodeKey().did(), Set.of(Ability.ADMIN));
    exchange(agent, owner, random, true);
    NamespaceLog a = agent.log();
    Appended early = a.append(a.nodeAuthor(), NS, List.of(memory("before anyone revoked")));
    exchange(owner, agent, random, true);
    exchange(third, owner, random, true);

    // Concurrently: the owner revokes; the agent, not knowing, adds and grants the third node.
    Appended revoke = o.revoke(o.nodeAuthor(), NS, agent.nodeKey().did(), Set.of(Ability.ADMIN));
    Appended late = a.append(a.nodeAuthor(), NS, List.of(memory("concurrent with the revoke")));
    a.grant(a.nodeAuthor(), NS, third.nodeKey().did(), Set.of(Ability.REMEMBER));
    exchange(third, agent, random, false);
    NamespaceLog t = third.log();
    Appended thirds = t.append(t.nodeAuthor(), NS, List.of(memory("under a grant that will be void")));
    Cid lateMemory = late.memories().get(0);
    Cid thirdMemory = thirds.memories().get(0);
    assertThat(t.state(NS, lateMemory)).isEqualTo(MemoryState.LIVE);

    // The owner hears of the agent's concurrent writes after its revoke: void on arrival.
    exchange(owner, third, random, true);
    assertThat(o.state(NS, lateMemory)).isEqualTo(MemoryState.VOID);
    assertThat(o.state(NS, thirdMemory)).as("stood on a void grant").isEqualTo(MemoryState.VOID);
    assertThat(o.state(NS, early.memories().get(0))).as("in the revoke's past").isEqualTo(MemoryState.LIVE);

    // The agent and the third node hear of the revoke after: void retroactively (and a copy the
    // agent's memory cache holds goes too).
    assertThat(a.memory(lateMemory)).isPresent();
    long thirdBefore = t.lastPosition();
    exchange(third, owner, random, false);
    exchange(agent, owner, random, true);
    for (NamespaceLog log : List.of(o, a, t)) {
      String who = log == o ? "owner" : log == a ? "agent" : "third";
      assertThat(log.state(NS, lateMemory)).as(who).isEqualTo(MemoryState.VOID);
      // The agent got the third node's add from the owner's export, which leaves a void add's memories out.
      assertThat(log.state(NS, thirdMemory)).as(who).isEqualTo(log == a ? MemoryState.UNKNOWN : MemoryState.VOID);
      assertThat(log.memory(thirdMemory)).as(who).isEmpty();
      assertThat(log.memory(lateMemory)).isEmpty();
      assertThat(ConvergenceTest.live(log)).containsExactlyInAnyOrder(before.memories().get(0), early.memories().get(0));
      assertThat(log.acl(NS).grants()).isEmpty();
      assertThatVoidBlockIsKept(log, lateMemory);
    }
    List<Cid> voided = new ArrayList<>();
    for (long p = thirdBefore + 1; p <= t.lastPosition(); p++) {
      voided.addAll(t.voidedBy(p));
    }
    assertThat(voided).as("recorded where the index drops them").containsExactlyInAnyOrder(lateMemory, thirdMemory);
    assertThat(revoke.entry()).isNotNull();
    // A node that never saw the memories' blocks imports the export: void adds come without them.
    MnemoStore fourth = node("fourth", random);
    exchange(fourth, agent, random, true);
    assertThat(ConvergenceTest.live(fourth.log())).containsExactlyInAnyOrder(before.memories().get(0), early.memories().get(0));

    // As a peer's pull applies them: one entry a call, in causal order (revokes as early as it
    // allows), each add with the memory blocks the peer serves, none for a void add's.
    MnemoStore fifth = node("fifth", random);
    Map<Cid, LogEntry> entries = entries(o);
    for (Cid cid : NamespaceLog.causalOrder(entries)) {
      List<Block> blocks = new ArrayList<>(List.of(new Block(cid, owner.blocks().get(cid).orElseThrow())));
      if (entries.get(cid).op() == Op.ADD && !o.isVoid(cid)) {
        for (Cid ref : entries.get(cid).refs()) {
          blocks.add(new Block(ref, owner.blocks().get(ref).orElseThrow()));
        }
      }
      assertThat(fifth.log().applyBlocks(blocks)).as("%s", entries.get(cid)).isEqualTo(1);
    }
    assertThat(State.of(fifth.log(), Set.of(lateMemory, thirdMemory))).isEqualTo(State.of(o, Set.of(lateMemory, thirdMemory)));
    assertThat(o.isVoid(late.entry())).isTrue();
    assertThat(o.isVoid(early.entry())).isFalse();
  }

  /**
   * An add that survives a concurrent revoke (it had another grant to stand on) remembers that
   * revoke across a restart: when the other grant becomes void later, the add falls.
   */
  @Test
  void anAddRemembersTheConcurrentRevokesItSurvivedAcrossARestart() throws Exception {
    Random random = new Random(11);
    MnemoStore ownerSide = node("owner", random);
    MnemoStore ySide = node("y", random);
    MnemoStore xSide = node("x", random);
    AgentKey owner = ownerSide.nodeKey();
    AgentKey y = AgentKey.generate();
    NamespaceLog o = ownerSide.log();
    Author ownerAuthor = Author.of(owner);
    Author yAuthor = Author.of(y);
    Author xAuthor = xSide.log().nodeAuthor();
    DidKey x = xAuthor.did();
    o.grant(ownerAuthor, NS, y.did(), Set.of(Ability.ADMIN));
    o.grant(ownerAuthor, NS, x, Set.of(Ability.ADMIN));
    exchange(ySide, ownerSide, random, true);
    ySide.log().grant(yAuthor, NS, x, Set.of(Ability.REMEMBER));
    exchange(xSide, ySide, random, true);
    Cid m = xSide.log().append(xAuthor, NS, List.of(memory("two grants to stand on"))).memories().get(0);

    // Not knowing of y's grant nor of the add: the owner revokes x's admin, then y's.
    Appended first = o.revoke(ownerAuthor, NS, x, Set.of(Ability.ADMIN));
    Appended second = o.revoke(ownerAuthor, NS, y.did(), Set.of(Ability.ADMIN));
    xSide.log().applyBlocks(List.of(new Block(first.entry(), ownerSide.blocks().get(first.entry()).orElseThrow())));
    assertThat(xSide.log().state(NS, m)).as("still stands on y's grant").isEqualTo(MemoryState.LIVE);

    Path data = xSide.dataDir();
    xSide.close();
    opened.remove(xSide);
    MnemoStore reopened = MnemoStore.open(data);
    opened.add(reopened);
    reopened.log().applyBlocks(List.of(new Block(second.entry(), ownerSide.blocks().get(second.entry()).orElseThrow())));
    assertThat(reopened.log().state(NS, m)).as("y's grant is void, and x's admin was revoked before").isEqualTo(MemoryState.VOID);
    assertThat(reopened.log().voidedBy(reopened.log().position(second.entry()).getAsLong())).containsExactly(m);
    exchange(ownerSide, reopened, random, false);
    assertThat(o.state(NS, m)).isEqualTo(MemoryState.VOID);
    assertThat(new Oracle(entries(o)).liveMemories()).doesNotContain(m);
  }

  private static void assertThatVoidBlockIsKept(NamespaceLog log, Cid memory) throws IOException {
    assertThat(log.blocks().has(memory)).as("a void add's memory stays for peers").isTrue();
  }

  // ---- the rules, evaluated from scratch ----

  /** The README's rules over a whole DAG, with full ancestor sets; slow and plain on purpose. */
  static final class Oracle {
    private final Map<Cid, LogEntry> entries;
    private final Map<Cid, Set<Cid>> past = new HashMap<>();
    private final Set<DidKey> owners = new HashSet<>();
    private final Map<Cid, Boolean> standing = new HashMap<>();

    Oracle(Map<Cid, LogEntry> entries) {
      this.entries = entries;
      for (Map.Entry<Cid, LogEntry> e : entries.entrySet()) {
        if (e.getValue().isRoot()) {
          owners.add(e.getValue().author());
        }
      }
    }

    Set<Cid> past(Cid cid) {
      Set<Cid> known = past.get(cid);
      if (known != null) {
        return known;
      }
      Set<Cid> set = new HashSet<>();
      for (Cid parent : entries.get(cid).parents()) {
        set.add(parent);
        set.addAll(past(parent));
      }
      past.put(cid, set);
      return set;
    }

    /**
     * Whether an add or grant is not void: its author is an owner, or some grant in its past that
     * is itself not void gives it the ability (directly, or through admin) and no revoke of its
     * author cancels that grant: one outside the grant's past and not after the entry itself.
     */
    boolean stands(Cid cid) {
      Boolean known = standing.get(cid);
      if (known != null) {
        return known;
      }
      LogEntry entry = entries.get(cid);
      boolean result = entry.isRoot() || holds(entry.author(), entry.op().needs(), past(cid), revoke -> !past(revoke).contains(cid));
      standing.put(cid, result);
      return result;
    }

    private boolean holds(DidKey who, Ability ability, Set<Cid> within, java.util.function.Predicate<Cid> revokeCounts) {
      if (owners.contains(who)) {
        return true;
      }
      for (Cid g : within) {
        LogEntry grant = entries.get(g);
        if (grant.op() != Op.GRANT || !grant.to().equals(who) || !stands(g)) {
          continue;
        }
        boolean direct = grant.can().contains(ability);
        boolean viaAdmin = grant.can().contains(Ability.ADMIN);
        for (Map.Entry<Cid, LogEntry> r : entries.entrySet()) {
          LogEntry revoke = r.getValue();
          if (revoke.op() != Op.REVOKE || !revoke.to().equals(who) || past(g).contains(r.getKey())
              || r.getKey().equals(g) || !revokeCounts.test(r.getKey())) {
            continue;
          }
          if (revoke.can().contains(ability)) {
            direct = false;
            viaAdmin = false;
          }
          if (revoke.can().contains(Ability.ADMIN)) {
            viaAdmin = false;
          }
        }
        if (direct || viaAdmin) {
          return true;
        }
      }
      return false;
    }

    Set<Cid> voidAdds() {
      Set<Cid> out = new TreeSet<>();
      for (Map.Entry<Cid, LogEntry> e : entries.entrySet()) {
        if (e.getValue().op() == Op.ADD && !stands(e.getKey())) {
          out.add(e.getKey());
        }
      }
      return out;
    }

    /** Memories some standing add adds and no forget forgets. */
    Set<Cid> liveMemories() {
      Set<Cid> added = new HashSet<>();
      Set<Cid> forgotten = new HashSet<>();
      for (Map.Entry<Cid, LogEntry> e : entries.entrySet()) {
        if (e.getValue().op() == Op.ADD && stands(e.getKey())) {
          added.addAll(e.getValue().refs());
        } else if (e.getValue().op() == Op.FORGET) {
          forgotten.addAll(e.getValue().refs());
        }
      }
      added.removeAll(forgotten);
      return added;
    }

    NamespaceAcl acl() {
      Set<DidKey> grantees = new HashSet<>();
      for (LogEntry e : entries.values()) {
        if (e.op() == Op.GRANT && !owners.contains(e.to())) {
          grantees.add(e.to());
        }
      }
      Map<DidKey, Set<Ability>> grants = new HashMap<>();
      for (DidKey who : grantees) {
        Set<Ability> held = EnumSet.noneOf(Ability.class);
        for (Ability a : Ability.values()) {
          if (holds(who, a, entries.keySet(), r -> true)) {
            held.add(a);
          }
        }
        if (!held.isEmpty()) {
          grants.put(who, Set.copyOf(held));
        }
      }
      return new NamespaceAcl(NS, owners, grants);
    }
  }

  /** What one node says of the namespace. */
  record State(Set<Cid> heads, Set<Cid> live, Map<Cid, MemoryState> states, NamespaceAcl acl,
      Map<Cid, java.util.OptionalLong> invalidated) {
    static State of(NamespaceLog log, Set<Cid> memories) throws IOException {
      Map<Cid, MemoryState> states = new HashMap<>();
      Map<Cid, java.util.OptionalLong> invalidated = new HashMap<>();
      for (Cid m : memories) {
        invalidated.put(m, log.invalidatedAt(NS, m));
        MemoryState state = log.state(NS, m);
        // Unknown and void are both "not live, not forgotten": a node that never got a void
        // add's block (an export leaves it out) knows it as unknown.
        states.put(m, state == MemoryState.VOID ? MemoryState.UNKNOWN : state);
      }
      List<Cid> live = ConvergenceTest.live(log);
      assertThat(new HashSet<>(live)).as("no memory listed twice").hasSameSizeAs(live);
      return new State(log.heads(NS), new HashSet<>(live), states, log.acl(NS), invalidated);
    }
  }

  // ---- helpers ----

  private static Memory memory(String text) {
    return new Memory(NS, text, Map.of(), List.of(), TS, null, null);
  }

  /** {@code to} learns everything {@code from} holds, by CAR export or by raw blocks. */
  private static void exchange(MnemoStore to, MnemoStore from, Random random, boolean car) throws IOException {
    if (car) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      NamespaceCar.export(from.log(), NS, out);
      NamespaceCar.importCar(to.log(), new ByteArrayInputStream(out.toByteArray()));
      return;
    }
    Map<Cid, LogEntry> missing = entries(from.log());
    missing.keySet().removeAll(entries(to.log()).keySet());
    List<Block> blocks = new ArrayList<>();
    for (Map.Entry<Cid, LogEntry> e : missing.entrySet()) {
      blocks.add(new Block(e.getKey(), from.blocks().get(e.getKey()).orElseThrow()));
      if (e.getValue().op() == Op.ADD) {
        for (Cid ref : e.getValue().refs()) {
          from.blocks().get(ref).ifPresent(bytes -> blocks.add(new Block(ref, bytes)));
        }
      }
    }
    Collections.shuffle(blocks, random);
    to.log().applyBlocks(blocks);
  }

  static Map<Cid, LogEntry> entries(NamespaceLog log) throws IOException {
    Map<Cid, LogEntry> out = new HashMap<>();
    log.walk(NS, positioned -> {
      out.put(positioned.cid(), positioned.entry());
      return true;
    });
    return out;
  }

  private static List<Cid> linearExtension(Map<Cid, LogEntry> entries, Random random) {
    List<Cid> order = new ArrayList<>();
    Set<Cid> placed = new HashSet<>();
    List<Cid> remaining = new ArrayList<>(new TreeSet<>(entries.keySet()));
    while (!remaining.isEmpty()) {
      List<Cid> ready = remaining.stream().filter(cid -> placed.containsAll(entries.get(cid).parents())).toList();
      Cid next = ready.get(random.nextInt(ready.size()));
      order.add(next);
      placed.add(next);
      remaining.remove(next);
    }
    return order;
  }

  private MnemoStore node(String name, Random random) throws IOException {
    byte[] seed = new byte[32];
    random.nextBytes(seed);
    AgentKey key = AgentKey.fromSeed(seed);
    Path data = dir.resolve(name);
    Files.createDirectories(data);
    NodeKeyFile.write(data.resolve(NodeKeyFile.FILE_NAME), key);
    MnemoStore store = MnemoStore.open(data);
    opened.add(store);
    return store;
  }
}
