package dev.mnemo.node.quality;

import dev.mnemo.node.embed.OnnxEmbedder;
import dev.mnemo.node.quality.RecallDataset.Question;
import dev.mnemo.node.quality.RecallDataset.Turn;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.format.TextStyle;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.CharArraySet;
import org.apache.lucene.analysis.LowerCaseFilter;
import org.apache.lucene.analysis.StopFilter;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.Tokenizer;
import org.apache.lucene.analysis.en.EnglishAnalyzer;
import org.apache.lucene.analysis.en.EnglishPossessiveFilter;
import org.apache.lucene.analysis.en.KStemFilter;
import org.apache.lucene.analysis.miscellaneous.ASCIIFoldingFilter;
import org.apache.lucene.analysis.standard.StandardAnalyzer;
import org.apache.lucene.analysis.standard.StandardTokenizer;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.TextField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.search.BooleanClause.Occur;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.store.ByteBuffersDirectory;
import org.apache.lucene.util.QueryBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

/**
 * The tuning behind the index's recall settings: on the dev questions only, recall@1/5/10 of
 * every variant of analyzer, indexed text, embedded text, query prefix and fusion. A
 * measurement, not a test (it asserts nothing); run it with
 * {@code MNEMO_RECALL_TUNING=1 ./mvnw -o test -pl store,index,memory-node -Dtest=RecallTuning
 * -Dsurefire.failIfNoSpecifiedTests=false}. Prints to stdout and to target/recall-tuning.txt.
 *
 * <p>BM25 variants run on a Lucene index of its own (same BM25 similarity and query builder as
 * LuceneMemoryIndex), vectors by exact dot product; {@link RecallQualityTest} then measures the
 * chosen settings through the real index.
 */
@EnabledIfEnvironmentVariable(named = "MNEMO_RECALL_TUNING", matches = "1")
class RecallTuning {
  private static final String SPLIT = System.getenv().getOrDefault("MNEMO_RECALL_SPLIT", "dev");

  private PrintStream out;

  @Test
  void tune() throws Exception {
    Path file = Path.of("target", "recall-tuning.txt");
    try (PrintStream fileOut = new PrintStream(Files.newOutputStream(file), true, StandardCharsets.UTF_8)) {
      out = new PrintStream(new TeeStream(System.out, fileOut), true, StandardCharsets.UTF_8);
      run();
    }
  }

