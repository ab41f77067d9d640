package dev.mnemo.node.quality;

import dev.mnemo.node.embed.OnnxEmbedder;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.CharArraySet;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.document.TextField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.BooleanClause.Occur;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.store.ByteBuffersDirectory;
import org.apache.lucene.util.QueryBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

/**
 * The tuning behind the recall settings on both development sets at once: LoCoMo's development
 * half (read from ../shared/eval/locomo-dev, never copied here) and the project's own set (dev
 * split). A measurement, not a test; run with {@code MNEMO_RECALL_TUNING=conv}. Prints recall@1, @5,
 * @10, @20 for each variant on both sets, to stdout and target/conversation-tuning.txt.
 *
 * <p>Each conversation is its own namespace, as through the API: a LoCoMo turn is the memory
 * {@code "SPEAKER: TEXT"} with metadata {@code dia_id} and {@code session_date}; an own-set turn
 * is {@code "[date] speaker: text"} with metadata speaker, date and session, as RecallQualityTest
 * stores it.
 */
@EnabledIfEnvironmentVariable(named = "MNEMO_RECALL_TUNING", matches = "conv")
class ConversationTuning {
  static final int[] KS = {1, 5, 10, 20};
  private PrintStream out;

  /** One memory: its namespace, text and string metadata (sorted by key, as the index appends it). */
  record Doc(String ns, String speaker, String text, Map<String, String> meta) {}

  /** One question against one namespace, with its evidence as indexes into the doc list. */
  record Q(String set, String ns, String text, Set<Integer> evidence, String type) {}

  record Data(List<Doc> docs, List<Q> questions) {}

  @Test
  void tune() throws Exception {
    Path file = Path.of("target", "conversation-tuning.txt");
    try (PrintStream fileOut = new PrintStream(Files.newOutputStream(file), true, StandardCharsets.UTF_8)) {
      out = new PrintStream(new java.io.OutputStream() {
        @Override
        public void write(int b) throws IOException {
          System.out.write(b);
          fileOut.write(b);
        }
      }, true, StandardCharsets.UTF_8);
      run(load());
    }
  }

  static Data load() throws IOException {
    List<Doc> docs = new ArrayList<>();
    List<Q> questions = new ArrayList<>();
    LocomoSet.load(docs, questions);
    RecallDataset own = RecallDataset.load();
    Map<String, Integer> ownIndex = new HashMap<>();
    for (RecallDataset.Turn t : own.turns()) {
      ownIndex.put(t.id(), docs.size());
      Map<String, String> meta = new TreeMap<>();
      meta.put("date", t.date());
      meta.put("speaker", t.speaker());
      docs.add(new Doc("own", t.speaker(), "[" + t.date() + "] " + t.speaker() + ": " + t.text(), meta));
    }
    for (RecallDataset.Question q : own.questions()) {
      Set<Integer> ev = new java.util.HashSet<>();
      q.evidence().forEach(id -> ev.add(ownIndex.get(id)));
      questions.add(new Q("own-" + q.split(), "own", q.question(), ev, q.type()));
    }
    return new Data(docs, questions);
  }

  private static final List<String> SETS = List.of("locomo", "own-dev", "own-test");

