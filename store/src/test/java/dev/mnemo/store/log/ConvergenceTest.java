package dev.mnemo.store.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.acl.Ability;
import dev.mnemo.store.block.Block;
import dev.mnemo.store.car.NamespaceCar;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.identity.AgentKey;
import dev.mnemo.store.identity.NodeKeyFile;
import dev.mnemo.store.model.LogEntry;
import dev.mnemo.store.model.Memory;
import dev.mnemo.store.model.Op;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A namespace's state is a CRDT: nodes that hold the same entries hold the same state, whatever
 * order the entries came in and however they were grouped. Operation sequences are random but
 * replayable: node keys and memory texts derive from the seed in every failure message (rerun
 * with {@code -Dmnemo.test.seed=N}).
 */
class ConvergenceTest {
  private static final String NS = "shared";
  private static final long TS = 1_700_000_000_000L;

  @TempDir Path dir;
  private final List<MnemoStore> opened = new ArrayList<>();

  @AfterEach
  void closeStores() throws IOException {
    for (MnemoStore store : opened) {
      store.close();
    }
  }

  // ---- random interleavings ----

  @RepeatedTest(3)
  void randomConcurrentWritersConvergeAfterAFullExchange() {
    long seed = seed();
    withSeed(seed, () -> {
      Sim sim = new Sim(seed, 3);
      sim.run(80);
      sim.fullExchange();
      sim.assertConverged();
    });
  }

  // ---- forget wins ----

  @Test
  void forgetWinsOverAConcurrentAddOfTheSameMemoryWhateverArrivesFirst() {
    long seed = seed();
    withSeed(seed, () -> forgetWins(seed));
  }

  private void forgetWins(long seed) throws Exception {
    Random random = new Random(seed);
    MnemoStore a = node("a", random);
    MnemoStore b = node("b", random);
    MnemoStore c = node("c", random);
    MnemoStore d = node("d", random);
    share(List.of(a, b, c, d));
    Memory same = memory("said twice");
    Cid m = Block.dagCbor(same.encode()).cid();

    // A and C remember identical content concurrently: one CID, two add entries.
    Appended addA = a.log().append(NS, List.of(same));
    Appended addC = c.log().append(NS, List.of(same, memory("c's own")));
    assertThat(addA.memories()).containsExactly(m);
    assertThat(addC.memories().get(0)).isEqualTo(m);
    assertThat(addA.entry()).isNotEqualTo(addC.entry());
    byte[] cBeforeForget = export(c.log());

    // B learns M from A and forgets it.
    importCar(b.log(), export(a.log()));
    assertThat(b.log().state(NS, m)).isEqualTo(MemoryState.LIVE);
    Appended forget = b.log().forget(NS, List.of(m));
    byte[] bAfterForget = export(b.log());

    // D hears of the forget before C's add, then gets C's add with M's block: M stays forgotten
    // and its block is not stored.
    assertThat(importCar(d.log(), bAfterForget).entriesApplied()).isEqualTo(2);
    assertThat(d.log().state(NS, m)).as("seed %d", seed).isEqualTo(MemoryState.FORGOTTEN);
    assertThat(importCar(d.log(), cBeforeForget).entriesApplied()).isEqualTo(1);
    assertThat(d.log().state(NS, m)).as("seed %d", seed).isEqualTo(MemoryState.FORGOTTEN);
    assertThat(d.blocks().has(m)).as("seed %d", seed).isFalse();
    assertThat(live(d.log())).as("seed %d", seed).containsExactly(addC.memories().get(1));

    // A hears of C's add first (M stays live, it already was), then of the forget.
    importCar(a.log(), cBeforeForget);
    assertThat(a.log().state(NS, m)).isEqualTo(MemoryState.LIVE);
    importCar(a.log(), bAfterForget);
    assertThat(a.log().state(NS, m)).as("seed %d", seed).isEqualTo(MemoryState.FORGOTTEN);
    assertThat(a.blocks().has(m)).isFalse();

    // C, holding its own concurrent add, hears of the forget: forget wins there too.
    importCar(c.log(), bAfterForget);
    assertThat(c.log().state(NS, m)).as("seed %d", seed).isEqualTo(MemoryState.FORGOTTEN);
    assertThat(c.blocks().has(m)).isFalse();
    // Remembering the same content again after the forget does not bring it back.
    c.log().append(NS, List.of(same));
    assertThat(c.log().state(NS, m)).as("seed %d", seed).isEqualTo(MemoryState.FORGOTTEN);
    assertThat(c.blocks().has(m)).isFalse();

    List<MnemoStore> all = List.of(a, b, c, d);
    exchangeAll(all);
    Set<Cid> heads = b.log().heads(NS);
    for (MnemoStore node : all) {
      assertThat(node.log().heads(NS)).as("seed %d, %s", seed, node.dataDir()).isEqualTo(heads);
      assertThat(node.log().state(NS, m)).as("seed %d, %s", seed, node.dataDir()).isEqualTo(MemoryState.FORGOTTEN);
      assertThat(node.log().memory(m)).as("seed %d, %s", seed, node.dataDir()).isEmpty();
      assertThat(node.blocks().has(m)).as("seed %d, %s", seed, node.dataDir()).isFalse();
      assertThat(live(node.log())).as("seed %d, %s", seed, node.dataDir()).containsExactly(addC.memories().get(1));
      assertThat(entries(node.log())).as("seed %d", seed).contains(addA.entry(), addC.entry(), forget.entry());
    }
  }

