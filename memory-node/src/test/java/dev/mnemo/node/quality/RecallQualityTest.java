package dev.mnemo.node.quality;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mnemo.index.Fusion;
import dev.mnemo.index.IndexConfig;
import dev.mnemo.index.LogIndexer;
import dev.mnemo.index.LuceneMemoryIndex;
import dev.mnemo.index.RecallHit;
import dev.mnemo.index.RecallMode;
import dev.mnemo.index.RecallQuery;
import dev.mnemo.node.embed.ContextEmbedders;
import dev.mnemo.node.embed.Embedder;
import dev.mnemo.node.embed.Embedders;
import dev.mnemo.node.quality.RecallDataset.Question;
import dev.mnemo.node.quality.RecallDataset.Turn;
import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.log.Appended;
import dev.mnemo.store.model.Embedding;
import dev.mnemo.store.model.Memory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Does hybrid recall earn its place? Indexes the recall-quality dataset (538 conversation turns
 * by six people over 24 dated sessions, with distractors; src/test/resources/recall-quality)
 * through the real write path: a store's log (one add entry a session, turns in time order), the
 * LogIndexer with the node's default embedder for the conversation context, LuceneMemoryIndex
 * with the default fusion. It asks the held-out test questions in each mode, prints
 * recall@1/5/10 per mode (test and dev split) and recall@5 per question type, and requires hybrid
 * recall@5 to be at least both keyword and vector recall@5 on the test split. The settings it
 * checks were tuned on the dev split and LoCoMo's development conversations
 * (ConversationTuning); results are in benchmarks/RECALL-QUALITY.md.
 *
 * <p>Each turn is stored the way an agent would keep a conversation: the text is
 * "[2024-03-02] Caroline: I started pottery classes last week", the speaker and date are also
 * metadata (which the index appends to the BM25 text, the date with its month in words).
 */
class RecallQualityTest {
  private static final String NS = "recall-quality";
  private static final int K = 10;
  private static final RecallMode[] MODES = {RecallMode.KEYWORD, RecallMode.VECTOR, RecallMode.HYBRID};

  @TempDir Path dir;