  private void run(Data data) throws Exception {
    out.printf(Locale.ROOT, "%d memories; questions: %s%n", data.docs().size(), countBySet(data));
    out.printf(Locale.ROOT, "%-70s %-27s %-27s %-27s%n", "variant", "locomo @1 @5 @10 @20", "own-dev", "own-test");
    String only = System.getenv().getOrDefault("MNEMO_TUNE", "all");

    Function<Doc, String> shipped = ConversationTuning::shippedIndexedText;
    Analyzer analyzer = RecallTuning.custom(RecallTuning.onlyQuestionWords(), false, false);

    Lists bmGlobal = bm25(data, shipped, analyzer, false);
    report("BM25 shipped, global stats", data, bmGlobal.docs);
    Lists bm = bm25(data, shipped, analyzer, true);
    report("BM25 shipped, per-namespace stats", data, bm.docs);
    if (only.contains("analyzer") || only.equals("all")) {
      report("BM25 English analyzer", data, bm25(data, shipped, new org.apache.lucene.analysis.en.EnglishAnalyzer(), true).docs);
      report("BM25 English+question stops", data,
          bm25(data, shipped, RecallTuning.custom(RecallTuning.questionStops(), false, false), true).docs);
      report("BM25 no stops", data, bm25(data, shipped, RecallTuning.custom(CharArraySet.EMPTY_SET, false, false), true).docs);
      report("BM25 KStem", data, bm25(data, shipped, RecallTuning.custom(RecallTuning.onlyQuestionWords(), true, false), true).docs);
      report("BM25 text only (no metadata)", data, bm25(data, Doc::text, analyzer, true).docs);
    }

    Map<String, Lists> vectors = new LinkedHashMap<>();
    for (String model : System.getenv().getOrDefault("MNEMO_TUNE_MODELS", "bge-small-en-v1.5").split(",")) {
      OnnxEmbedder.Model m = OnnxEmbedder.Model.named(model).orElseThrow();
      boolean e5 = m == OnnxEmbedder.Model.E5_SMALL_V2;
      Lists v = vectors(data, m, Doc::text, "");
      vectors.put(model, v);
      report("vector " + model, data, v.docs);
      if (m == OnnxEmbedder.Model.BGE_SMALL_EN_V15 && !e5) {
        report("vector " + model + " + query prefix", data,
            vectors(data, m, Doc::text, OnnxEmbedder.BGE_QUERY_PREFIX).docs);
      }
    }
    Lists vec = vectors.values().iterator().next();

    if (only.contains("multi")) {
      multi(data, analyzer);
      return;
    }
    if (only.contains("context") || only.equals("all")) {
      contextVariants(data, analyzer, vec);
    }
    if (!(only.contains("fusion") || only.equals("all"))) {
      return;
    }
    report("SHIPPED fusion (kw MAX 0.25 + vec MIN_MAX, depth 64), global", data,
        fused(bmGlobal, vec, (a, b) -> Ranking.convex(a.docs(), a.scores(), Ranking.Norm.MAX, b.docs(), b.scores(), Ranking.Norm.MIN_MAX, 64, 0.25)));
    for (double alpha : new double[] {0.25, 0.4, 0.5, 0.6}) {
      for (int depth : new int[] {64, 200}) {
        report(String.format(Locale.ROOT, "convex kw MAX %.2f + vec MIN_MAX depth %d", alpha, depth), data,
            fused(bm, vec, (a, b) -> Ranking.convex(a.docs(), a.scores(), Ranking.Norm.MAX, b.docs(), b.scores(), Ranking.Norm.MIN_MAX, depth, alpha)));
      }
    }
    for (double k : new double[] {10, 30, 60}) {
      for (double w : new double[] {0.8, 1.0, 1.2}) {
        for (int depth : new int[] {64, 200}) {
          report(String.format(Locale.ROOT, "RRF k=%.0f kw weight %.1f depth %d", k, w, depth), data,
              fused(bm, vec, (a, b) -> Ranking.rrf(a.docs(), b.docs(), depth, k, w)));
        }
      }
    }
    for (double alpha : new double[] {0.3, 0.4, 0.5, 0.6}) {
      for (int depth : new int[] {64, 200}) {
        report(String.format(Locale.ROOT, "z-score kw %.2f depth %d", alpha, depth), data,
            fused(bm, vec, (a, b) -> zscore(a, b, depth, alpha)));
      }
    }
  }

  /** The memory before each one in its namespace (in write order), or -1. */
  static int[] previous(Data data) {
    int[] prev = new int[data.docs().size()];
    Map<String, Integer> last = new HashMap<>();
    for (int i = 0; i < prev.length; i++) {
      prev[i] = last.getOrDefault(data.docs().get(i).ns(), -1);
      last.put(data.docs().get(i).ns(), i);
    }
    return prev;
  }