  private void run() throws Exception {
    RecallDataset data = RecallDataset.load();
    List<Turn> turns = data.turns();
    List<Question> questions = data.split(SPLIT);
    Map<String, Integer> indexOf = new HashMap<>();
    for (int i = 0; i < turns.size(); i++) {
      indexOf.put(turns.get(i).id(), i);
    }
    List<Set<Integer>> evidence = new ArrayList<>();
    for (Question q : questions) {
      Set<Integer> e = new HashSet<>();
      q.evidence().forEach(id -> e.add(indexOf.get(id)));
      evidence.add(e);
    }
    List<String> texts = questions.stream().map(Question::question).toList();
    out.printf(Locale.ROOT, "%d memories, %d %s questions%n", turns.size(), questions.size(), SPLIT);

    // ---- BM25: analyzer x indexed text
    Map<String, Function<Turn, String>> docTexts = new LinkedHashMap<>();
    docTexts.put("text", t -> t.text());
    docTexts.put("text + speaker", t -> t.text() + "\n" + t.speaker());
    docTexts.put("text + speaker + iso", t -> t.text() + "\n" + t.speaker() + "\n" + t.date());
    docTexts.put("text + speaker + iso + month", t -> t.text() + "\n" + t.speaker() + "\n" + t.date() + " " + monthYear(t.date()));
    docTexts.put("[iso] speaker: text", t -> dated(t));
    docTexts.put("[iso] speaker: text + speaker + iso", t -> dated(t) + "\n" + t.speaker() + "\n" + t.date());
    docTexts.put("[iso] speaker: text + speaker + iso + month", t -> dated(t) + "\n" + t.speaker() + "\n" + t.date() + " " + monthYear(t.date()));
    Map<String, Analyzer> analyzers = new LinkedHashMap<>();
    analyzers.put("English", new EnglishAnalyzer());
    analyzers.put("Standard", new StandardAnalyzer());
    analyzers.put("Standard+stop", new StandardAnalyzer(EnglishAnalyzer.ENGLISH_STOP_WORDS_SET));
    analyzers.put("English KStem", custom(EnglishAnalyzer.ENGLISH_STOP_WORDS_SET, true, false));
    analyzers.put("English+fold", custom(EnglishAnalyzer.ENGLISH_STOP_WORDS_SET, false, true));
    analyzers.put("English, no stop words", custom(CharArraySet.EMPTY_SET, false, false));
    analyzers.put("English, question stop words", custom(questionStops(), false, false));
    analyzers.put("English, only question words", custom(onlyQuestionWords(), false, false));
    out.println();
    out.println("BM25 (" + SPLIT + "), recall@1 @5 @10");
    Map<String, Lists> keyword = new LinkedHashMap<>();
    for (var a : analyzers.entrySet()) {
      for (var d : docTexts.entrySet()) {
        Lists lists = bm25(turns, d.getValue(), a.getValue(), texts);
        String name = a.getKey() + " | " + d.getKey();
        keyword.put(name, lists);
        out.printf(Locale.ROOT, "  %-55s %s%n", name, Ranking.format(recall(lists.docs, evidence)));
      }
    }

    // ---- Vectors: embedded text x query prefix
    Map<String, Function<Turn, String>> embedTexts = new LinkedHashMap<>();
    embedTexts.put("text", Turn::text);
    embedTexts.put("speaker: text", t -> t.speaker() + ": " + t.text());
    embedTexts.put("[iso] speaker: text", RecallTuning::dated);
    embedTexts.put("month year, speaker: text", t -> monthYear(t.date()) + ", " + t.speaker() + ": " + t.text());
    Map<String, Lists> vector = new LinkedHashMap<>();
    out.println();
    out.println("BGE-small (" + SPLIT + "), recall@1 @5 @10");
    try (OnnxEmbedder plain = new OnnxEmbedder(OnnxEmbedder.Model.BGE_SMALL_EN_V15, false, 2);
        OnnxEmbedder prefixed = new OnnxEmbedder(OnnxEmbedder.Model.BGE_SMALL_EN_V15, true, 2)) {
      long t0 = System.nanoTime();
      List<float[]> queryPlain = plain.embedQueries(texts);
      List<float[]> queryPrefixed = prefixed.embedQueries(texts);
      out.printf(Locale.ROOT, "  (embedded %d queries twice in %.1f s)%n", texts.size(), (System.nanoTime() - t0) / 1e9);
      for (var e : embedTexts.entrySet()) {
        long t1 = System.nanoTime();
        List<float[]> passages = plain.embedPassages(turns.stream().map(e.getValue()).toList());
        double seconds = (System.nanoTime() - t1) / 1e9;
        for (boolean prefix : new boolean[] {false, true}) {
          Lists lists = exact(passages, prefix ? queryPrefixed : queryPlain);
          String name = e.getKey() + (prefix ? " | query prefix" : " | no prefix");
          vector.put(name, lists);
          out.printf(Locale.ROOT, "  %-55s %s   (passages embedded in %.1f s)%n", name,
              Ranking.format(recall(lists.docs, evidence)), seconds);
        }
      }
    }

    // ---- Fusion
    String[][] pairs = {
        {"English | text + speaker + iso", "text | no prefix"},
        {"English | [iso] speaker: text + speaker + iso", "[iso] speaker: text | no prefix"},
        {"English | [iso] speaker: text + speaker + iso + month", "[iso] speaker: text | no prefix"},
        {"English, only question words | [iso] speaker: text + speaker + iso + month", "[iso] speaker: text | no prefix"},
        {"English, question stop words | [iso] speaker: text + speaker + iso + month", "[iso] speaker: text | no prefix"},
    };
    for (String[] pair : pairs) {
      Lists kw = keyword.get(pair[0]);
      Lists vec = vector.get(pair[1]);
      out.println();
      out.println("Fusion of [" + pair[0] + "] with [" + pair[1] + "] (" + SPLIT + "), recall@1 @5 @10");
      out.printf(Locale.ROOT, "  %-55s %s%n", "keyword only", Ranking.format(recall(kw.docs, evidence)));
      out.printf(Locale.ROOT, "  %-55s %s%n", "vector only", Ranking.format(recall(vec.docs, evidence)));
      byType("keyword only", kw.docs, evidence, questions);
      byType("vector only", vec.docs, evidence, questions);
      byType("RRF k=60 depth=64", fused(kw, vec, (a, b) -> Ranking.rrf(a.docs(), b.docs(), 64, 60, 1.0)), evidence, questions);
      byType("RRF k=5 depth=64", fused(kw, vec, (a, b) -> Ranking.rrf(a.docs(), b.docs(), 64, 5, 1.0)), evidence, questions);
      byType("convex 0.3 depth=64", fused(kw, vec, (a, b) -> Ranking.convex(a.docs(), a.scores(), b.docs(), b.scores(), 64, 0.3)), evidence, questions);
      byType("convex 0.3 depth=1000", fused(kw, vec, (a, b) -> Ranking.convex(a.docs(), a.scores(), b.docs(), b.scores(), 1000, 0.3)), evidence, questions);
      for (int depth : new int[] {10, 20, 40, 64, 100, 200, 1000}) {
        for (double k : new double[] {1, 5, 10, 20, 40, 60, 100}) {
          fuse(String.format(Locale.ROOT, "RRF k=%-3.0f depth=%-4d", k, depth), kw, vec, evidence,
              (a, b) -> Ranking.rrf(a.docs(), b.docs(), depth, k, 1.0));
        }
      }
      for (int depth : new int[] {64, 1000}) {
        for (double k : new double[] {10, 60}) {
          for (double w : new double[] {0.6, 0.8, 1.2, 1.4}) {
            fuse(String.format(Locale.ROOT, "RRF k=%-3.0f depth=%-4d keyword weight %.1f/%.1f", k, depth, w, 2 - w),
                kw, vec, evidence, (a, b) -> Ranking.rrf(a.docs(), b.docs(), depth, k, w));
          }
        }
      }
      for (int depth : new int[] {10, 20, 40, 64, 100, 1000}) {
        for (double alpha : new double[] {0.1, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7}) {
          fuse(String.format(Locale.ROOT, "min-max convex alpha=%.2f depth=%-4d", alpha, depth), kw, vec, evidence,
              (a, b) -> Ranking.convex(a.docs(), a.scores(), b.docs(), b.scores(), depth, alpha));
        }
      }
      fuse("SHIPPED: convex keyword MAX 0.25 + vector MIN_MAX 0.75 depth=64", kw, vec, evidence,
          (a, b) -> Ranking.convex(a.docs(), a.scores(), Ranking.Norm.MAX, b.docs(), b.scores(), Ranking.Norm.MIN_MAX, 64, 0.25));
      byType("shipped", fused(kw, vec, (a, b) -> Ranking.convex(a.docs(), a.scores(), Ranking.Norm.MAX, b.docs(),
          b.scores(), Ranking.Norm.MIN_MAX, 64, 0.25)), evidence, questions);
      for (int depth : new int[] {10, 20, 40, 64, 100, 200, 1000}) {
        fuse(String.format(Locale.ROOT, "convex keyword MAX 0.25 + vector MIN_MAX 0.75 depth=%d", depth), kw, vec,
            evidence, (a, b) -> Ranking.convex(a.docs(), a.scores(), Ranking.Norm.MAX, b.docs(), b.scores(),
                Ranking.Norm.MIN_MAX, depth, 0.25));
      }
      for (Ranking.Norm kn : Ranking.Norm.values()) {
        for (Ranking.Norm vn : Ranking.Norm.values()) {
          for (double alpha : new double[] {0.1, 0.2, 0.25, 0.3, 0.4, 0.5}) {
            fuse(String.format(Locale.ROOT, "convex keyword %s vector %s alpha=%.2f depth=64", kn, vn, alpha), kw, vec,
                evidence, (a, b) -> Ranking.convex(a.docs(), a.scores(), kn, b.docs(), b.scores(), vn, 64, alpha));
          }
        }
      }
    }
  }


