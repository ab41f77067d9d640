package dev.mnemo.index;

import dev.mnemo.store.model.Embedding;
import dev.mnemo.store.model.Memory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.CharArraySet;
import org.apache.lucene.analysis.en.EnglishAnalyzer;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.DoublePoint;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.KnnFloatVectorField;
import org.apache.lucene.document.LongPoint;
import org.apache.lucene.document.BinaryDocValuesField;
import org.apache.lucene.document.NumericDocValuesField;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.document.TextField;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.Term;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.search.BooleanClause.Occur;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.MatchAllDocsQuery;
import org.apache.lucene.search.MatchNoDocsQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.util.BytesRef;
import org.apache.lucene.util.UnicodeUtil;

/**
 * The index schema: how a memory becomes a Lucene document, and how a filter becomes a query on
 * those fields. Metadata strings and booleans are exact terms under {@code m.<key>}; numbers are
 * double points under {@code m.<key>#n}, so one field serves equality and ranges.
 */
final class MemoryDocuments {
  static final String CID = "cid";
  static final String NS = "ns";
  static final String TEXT = "text";
  /** The memory's text with its predecessor's (see {@link ConversationContext}); for every memory. */
  static final String CONTEXT_TEXT = "ctext";
  /** The vector of the memory's text with its predecessor's; only for memories with a context vector. */
  static final String CONTEXT_VECTOR = "cvec";
  /** The CID of the memory's predecessor, to find the memories that lose their context when it goes. */
  static final String CONTEXT_OF = "cof";
  static final String VECTOR = "vec";
  static final String TS = "ts";
  static final String POSITION = "pos";
  static final String TAG = "tag";
  /**
   * Validity bounds, doc values only: {@code validTo} is the memory's own, {@code invalidAt} the
   * earliest invalidate's, updated in place when one arrives (Lucene updates doc values of
   * doc-values-only fields, never points). A missing bound is stored as the open end
   * (Long.MIN_VALUE, Long.MAX_VALUE), so every document has all three and a range query needs
   * no special case for it.
   */
  static final String VALID_FROM = "validFrom";
  static final String VALID_TO = "validTo";
  static final String INVALID_AT = "invalidAt";

  /**
   * "1" on a memory that a live memory of its namespace names as prev; absent otherwise. A term,
   * set by indexing the memory again when its successors change (rare: once per update), rather
   * than a numeric doc value updated in place: Lucene does not cache a filter on a doc-values field
   * with updates, and the recall filter is cached per segment for the kNN search.
   */
  static final String SUPERSEDED = "sup";
  private static final String META = "m.";
  private static final String NUMERIC = "#n";
  /**
   * Whole numbers also go in as longs, for exact equality: as doubles, every integer within ~128
   * of a 64-bit ID (a message or Snowflake ID) is the same number.
   */
  private static final String INTEGER = "#i";
  /** Booleans have their own field, so {@code true} never matches the string {@code "true"}. */
  private static final String BOOLEAN = "#b";

  private MemoryDocuments() {}

  /** Analyzers are thread-safe: each thread reuses its own token streams. */
  static final Analyzer ANALYZER = analyzer();