  // ---- order and grouping independence ----

  @Test
  void theSameEntriesInAnyOrderAndGroupingGiveTheSameState() {
    long seed = seed();
    withSeed(seed, () -> inAnyOrderAndGrouping(seed));
  }

  private void inAnyOrderAndGrouping(long seed) throws Exception {
    Sim sim = new Sim(seed, 3);
    sim.run(60);
    sim.fullExchange();
    sim.assertConverged();
    Random random = sim.random;
    MnemoStore source = sim.nodes.get(0);
    Set<Cid> entryCids = entries(source.log());
    Map<Cid, Block> entryBlocks = new HashMap<>();
    Map<Cid, LogEntry> entries = new HashMap<>();
    for (Cid cid : entryCids) {
      entryBlocks.put(cid, new Block(cid, source.blocks().get(cid).orElseThrow()));
      entries.put(cid, source.log().entry(cid).orElseThrow());
    }
    View expected = View.of(source.log(), sim.added);

    // All at once, shuffled, with only the blocks a peer still holds (forgotten ones are gone).
    MnemoStore whole = node("whole", random);
    List<Block> everything = new ArrayList<>(entryBlocks.values());
    for (Cid cid : sim.added) {
      source.blocks().get(cid).ifPresent(bytes -> everything.add(new Block(cid, bytes)));
    }
    Collections.shuffle(everything, random);
    assertThat(whole.log().applyBlocks(everything)).as("seed %d", seed).isEqualTo(entryCids.size());
    assertThat(View.of(whole.log(), sim.added)).as("seed %d: all at once", seed).isEqualTo(expected);

    // In random causal prefixes, each shuffled, each carrying every memory block its adds name
    // (also those forgotten by then) and now and then an entry applied before.
    for (int t = 0; t < 3; t++) {
      MnemoStore target = node("grouped-" + t, random);
      List<Cid> order = randomLinearExtension(entries, random);
      Set<Cid> applied = new HashSet<>();
      int start = 0;
      int calls = 0;
      while (start < order.size()) {
        int end = Math.min(order.size(), start + 1 + random.nextInt(Math.max(1, order.size() / 3)));
        List<Cid> group = order.subList(start, end);
        Set<Block> blocks = new LinkedHashSet<>();
        for (Cid cid : group) {
          blocks.add(entryBlocks.get(cid));
          if (entries.get(cid).op() == Op.ADD) {
            for (Cid ref : entries.get(cid).refs()) {
              blocks.add(sim.memoryBlocks.get(ref));
            }
          }
        }
        if (!applied.isEmpty() && random.nextInt(3) == 0) {
          List<Cid> before = new ArrayList<>(applied);
          blocks.add(entryBlocks.get(before.get(random.nextInt(before.size()))));
        }
        List<Block> shuffled = new ArrayList<>(blocks);
        Collections.shuffle(shuffled, random);
        assertThat(target.log().applyBlocks(shuffled)).as("seed %d, target %d, call %d", seed, t, calls)
            .isEqualTo(group.size());
        applied.addAll(group);
        start = end;
        calls++;
      }
      assertThat(View.of(target.log(), sim.added)).as("seed %d: target %d in %d calls", seed, t, calls)
          .isEqualTo(expected);
    }
  }

  // ---- causal order ----