  private void fuse(String name, Lists kw, Lists vec, List<Set<Integer>> evidence, Fusion fusion) {
    out.printf(Locale.ROOT, "  %-55s %s%n", name, Ranking.format(recall(fused(kw, vec, fusion), evidence)));
  }

  private static List<List<Integer>> fused(Lists kw, Lists vec, Fusion fusion) {
    List<List<Integer>> fused = new ArrayList<>();
    for (int q = 0; q < kw.docs().size(); q++) {
      fused.add(fusion.fuse(kw.at(q), vec.at(q)));
    }
    return fused;
  }

  /** recall@5 by question type, and how many questions of each type. */
  private void byType(String name, List<List<Integer>> ranked, List<Set<Integer>> evidence, List<Question> questions) {
    Map<String, List<Integer>> ranks = new java.util.TreeMap<>();
    for (int q = 0; q < questions.size(); q++) {
      ranks.computeIfAbsent(questions.get(q).type(), t -> new ArrayList<>()).add(Ranking.rankOf(ranked.get(q), evidence.get(q)));
    }
    StringBuilder line = new StringBuilder();
    for (var e : ranks.entrySet()) {
      line.append(String.format(Locale.ROOT, "%s(%d) %.2f  ", e.getKey(), e.getValue().size(), Ranking.recall(e.getValue())[1]));
    }
    out.printf(Locale.ROOT, "    @5 by type, %-22s %s%n", name + ":", line);
  }

