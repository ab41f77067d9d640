package dev.mnemo.index;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;
import org.apache.lucene.analysis.tokenattributes.TermFrequencyAttribute;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.FieldType;
import org.apache.lucene.document.TextField;
import org.apache.lucene.index.IndexOptions;
import org.apache.lucene.index.IndexReader;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.BooleanClause.Occur;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.CollectionStatistics;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.TermQuery;

/**
 * BM25 text whose statistics are the namespace's own. Every indexed word is prefixed with a key
 * of its namespace, so a word's document frequency counts only that namespace's memories; a
 * second field holds one term a memory whose frequency is the memory's length, so the
 * namespace's document count and average length come from it too. A namespace's ranking then
 * does not move when other namespaces are written, and its scores reveal nothing about them.
 * With one shared text field, recall@5 of one LoCoMo conversation moved from 0.560 to 0.551 as
 * the other conversations were loaded.
 */
final class NamespaceText {
  /** The per-namespace length field: term = namespace key, frequency = the memory's word count. */
  static final String LENGTH = "nslen";

  private static final FieldType LENGTH_TYPE = new FieldType();

  static {
    LENGTH_TYPE.setTokenized(true);
    LENGTH_TYPE.setOmitNorms(true);
    LENGTH_TYPE.setIndexOptions(IndexOptions.DOCS_AND_FREQS);
    LENGTH_TYPE.freeze();
  }

  private NamespaceText() {}

  /**
   * The namespace's prefix: 64 bits of its SHA-256, so terms stay short whatever the name's
   * length. Two namespaces sharing a key would share statistics, never results (recall always
   * filters on the namespace itself).
   */
  static String key(String ns) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(ns.getBytes(StandardCharsets.UTF_8));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(java.util.Arrays.copyOf(digest, 8)) + ":";
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Adds the memory's text to {@code field} (TEXT, or CONTEXT_TEXT), with its length. */
  static void addTo(Document doc, String field, String ns, String text, Analyzer analyzer) {
    String key = key(ns);
    List<String> terms = analyze(analyzer, text);
    doc.add(new Field(field, new Terms(key, terms, 1), TextField.TYPE_NOT_STORED));
    doc.add(new Field(LENGTH, new Terms("", List.of(lengthKey(field, key)), Math.max(1, terms.size())), LENGTH_TYPE));
  }

  /** The length term of a field in a namespace: one length field serves both text fields. */
  private static String lengthKey(String field, String key) {
    return field.equals(MemoryDocuments.TEXT) ? key : field + "/" + key;
  }

  /** The keyword query: one SHOULD clause a word of the text, as Lucene's QueryBuilder makes; null for no words. */
  static Query query(String field, String ns, String text, Analyzer analyzer) {
    List<String> terms = analyze(analyzer, text);
    if (terms.isEmpty()) {
      return null;
    }
    String key = key(ns);
    BooleanQuery.Builder b = new BooleanQuery.Builder();
    for (String term : terms) {
      b.add(new TermQuery(new Term(field, key + term)), Occur.SHOULD);
    }
    return b.build();
  }

  /**
   * The highest BM25 score any memory of the namespace could reach for {@code text} in
   * {@code field}: the sum of its words' IDF (Lucene's BM25 term score tends to the IDF as the
   * word's frequency grows), each word counted as often as the query repeats it.
   */
  static double bestPossibleScore(IndexReader reader, String field, String ns, String text, Analyzer analyzer)
      throws IOException {
    String key = key(ns);
    int docCount = reader.docFreq(new Term(LENGTH, lengthKey(field, key)));
    double sum = 0;
    for (String term : analyze(analyzer, text)) {
      int docFreq = reader.docFreq(new Term(field, key + term));
      sum += Math.log(1 + (docCount - docFreq + 0.5) / (docFreq + 0.5));
    }
    return sum;
  }

  /**
   * A searcher over {@code reader} whose text-field statistics (document count, total length) are
   * the namespace's; term statistics already are, through the prefixed terms.
   */
  static IndexSearcher searcher(IndexReader reader, String ns, IndexSearcher shared) throws IOException {
    String key = key(ns);
    IndexSearcher searcher = new IndexSearcher(reader) {
      @Override
      public CollectionStatistics collectionStatistics(String field) throws IOException {
        if (!field.equals(MemoryDocuments.TEXT) && !field.equals(MemoryDocuments.CONTEXT_TEXT)) {
          return super.collectionStatistics(field);
        }
        Term length = new Term(LENGTH, lengthKey(field, key));
        int docCount = reader.docFreq(length);
        long totalLength = reader.totalTermFreq(length);
        return docCount == 0 ? null : new CollectionStatistics(field, docCount, docCount, totalLength, docCount);
      }
    };
    searcher.setQueryCache(shared.getQueryCache());
    searcher.setQueryCachingPolicy(shared.getQueryCachingPolicy());
    return searcher;
  }

  private static List<String> analyze(Analyzer analyzer, String text) {
    List<String> terms = new ArrayList<>();
    try (TokenStream ts = analyzer.tokenStream(MemoryDocuments.TEXT, text)) {
      CharTermAttribute term = ts.addAttribute(CharTermAttribute.class);
      ts.reset();
      while (ts.incrementToken()) {
        terms.add(term.toString());
      }
      ts.end();
    } catch (IOException e) {
      throw new UncheckedIOException(e); // analyzing a String does no I/O
    }
    return terms;
  }

  /** Already analyzed words, each with the prefix, one position apart, with a fixed frequency. */
  private static final class Terms extends TokenStream {
    private final CharTermAttribute term = addAttribute(CharTermAttribute.class);
    private final TermFrequencyAttribute frequency = addAttribute(TermFrequencyAttribute.class);
    private final String prefix;
    private final List<String> terms;
    private final int termFrequency;
    private int next;

    Terms(String prefix, List<String> terms, int termFrequency) {
      this.prefix = prefix;
      this.terms = terms;
      this.termFrequency = termFrequency;
    }

    @Override
    public boolean incrementToken() {
      if (next == terms.size()) {
        return false;
      }
      clearAttributes();
      term.setEmpty().append(prefix).append(terms.get(next++));
      if (termFrequency > 1) {
        frequency.setTermFrequency(termFrequency);
      }
      return true;
    }

    @Override
    public void reset() throws IOException {
      super.reset();
      next = 0;
    }
  }
}
