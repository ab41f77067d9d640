package dev.mnemo.node.api;

import static dev.mnemo.node.ApiClient.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mnemo.node.ApiClient;
import dev.mnemo.node.ApiClient.Response;
import dev.mnemo.node.TestNode;
import dev.mnemo.node.TestVectors;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

/** Reading memories back over HTTP: one by one, listed by cursor, through their history; and forgetting them. */
class ListHistoryForgetApiTest {
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
  void getReturnsTheMemoryAsRemembered() {
    String cid = api.remember(ns, Map.of("text", "Bob prefers green tea", "vector", TestVectors.random(1),
        "metadata", Map.of("source", "chat", "turn", 7, "confidence", 0.75, "verified", false),
        "tags", List.of("pref", "drink"), "ts", 1_732_000_000_000L));
    JsonNode memory = api.getJson("/v1/memories/" + cid);
    assertThat(memory.path("cid").asText()).isEqualTo(cid);
    assertThat(memory.path("ns").asText()).isEqualTo(ns);
    assertThat(memory.path("text").asText()).isEqualTo("Bob prefers green tea");
    assertThat(memory.path("metadata")).isEqualTo(ApiClient.JSON.valueToTree(
        Map.of("source", "chat", "turn", 7, "confidence", 0.75, "verified", false)));
    assertThat(memory.path("tags")).isEqualTo(ApiClient.JSON.valueToTree(List.of("drink", "pref")));
    assertThat(memory.path("ts").asLong()).isEqualTo(1_732_000_000_000L);
    assertThat(memory.path("embedding").path("model").asText()).isEqualTo("client");
    assertThat(memory.path("embedding").path("dim").asInt()).isEqualTo(384);
    assertThat(memory.has("prev")).isFalse();
  }

  @Test
  void withoutTsTheNodeStampsTheTimeOfWriting() {
    long before = System.currentTimeMillis();
    String cid = api.remember(ns, Map.of("text", "now", "vector", TestVectors.random(2)));
    long after = System.currentTimeMillis();
    assertThat(api.getJson("/v1/memories/" + cid).path("ts").asLong()).isBetween(before, after);
  }

  @Test
  void sameContentInTheSameNamespaceIsOneMemory() {
    Map<String, Object> memory = Map.of("text", "idempotent", "vector", TestVectors.random(3), "ts", 5);
    String first = api.remember(ns, memory);
    String second = api.remember(ns, memory);
    assertThat(second).isEqualTo(first);
    assertThat(api.listAll(ns)).containsExactly(first);
    // In another namespace the same content is another memory.
    assertThat(api.remember(ns + "-other", memory)).isNotEqualTo(first);
  }