  @Test
  void causalOrderPutsParentsBeforeChildrenInRandomDags() throws Exception {
    long seed = seed();
    Random random = new Random(seed);
    AgentKey key = AgentKey.generate();
    for (int round = 0; round < 300; round++) {
      int n = 1 + random.nextInt(60);
      List<Cid> created = new ArrayList<>();
      Map<Cid, LogEntry> all = new HashMap<>();
      for (int i = 0; i < n; i++) {
        Set<Cid> parents = new HashSet<>();
        int wanted = created.isEmpty() ? 0 : random.nextInt(Math.min(4, created.size() + 1));
        for (int p = 0; p < wanted; p++) {
          parents.add(created.get(random.nextInt(created.size())));
        }
        if (random.nextInt(8) == 0) {
          parents.add(Cid.dagCbor(("outside " + round + "/" + i).getBytes(StandardCharsets.UTF_8)));
        }
        Cid ref = Cid.dagCbor(("memory " + round + "/" + i).getBytes(StandardCharsets.UTF_8));
        LogEntry entry = new LogEntry(NS, random.nextBoolean() ? Op.ADD : Op.FORGET, List.of(ref),
            new ArrayList<>(parents), 1 + i, key.did(), new byte[64]);
        Cid cid = Cid.dagCbor(entry.encode());
        created.add(cid);
        all.put(cid, entry);
      }
      // A random subset closed under parents... or not: parents outside the map are ignored.
      List<Cid> keys = new ArrayList<>(created);
      Collections.shuffle(keys, random);
      Map<Cid, LogEntry> input = new LinkedHashMap<>();
      for (Cid cid : keys) {
        if (random.nextInt(5) != 0) {
          input.put(cid, all.get(cid));
        }
      }

      List<Cid> order = NamespaceLog.causalOrder(input);

      assertThat(order).as("seed %d, round %d", seed, round).containsExactlyInAnyOrderElementsOf(input.keySet());
      Map<Cid, Integer> index = new HashMap<>();
      for (int i = 0; i < order.size(); i++) {
        index.put(order.get(i), i);
      }
      for (Map.Entry<Cid, LogEntry> e : input.entrySet()) {
        for (Cid parent : e.getValue().parents()) {
          if (input.containsKey(parent)) {
            assertThat(index.get(parent)).as("seed %d, round %d: parent %s of %s", seed, round, parent, e.getKey())
                .isLessThan(index.get(e.getKey()));
          }
        }
      }
    }
  }

  @Test
  void causalOrderRefusesACycle() {
    AgentKey key = AgentKey.generate();
    Cid x = Cid.dagCbor("x".getBytes(StandardCharsets.UTF_8));
    Cid y = Cid.dagCbor("y".getBytes(StandardCharsets.UTF_8));
    Cid z = Cid.dagCbor("z".getBytes(StandardCharsets.UTF_8));
    Cid ref = Cid.dagCbor("ref".getBytes(StandardCharsets.UTF_8));
    // Keys need not hash to their entries here, so a cycle can be built.
    Map<Cid, LogEntry> cycle = new LinkedHashMap<>();
    cycle.put(z, new LogEntry(NS, Op.ADD, List.of(ref), List.of(), 1, key.did(), new byte[64]));
    cycle.put(x, new LogEntry(NS, Op.ADD, List.of(ref), List.of(y, z), 2, key.did(), new byte[64]));
    cycle.put(y, new LogEntry(NS, Op.ADD, List.of(ref), List.of(x), 3, key.did(), new byte[64]));
    assertThatThrownBy(() -> NamespaceLog.causalOrder(cycle))
        .isInstanceOf(RejectedEntryException.class)
        .hasMessageContaining("cycle");
    Map<Cid, LogEntry> self = Map.of(x, new LogEntry(NS, Op.ADD, List.of(ref), List.of(x), 1, key.did(), new byte[64]));
    assertThatThrownBy(() -> NamespaceLog.causalOrder(self)).isInstanceOf(RejectedEntryException.class);
  }

  // ---- the simulation ----

  /** Nodes writing to one namespace, and what they collectively added and forgot. */
  private final class Sim {
    final long seed;
    final Random random;
    final List<MnemoStore> nodes = new ArrayList<>();
    final Set<Cid> added = new HashSet<>();
    final Set<Cid> forgotten = new HashSet<>();
    final Map<Cid, Block> memoryBlocks = new HashMap<>();
    final Map<Cid, Memory> memories = new HashMap<>();
    /** The earliest time some node invalidated each memory at: what every replica must end up holding. */
    final Map<Cid, Long> invalidated = new HashMap<>();
    final List<Cid> addedInOrder = new ArrayList<>();
    int unique;
    int exchanges;