  private void contextVariants(Data data, Analyzer analyzer, Lists vec) throws Exception {
    int[] prev = previous(data);
    int[] next = new int[prev.length];
    java.util.Arrays.fill(next, -1);
    for (int i = 0; i < prev.length; i++) {
      if (prev[i] >= 0) {
        next[prev[i]] = i;
      }
    }
    Function<Doc, String> shipped = ConversationTuning::shippedIndexedText;
    Map<Doc, Integer> idx = new java.util.IdentityHashMap<>();
    for (int i = 0; i < data.docs().size(); i++) {
      idx.put(data.docs().get(i), i);
    }
    Function<Doc, String> withPrev = d -> {
      int p = prev[idx.get(d)];
      return shippedIndexedText(d) + (p >= 0 ? "\n" + data.docs().get(p).text() : "");
    };
    Function<Doc, String> withBoth = d -> {
      int i = idx.get(d);
      return withPrev.apply(d) + (next[i] >= 0 ? "\n" + data.docs().get(next[i]).text() : "");
    };
    Lists bmPrev = bm25(data, withPrev, analyzer, true);
    report("BM25 + previous memory's text", data, bmPrev.docs);
    report("BM25 + previous and next memory's text", data, bm25(data, withBoth, analyzer, true).docs);
    Lists bm = bm25(data, shipped, analyzer, true);
    for (double w : new double[] {0.3, 0.5}) {
      report(String.format(Locale.ROOT, "BM25 own + %.1f x BM25 with previous", w), data,
          fused(bm, bmPrev, (a, b) -> sumScores(a, b, 1.0, w)));
    }
    OnnxEmbedder.Model m = OnnxEmbedder.Model.BGE_SMALL_EN_V15;
    Lists vPrev = vectors(data, m, d -> {
      int p = prev[idx.get(d)];
      return (p >= 0 ? data.docs().get(p).text() + "\n" : "") + d.text();
    }, "");
    report("vector of previous + text", data, vPrev.docs);
    for (double w : new double[] {0.3, 0.5}) {
      report(String.format(Locale.ROOT, "vector own + %.1f x vector with previous", w), data,
          fused(vec, vPrev, (a, b) -> sumScores(a, b, 1.0, w)));
    }
    report("RM3-ish PRF (top 5 docs, 10 terms, 0.3)", data, prf(data, shipped, analyzer, 5, 10, 0.3).docs);
    report("RM3-ish PRF (top 3 docs, 5 terms, 0.2)", data, prf(data, shipped, analyzer, 3, 5, 0.2).docs);
  }

