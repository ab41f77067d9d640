package dev.mnemo.index;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.log.NamespaceLog;
import dev.mnemo.store.model.Embedding;
import dev.mnemo.store.model.Memory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Superseded memories (a live memory names them as prev) leave recall inside the search, in any
 * order their entries are indexed, and come back once nothing live supersedes them.
 */
class LogIndexerSupersedeTest {
  static final String NS = "facts";
  static final int DIM = 4;
  @TempDir Path dir;

  static Memory memory(String text, float[] vector, long ts, Cid prev) {
    return new Memory(NS, text, Map.of(), List.of(), ts, new Embedding("test", vector), prev);
  }

  static RecallQuery vectorQuery(float[] v, int k, boolean includeSuperseded) {
    return new RecallQuery(NS, null, v, k, RecallMode.VECTOR, RecallFilter.NONE, 0, RecallQuery.DEFAULT_HALF_LIFE,
        System.currentTimeMillis(), includeSuperseded);
  }

  /**
   * By the memory's own words only: with conversation context an update ("Bob drinks coffee") is
   * also found by the words of the memory written before it, which here is the fact it updates.
   */
  static RecallQuery keywordQuery(String text, int k, boolean includeSuperseded) {
    return new RecallQuery(NS, text, null, k, RecallMode.KEYWORD, RecallFilter.NONE, 0, RecallQuery.DEFAULT_HALF_LIFE,
        System.currentTimeMillis(), new Fusion(0.5, 0, 0), includeSuperseded);
  }

  static Set<Cid> cids(MemoryIndex.RecallResult result) {
    return result.hits().stream().map(RecallHit::cid).collect(Collectors.toSet());
  }