  static Document toDocument(IndexedMemory indexed, int dimension) {
    Memory memory = indexed.memory();
    Document doc = new Document();
    doc.add(new StringField(CID, indexed.cid().toString(), Field.Store.NO));
    // Results read the CID from doc values: a stored-field read decompresses a whole block per hit
    // (the largest cost of a vector recall after the graph search, when profiled).
    doc.add(new BinaryDocValuesField(CID, new BytesRef(indexed.cid().toBytes())));
    doc.add(new StringField(NS, memory.ns(), Field.Store.NO));
    String text = indexedText(memory);
    NamespaceText.addTo(doc, TEXT, memory.ns(), text, ANALYZER);
    IndexedMemory.Context context = indexed.context();
    NamespaceText.addTo(doc, CONTEXT_TEXT, memory.ns(), context == null ? text : text + "\n" + context.text(), ANALYZER);
    if (context != null) {
      doc.add(new StringField(CONTEXT_OF, context.cid().toString(), Field.Store.NO));
    }
    doc.add(new LongPoint(TS, memory.ts()));
    doc.add(new NumericDocValuesField(TS, memory.ts()));
    doc.add(new NumericDocValuesField(POSITION, indexed.position()));
    doc.add(new NumericDocValuesField(VALID_FROM, memory.validFrom() == null ? Long.MIN_VALUE : memory.validFrom()));
    doc.add(new NumericDocValuesField(VALID_TO, memory.validTo() == null ? Long.MAX_VALUE : memory.validTo()));
    doc.add(new NumericDocValuesField(INVALID_AT, indexed.invalidatedAt() == null ? Long.MAX_VALUE : indexed.invalidatedAt()));
    if (indexed.superseded()) {
      doc.add(new StringField(SUPERSEDED, "1", Field.Store.NO));
    }
    for (String tag : memory.tags()) {
      addExact(doc, TAG, tag);
    }
    for (Map.Entry<String, Object> e : memory.metadata().entrySet()) {
      if (e.getKey().indexOf('#') >= 0) {
        // The API refuses such keys; a peer's memory may hold one. Indexed, "k#n": "x" would share
        // the field of the number under "k", and Lucene would refuse one memory or the other.
        continue;
      }
      switch (e.getValue()) {
        case Number n -> {
          doc.add(new DoublePoint(META + e.getKey() + NUMERIC, n.doubleValue()));
          Long whole = wholeNumber(n);
          if (whole != null) {
            doc.add(new LongPoint(META + e.getKey() + INTEGER, whole));
          }
        }
        case Boolean bool -> doc.add(new StringField(META + e.getKey() + BOOLEAN, bool.toString(), Field.Store.NO));
        default -> addExact(doc, META + e.getKey(), String.valueOf(e.getValue()));
      }
    }
    float[] vector = usableVector(memory.embedding(), dimension);
    if (vector != null) {
      doc.add(new KnnFloatVectorField(VECTOR, vector, VectorSimilarityFunction.DOT_PRODUCT));
      float[] contextVector = context == null || context.vector() == null || context.vector().length != dimension
          ? null : normalized(context.vector());
      if (contextVector != null) {
        doc.add(new KnnFloatVectorField(CONTEXT_VECTOR, contextVector, VectorSimilarityFunction.DOT_PRODUCT));
      }
    }
    return doc;
  }

  /**
   * The text BM25 sees: the memory's text plus the values of its string metadata (a speaker, a
   * source, a date written out), since questions often name those rather than the text's words.
   * An ISO date value ({@code 2024-03-02}, with or without a time) also adds its month and year in
   * words ({@code March 2024}), because questions say "in early March", never "03".
   *
   * <p>Measured on the recall-quality set (memory-node/src/test/resources/recall-quality, 124 dev
   * questions, BM25 recall@5 with {@link #analyzer}; benchmarks/RECALL-QUALITY.md): a bare turn
   * 0.484, with the speaker appended 0.573, with speaker and ISO date 0.573, with the month and
   * year too 0.597; a turn whose text already reads "[2024-03-02] Caroline: ..." 0.573, with
   * speaker and date appended 0.589, with the month and year too 0.621. So metadata stays appended
   * and dates gain their words.
   */
  static String indexedText(Memory memory) {
    StringBuilder text = new StringBuilder(memory.text());
    for (Object value : memory.metadata().values()) {
      if (value instanceof String s) {
        text.append('\n').append(s);
        String words = dateWords(s);
        if (words != null) {
          text.append(' ').append(words);
        }
      }
    }
    return text.toString();
  }

  private static final Pattern ISO_DATE = Pattern.compile("(\\d{4})-(\\d{2})-(\\d{2})(?:[T ].*)?");
  private static final String[] MONTHS = {"January", "February", "March", "April", "May", "June", "July",
      "August", "September", "October", "November", "December"};

  /** "March 2024" for a string that is an ISO date ({@code 2024-03-02[Thh:mm...]}), else null. */
  static String dateWords(String value) {
    if (value.length() > 40) {
      return null;
    }
    Matcher m = ISO_DATE.matcher(value.strip());
    if (!m.matches()) {
      return null;
    }
    int month = Integer.parseInt(m.group(2));
    int day = Integer.parseInt(m.group(3));
    if (month < 1 || month > 12 || day < 1 || day > 31) {
      return null;
    }
    return MONTHS[month - 1] + " " + m.group(1);
  }

