package dev.mnemo.index;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mnemo.store.model.Memory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;
import org.junit.jupiter.api.Test;

class MemoryDocumentsTest {

  @Test
  void isoDateMetadataAlsoIndexesItsMonthAndYearInWords() {
    Memory memory = new Memory("alice", "I started pottery classes last week",
        Map.of("speaker", "Caroline", "date", "2024-03-02", "session", 5L), List.of(), 0, null, null);
    String text = MemoryDocuments.indexedText(memory);
    assertThat(text).contains("I started pottery classes last week", "Caroline", "2024-03-02 March 2024");
    assertThat(text).doesNotContain("5");
    assertThat(MemoryDocuments.dateWords("2024-12-31T23:59:00Z")).isEqualTo("December 2024");
    assertThat(MemoryDocuments.dateWords("2024-13-02")).isNull();
    assertThat(MemoryDocuments.dateWords("call 2024-03-02")).isNull();
    assertThat(MemoryDocuments.dateWords("Caroline")).isNull();
  }

  @Test
  void analyzerDropsQuestionWordsButKeepsOrdinaryOnesAndStems() throws Exception {
    assertThat(terms(MemoryDocuments.analyzer(), "What did Caroline's cat do in the garden?"))
        .containsExactly("carolin", "cat", "in", "the", "garden");
  }

  private static List<String> terms(Analyzer analyzer, String text) throws Exception {
    List<String> terms = new ArrayList<>();
    try (TokenStream ts = analyzer.tokenStream("text", text)) {
      CharTermAttribute term = ts.addAttribute(CharTermAttribute.class);
      ts.reset();
      while (ts.incrementToken()) {
        terms.add(term.toString());
      }
      ts.end();
    }
    return terms;
  }
}