  /** Convex sums of up to four signals (BM25, BM25 with the previous memory, e5, e5 with the previous memory). */
  private void multi(Data data, Analyzer analyzer) throws Exception {
    int[] prev = previous(data);
    Map<Doc, Integer> idx = new java.util.IdentityHashMap<>();
    for (int i = 0; i < data.docs().size(); i++) {
      idx.put(data.docs().get(i), i);
    }
    Function<Doc, String> withPrev = d -> {
      int p = prev[idx.get(d)];
      return shippedIndexedText(d) + (p >= 0 ? "\n" + data.docs().get(p).text() : "");
    };
    String modelName = System.getenv().getOrDefault("MNEMO_TUNE_MODEL", "e5-small-v2");
    OnnxEmbedder.Model m = OnnxEmbedder.Model.named(modelName).orElseThrow();
    String pp = "";
    String qp = "";
    Lists kw = bm25(data, ConversationTuning::shippedIndexedText, analyzer, true);
    Lists kwPrev = bm25(data, withPrev, analyzer, true);
    Lists vec = vectors(data, m, d -> pp + d.text(), qp);
    Lists vecPrev = vectors(data, m, d -> {
      int p = prev[idx.get(d)];
      return pp + (p >= 0 ? data.docs().get(p).text() + "\n" : "") + d.text();
    }, qp);
    // approximations a node can compute without a second embedding or second text: the sum of the
    // memory's vector and its predecessor's, and the sum of the two BM25 scores
    List<float[]> pv = cachedEmbeddings(m, data.docs().stream().map(d -> pp + d.text()).toList());
    List<float[]> qv = cachedQueryEmbeddings(m, data.questions().stream().map(q -> qp + q.text()).toList());
    List<float[]> sumVectors = new ArrayList<>();
    for (int i = 0; i < pv.size(); i++) {
      float[] v = pv.get(i).clone();
      if (prev[i] >= 0) {
        float[] p = pv.get(prev[i]);
        double n = 0;
        for (int j = 0; j < v.length; j++) {
          v[j] += p[j];
          n += (double) v[j] * v[j];
        }
        for (int j = 0; j < v.length; j++) {
          v[j] /= (float) Math.sqrt(n);
        }
      }
      sumVectors.add(v);
    }
    Lists vecSum = exactLists(data, sumVectors, qv);
    report("vecSum (v + v_prev normalized)", data, vecSum.docs);
    List<List<Integer>> kwSumDocs = new ArrayList<>();
    List<List<Double>> kwSumScores = new ArrayList<>();
    for (int q = 0; q < data.questions().size(); q++) {
      Map<Integer, Double> own = new HashMap<>();
      One o = kw.at(q);
      for (int i = 0; i < o.docs().size(); i++) {
        own.put(o.docs().get(i), o.scores().get(i));
      }
      Map<Integer, Double> sum = new HashMap<>();
      for (var e : own.entrySet()) {
        sum.merge(e.getKey(), e.getValue(), Double::sum);
      }
      int[] next = nextOf(prev);
      for (var e : own.entrySet()) {
        int nx = next[e.getKey()];
        if (nx >= 0) {
          sum.merge(nx, e.getValue(), Double::sum);
        }
      }
      List<Integer> ranked = sorted(sum);
      kwSumDocs.add(ranked);
      kwSumScores.add(ranked.stream().map(sum::get).toList());
    }
    Lists kwSum = new Lists(kwSumDocs, kwSumScores);
    report("kwSum (BM25 + predecessor's BM25)", data, kwSum.docs);
    for (double[] w : new double[][] {{0.2, 0.2, 0.3, 0.3}, {0.3, 0, 0.3, 0.4}, {0.2, 0.2, 0.2, 0.4}, {0.1, 0.3, 0.3, 0.3}, {0.25, 0.25, 0.25, 0.25}}) {
      for (int depth : new int[] {64, 200}) {
        List<Lists> sig = List.of(kw, kwSum, vec, vecSum);
        Ranking.Norm[] nn = {Ranking.Norm.MAX, Ranking.Norm.MAX, Ranking.Norm.MIN_MAX, Ranking.Norm.MIN_MAX};
        List<List<Integer>> ranked = new ArrayList<>();
        for (int q = 0; q < data.questions().size(); q++) {
          Map<Integer, Double> fused = new HashMap<>();
          for (int s2 = 0; s2 < 4; s2++) {
            if (w[s2] > 0) {
              addNorm(fused, sig.get(s2).at(q), nn[s2], depth, w[s2]);
            }
          }
          ranked.add(sorted(fused));
        }
        report(String.format(Locale.ROOT, "APPROX depth %d kw %.2f kwSum %.2f vec %.2f vecSum %.2f", depth, w[0], w[1], w[2], w[3]), data, ranked);
      }
    }
    if (System.getenv("MNEMO_TUNE_FAMILY") != null) {
      List<Lists> sig = List.of(kw, kwPrev, vec, vecPrev);
      Ranking.Norm[] nn = {Ranking.Norm.MAX, Ranking.Norm.MAX, Ranking.Norm.MIN_MAX, Ranking.Norm.MIN_MAX};
      for (double lambda : new double[] {0.25, 0.4, 0.5, 0.75}) {
      boolean byBound = true;
      for (double c : new double[] {0.4, 0.5}) {
        for (int depth : new int[] {64}) {
          for (double a : new double[] {0, 1, 0.4, 0.5, 0.6}) {
            double[] w = {a * (1 - c), a * c, (1 - a) * (1 - c), (1 - a) * c};
            List<List<Integer>> ranked = new ArrayList<>();
            for (int q = 0; q < data.questions().size(); q++) {
              Map<Integer, Double> fused = new HashMap<>();
              for (int s2 = 0; s2 < 4; s2++) {
                if (w[s2] > 0) {
                  if (byBound && s2 < 2) {
                    One one = sig.get(s2).at(q);
                    double best = one.scores().isEmpty() ? 0 : one.scores().get(0);
                    addBounded(fused, one, Math.max(best, lambda * BOUNDS.get(sig.get(s2)).get(q)), depth, w[s2]);
                  } else {
                    addNorm(fused, sig.get(s2).at(q), nn[s2], depth, w[s2]);
                  }
                }
              }
              ranked.add(sorted(fused));
            }
            report(String.format(Locale.ROOT, "FAMILY floor %.2f context %.1f depth %d keyword %.1f", lambda, c, depth, a), data, ranked);
          }
        }
      }
      }
      return;
    }
    if (System.getenv("MNEMO_TUNE_GRID") == null) {
      return;
    }
    report("kw", data, kw.docs);
    report("kwPrev", data, kwPrev.docs);
    report("vec " + modelName, data, vec.docs);
    report("vecPrev", data, vecPrev.docs);
    List<Lists> signals = List.of(kw, kwPrev, vec, vecPrev);
    Ranking.Norm[] norms = {Ranking.Norm.MAX, Ranking.Norm.MAX, Ranking.Norm.MIN_MAX, Ranking.Norm.MIN_MAX};
    double[] grid = {0, 0.1, 0.2, 0.3, 0.4, 0.5};
    for (int depth : new int[] {64, 200}) {
      for (double a : grid) {
        for (double b : grid) {
          for (double d : grid) {
            double c = 1 - a - b - d;
            if (c < -1e-9) {
              continue;
            }
            double[] w = {a, b, Math.max(0, c), d};
            List<List<Integer>> ranked = new ArrayList<>();
            for (int q = 0; q < data.questions().size(); q++) {
              Map<Integer, Double> fused = new HashMap<>();
              for (int s = 0; s < 4; s++) {
                if (w[s] > 0) {
                  addNorm(fused, signals.get(s).at(q), norms[s], depth, w[s]);
                }
              }
              ranked.add(sorted(fused));
            }
            report(String.format(Locale.ROOT, "depth %d kw %.1f kwPrev %.1f vec %.1f vecPrev %.1f", depth, a, b, Math.max(0, c), d), data, ranked);
          }
        }
      }
    }
  }