  /**
   * The analyzer of the text field, at index and query time: EnglishAnalyzer's chain (possessives,
   * lower case, Porter stemming) with {@link #QUESTION_WORDS} as its stop words instead of the
   * usual English list. Measured on the recall-quality dev questions (BM25 recall@5; text
   * "[2024-03-02] Caroline: ..." with speaker, date and month appended): EnglishAnalyzer 0.548,
   * StandardAnalyzer 0.532, StandardAnalyzer with English stop words 0.500, KStem instead of
   * Porter 0.540, EnglishAnalyzer with no stop words 0.573, English stop words plus question words
   * 0.573, question words only 0.621; hybrid recall@5 0.895 with EnglishAnalyzer or with English
   * plus question stop words, 0.935 with question words only. Questions are full of "what", "did",
   * "how", "my", which match every chatty memory ("How was your weekend?") and so push the answer
   * down; the ordinary stop words ("the", "in", "at") carry little weight in BM25 and, kept, still
   * break ties between the many memories that share only a name with the question.
   *
   * <p>Indexes built with the previous analyzer (EnglishAnalyzer's own stop words) still work: a
   * query's "the" or "in" just finds nothing in their old documents until 'mnemo reindex'.
   */
  static Analyzer analyzer() {
    return new EnglishAnalyzer(QUESTION_WORDS);
  }

  /** Question words, auxiliaries and pronouns: the words questions are made of, not their subject. */
  static final CharArraySet QUESTION_WORDS = CharArraySet.unmodifiableSet(new CharArraySet(List.of(
      "what", "which", "who", "whom", "whose", "when", "where", "why", "how", "did", "do", "does", "has",
      "have", "had", "i", "me", "my", "we", "our", "you", "your", "he", "him", "his", "she", "her", "its",
      "them", "am", "were", "been", "being", "can", "could", "would", "should", "from", "about", "so",
      "just", "now", "get", "got"), true));

  /** The memory's vector, unit length, or null when it has none of the index's dimension. */
  static float[] usableVector(Embedding embedding, int dimension) {
    if (embedding == null || embedding.dim() != dimension) {
      return null;
    }
    return normalized(embedding.vector());
  }

  /**
   * A tag or string metadata value as an exact-match term. Lucene refuses a whole document with a
   * term over {@link IndexWriter#MAX_TERM_LENGTH} UTF-8 bytes; the HTTP API's limits keep values
   * far shorter, but a memory from a peer or a CAR file is not held to them. Such a value is left
   * out of filtering, so that the memory still reaches recall.
   */
  private static void addExact(Document doc, String field, String value) {
    if (UnicodeUtil.calcUTF16toUTF8Length(value, 0, value.length()) <= IndexWriter.MAX_TERM_LENGTH) {
      doc.add(new StringField(field, value, Field.Store.NO));
    }
  }

  static float[] normalized(float[] vector) {
    double sum = 0;
    for (float f : vector) {
      sum += (double) f * f;
    }
    if (sum == 0 || !Double.isFinite(sum)) {
      return null;
    }
    // In double: for a vector of norm below ~3e-39 the scale overflows a float, and a vector of
    // infinities would then reach Lucene, which refuses it.
    double scale = 1 / Math.sqrt(sum);
    float[] out = new float[vector.length];
    for (int i = 0; i < vector.length; i++) {
      out[i] = (float) (vector[i] * scale);
    }
    return out;
  }

