package dev.mnemo.node.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mnemo.node.ApiClient;
import dev.mnemo.node.TestNode;
import dev.mnemo.node.TestVectors;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

/**
 * Recall filters over HTTP on a node without an embedder (client vectors): each filter kind in
 * each mode, that filters run inside the search (a k=1 recall finds the one passing memory behind
 * hundreds of better-matching ones), per-signal scores, and the recency weight.
 */
class RecallFilterApiTest {
  private static final List<String> MODES = List.of("keyword", "vector", "hybrid");
  /** The query vector; every memory in the filter tests lies near it and says "apple". */
  private static final float[] Q = TestVectors.random(424242);

  @TempDir static Path dir;
  private static TestNode node;
  private static ApiClient api;
  private String ns;

  @BeforeAll
  static void start() {
    node = TestNode.start(dir, TestNode.NONE);
    api = node.api();
  }

  @AfterAll
  static void stop() {
    if (node != null) {
      node.close();
    }
  }

  @BeforeEach
  void namespace(TestInfo test) {
    ns = test.getTestMethod().orElseThrow().getName();
  }

  @Test
  void metadataStringEquality() {
    String chat = remember(Map.of("source", "chat"), List.of(), 1000, 1);
    String email = remember(Map.of("source", "email"), List.of(), 1000, 2);
    String upper = remember(Map.of("source", "Chat"), List.of(), 1000, 3);
    remember(Map.of(), List.of(), 1000, 4);
    remember(Map.of("origin", "chat"), List.of(), 1000, 5);
    assertFilter(Map.of("metadata", Map.of("source", "chat")), List.of(chat));
    assertFilter(Map.of("metadata", Map.of("source", "email")), List.of(email));
    assertFilter(Map.of("metadata", Map.of("source", "Chat")), List.of(upper));
    assertFilter(Map.of("metadata", Map.of("source", "sms")), List.of());
  }

  @Test
  void metadataNumberEquality() {
    String y2024 = remember(Map.of("year", 2024), List.of(), 1000, 1);
    remember(Map.of("year", 2023), List.of(), 1000, 2);
    String half = remember(Map.of("year", 2024.5), List.of(), 1000, 3);
    String text = remember(Map.of("year", "2024"), List.of(), 1000, 4);
    String negative = remember(Map.of("year", -7), List.of(), 1000, 5);
    assertFilter(Map.of("metadata", Map.of("year", 2024)), List.of(y2024));
    assertFilter(Map.of("metadata", Map.of("year", 2024.0)), List.of(y2024));
    assertFilter(Map.of("metadata", Map.of("year", 2024.5)), List.of(half));
    assertFilter(Map.of("metadata", Map.of("year", -7)), List.of(negative));
    assertFilter(Map.of("metadata", Map.of("year", "2024")), List.of(text));
    assertFilter(Map.of("metadata", Map.of("year", 1999)), List.of());
  }

  @Test
  void metadataBooleanEquality() {
    String done = remember(Map.of("done", true), List.of(), 1000, 1);
    String open = remember(Map.of("done", false), List.of(), 1000, 2);
    remember(Map.of(), List.of(), 1000, 3);
    assertFilter(Map.of("metadata", Map.of("done", true)), List.of(done));
    assertFilter(Map.of("metadata", Map.of("done", false)), List.of(open));
  }

  @Test
  void booleanAndStringMetadataAreDistinct() {
    // Numbers are matched by type (1 is not "1"); booleans must be too: true is not "true".
    String bool = remember(Map.of("flag", true), List.of(), 1000, 1);
    String text = remember(Map.of("flag", "true"), List.of(), 1000, 2);
    assertFilter(Map.of("metadata", Map.of("flag", true)), List.of(bool));
    assertFilter(Map.of("metadata", Map.of("flag", "true")), List.of(text));
  }

  @Test
  void metadataEqualityOnSeveralKeysMustAllHold() {
    String both = remember(Map.of("source", "chat", "year", 2024, "done", true), List.of(), 1000, 1);
    remember(Map.of("source", "chat", "year", 2023, "done", true), List.of(), 1000, 2);
    remember(Map.of("source", "email", "year", 2024, "done", true), List.of(), 1000, 3);
    remember(Map.of("source", "chat", "year", 2024, "done", false), List.of(), 1000, 4);
    assertFilter(Map.of("metadata", Map.of("source", "chat", "year", 2024, "done", true)), List.of(both));
  }