  static void addBounded(Map<Integer, Double> fused, One list, double bound, int depth, double weight) {
    int n = Math.min(depth, list.docs().size());
    for (int i = 0; i < n; i++) {
      double v = bound > 0 ? Math.min(1, list.scores().get(i) / bound) : 0;
      fused.merge(list.docs().get(i), weight * v, Double::sum);
    }
  }

  static int[] nextOf(int[] prev) {
    int[] next = new int[prev.length];
    java.util.Arrays.fill(next, -1);
    for (int i = 0; i < prev.length; i++) {
      if (prev[i] >= 0) {
        next[prev[i]] = i;
      }
    }
    return next;
  }

  static Lists exactLists(Data data, List<float[]> p, List<float[]> qv) {
    Map<String, List<Integer>> byNs = new HashMap<>();
    for (int i = 0; i < data.docs().size(); i++) {
      byNs.computeIfAbsent(data.docs().get(i).ns(), k -> new ArrayList<>()).add(i);
    }
    List<List<Integer>> docs = new ArrayList<>();
    List<List<Double>> scores = new ArrayList<>();
    for (int qi = 0; qi < data.questions().size(); qi++) {
      float[] query = qv.get(qi);
      List<Integer> candidates = new ArrayList<>(byNs.get(data.questions().get(qi).ns()));
      Map<Integer, Double> sims = new HashMap<>();
      for (int i : candidates) {
        float[] v = p.get(i);
        double dot = 0;
        for (int j = 0; j < v.length; j++) {
          dot += v[j] * query[j];
        }
        sims.put(i, dot);
      }
      candidates.sort((a, b) -> sims.get(a).equals(sims.get(b)) ? Integer.compare(a, b) : Double.compare(sims.get(b), sims.get(a)));
      List<Integer> top = candidates.subList(0, Math.min(1000, candidates.size()));
      docs.add(new ArrayList<>(top));
      scores.add(top.stream().map(sims::get).toList());
    }
    return new Lists(docs, scores);
  }

  static void addNorm(Map<Integer, Double> fused, One list, Ranking.Norm norm, int depth, double weight) {
    int n = Math.min(depth, list.docs().size());
    if (n == 0) {
      return;
    }
    double max = list.scores().get(0);
    double min = norm == Ranking.Norm.MAX ? 0 : list.scores().get(n - 1);
    for (int i = 0; i < n; i++) {
      double v = max > min ? (list.scores().get(i) - min) / (max - min) : 1;
      fused.merge(list.docs().get(i), weight * v, Double::sum);
    }
  }

