package dev.mnemo.node.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mnemo.node.ApiClient;
import dev.mnemo.node.TestNode;
import dev.mnemo.node.TestVectors;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Remember and recall over HTTP with the real in-process embedder (BGE-small): a paraphrase finds
 * a memory by meaning, a word finds it by keyword, and hybrid results carry both signals' scores.
 */
class RememberRecallApiTest {
  private static final String FACTS = "facts";
  private static final List<String> TEXTS = List.of(
      "Bob prefers green tea over coffee, especially in the morning.",
      "Alice moved to Lisbon in 2021 and works remotely as a designer.",
      "Carol has a golden retriever named Max who loves the beach.",
      "The quarterly budget review is scheduled for the first Friday of March.",
      "Dave is allergic to peanuts and carries an epinephrine injector.",
      "Bob's sister Erin teaches mathematics at a high school in Denver.",
      "The office wifi password was changed last week and is on the whiteboard.",
      "Frank plays bass guitar in a jazz band on weekends.",
      "The team decided to migrate the billing service from MySQL to PostgreSQL.",
      "Grace ran the Berlin marathon in under four hours last September.");

  @TempDir static Path dir;
  private static TestNode node;
  private static ApiClient api;
  private static List<String> facts;

  @BeforeAll
  static void start() {
    node = TestNode.start(dir, TestNode.BGE);
    api = node.api();
    List<Map<String, Object>> batch = new ArrayList<>();
    for (int i = 0; i < TEXTS.size(); i++) {
      batch.add(Map.of("text", TEXTS.get(i), "metadata", Map.of("i", i)));
    }
    facts = api.rememberAll(FACTS, batch);
  }

  @AfterAll
  static void stop() {
    if (node != null) {
      node.close();
    }
  }

  @Test
  void batchRememberReturnsCidsInRequestOrder() {
    assertThat(facts).hasSize(TEXTS.size()).doesNotHaveDuplicates();
    for (int i = 0; i < facts.size(); i++) {
      JsonNode memory = api.getJson("/v1/memories/" + facts.get(i));
      assertThat(memory.path("text").asText()).as("memory %d", i).isEqualTo(TEXTS.get(i));
      assertThat(memory.path("metadata").path("i").asInt()).isEqualTo(i);
      assertThat(memory.path("embedding").path("model").asText()).startsWith("bge-small-en-v1.5");
      assertThat(memory.path("embedding").path("dim").asInt()).isEqualTo(384);
    }
    assertThat(api.listAll(FACTS)).containsExactlyElementsOf(facts);
  }

  @Test
  void aParaphraseFindsTheMemoryByMeaning() {
    Map<String, String> expectations = Map.of(
        "what does Bob like to drink?", TEXTS.get(0),
        "Where does Alice live now?", TEXTS.get(1),
        "what kind of dog does Carol own", TEXTS.get(2),
        "which food could give Dave a dangerous reaction?", TEXTS.get(4),
        "what musical instrument does Frank play", TEXTS.get(7),
        "which database are we moving to?", TEXTS.get(8),
        "how can I connect to the internet at work", TEXTS.get(6));
    List<String> wrong = new ArrayList<>();
    expectations.forEach((question, expected) -> {
      JsonNode results = api.recall(FACTS, Map.of("query", question, "mode", "vector", "k", 3));
      if (results.isEmpty() || !results.get(0).path("text").asText().equals(expected)) {
        wrong.add(question + ": " + results);
      }
    });
    assertThat(wrong).as("vector recall of paraphrases").isEmpty();
    // Hybrid too, for the questions that share no word stem with another memory: where one does
    // ("moving" with "moved", "work" with "works"), the keyword signal may rightly pull it up.
    for (String question : List.of("what does Bob like to drink?", "Where does Alice live now?",
        "what kind of dog does Carol own", "which food could give Dave a dangerous reaction?",
        "what musical instrument does Frank play")) {
      JsonNode results = api.recall(FACTS, Map.of("query", question, "mode", "hybrid", "k", 3));
      assertThat(results.get(0).path("text").asText()).as("hybrid %s: %s", question, results)
          .isEqualTo(expectations.get(question));
    }
    // Default mode (hybrid) and default k.
    JsonNode results = api.recall(FACTS, Map.of("query", "what does Bob like to drink?"));
    assertThat(results.get(0).path("cid").asText()).isEqualTo(facts.get(0));
    assertThat(results.size()).isEqualTo(TEXTS.size());
  }

  @Test
  void keywordModeFindsExactWords() {
    JsonNode results = api.recall(FACTS, Map.of("query", "retriever", "mode", "keyword", "fusion", Map.of("context", 0)));
    assertThat(ApiClient.cids(results)).containsExactly(facts.get(2));
    // By default a memory is also found by the words of the one written before it (its
    // conversation context), below the memory that says them; its own BM25 score is null.
    JsonNode withContext = api.recall(FACTS, Map.of("query", "retriever", "mode", "keyword"));
    assertThat(ApiClient.cids(withContext)).containsExactly(facts.get(2), facts.get(3));
    assertThat(withContext.get(1).path("scores").path("keyword").isNull()).as("%s", withContext.get(1)).isTrue();
    JsonNode top = results.get(0);
    assertThat(top.path("scores").path("keyword").asDouble()).isPositive();
    assertThat(top.path("scores").path("vector").isNull()).isTrue();

    assertThat(ApiClient.cids(api.recall(FACTS, Map.of("query", "PostgreSQL migration", "mode", "keyword"))))
        .startsWith(facts.get(8));
    assertThat(api.recall(FACTS, Map.of("query", "zebra xylophone", "mode", "keyword"))).isEmpty();
    // A word only in a paraphrase is not a keyword hit.
    assertThat(ApiClient.cids(api.recall(FACTS, Map.of("query", "beverage", "mode", "keyword")))).isEmpty();
  }