  @Test
  void forget() {
    String keep1 = api.remember(ns, Map.of("text", "keep one", "vector", TestVectors.random(10)));
    String gone = api.remember(ns, Map.of("text", "forget me", "vector", TestVectors.random(11)));
    String keep2 = api.remember(ns, Map.of("text", "keep two", "vector", TestVectors.random(12)));
    assertThat(api.recallCids(ns, Map.of("vector", TestVectors.random(11), "k", 1))).containsExactly(gone);
    long positionBefore = api.getJson("/v1/node").path("index").path("logPosition").asLong();

    Response forgotten = api.delete("/v1/namespaces/" + ns + "/memories/" + gone);
    assertThat(forgotten.status()).as("%s", forgotten).isEqualTo(200);
    assertThat(forgotten.json().path("cid").asText()).isEqualTo(gone);
    assertThat(forgotten.json().path("forgotten").asBoolean()).isTrue();
    assertThat(forgotten.json().path("entry").asText()).startsWith("bafyrei");
    // Read-your-writes, first thing after the forget: its nearest neighbour is now another
    // memory. Had the search not seen the forget, its top hit would be the forgotten memory
    // (dropped when its block is not found), and nothing would come back.
    assertThat(api.recallCids(ns, Map.of("vector", TestVectors.random(11), "k", 1))).hasSize(1).doesNotContain(gone);
    assertThat(api.getJson("/v1/node").path("index").path("logPosition").asLong()).isGreaterThan(positionBefore);

    assertError(api.get("/v1/memories/" + gone), 404, "not_found");
    assertError(api.get("/v1/memories/" + gone + "/history"), 404, "not_found");
    // Read-your-writes: the very next recall no longer sees it, by vector or by keyword.
    assertThat(api.recallCids(ns, Map.of("vector", TestVectors.random(11), "k", 10))).containsExactlyInAnyOrder(keep1, keep2);
    assertThat(api.recallCids(ns, Map.of("query", "forget", "mode", "keyword"))).isEmpty();
    assertThat(api.listAll(ns)).containsExactly(keep1, keep2);
    assertError(api.delete("/v1/namespaces/" + ns + "/memories/" + gone), 404, "not_found");
    assertThat(api.get("/v1/memories/" + keep1).status()).isEqualTo(200);
    assertThat(api.get("/v1/memories/" + keep2).status()).isEqualTo(200);

    // Forget wins: remembering the same content again does not bring it back.
    Response again = api.post("/v1/namespaces/" + ns + "/memories", Map.of("text", "forget me", "vector", TestVectors.random(11)));
    assertThat(again.status()).as("%s", again).isIn(201, 409, 422);
    assertError(api.get("/v1/memories/" + gone), 404, "not_found");
  }

  @Test
  void historyFollowsPrevNewestFirst() {
    String v1 = api.remember(ns, Map.of("text", "Alice lives in Porto", "vector", TestVectors.random(20), "ts", 1000));
    String v2 = api.remember(ns, Map.of("text", "Alice lives in Lisbon", "vector", TestVectors.random(21), "ts", 2000, "prev", v1));
    String v3 = api.remember(ns, Map.of("text", "Alice lives in Madrid", "vector", TestVectors.random(22), "ts", 3000, "prev", v2));
    String unrelated = api.remember(ns, Map.of("text", "Bob lives in Oslo", "vector", TestVectors.random(23)));

    JsonNode history = api.getJson("/v1/memories/" + v3 + "/history").path("history");
    assertThat(ApiClient.cids(history)).containsExactly(v3, v2, v1);
    assertThat(history.get(0).path("text").asText()).isEqualTo("Alice lives in Madrid");
    assertThat(history.get(0).path("prev").asText()).isEqualTo(v2);
    assertThat(history.get(1).path("text").asText()).isEqualTo("Alice lives in Lisbon");
    assertThat(history.get(1).path("prev").asText()).isEqualTo(v1);
    assertThat(history.get(2).path("text").asText()).isEqualTo("Alice lives in Porto");
    assertThat(history.get(2).has("prev")).isFalse();
    assertThat(ApiClient.cids(api.getJson("/v1/memories/" + v2 + "/history").path("history"))).containsExactly(v2, v1);
    assertThat(ApiClient.cids(api.getJson("/v1/memories/" + v1 + "/history").path("history"))).containsExactly(v1);
    assertThat(ApiClient.cids(api.getJson("/v1/memories/" + unrelated + "/history").path("history"))).containsExactly(unrelated);
    assertThat(api.getJson("/v1/memories/" + v3).path("prev").asText()).isEqualTo(v2);

    // Forgetting the oldest version leaves a marker in the chain rather than cutting it.
    assertThat(api.delete("/v1/namespaces/" + ns + "/memories/" + v1).status()).isEqualTo(200);
    history = api.getJson("/v1/memories/" + v3 + "/history").path("history");
    assertThat(ApiClient.cids(history)).containsExactly(v3, v2, v1);
    assertThat(history.get(2)).isEqualTo(ApiClient.JSON.valueToTree(Map.of("cid", v1, "forgotten", true)));
    assertThat(history.get(1).path("text").asText()).isEqualTo("Alice lives in Lisbon");
    assertError(api.get("/v1/memories/" + v1 + "/history"), 404, "not_found");
  }