  /** a-weight x a's score + b-weight x b's score, raw (docs missing from a list get 0 from it). */
  static List<Integer> sumScores(One a, One b, double wa, double wb) {
    Map<Integer, Double> fused = new HashMap<>();
    for (int i = 0; i < a.docs().size(); i++) {
      fused.merge(a.docs().get(i), wa * a.scores().get(i), Double::sum);
    }
    for (int i = 0; i < b.docs().size(); i++) {
      fused.merge(b.docs().get(i), wb * b.scores().get(i), Double::sum);
    }
    return sorted(fused);
  }

  /** BM25, then the query expanded with the most frequent terms of the top documents (weighted). */
  static Lists prf(Data data, Function<Doc, String> indexed, Analyzer analyzer, int topDocs, int terms, double weight)
      throws IOException {
    Lists first = bm25(data, indexed, analyzer, true);
    List<String> expanded = new ArrayList<>();
    for (int q = 0; q < data.questions().size(); q++) {
      Map<String, Integer> tf = new HashMap<>();
      List<Integer> top = first.docs().get(q);
      for (int i = 0; i < Math.min(topDocs, top.size()); i++) {
        for (String t : analyze(analyzer, indexed.apply(data.docs().get(top.get(i))))) {
          tf.merge(t, 1, Integer::sum);
        }
      }
      Set<String> own = new java.util.HashSet<>(analyze(analyzer, data.questions().get(q).text()));
      List<String> best = tf.entrySet().stream().filter(e -> !own.contains(e.getKey()))
          .sorted(Map.Entry.<String, Integer>comparingByValue().reversed()).limit(terms).map(Map.Entry::getKey).toList();
      expanded.add(String.join(" ", best));
    }
    Data second = new Data(data.docs(), new ArrayList<>());
    for (int q = 0; q < data.questions().size(); q++) {
      Q qq = data.questions().get(q);
      second.questions().add(new Q(qq.set(), qq.ns(), expanded.get(q).isBlank() ? "zzzz" : expanded.get(q), qq.evidence(), qq.type()));
    }
    // The expansion terms are analyzed already; analyzing them again is nearly idempotent for Porter.
    Lists exp = bm25(second, indexed, analyzer, true);
    List<List<Integer>> docs = fused(first, exp, (a, b) -> sumScores(a, b, 1.0, weight));
    return new Lists(docs, docs.stream().map(l -> l.stream().map(x -> 0.0).toList()).toList());
  }

  static List<String> analyze(Analyzer analyzer, String text) throws IOException {
    List<String> terms = new ArrayList<>();
    try (org.apache.lucene.analysis.TokenStream ts = analyzer.tokenStream("text", text)) {
      var term = ts.addAttribute(org.apache.lucene.analysis.tokenattributes.CharTermAttribute.class);
      ts.reset();
      while (ts.incrementToken()) {
        terms.add(term.toString());
      }
      ts.end();
    }
    return terms;
  }

  // ---------------------------------------------------------------- text

  /** The index's text as shipped: text, then each string metadata value (date words for ISO dates). */
  static String shippedIndexedText(Doc d) {
    StringBuilder text = new StringBuilder(d.text());
    for (String value : d.meta().values()) {
      text.append('\n').append(value);
      if (value.matches("\\d{4}-\\d{2}-\\d{2}")) {
        text.append(' ').append(RecallTuning.monthYear(value));
      }
    }
    return text.toString();
  }

  // ---------------------------------------------------------------- fusion

  /** z-score normalized convex sum over each list's top depth; missing = list's min z. */
  static List<Integer> zscore(One kw, One vec, int depth, double alpha) {
    Map<Integer, Double> fused = new HashMap<>();
    addZ(fused, kw, depth, alpha);
    addZ(fused, vec, depth, 1 - alpha);
    return sorted(fused);
  }