    Sim(long seed, int count) throws IOException {
      this.seed = seed;
      this.random = new Random(seed);
      for (int i = 0; i < count; i++) {
        nodes.add(node("node-" + i, random));
      }
      share(nodes);
    }

    void run(int steps) throws Exception {
      // Every node writes before anyone syncs, and node 0 then writes on top of all of it:
      // the DAG is guaranteed a fork and a merge whatever the random steps do.
      for (int i = 0; i < nodes.size(); i++) {
        append(i);
      }
      for (int j = 1; j < nodes.size(); j++) {
        exchange(0, j);
      }
      append(0);
      for (int step = 0; step < steps; step++) {
        int i = random.nextInt(nodes.size());
        int roll = random.nextInt(100);
        if (roll < 35) {
          append(i);
        } else if (roll < 55) {
          forget(i);
        } else if (roll < 63) {
          invalidate(i);
        } else {
          int j = (i + 1 + random.nextInt(nodes.size() - 1)) % nodes.size();
          exchange(i, j);
        }
      }
    }

    void append(int i) throws IOException {
      Map<String, Memory> batch = new LinkedHashMap<>();
      int size = 1 + random.nextInt(5);
      for (int k = 0; k < size; k++) {
        // A small shared pool makes different nodes add identical memories (one CID) concurrently.
        String text = random.nextInt(3) == 0 ? "common " + random.nextInt(8) : "node " + i + " #" + unique++;
        // Now and then an update of a memory some node added: successors arrive before, with and
        // after what they supersede, and some are forgotten.
        Cid prev = !addedInOrder.isEmpty() && random.nextInt(3) == 0
            ? addedInOrder.get(random.nextInt(addedInOrder.size())) : null;
        batch.put(text, new Memory(NS, text, Map.of("kind", "convergence"), List.of("sim"), TS, null, prev));
      }
      List<Memory> list = List.copyOf(batch.values());
      Appended appended = nodes.get(i).log().append(NS, list);
      for (Memory m : list) {
        Block block = Block.dagCbor(m.encode());
        memoryBlocks.put(block.cid(), block);
        memories.put(block.cid(), m);
        if (added.add(block.cid())) {
          addedInOrder.add(block.cid());
        }
      }
      assertThat(appended.memories()).as("seed %d", seed)
          .containsExactlyElementsOf(list.stream().map(m -> Block.dagCbor(m.encode()).cid()).toList());
    }

    void forget(int i) throws Exception {
      List<Cid> live = live(nodes.get(i).log());
      if (live.isEmpty()) {
        return;
      }
      Collections.shuffle(live, random);
      List<Cid> chosen = live.subList(0, Math.min(live.size(), 1 + random.nextInt(2)));
      nodes.get(i).log().forget(NS, List.copyOf(chosen));
      forgotten.addAll(chosen);
    }

    /** Ends the validity of one of the node's live memories at a random time (later or earlier than before). */
    void invalidate(int i) throws Exception {
      List<Cid> live = live(nodes.get(i).log());
      if (live.isEmpty()) {
        return;
      }
      Cid chosen = live.get(random.nextInt(live.size()));
      long at = TS + random.nextInt(1_000);
      nodes.get(i).log().invalidate(nodes.get(i).log().nodeAuthor(), NS, List.of(chosen), at);
      invalidated.merge(chosen, at, Math::min);
    }

    /** Node {@code to} learns everything node {@code from} holds, by CAR or by raw blocks. */
    void exchange(int to, int from) throws IOException {
      NamespaceLog target = nodes.get(to).log();
      NamespaceLog source = nodes.get(from).log();
      Set<Cid> missing = entries(source);
      missing.removeAll(entries(target));
      int applied;
      if (random.nextBoolean()) {
        applied = importCar(target, export(source)).entriesApplied();
      } else {
        List<Block> blocks = new ArrayList<>();
        for (Cid cid : missing) {
          blocks.add(new Block(cid, source.blocks().get(cid).orElseThrow()));
          LogEntry entry = source.entry(cid).orElseThrow();
          if (entry.op() == Op.ADD) {
            for (Cid ref : entry.refs()) {
              source.blocks().get(ref).ifPresent(bytes -> blocks.add(new Block(ref, bytes)));
            }
          }
        }
        Collections.shuffle(blocks, random);
        applied = target.applyBlocks(blocks);
      }
      assertThat(applied).as("seed %d, exchange %d: node %d from node %d", seed, exchanges, to, from)
          .isEqualTo(missing.size());
      exchanges++;
    }