  @FunctionalInterface
  interface Fusion {
    List<Integer> fuse(One keyword, One vector);
  }

  /** One question's ranked documents with their scores. */
  record One(List<Integer> docs, List<Double> scores) {}

  /** Every question's ranked documents with their scores. */
  record Lists(List<List<Integer>> docs, List<List<Double>> scores) {
    One at(int q) {
      return new One(docs.get(q), scores.get(q));
    }
  }

  static double[] recall(List<List<Integer>> ranked, List<Set<Integer>> evidence) {
    List<Integer> ranks = new ArrayList<>();
    for (int q = 0; q < evidence.size(); q++) {
      ranks.add(Ranking.rankOf(ranked.get(q), evidence.get(q)));
    }
    return Ranking.recall(ranks);
  }

  static Lists bm25(List<Turn> turns, Function<Turn, String> docText, Analyzer analyzer, List<String> questions)
      throws IOException {
    try (ByteBuffersDirectory dir = new ByteBuffersDirectory()) {
      try (IndexWriter writer = new IndexWriter(dir, new IndexWriterConfig(analyzer))) {
        for (int i = 0; i < turns.size(); i++) {
          Document doc = new Document();
          doc.add(new StoredField("i", i));
          doc.add(new TextField("text", docText.apply(turns.get(i)), Field.Store.NO));
          writer.addDocument(doc);
        }
        writer.forceMerge(1);
      }
      try (DirectoryReader reader = DirectoryReader.open(dir)) {
        IndexSearcher searcher = new IndexSearcher(reader);
        QueryBuilder builder = new QueryBuilder(analyzer);
        List<List<Integer>> docs = new ArrayList<>();
        List<List<Double>> scores = new ArrayList<>();
        for (String q : questions) {
          Query query = builder.createBooleanQuery("text", q, Occur.SHOULD);
          List<Integer> d = new ArrayList<>();
          List<Double> s = new ArrayList<>();
          if (query != null) {
            for (ScoreDoc sd : searcher.search(query, turns.size()).scoreDocs) {
              d.add(sd.doc); // one segment, added in order: doc id = turn index
              s.add((double) sd.score);
            }
          }
          docs.add(d);
          scores.add(s);
        }
        return new Lists(docs, scores);
      }
    }
  }