  private static void addZ(Map<Integer, Double> fused, One list, int depth, double weight) {
    int n = Math.min(depth, list.docs().size());
    if (n == 0) {
      return;
    }
    double mean = 0;
    for (int i = 0; i < n; i++) {
      mean += list.scores().get(i);
    }
    mean /= n;
    double var = 0;
    for (int i = 0; i < n; i++) {
      double d = list.scores().get(i) - mean;
      var += d * d;
    }
    double sd = Math.sqrt(var / n);
    double min = sd > 0 ? (list.scores().get(n - 1) - mean) / sd : 0;
    for (int i = 0; i < n; i++) {
      double z = sd > 0 ? (list.scores().get(i) - mean) / sd : 0;
      fused.merge(list.docs().get(i), weight * (z - min), Double::sum);
    }
  }

  static List<Integer> sorted(Map<Integer, Double> fused) {
    List<Map.Entry<Integer, Double>> entries = new ArrayList<>(fused.entrySet());
    entries.sort(Map.Entry.<Integer, Double>comparingByValue(java.util.Collections.reverseOrder())
        .thenComparing(Map.Entry.comparingByKey()));
    List<Integer> ranked = new ArrayList<>(entries.size());
    entries.forEach(e -> ranked.add(e.getKey()));
    return ranked;
  }

  @FunctionalInterface
  interface Fusion {
    List<Integer> fuse(One keyword, One vector);
  }

  record One(List<Integer> docs, List<Double> scores) {}

  /** Per question, the highest BM25 score any memory could reach: the sum of its words' IDF. */
  static final Map<Lists, List<Double>> BOUNDS = new java.util.IdentityHashMap<>();

  record Lists(List<List<Integer>> docs, List<List<Double>> scores) {
    One at(int q) {
      return new One(docs.get(q), scores.get(q));
    }
  }

  static List<List<Integer>> fused(Lists kw, Lists vec, Fusion fusion) {
    List<List<Integer>> fused = new ArrayList<>();
    for (int q = 0; q < kw.docs().size(); q++) {
      fused.add(fusion.fuse(kw.at(q), vec.at(q)));
    }
    return fused;
  }

  // ---------------------------------------------------------------- signals

  /** BM25 top 1000 per question within its namespace; per-namespace statistics or one index for all. */
  static Lists bm25(Data data, Function<Doc, String> indexed, Analyzer analyzer, boolean perNamespace) throws IOException {
    Map<String, IndexSearcher> searchers = new HashMap<>();
    List<ByteBuffersDirectory> dirs = new ArrayList<>();
    Map<String, List<Integer>> byNs = new LinkedHashMap<>();
    for (int i = 0; i < data.docs().size(); i++) {
      byNs.computeIfAbsent(perNamespace ? data.docs().get(i).ns() : "*", k -> new ArrayList<>()).add(i);
    }
    for (var e : byNs.entrySet()) {
      ByteBuffersDirectory dir = new ByteBuffersDirectory();
      dirs.add(dir);
      try (IndexWriter writer = new IndexWriter(dir, new IndexWriterConfig(analyzer))) {
        for (int i : e.getValue()) {
          Doc d = data.docs().get(i);
          Document doc = new Document();
          doc.add(new StoredField("i", i));
          doc.add(new StringField("ns", d.ns(), Field.Store.NO));
          doc.add(new TextField("text", indexed.apply(d), Field.Store.NO));
          writer.addDocument(doc);
        }
      }
      searchers.put(e.getKey(), new IndexSearcher(DirectoryReader.open(dir)));
    }
    QueryBuilder builder = new QueryBuilder(analyzer);
    List<List<Integer>> docs = new ArrayList<>();
    List<List<Double>> scores = new ArrayList<>();
    List<Double> bounds = new ArrayList<>();
    for (Q q : data.questions()) {
      IndexSearcher searcher = searchers.get(perNamespace ? q.ns() : "*");
      double bound = 0;
      int n = searcher.getIndexReader().getDocCount("text");
      for (String t : analyze(analyzer, q.text())) {
        int df = searcher.getIndexReader().docFreq(new Term("text", t));
        bound += Math.log(1 + (n - df + 0.5) / (df + 0.5));
      }
      bounds.add(bound);
      Query text = builder.createBooleanQuery("text", q.text(), Occur.SHOULD);
      List<Integer> d = new ArrayList<>();
      List<Double> s = new ArrayList<>();
      if (text != null) {
        Query query = new BooleanQuery.Builder().add(text, Occur.MUST)
            .add(new TermQuery(new Term("ns", q.ns())), Occur.FILTER).build();
        for (ScoreDoc sd : searcher.search(query, 1000).scoreDocs) {
          d.add(searcher.storedFields().document(sd.doc).getField("i").numericValue().intValue());
          s.add((double) sd.score);
        }
      }
      docs.add(d);
      scores.add(s);
    }
    for (IndexSearcher s : searchers.values()) {
      s.getIndexReader().close();
    }
    Lists lists = new Lists(docs, scores);
    BOUNDS.put(lists, bounds);
    return lists;
  }