    void fullExchange() throws IOException {
      for (int i = 0; i < nodes.size(); i++) {
        for (int j = 0; j < nodes.size(); j++) {
          if (i != j) {
            exchange(i, j);
          }
        }
      }
    }

    void assertConverged() throws IOException {
      Set<Cid> expectedLive = new HashSet<>(added);
      expectedLive.removeAll(forgotten);
      NamespaceLog first = nodes.get(0).log();
      View reference = View.of(first, added);
      Set<Cid> allEntries = entries(first);
      long maxClock = 0;
      boolean merged = false;
      for (Cid cid : allEntries) {
        LogEntry entry = first.entry(cid).orElseThrow();
        maxClock = Math.max(maxClock, entry.clock());
        merged |= entry.parents().size() > 1;
      }
      assertThat(merged).as("seed %d: the history has a merge", seed).isTrue();
      assertThat(forgotten).as("seed %d: something was forgotten", seed).isNotEmpty();
      assertThat(reference.clock).as("seed %d", seed).isEqualTo(maxClock);

      for (int i = 0; i < nodes.size(); i++) {
        MnemoStore node = nodes.get(i);
        NamespaceLog log = node.log();
        String where = "seed " + seed + ", node " + i;
        View view = View.of(log, added);
        assertThat(view.heads).as(where).isEqualTo(reference.heads);
        assertThat(view.entries).as(where).isEqualTo(allEntries);
        assertThat(view.clock).as(where).isEqualTo(maxClock);
        assertThat(view.live).as(where).isEqualTo(expectedLive);
        assertThat(live(log)).as(where + ": no memory listed twice").hasSameSizeAs(view.live);
        assertThat(view.states).as(where).isEqualTo(reference.states);
        assertThat(view.invalidated).as(where).isEqualTo(reference.invalidated);
        for (Map.Entry<Cid, Long> e : invalidated.entrySet()) {
          assertThat(log.invalidatedAt(NS, e.getKey())).as(where + ": invalidated " + e.getKey()).hasValue(e.getValue());
        }
        for (Cid cid : forgotten) {
          assertThat(log.state(NS, cid)).as(where + ": forgotten " + cid).isEqualTo(MemoryState.FORGOTTEN);
          assertThat(node.blocks().has(cid)).as(where + ": block of forgotten " + cid).isFalse();
        }
        for (Cid cid : expectedLive) {
          assertThat(log.memory(cid)).as(where + ": live " + cid).contains(memories.get(cid));
        }
        assertThat(blockCount(node)).as(where + ": blocks are the entries and the live memories")
            .isEqualTo(allEntries.size() + expectedLive.size());
        for (Cid cid : added) {
          Set<Cid> successors = new HashSet<>();
          for (Cid other : expectedLive) {
            if (cid.equals(memories.get(other).prev())) {
              successors.add(other);
            }
          }
          assertThat(view.successors.get(cid)).as(where + ": the live memories that supersede " + cid).isEqualTo(successors);
          assertThat(log.isSuperseded(NS, cid)).as(where + ": " + cid + " superseded").isEqualTo(!successors.isEmpty());
        }
      }
    }
  }

  /** Everything a namespace's state consists of on one node. */
  record View(Set<Cid> heads, long clock, Set<Cid> entries, Set<Cid> live, Map<Cid, MemoryState> states,
      Map<Cid, Optional<Memory>> memories, Map<Cid, java.util.OptionalLong> invalidated, Map<Cid, Set<Cid>> successors) {
    static View of(NamespaceLog log, Set<Cid> refs) throws IOException {
      Map<Cid, MemoryState> states = new HashMap<>();
      Map<Cid, Optional<Memory>> memories = new HashMap<>();
      Map<Cid, java.util.OptionalLong> invalidated = new HashMap<>();
      Map<Cid, Set<Cid>> successors = new HashMap<>();
      for (Cid ref : refs) {
        states.put(ref, log.state(NS, ref));
        memories.put(ref, log.memory(ref));
        invalidated.put(ref, log.invalidatedAt(NS, ref));
        successors.put(ref, new HashSet<>(log.successors(NS, ref)));
      }
      return new View(log.heads(NS), log.clock(NS), ConvergenceTest.entries(log),
          new HashSet<>(ConvergenceTest.live(log)), states, memories, invalidated, successors);
    }
  }