  /**
   * The filter as a query of FILTER clauses (no scoring), always including the namespace, and
   * leaving out superseded memories unless {@code includeSuperseded}: a clause of the filter, so
   * both searches still find k current ones.
   */
  static Query filterQuery(String ns, RecallFilter filter, boolean includeSuperseded) {
    BooleanQuery.Builder b = new BooleanQuery.Builder();
    b.add(new TermQuery(new Term(NS, ns)), Occur.FILTER);
    if (!includeSuperseded) {
      b.add(new TermQuery(new Term(SUPERSEDED, "1")), Occur.MUST_NOT);
    }
    for (Map.Entry<String, Object> e : filter.metadata().entrySet()) {
      b.add(metadataEquals(e.getKey(), e.getValue()), Occur.FILTER);
    }
    for (Map.Entry<String, RecallFilter.NumericRange> e : filter.ranges().entrySet()) {
      RecallFilter.NumericRange r = e.getValue();
      double lo = r.gte() == null ? Double.NEGATIVE_INFINITY : r.gte();
      double hi = r.lte() == null ? Double.POSITIVE_INFINITY : r.lte();
      b.add(DoublePoint.newRangeQuery(META + e.getKey() + NUMERIC, lo, hi), Occur.FILTER);
    }
    for (String tag : filter.tags()) {
      b.add(new TermQuery(new Term(TAG, tag)), Occur.FILTER);
    }
    if (filter.after() != null || filter.before() != null) {
      long lo = filter.after() == null ? Long.MIN_VALUE : filter.after();
      if (filter.before() != null && filter.before() == Long.MIN_VALUE) {
        // Nothing is before the smallest time; before - 1 would wrap round to match everything.
        return new BooleanQuery.Builder().add(new MatchNoDocsQuery(), Occur.FILTER).build();
      }
      long hi = filter.before() == null ? Long.MAX_VALUE : filter.before() - 1;
      b.add(LongPoint.newRangeQuery(TS, lo, hi), Occur.FILTER);
    }
    if (filter.validAt() == null) {
      return b.build();
    }
    // Apart from the rest, so that the rest stays one cacheable filter: the time differs from
    // recall to recall (it is usually now), and the invalidAt values change in place.
    long t = filter.validAt();
    if (t == Long.MAX_VALUE) {
      // Nothing is valid after the largest time (validTo is exclusive); t + 1 would wrap round.
      return new BooleanQuery.Builder().add(new MatchNoDocsQuery(), Occur.FILTER).build();
    }
    return new BooleanQuery.Builder()
        .add(b.build(), Occur.FILTER)
        .add(NumericDocValuesField.newSlowRangeQuery(VALID_FROM, Long.MIN_VALUE, t), Occur.FILTER)
        .add(NumericDocValuesField.newSlowRangeQuery(VALID_TO, t + 1, Long.MAX_VALUE), Occur.FILTER)
        .add(NumericDocValuesField.newSlowRangeQuery(INVALID_AT, t + 1, Long.MAX_VALUE), Occur.FILTER)
        .build();
  }

  /** Whether a query reads the validity fields: a recall filter with {@code validAt}, not worth caching. */
  static boolean readsValidity(Query query) {
    boolean[] found = {false};
    query.visit(new org.apache.lucene.search.QueryVisitor() {
      @Override
      public boolean acceptField(String field) {
        found[0] |= field.equals(VALID_FROM) || field.equals(VALID_TO) || field.equals(INVALID_AT);
        return true;
      }

      @Override
      public org.apache.lucene.search.QueryVisitor getSubVisitor(Occur occur, Query parent) {
        return this;
      }
    });
    return found[0];
  }

  private static Query metadataEquals(String key, Object value) {
    return switch (value) {
      case Number n -> {
        Long whole = wholeNumber(n);
        yield whole != null ? LongPoint.newExactQuery(META + key + INTEGER, whole)
            : DoublePoint.newExactQuery(META + key + NUMERIC, n.doubleValue());
      }
      case Boolean bool -> new TermQuery(new Term(META + key + BOOLEAN, bool.toString()));
      case String s -> new TermQuery(new Term(META + key, s));
      default -> throw new IllegalArgumentException("metadata filter '" + key + "' must be a string, number or boolean");
    };
  }

  /** The number as a long when it is a whole number in the long range (5, 5.0, -0.0), else null. */
  static Long wholeNumber(Number n) {
    return switch (n) {
      case Long l -> l; // beyond 2^53 a double would round it
      case java.math.BigInteger big -> big.bitLength() < 64 ? big.longValue() : null;
      default -> {
        double d = n.doubleValue();
        // Below 2^63 in magnitude and with no fraction: (long) d is exact.
        yield d == Math.rint(d) && Math.abs(d) < 0x1p63 ? (long) d : null;
      }
    };
  }

  static Query all() {
    return new MatchAllDocsQuery();
  }

  static List<Term> cidTerms(List<String> cids) {
    List<Term> terms = new ArrayList<>(cids.size());
    for (String cid : cids) {
      terms.add(new Term(CID, cid));
    }
    return terms;
  }
}