  @Test
  void listPagesByCursorInWriteOrder() {
    List<String> written = new ArrayList<>();
    for (int i = 0; i < 25; i++) {
      written.add(api.remember(ns, Map.of("text", "memory number " + i, "vector", TestVectors.random(100 + i))));
    }
    assertThat(written).doesNotHaveDuplicates();

    List<String> seen = new ArrayList<>();
    List<Integer> pageSizes = new ArrayList<>();
    String cursor = null;
    int pages = 0;
    do {
      JsonNode page = api.getJson("/v1/namespaces/" + ns + "/memories?limit=10" + (cursor == null ? "" : "&cursor=" + cursor));
      assertThat(page.has("next")).as("next is always present").isTrue();
      JsonNode memories = page.path("memories");
      pageSizes.add(memories.size());
      for (JsonNode m : memories) {
        seen.add(m.path("cid").asText());
        assertThat(m.path("ns").asText()).isEqualTo(ns);
        assertThat(m.path("text").asText()).isEqualTo("memory number " + written.indexOf(m.path("cid").asText()));
      }
      cursor = page.path("next").isNull() ? null : page.path("next").asText();
      assertThat(++pages).as("pages").isLessThanOrEqualTo(3);
    } while (cursor != null);
    assertThat(pageSizes).containsExactly(10, 10, 5);
    assertThat(seen).doesNotHaveDuplicates().containsExactlyElementsOf(written);

    // The default page holds them all; a page of exactly the remainder has no next.
    JsonNode all = api.getJson("/v1/namespaces/" + ns + "/memories");
    assertThat(ApiClient.cids(all.path("memories"))).containsExactlyElementsOf(written);
    assertThat(all.path("next").isNull()).isTrue();
    JsonNode exact = api.getJson("/v1/namespaces/" + ns + "/memories?limit=25");
    assertThat(exact.path("memories").size()).isEqualTo(25);
    assertThat(exact.path("next").isNull()).isTrue();
  }

  @Test
  void listWithForgottenMemoriesAndBatchesKeepsWriteOrder() {
    List<String> first = api.rememberAll(ns, List.of(
        Map.of("text", "batch a", "vector", TestVectors.random(200)),
        Map.of("text", "batch b", "vector", TestVectors.random(201)),
        Map.of("text", "batch c", "vector", TestVectors.random(202))));
    String single = api.remember(ns, Map.of("text", "single", "vector", TestVectors.random(203)));
    assertThat(api.delete("/v1/namespaces/" + ns + "/memories/" + first.get(1)).status()).isEqualTo(200);
    List<String> paged = new ArrayList<>();
    String cursor = null;
    do {
      JsonNode page = api.getJson("/v1/namespaces/" + ns + "/memories?limit=1" + (cursor == null ? "" : "&cursor=" + cursor));
      paged.addAll(ApiClient.cids(page.path("memories")));
      cursor = page.path("next").isNull() ? null : page.path("next").asText();
    } while (cursor != null);
    assertThat(paged).containsExactly(first.get(0), first.get(2), single);
  }

  @Test
  void listOfAnEmptyNamespaceIsEmpty() {
    JsonNode page = api.getJson("/v1/namespaces/" + ns + "/memories");
    assertThat(page.path("memories").isArray()).isTrue();
    assertThat(page.path("memories")).isEmpty();
    assertThat(page.path("next").isNull()).isTrue();
  }

  @Test
  void invalidCursorIs400() {
    api.remember(ns, Map.of("text", "one", "vector", TestVectors.random(300)));
    for (String cursor : List.of("garbage", "abc.def", "-1.0", "1")) {
      assertError(api.get("/v1/namespaces/" + ns + "/memories?cursor=" + cursor), 400, "invalid_cursor");
    }
  }
}