  // ---- helpers ----

  private interface SeededBody {
    void run() throws Exception;
  }

  /** Runs a randomized body so that an unexpected exception, too, names the seed that caused it. */
  private static void withSeed(long seed, SeededBody body) {
    try {
      body.run();
    } catch (AssertionError e) {
      throw e;
    } catch (Exception e) {
      throw new AssertionError("seed " + seed + ": " + e, e);
    }
  }

  private static long seed() {
    return Long.getLong("mnemo.test.seed", System.nanoTime());
  }

  /** Opens a store whose node key derives from {@code random}, so a seed replays the same CIDs. */
  private MnemoStore node(String name, Random random) throws IOException {
    byte[] seed = new byte[32];
    random.nextBytes(seed);
    AgentKey key = AgentKey.fromSeed(seed);
    Path data = dir.resolve(name);
    Files.createDirectories(data);
    NodeKeyFile.write(data.resolve(NodeKeyFile.FILE_NAME), key);
    MnemoStore store = MnemoStore.open(data);
    opened.add(store);
    assertThat(store.nodeKey().did()).isEqualTo(key.did());
    return store;
  }

  /**
   * The first node creates the namespace and lets the others remember and forget in it; each of
   * them learns of that before it writes (a namespace has one owner, and writers need a grant).
   */
  static void share(List<MnemoStore> nodes) throws IOException {
    NamespaceLog owner = nodes.get(0).log();
    for (MnemoStore other : nodes.subList(1, nodes.size())) {
      owner.grant(owner.nodeAuthor(), NS, other.nodeKey().did(), Set.of(Ability.REMEMBER, Ability.FORGET));
    }
    byte[] car = export(owner);
    for (MnemoStore other : nodes.subList(1, nodes.size())) {
      importCar(other.log(), car);
    }
  }

  private static Memory memory(String text) {
    return new Memory(NS, text, Map.of("kind", "convergence"), List.of("sim"), TS, null, null);
  }

  static List<Cid> live(NamespaceLog log) throws IOException {
    List<Cid> all = new ArrayList<>();
    String cursor = null;
    do {
      MemoryPage page = log.list(NS, cursor, 50);
      all.addAll(page.memories());
      cursor = page.next();
    } while (cursor != null);
    return all;
  }

  static Set<Cid> entries(NamespaceLog log) throws IOException {
    Set<Cid> cids = new TreeSet<>();
    log.walk(NS, positioned -> {
      cids.add(positioned.cid());
      return true;
    });
    return cids;
  }

  private static long blockCount(MnemoStore store) throws IOException {
    long[] count = {0};
    store.blocks().forEachCid(cid -> count[0]++);
    return count[0];
  }

  private static byte[] export(NamespaceLog log) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    NamespaceCar.export(log, NS, out);
    return out.toByteArray();
  }

  private static NamespaceCar.Imported importCar(NamespaceLog log, byte[] car) throws IOException {
    return NamespaceCar.importCar(log, new ByteArrayInputStream(car));
  }

  private static void exchangeAll(List<MnemoStore> nodes) throws IOException {
    for (MnemoStore to : nodes) {
      for (MnemoStore from : nodes) {
        if (to != from) {
          importCar(to.log(), export(from.log()));
        }
      }
    }
  }

  /** A random order of the entries in which every parent comes before its children. */
  private static List<Cid> randomLinearExtension(Map<Cid, LogEntry> entries, Random random) {
    List<Cid> order = new ArrayList<>(entries.size());
    Set<Cid> placed = new HashSet<>();
    List<Cid> remaining = new ArrayList<>(new TreeSet<>(entries.keySet()));
    while (!remaining.isEmpty()) {
      List<Cid> ready = remaining.stream()
          .filter(cid -> placed.containsAll(entries.get(cid).parents().stream().filter(entries::containsKey).toList()))
          .toList();
      Cid next = ready.get(random.nextInt(ready.size()));
      order.add(next);
      placed.add(next);
      remaining.remove(next);
    }
    return order;
  }
}