  @Test
  void hybridResultsCarryKeywordAndVectorScores() {
    JsonNode results = api.recall(FACTS, Map.of("query", "Bob green tea", "mode", "hybrid", "k", 5));
    assertThat(results.size()).isEqualTo(5);
    JsonNode top = results.get(0);
    assertThat(top.path("cid").asText()).isEqualTo(facts.get(0));
    assertThat(top.path("scores").path("keyword").isNumber()).as("%s", top).isTrue();
    assertThat(top.path("scores").path("keyword").asDouble()).isPositive();
    assertThat(top.path("scores").path("vector").isNumber()).as("%s", top).isTrue();
    assertThat(top.path("scores").path("vector").asDouble()).isBetween(0.3, 1.0);
    double previous = Double.MAX_VALUE;
    for (JsonNode r : results) {
      assertThat(r.path("scores").has("keyword")).isTrue();
      assertThat(r.path("scores").path("vector").isNumber()).as("%s", r).isTrue();
      assertThat(r.path("score").asDouble()).isLessThanOrEqualTo(previous);
      previous = r.path("score").asDouble();
    }
    // The other Bob memory matches the keyword too, and so has a keyword score.
    JsonNode sister = null;
    for (JsonNode r : results) {
      if (r.path("cid").asText().equals(facts.get(5))) {
        sister = r;
      }
    }
    assertThat(sister).as("Bob's sister in %s", results).isNotNull();
    assertThat(sister.path("scores").path("keyword").asDouble()).isPositive();
  }

  @Test
  void aNewMemoryIsRecallableAsSoonAsItIsAcknowledged() {
    for (int i = 0; i < 5; i++) {
      String text = "Reminder " + i + ": water the cactus named Spike" + "!".repeat(i);
      String cid = api.remember("fresh", Map.of("text", text));
      assertThat(api.recallCids("fresh", Map.of("query", "when should I water Spike the cactus", "k", 10))).contains(cid);
      assertThat(api.recallCids("fresh", Map.of("query", "cactus", "mode", "keyword", "k", 10))).contains(cid);
    }
  }

  @Test
  void aBatchMayMixClientVectorsAndEmbeddedText() {
    float[] own = TestVectors.random(77);
    List<String> cids = api.rememberAll("mixed", List.of(
        Map.of("text", "embedded one: the printer on floor two is broken"),
        Map.of("text", "client vector memory", "vector", own),
        Map.of("text", "embedded two: lunch is at noon on Thursdays")));
    assertThat(api.getJson("/v1/memories/" + cids.get(0)).path("embedding").path("model").asText()).startsWith("bge");
    assertThat(api.getJson("/v1/memories/" + cids.get(1)).path("embedding").path("model").asText()).isEqualTo("client");
    assertThat(api.getJson("/v1/memories/" + cids.get(2)).path("embedding").path("model").asText()).startsWith("bge");
    assertThat(api.recallCids("mixed", Map.of("vector", own, "k", 1))).containsExactly(cids.get(1));
    assertThat(api.recallCids("mixed", Map.of("query", "when do we eat lunch?", "mode", "vector", "k", 1)))
        .containsExactly(cids.get(2));
    assertThat(api.recallCids("mixed", Map.of("query", "the printer does not work", "mode", "vector", "k", 1)))
        .containsExactly(cids.get(0));
  }

  @Test
  void aVectorMaySendAsBase64Float32AndMeansTheSameAsTheArray() {
    float[] v = TestVectors.random(4242);
    String asArray = api.remember("b64", Map.of("text", "sent as an array", "vector", v, "ts", 1L));
    String asBase64 = api.remember("b64", Map.of("text", "sent as an array", "vector", TestVectors.base64(v), "ts", 1L));
    assertThat(asBase64).as("the same memory, so the same CID").isEqualTo(asArray);
    float[] other = TestVectors.random(4343);
    String second = api.remember("b64", Map.of("text", "another", "vector", TestVectors.base64(other)));
    assertThat(api.recallCids("b64", Map.of("vector", TestVectors.base64(other), "k", 1))).containsExactly(second);
    assertThat(api.recallCids("b64", Map.of("vector", v, "k", 1))).containsExactly(asArray);
  }

  @Test
  void aFilterNarrowsAMeaningfulRecall() {
    // Without the filter the tea memory wins; filtered to other memories it cannot appear.
    Map<String, Object> filter = Map.of("metadata", Map.of("i", Map.of("gte", 1)));
    List<String> cids = api.recallCids(FACTS, Map.of("query", "what does Bob like to drink?", "filter", filter, "k", 3));
    assertThat(cids).hasSize(3).doesNotContain(facts.get(0));
  }
}