  @Test
  void metadataRange() {
    List<String> byPriority = new ArrayList<>();
    for (int p = 1; p <= 10; p++) {
      byPriority.add(remember(Map.of("priority", p), List.of(), 1000, p));
    }
    String fractional = remember(Map.of("priority", 3.25), List.of(), 1000, 11);
    remember(Map.of("priority", "5"), List.of(), 1000, 12);
    remember(Map.of(), List.of(), 1000, 13);
    assertFilter(range(3, 5), List.of(byPriority.get(2), fractional, byPriority.get(3), byPriority.get(4)));
    assertFilter(range(8, null), byPriority.subList(7, 10));
    assertFilter(range(null, 2), byPriority.subList(0, 2));
    assertFilter(range(3.1, 3.3), List.of(fractional));
    assertFilter(range(5, 5), List.of(byPriority.get(4)));
    assertFilter(range(11, null), List.of());
    assertFilter(range(6, 4), List.of());
    // A range and an equality on another key together.
    Map<String, Object> metadata = new LinkedHashMap<>();
    metadata.put("priority", Map.of("gte", 9));
    metadata.put("missing", "x");
    assertFilter(Map.of("metadata", metadata), List.of());
  }

  @Test
  void tags() {
    String workUrgent = remember(Map.of(), List.of("work", "urgent"), 1000, 1);
    String work = remember(Map.of(), List.of("work"), 1000, 2);
    String homeUrgent = remember(Map.of(), List.of("home", "urgent"), 1000, 3);
    String untagged = remember(Map.of(), List.of(), 1000, 4);
    assertFilter(Map.of("tags", List.of("urgent")), List.of(workUrgent, homeUrgent));
    assertFilter(Map.of("tags", List.of("work")), List.of(workUrgent, work));
    assertFilter(Map.of("tags", List.of("work", "urgent")), List.of(workUrgent));
    assertFilter(Map.of("tags", List.of("Work")), List.of());
    assertFilter(Map.of("tags", List.of("work", "home")), List.of());
    assertFilter(Map.of("tags", List.of()), List.of(workUrgent, work, homeUrgent, untagged));
  }

  @Test
  void timeWindowAfterInclusiveBeforeExclusive() {
    String t1 = remember(Map.of(), List.of(), 1_000, 1);
    String t2 = remember(Map.of(), List.of(), 2_000, 2);
    String t3 = remember(Map.of(), List.of(), 3_000, 3);
    String t4 = remember(Map.of(), List.of(), 4_000, 4);
    assertFilter(Map.of("after", 2_000), List.of(t2, t3, t4));
    assertFilter(Map.of("before", 3_000), List.of(t1, t2));
    assertFilter(Map.of("after", 2_000, "before", 4_000), List.of(t2, t3));
    assertFilter(Map.of("after", 1_500, "before", 3_500), List.of(t2, t3));
    assertFilter(Map.of("after", 5_000), List.of());
    assertFilter(Map.of("before", 1_000), List.of());
    assertFilter(Map.of("after", 3_000, "before", 2_000), List.of());
    // Nothing is before the smallest time (before - 1 once wrapped round to match everything).
    assertFilter(Map.of("before", Long.MIN_VALUE), List.of());
    assertFilter(Map.of("after", Long.MIN_VALUE), List.of(t1, t2, t3, t4));
  }

  @Test
  void allFilterKindsTogether() {
    String match = remember(Map.of("source", "chat", "priority", 5), List.of("pref"), 5_000, 1);
    remember(Map.of("source", "chat", "priority", 5), List.of("pref"), 9_000, 2);
    remember(Map.of("source", "chat", "priority", 1), List.of("pref"), 5_000, 3);
    remember(Map.of("source", "email", "priority", 5), List.of("pref"), 5_000, 4);
    remember(Map.of("source", "chat", "priority", 5), List.of("other"), 5_000, 5);
    Map<String, Object> metadata = new LinkedHashMap<>();
    metadata.put("source", "chat");
    metadata.put("priority", Map.of("gte", 4, "lte", 6));
    assertFilter(Map.of("metadata", metadata, "tags", List.of("pref"), "after", 4_000, "before", 6_000), List.of(match));
  }

  @Test
  void recallNeverCrossesNamespaces() {
    String mine = remember(Map.of(), List.of(), 1000, 1);
    float[] v = TestVectors.near(Q, 0.01, 1);
    api.remember(ns + "-other", Map.of("text", "apple exactly the same", "vector", v));
    api.remember(ns + "-other", Map.of("text", "apple apple apple", "vector", Q));
    for (String mode : MODES) {
      assertThat(api.recallCids(ns, query(mode, Map.of(), 10))).as(mode).containsExactly(mine);
    }
  }