  @Test
  void hybridBeatsEachSignalAtRecallAt5OnHeldOutQuestions() throws Exception {
    long start = System.nanoTime();
    RecallDataset data = RecallDataset.load();
    List<Question> test = data.split("test");
    List<Question> dev = data.split("dev");
    Set<String> ids = new HashSet<>();
    data.turns().forEach(t -> ids.add(t.id()));
    assertThat(data.turns()).hasSizeGreaterThanOrEqualTo(400);
    assertThat(test).hasSizeGreaterThanOrEqualTo(100);
    assertThat(data.questions()).allSatisfy(q -> assertThat(ids).containsAll(q.evidence()));

    Map<String, Map<RecallMode, List<Integer>>> ranks = new TreeMap<>();
    try (Embedder embedder = Embedders.create(Embedders.DEFAULT, 384);
        MnemoStore store = MnemoStore.open(dir.resolve("store"));
        LuceneMemoryIndex index = LuceneMemoryIndex.open(dir.resolve("index"), IndexConfig.defaults(embedder.dimension()));
        LogIndexer indexer = new LogIndexer(store.log(), index, 60_000)) {
      indexer.useContextEmbedder(ContextEmbedders.of(embedder, Fusion.DEFAULT.context()));
      Map<String, Cid> cidOf = rememberTurns(data.turns(), embedder, store, indexer);
      double indexed = (System.nanoTime() - start) / 1e9;
      for (var split : Map.of("test", test, "dev", dev).entrySet()) {
        List<float[]> vectors = embedder.embedQueries(split.getValue().stream().map(Question::question).toList());
        Map<RecallMode, List<Integer>> bySplit = new EnumMap<>(RecallMode.class);
        for (RecallMode mode : MODES) {
          List<Integer> modeRanks = new ArrayList<>();
          for (int i = 0; i < split.getValue().size(); i++) {
            Question q = split.getValue().get(i);
            List<RecallHit> hits = index.recall(RecallQuery.of(NS, q.question(), vectors.get(i), K, mode)).hits();
            Set<Cid> evidence = new HashSet<>();
            q.evidence().forEach(id -> evidence.add(cidOf.get(id)));
            modeRanks.add(rankOf(hits, evidence));
          }
          bySplit.put(mode, modeRanks);
        }
        ranks.put(split.getKey(), bySplit);
      }
      System.out.printf(Locale.ROOT, "recall quality: %d memories indexed with E5 and context in %.1f s, %.1f s in all%n",
          data.turns().size(), indexed, (System.nanoTime() - start) / 1e9);
    }

    for (String split : List.of("test", "dev")) {
      int n = ranks.get(split).get(RecallMode.HYBRID).size();
      System.out.printf(Locale.ROOT, "%s split, %d questions   recall@1  recall@5  recall@10%n", split, n);
      for (RecallMode mode : MODES) {
        double[] r = Ranking.recall(ranks.get(split).get(mode));
        System.out.printf(Locale.ROOT, "  %-8s                     %.3f     %.3f     %.3f%n", mode.name().toLowerCase(Locale.ROOT), r[0], r[1], r[2]);
      }
    }
    System.out.println("test split, recall@5 by question type (count): keyword / vector / hybrid");
    Map<String, List<Integer>> byType = new TreeMap<>();
    for (int i = 0; i < test.size(); i++) {
      byType.computeIfAbsent(test.get(i).type(), t -> new ArrayList<>()).add(i);
    }
    for (var e : byType.entrySet()) {
      StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "  %-8s (%3d)", e.getKey(), e.getValue().size()));
      for (RecallMode mode : MODES) {
        List<Integer> r = e.getValue().stream().map(i -> ranks.get("test").get(mode).get(i)).toList();
        line.append(String.format(Locale.ROOT, "  %.2f", Ranking.recall(r)[1]));
      }
      System.out.println(line);
    }

    if (System.getenv("MNEMO_RECALL_DEBUG") != null) {
      List<Question> debug = System.getenv("MNEMO_RECALL_DEBUG").equals("test") ? test : dev;
      String split = debug == test ? "test" : "dev";
      for (int i = 0; i < debug.size(); i++) {
        int k = ranks.get(split).get(RecallMode.KEYWORD).get(i);
        int v = ranks.get(split).get(RecallMode.VECTOR).get(i);
        int h = ranks.get(split).get(RecallMode.HYBRID).get(i);
        if (h == 0 || h > 5 || (v > 0 && v < h)) {
          System.out.printf(Locale.ROOT, "  %-8s kw %2d vec %2d hyb %2d  %s%n", debug.get(i).type(), k, v, h, debug.get(i).question());
        }
      }
    }
    double keyword = Ranking.recall(ranks.get("test").get(RecallMode.KEYWORD))[1];
    double vector = Ranking.recall(ranks.get("test").get(RecallMode.VECTOR))[1];
    double hybrid = Ranking.recall(ranks.get("test").get(RecallMode.HYBRID))[1];
    assertThat(hybrid)
        .as("hybrid recall@5 %.3f must be at least keyword %.3f and vector %.3f on the test split", hybrid, keyword, vector)
        .isGreaterThanOrEqualTo(Math.max(keyword, vector));
  }

  /**
   * Remembers the turns as an agent writing the conversation down would: in time order, one add
   * entry a session, each with the default embedder's vector; returns turn id to CID once indexed.
   */
  private static Map<String, Cid> rememberTurns(List<Turn> turns, Embedder embedder, MnemoStore store,
      LogIndexer indexer) throws Exception {
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < turns.size(); i++) {
      order.add(i);
    }
    order.sort(java.util.Comparator.comparingLong(i -> turns.get(i).ts(i)));
    List<float[]> vectors = embedder.embedPassages(turns.stream().map(RecallQualityTest::memoryText).toList());
    Map<String, Cid> cidOf = new HashMap<>();
    long last = 0;
    int from = 0;
    while (from < order.size()) {
      int session = turns.get(order.get(from)).session();
      int to = from;
      List<Memory> batch = new ArrayList<>();
      List<String> ids = new ArrayList<>();
      while (to < order.size() && turns.get(order.get(to)).session() == session) {
        int i = order.get(to++);
        Turn t = turns.get(i);
        Map<String, Object> metadata = Map.of("speaker", t.speaker(), "date", t.date(), "session", (long) t.session());
        batch.add(new Memory(NS, memoryText(t), metadata, List.of("conversation"), t.ts(i),
            new Embedding(embedder.model(), vectors.get(i)), null));
        ids.add(t.id());
      }
      Appended appended = store.log().append(NS, batch);
      for (int j = 0; j < ids.size(); j++) {
        cidOf.put(ids.get(j), appended.memories().get(j));
      }
      last = appended.position();
      from = to;
    }
    indexer.awaitApplied(last);
    indexer.awaitVisible();
    return cidOf;
  }

  /** The memory text: "[2024-03-02] Caroline: I started pottery classes last week". */
  static String memoryText(Turn t) {
    return "[" + t.date() + "] " + t.speaker() + ": " + t.text();
  }

  private static int rankOf(List<RecallHit> hits, Set<Cid> evidence) {
    for (int i = 0; i < hits.size(); i++) {
      if (evidence.contains(hits.get(i).cid())) {
        return i + 1;
      }
    }
    return 0;
  }
}