  @Test
  void aSupersededMemoryLeavesBothSearchesAndKCurrentOnesStillComeBack() throws Exception {
    try (MnemoStore store = MnemoStore.open(dir.resolve("data"));
         LuceneMemoryIndex index = LuceneMemoryIndex.open(dir.resolve("index"), IndexConfig.defaults(DIM))) {
      NamespaceLog log = store.log();
      LogIndexer indexer = new LogIndexer(log, index, 60_000);
      float[] q = {1, 0, 0, 0};
      Cid a = log.append(NS, List.of(memory("Bob drinks tea", new float[] {1, 0, 0, 0}, 1, null))).memories().get(0);
      List<Memory> others = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        others.add(memory("Bob note " + i, new float[] {1, 1 + i, 0, 0}, 10 + i, null));
      }
      log.append(NS, others);
      var b = log.append(NS, List.of(memory("Bob drinks coffee", new float[] {0, 0, 1, 0}, 2, a)));
      // A chain of versions, each closer to the query than any current memory, each superseded by the next.
      Cid version = log.append(NS, List.of(memory("Bob's mug v0", new float[] {1, 0.01f, 0, 0}, 20, null))).memories().get(0);
      List<Cid> versions = new ArrayList<>(List.of(version));
      for (int v = 1; v < 6; v++) {
        version = log.append(NS, List.of(memory("Bob's mug v" + v, new float[] {1, 0.01f * (v + 1), 0, 0}, 20 + v, version)))
            .memories().get(0);
        versions.add(version);
      }
      indexer.awaitApplied(log.lastPosition());
      indexer.beforeSearch();

      // Inside the search: k current memories come back although the k nearest are all superseded.
      MemoryIndex.RecallResult current = index.recall(vectorQuery(q, 3, false));
      assertThat(current.hits()).hasSize(3);
      assertThat(cids(current)).doesNotContain(a).doesNotContainAnyElementsOf(versions.subList(0, 5))
          .contains(versions.get(5));
      assertThat(cids(index.recall(vectorQuery(q, 3, true)))).doesNotContain(versions.get(5));
      assertThat(cids(index.recall(vectorQuery(q, 3, true)))).contains(a);
      assertThat(cids(index.recall(keywordQuery("tea", 3, false)))).isEmpty();
      assertThat(cids(index.recall(keywordQuery("tea", 3, true)))).containsExactly(a);
      assertThat(cids(index.recall(keywordQuery("drinks", 5, false)))).containsExactly(b.memories().get(0));
      assertThat(cids(index.recall(keywordQuery("mug", 3, false)))).containsExactly(versions.get(5));

      // Forgetting the only successor makes the memory current again.
      var forgotten = log.forget(NS, List.of(b.memories().get(0)));
      indexer.awaitApplied(forgotten.position());
      indexer.beforeSearch();
      assertThat(cids(index.recall(keywordQuery("tea", 3, false)))).containsExactly(a);
      indexer.close();
    }
  }

  @Test
  void aSuccessorIndexedBeforeItsPrevArrivesSupersedesItOnArrival() throws Exception {
    try (MnemoStore store = MnemoStore.open(dir.resolve("data"));
         LuceneMemoryIndex index = LuceneMemoryIndex.open(dir.resolve("index"), IndexConfig.defaults(DIM))) {
      NamespaceLog log = store.log();
      LogIndexer indexer = new LogIndexer(log, index, 60_000);
      Memory older = memory("Bob drinks tea", new float[] {1, 0, 0, 0}, 1, null);
      Cid a = Cid.dagCbor(older.encode());
      var b = log.append(NS, List.of(memory("Bob drinks coffee", new float[] {0, 1, 0, 0}, 2, a)));
      indexer.awaitApplied(b.position());
      indexer.beforeSearch();
      var arrived = log.append(NS, List.of(older));
      indexer.awaitApplied(arrived.position());
      indexer.beforeSearch();
      assertThat(cids(index.recall(keywordQuery("tea", 3, false)))).isEmpty();
      assertThat(cids(index.recall(keywordQuery("tea", 3, true)))).containsExactly(a);
      indexer.close();
    }
  }

  @Test
  void anUpdateARevokeMakesVoidSupersedesNothing() throws Exception {
    try (MnemoStore owner = MnemoStore.open(dir.resolve("owner"));
         MnemoStore agent = MnemoStore.open(dir.resolve("agent"));
         LuceneMemoryIndex index = LuceneMemoryIndex.open(dir.resolve("index"), IndexConfig.defaults(DIM))) {
      NamespaceLog o = owner.log();
      NamespaceLog a = agent.log();
      Cid fact = o.append(NS, List.of(memory("Bob drinks tea", new float[] {1, 0, 0, 0}, 1, null))).memories().get(0);
      o.grant(o.nodeAuthor(), NS, agent.nodeKey().did(), Set.of(dev.mnemo.store.acl.Ability.REMEMBER));
      copy(owner, agent);
      LogIndexer indexer = new LogIndexer(a, index, 60_000);
      indexer.catchUp(null);

      // The agent updates the fact while the owner, not knowing, revokes it.
      var update = a.append(NS, List.of(memory("Bob drinks coffee", new float[] {0, 1, 0, 0}, 2, fact)));
      indexer.awaitApplied(update.position());
      indexer.awaitVisible();
      assertThat(cids(index.recall(keywordQuery("tea", 3, false)))).isEmpty();
      o.revoke(o.nodeAuthor(), NS, agent.nodeKey().did(), Set.of(dev.mnemo.store.acl.Ability.REMEMBER));

      copy(owner, agent);
      assertThat(a.state(NS, update.memories().get(0))).isEqualTo(dev.mnemo.store.log.MemoryState.VOID);
      assertThat(a.isSuperseded(NS, fact)).isFalse();
      indexer.catchUp(null);
      assertThat(cids(index.recall(keywordQuery("tea", 3, false)))).containsExactly(fact);
      indexer.rebuild(null);
      assertThat(cids(index.recall(keywordQuery("tea", 3, false)))).containsExactly(fact);
      indexer.close();
    }
  }

  private static void copy(MnemoStore from, MnemoStore to) throws java.io.IOException {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    dev.mnemo.store.car.NamespaceCar.export(from.log(), NS, out);
    dev.mnemo.store.car.NamespaceCar.importCar(to.log(), new java.io.ByteArrayInputStream(out.toByteArray()));
  }

  /**
   * Random updates (prev naming any earlier memory, also one not written yet), forgets, and
   * catch-ups at random points; after each catch-up and after a rebuild, recall finds exactly the
   * live memories that no live memory names as prev. The seed is in the failure message.
   */
  @Test
  void recallAgreesWithTheLiveSetInAnyOrderAndAfterARebuild() throws Exception {
    long seed = Long.getLong("mnemo.test.seed", System.nanoTime());
    Random random = new Random(seed);
    try (MnemoStore store = MnemoStore.open(dir.resolve("data"));
         LuceneMemoryIndex index = LuceneMemoryIndex.open(dir.resolve("index"), IndexConfig.defaults(DIM))) {
      NamespaceLog log = store.log();
      LogIndexer indexer = new LogIndexer(log, index, 60_000);
      List<Memory> made = new ArrayList<>();
      List<Cid> madeCids = new ArrayList<>();
      Set<Cid> live = new HashSet<>();
      Map<Cid, Memory> byCid = new java.util.HashMap<>();
      for (int step = 0; step < 120; step++) {
        int roll = random.nextInt(10);
        if (roll < 6 || live.isEmpty()) {
          Cid prev = null;
          if (!madeCids.isEmpty() && random.nextBoolean()) {
            prev = madeCids.get(random.nextInt(madeCids.size()));
          }
          Memory m = memory("fact " + step, new float[] {random.nextFloat() + 0.1f, random.nextFloat(), random.nextFloat(), 1},
              step, prev);
          Cid cid = Cid.dagCbor(m.encode());
          made.add(m);
          madeCids.add(cid);
          byCid.put(cid, m);
          // Half the time held back, then written later: a successor before its prev.
          if (random.nextInt(4) > 0) {
            log.append(NS, List.of(m));
            live.add(cid);
          }
        } else if (roll < 8) {
          // A held-back memory arrives.
          List<Cid> pending = madeCids.stream().filter(c -> !live.contains(c)
              && log.state(NS, c) == dev.mnemo.store.log.MemoryState.UNKNOWN).toList();
          if (!pending.isEmpty()) {
            Cid cid = pending.get(random.nextInt(pending.size()));
            log.append(NS, List.of(byCid.get(cid)));
            live.add(cid);
          }
        } else {
          List<Cid> candidates = new ArrayList<>(live);
          Cid cid = candidates.get(random.nextInt(candidates.size()));
          log.forget(NS, List.of(cid));
          live.remove(cid);
        }
        if (random.nextInt(5) == 0) {
          indexer.awaitApplied(log.lastPosition());
          indexer.beforeSearch();
          assertCurrent(index, live, byCid, "seed " + seed + ", step " + step);
        }
      }
      indexer.awaitApplied(log.lastPosition());
      indexer.beforeSearch();
      assertCurrent(index, live, byCid, "seed " + seed + ", the end");
      indexer.rebuild(null);
      assertCurrent(index, live, byCid, "seed " + seed + ", after a rebuild");
      indexer.close();
    }
  }

  private static void assertCurrent(MemoryIndex index, Set<Cid> live, Map<Cid, Memory> byCid, String where)
      throws Exception {
    Set<Cid> superseded = new HashSet<>();
    for (Cid cid : live) {
      if (byCid.get(cid).prev() != null) {
        superseded.add(byCid.get(cid).prev());
      }
    }
    Set<Cid> current = new HashSet<>(live);
    current.removeAll(superseded);
    float[] q = {1, 1, 1, 1};
    assertThat(cids(index.recall(vectorQuery(q, 1000, false)))).as(where).isEqualTo(current);
    assertThat(cids(index.recall(vectorQuery(q, 1000, true)))).as(where + ", superseded included").isEqualTo(live);
  }
}