  @Test
  void filtersApplyInsideTheSearchNotAfterIt() {
    // 200 memories match the query better than any other but fail every filter below; one passes.
    // Recall looks at 64 candidates or more per signal, so a filter applied after the search
    // would find only failing ones and return nothing: k=1 must still find the passing memory.
    List<Map<String, Object>> distractors = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      distractors.add(Map.of("text", "quarterly report numbers draft " + i, "vector", TestVectors.near(Q, 0.2, 10_000 + i),
          "metadata", Map.of("status", "draft", "priority", 1, "final", false), "tags", List.of("draft"), "ts", 1_000 + i));
    }
    api.rememberAll(ns, distractors);
    String passing = api.remember(ns, Map.of("text", "quarterly summary", "vector", TestVectors.random(777),
        "metadata", Map.of("status", "final", "priority", 9, "final", true), "tags", List.of("final"), "ts", 50_000));
    assertThat(TestVectors.cosine(TestVectors.random(777), Q)).isLessThan(0.3);

    for (String mode : MODES) {
      Map<String, Object> unfiltered = new LinkedHashMap<>(Map.of("query", "quarterly report numbers", "vector", Q,
          "mode", mode, "k", 1));
      assertThat(api.recallCids(ns, unfiltered)).as("%s without a filter", mode).hasSize(1).doesNotContain(passing);
      for (Map<String, Object> filter : List.<Map<String, Object>>of(
          Map.of("metadata", Map.of("status", "final")),
          Map.of("metadata", Map.of("final", true)),
          Map.of("metadata", Map.of("priority", 9)),
          Map.of("metadata", Map.of("priority", Map.of("gte", 5))),
          Map.of("tags", List.of("final")),
          Map.of("after", 40_000))) {
        Map<String, Object> filtered = new LinkedHashMap<>(unfiltered);
        filtered.put("filter", filter);
        assertThat(api.recallCids(ns, filtered)).as("%s with %s", mode, filter).containsExactly(passing);
      }
    }
  }

  @Test
  void resultsCarryTheirMemoryAndPerSignalScores() {
    float[] v = TestVectors.random(31);
    String cid = api.remember(ns, Map.of("text", "apple pie recipe from grandma", "vector", v,
        "metadata", Map.of("source", "chat", "n", 3, "x", 0.5, "ok", true), "tags", List.of("food", "family"), "ts", 1234));
    api.remember(ns, Map.of("text", "the weather is mild", "vector", TestVectors.random(32)));

    JsonNode hybrid = api.recall(ns, Map.of("query", "apple recipe", "vector", v, "mode", "hybrid", "k", 2));
    JsonNode top = hybrid.get(0);
    assertThat(top.path("cid").asText()).isEqualTo(cid);
    assertThat(top.path("text").asText()).isEqualTo("apple pie recipe from grandma");
    assertThat(top.path("metadata")).isEqualTo(ApiClient.JSON.valueToTree(Map.of("source", "chat", "n", 3, "x", 0.5, "ok", true)));
    assertThat(top.path("metadata").path("n").isIntegralNumber()).isTrue();
    assertThat(top.path("metadata").path("ok").isBoolean()).isTrue();
    // Tags are a set, kept sorted.
    assertThat(top.path("tags")).isEqualTo(ApiClient.JSON.valueToTree(List.of("family", "food")));
    assertThat(top.path("ts").asLong()).isEqualTo(1234);
    assertThat(top.path("score").isNumber()).isTrue();
    assertThat(top.path("scores").path("keyword").isNumber()).as("%s", top).isTrue();
    assertThat(top.path("scores").path("keyword").asDouble()).isPositive();
    assertThat(top.path("scores").path("vector").isNumber()).as("%s", top).isTrue();
    assertThat(top.path("scores").path("vector").asDouble()).as("cosine of a vector with itself").isCloseTo(1.0, within(1e-3));
    JsonNode second = hybrid.get(1);
    assertThat(second.path("scores").path("vector").isNumber()).as("%s", second).isTrue();
    assertThat(second.path("scores").path("vector").asDouble()).isLessThan(0.5);
    assertThat(top.path("score").asDouble()).isGreaterThan(second.path("score").asDouble());

    JsonNode vector = api.recall(ns, Map.of("vector", v, "mode", "vector", "k", 1)).get(0);
    assertThat(vector.path("scores").path("vector").asDouble()).isCloseTo(1.0, within(1e-3));
    assertThat(vector.path("scores").path("keyword").isNull()).as("%s", vector).isTrue();

    // By the memory's own words only (no conversation context: the memory after it would match too).
    JsonNode keyword = api.recall(ns, Map.of("query", "grandma", "mode", "keyword", "k", 5, "fusion", Map.of("context", 0)));
    assertThat(ApiClient.cids(keyword)).containsExactly(cid);
    assertThat(keyword.get(0).path("scores").path("keyword").asDouble()).isPositive();
    assertThat(keyword.get(0).path("scores").path("vector").isNull()).as("%s", keyword.get(0)).isTrue();
  }

  @Test
  void kLimitsTheResults() {
    List<Map<String, Object>> batch = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      batch.add(Map.of("text", "apple number " + i, "vector", TestVectors.near(Q, 0.5, i)));
    }
    api.rememberAll(ns, batch);
    for (String mode : MODES) {
      assertThat(api.recallCids(ns, query(mode, Map.of(), 7))).as(mode).hasSize(7).doesNotHaveDuplicates();
      assertThat(api.recallCids(ns, query(mode, Map.of(), 1000))).as(mode).hasSize(30).doesNotHaveDuplicates();
    }
    // Default k is 10.
    assertThat(api.recallCids(ns, Map.of("vector", Q))).hasSize(10);
  }

  @Test
  void recencyWeightPutsTheNewerOfTwoEquallyRelevantMemoriesFirst() {
    long now = System.currentTimeMillis();
    long yearAgo = now - 365L * 24 * 3600 * 1000;
    // The old memory matches a little better on both signals, so without recency it ranks first;
    // unrelated memories as old as the old one keep the two close on any score scaled over the candidates.
    String old = api.remember(ns, Map.of("text", "the dentist appointment is on monday", "vector", Q, "ts", yearAgo));
    String recent = api.remember(ns, Map.of("text", "dentist appointment moved to tuesday afternoon",
        "vector", TestVectors.near(Q, 0.1, 5), "ts", now));
    for (int i = 0; i < 5; i++) {
      api.remember(ns, Map.of("text", "unrelated note " + i, "vector", TestVectors.random(900 + i), "ts", yearAgo - i * 1000L));
    }
    for (String mode : MODES) {
      Map<String, Object> plain = query(mode, Map.of(), 2);
      plain.put("query", "dentist appointment monday");
      assertThat(api.recallCids(ns, plain)).as("%s without recency", mode).containsExactly(old, recent);
      Map<String, Object> noWeight = new LinkedHashMap<>(plain);
      noWeight.put("recency", Map.of("weight", 0));
      assertThat(api.recallCids(ns, noWeight)).as("%s with weight 0", mode).containsExactly(old, recent);
      Map<String, Object> weighted = new LinkedHashMap<>(plain);
      weighted.put("recency", Map.of("weight", 0.5));
      assertThat(api.recallCids(ns, weighted)).as("%s with weight 0.5", mode).containsExactly(recent, old);
      // With a half-life of ten years a year's age barely counts, and relevance wins again.
      Map<String, Object> slow = new LinkedHashMap<>(plain);
      slow.put("recency", Map.of("weight", 0.01, "halfLifeDays", 3650));
      assertThat(api.recallCids(ns, slow)).as("%s with a long half-life", mode).containsExactly(old, recent);
    }
  }

  // ---- helpers ----

  /** Remembers a memory near Q that says "apple"; returns its CID. */
  private String remember(Map<String, Object> metadata, List<String> tags, long ts, long seed) {
    return api.remember(ns, Map.of("text", "apple memory " + seed, "vector", TestVectors.near(Q, 0.3, seed),
        "metadata", metadata, "tags", tags, "ts", ts));
  }

  private static Map<String, Object> query(String mode, Map<String, Object> filter, int k) {
    Map<String, Object> request = new LinkedHashMap<>();
    request.put("mode", mode);
    request.put("k", k);
    request.put("filter", filter);
    if (!mode.equals("vector")) {
      request.put("query", "apple");
    }
    if (!mode.equals("keyword")) {
      request.put("vector", Q);
    }
    return request;
  }

  /** Every mode returns exactly {@code expected} (in any order) under {@code filter}. */
  private void assertFilter(Map<String, Object> filter, Collection<String> expected) {
    for (String mode : MODES) {
      assertThat(api.recallCids(ns, query(mode, filter, 100)))
          .as("%s recall with filter %s", mode, filter)
          .containsExactlyInAnyOrderElementsOf(expected);
    }
  }

  private static Map<String, Object> range(Number gte, Number lte) {
    Map<String, Object> bounds = new LinkedHashMap<>();
    if (gte != null) {
      bounds.put("gte", gte);
    }
    if (lte != null) {
      bounds.put("lte", lte);
    }
    return Map.of("metadata", Map.of("priority", bounds));
  }
}