  /** Exact cosine ranking within each question's namespace, embeddings cached under target/. */
  static Lists vectors(Data data, OnnxEmbedder.Model model, Function<Doc, String> embedded, String queryPrefix)
      throws Exception {
    List<String> passages = data.docs().stream().map(embedded).toList();
    List<String> queries = data.questions().stream().map(q -> queryPrefix + q.text()).toList();
    return exactLists(data, cachedEmbeddings(model, passages), cachedQueryEmbeddings(model, queries));
  }

  static List<float[]> cachedEmbeddings(OnnxEmbedder.Model model, List<String> texts) throws Exception {
    return cached(model, texts, false);
  }

  static List<float[]> cachedQueryEmbeddings(OnnxEmbedder.Model model, List<String> texts) throws Exception {
    return cached(model, texts, true);
  }

  private static List<float[]> cached(OnnxEmbedder.Model model, List<String> texts, boolean queries) throws Exception {
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    sha.update((queries ? "queries\n" : "passages\n").getBytes(StandardCharsets.UTF_8));
    for (String t : texts) {
      sha.update(t.getBytes(StandardCharsets.UTF_8));
      sha.update((byte) 0);
    }
    Path cache = Path.of("target", "quality-cache",
        model.configName() + "-" + HexFormat.of().formatHex(sha.digest()).substring(0, 16) + ".bin");
    if (Files.exists(cache)) {
      try (DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(Files.newInputStream(cache)))) {
        int n = in.readInt();
        int dim = in.readInt();
        List<float[]> vectors = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
          float[] v = new float[dim];
          for (int j = 0; j < dim; j++) {
            v[j] = in.readFloat();
          }
          vectors.add(v);
        }
        return vectors;
      }
    }
    List<float[]> vectors;
    try (OnnxEmbedder embedder = new OnnxEmbedder(model, false, 2)) {
      vectors = queries ? embedder.embedQueries(texts) : embedder.embedPassages(texts);
    }
    Files.createDirectories(cache.getParent());
    try (DataOutputStream o = new DataOutputStream(new java.io.BufferedOutputStream(Files.newOutputStream(cache)))) {
      o.writeInt(vectors.size());
      o.writeInt(vectors.get(0).length);
      for (float[] v : vectors) {
        for (float f : v) {
          o.writeFloat(f);
        }
      }
    }
    return vectors;
  }

  // ---------------------------------------------------------------- metrics

  private String countBySet(Data data) {
    Map<String, Integer> n = new TreeMap<>();
    data.questions().forEach(q -> n.merge(q.set(), 1, Integer::sum));
    return n.toString();
  }

  void report(String name, Data data, List<List<Integer>> ranked) {
    StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-70s", name));
    for (String set : SETS) {
      double[] r = new double[KS.length];
      int n = 0;
      for (int q = 0; q < data.questions().size(); q++) {
        Q question = data.questions().get(q);
        if (!question.set().equals(set)) {
          continue;
        }
        n++;
        int rank = Ranking.rankOf(ranked.get(q), question.evidence());
        for (int k = 0; k < KS.length; k++) {
          if (rank > 0 && rank <= KS[k]) {
            r[k]++;
          }
        }
      }
      line.append(' ');
      for (int k = 0; k < KS.length; k++) {
        line.append(String.format(Locale.ROOT, " %.3f", r[k] / Math.max(1, n)));
      }
      line.append(' ');
    }
    out.println(line);
  }
}