  static Lists exact(List<float[]> passages, List<float[]> queries) {
    List<List<Integer>> docs = new ArrayList<>();
    List<List<Double>> scores = new ArrayList<>();
    for (float[] q : queries) {
      double[] sims = new double[passages.size()];
      List<Integer> order = new ArrayList<>();
      for (int i = 0; i < passages.size(); i++) {
        float[] p = passages.get(i);
        double dot = 0;
        for (int j = 0; j < p.length; j++) {
          dot += p[j] * q[j];
        }
        sims[i] = dot;
        order.add(i);
      }
      order.sort((a, b) -> sims[a] != sims[b] ? Double.compare(sims[b], sims[a]) : Integer.compare(a, b));
      docs.add(order);
      scores.add(order.stream().map(i -> sims[i]).toList());
    }
    return new Lists(docs, scores);
  }

  static String monthYear(String iso) {
    LocalDate d = LocalDate.parse(iso);
    return d.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH) + " " + d.getYear();
  }

  static String dayMonthYear(String iso) {
    LocalDate d = LocalDate.parse(iso);
    return d.getDayOfMonth() + " " + monthYear(iso);
  }

  static String dated(Turn t) {
    return "[" + t.date() + "] " + t.speaker() + ": " + t.text();
  }

  /** Question words, auxiliaries and pronouns, which questions are full of. */
  static final List<String> QUESTION_WORDS = List.of("what", "which", "who", "whom", "whose", "when", "where",
      "why", "how", "did", "do", "does", "has", "have", "had", "i", "me", "my", "we", "our", "you", "your", "he",
      "him", "his", "she", "her", "its", "them", "am", "were", "been", "being", "can", "could", "would",
      "should", "from", "about", "so", "just", "now", "get", "got");

  /** Only {@link #QUESTION_WORDS}, keeping the ordinary English stop words. */
  static CharArraySet onlyQuestionWords() {
    return new CharArraySet(QUESTION_WORDS, true);
  }

  /** English stop words plus {@link #QUESTION_WORDS}. */
  static CharArraySet questionStops() {
    CharArraySet set = new CharArraySet(EnglishAnalyzer.ENGLISH_STOP_WORDS_SET, true);
    set.addAll(QUESTION_WORDS);
    return set;
  }

  /** EnglishAnalyzer's chain (possessives, lower case, stop words, stemming), with options. */
  static Analyzer custom(CharArraySet stops, boolean kstem, boolean fold) {
    return new Analyzer() {
      @Override
      protected TokenStreamComponents createComponents(String fieldName) {
        Tokenizer source = new StandardTokenizer();
        TokenStream result = new EnglishPossessiveFilter(source);
        result = new LowerCaseFilter(result);
        if (fold) {
          result = new ASCIIFoldingFilter(result);
        }
        result = new StopFilter(result, stops);
        result = kstem ? new KStemFilter(result) : new org.apache.lucene.analysis.en.PorterStemFilter(result);
        return new TokenStreamComponents(source, result);
      }
    };
  }

  /** Writes to two streams. */
  private static final class TeeStream extends java.io.OutputStream {
    private final java.io.OutputStream a;
    private final java.io.OutputStream b;

    TeeStream(java.io.OutputStream a, java.io.OutputStream b) {
      this.a = a;
      this.b = b;
    }

    @Override
    public void write(int x) throws IOException {
      a.write(x);
      b.write(x);
    }

    @Override
    public void write(byte[] buf, int off, int len) throws IOException {
      a.write(buf, off, len);
      b.write(buf, off, len);
    }
  }
}
