package dev.mnemo.node.api;

import static dev.mnemo.node.ApiClient.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mnemo.node.ApiClient;
import dev.mnemo.node.ApiClient.Response;
import dev.mnemo.node.TestNode;
import dev.mnemo.node.TestVectors;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

/**
 * Validity in time over HTTP (README "Validity in time"): validFrom and validTo on remember, the
 * recall filter validAt in every mode, and invalidate, which ends a memory's validity without
 * forgetting it. Each test works in a namespace of its own.
 */
class ValidityApiTest {
  private static final long JAN_2024 = 1_704_067_200_000L; // 2024-01-01T00:00:00Z
  private static final long JUL_2024 = 1_719_792_000_000L; // 2024-07-01T00:00:00Z
  private static final long JAN_2025 = 1_735_689_600_000L; // 2025-01-01T00:00:00Z

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

  private static Map<String, Object> memory(String text, long seed, Object validFrom, Object validTo) {
    Map<String, Object> memory = new HashMap<>(Map.of("text", text, "vector", TestVectors.random(seed)));
    if (validFrom != null) {
      memory.put("validFrom", validFrom);
    }
    if (validTo != null) {
      memory.put("validTo", validTo);
    }
    return memory;
  }

  private List<String> validAt(String mode, Object t) {
    Map<String, Object> request = new HashMap<>(Map.of("k", 10, "mode", mode));
    if (!mode.equals("vector")) {
      request.put("query", "Bob lives");
    }
    if (!mode.equals("keyword")) {
      request.put("vector", TestVectors.random(1));
    }
    if (t != null) {
      request.put("filter", Map.of("validAt", t));
    }
    return api.recallCids(ns, request);
  }

  @Test
  void validityBoundsAreKeptInMillisOrIsoAndReturnedByGetListAndRecall() {
    String paris = api.remember(ns, memory("Bob lives in Paris", 1, "2024-01-01T00:00:00Z", JUL_2024));
    String berlin = api.remember(ns, memory("Bob lives in Berlin", 2, "2024-07-01T02:00:00+02:00", null));
    String plain = api.remember(ns, memory("Bob lives in Europe", 3, null, null));

    JsonNode got = api.getJson("/v1/memories/" + paris);
    assertThat(got.path("validFrom").asLong()).isEqualTo(JAN_2024);
    assertThat(got.path("validTo").asLong()).isEqualTo(JUL_2024);
    assertThat(got.has("invalidatedAt")).isFalse();
    assertThat(api.getJson("/v1/memories/" + berlin).path("validFrom").asLong()).as("an offset is converted").isEqualTo(JUL_2024);
    assertThat(api.getJson("/v1/memories/" + berlin).has("validTo")).isFalse();
    JsonNode open = api.getJson("/v1/memories/" + plain);
    assertThat(open.has("validFrom") || open.has("validTo")).as("%s", open).isFalse();

    JsonNode listed = api.getJson("/v1/namespaces/" + ns + "/memories").path("memories");
    assertThat(listed.get(0).path("validTo").asLong()).isEqualTo(JUL_2024);
    JsonNode recalled = api.recall(ns, Map.of("vector", TestVectors.random(1), "k", 1));
    assertThat(recalled.get(0).path("cid").asText()).isEqualTo(paris);
    assertThat(recalled.get(0).path("validFrom").asLong()).isEqualTo(JAN_2024);
    assertThat(recalled.get(0).path("validTo").asLong()).isEqualTo(JUL_2024);
  }

  @Test
  void validAtKeepsOnlyWhatHoldsThenInEveryMode() {
    String paris = api.remember(ns, memory("Bob lives in Paris", 1, JAN_2024, JUL_2024));
    String berlin = api.remember(ns, memory("Bob lives in Berlin", 2, JUL_2024, null));
    String always = api.remember(ns, memory("Bob lives in Europe", 3, null, null));
    for (String mode : List.of("keyword", "vector", "hybrid")) {
      assertThat(validAt(mode, JAN_2024 - 1)).as(mode).containsExactly(always);
      assertThat(validAt(mode, "2024-03-01T00:00:00Z")).as(mode).containsExactlyInAnyOrder(paris, always);
      assertThat(validAt(mode, JUL_2024)).as(mode + ": validTo is exclusive").containsExactlyInAnyOrder(berlin, always);
      assertThat(validAt(mode, null)).as(mode).containsExactlyInAnyOrder(paris, berlin, always);
    }
  }

  @Test
  void invalidateEndsValidityWithoutForgettingAndTheEarliestTimeWins() {
    String paris = api.remember(ns, memory("Bob lives in Paris", 1, JAN_2024, null));
    String europe = api.remember(ns, memory("Bob lives in Europe", 3, null, null));

    Response r = api.post("/v1/namespaces/" + ns + "/memories/" + paris + "/invalidate", Map.of("at", JUL_2024));
    assertThat(r.status()).as("%s", r).isEqualTo(200);
    assertThat(r.json().path("cid").asText()).isEqualTo(paris);
    assertThat(r.json().path("invalidatedAt").asLong()).isEqualTo(JUL_2024);
    String entry = r.json().path("entry").asText();
    assertThat(entry).startsWith("bafyrei");
    assertThat(api.get("/v1/blocks/" + entry).status()).as("the invalidate entry is a block").isEqualTo(200);

    assertThat(validAt("hybrid", JUL_2024 - 1)).containsExactlyInAnyOrder(paris, europe);
    assertThat(validAt("hybrid", JUL_2024)).containsExactly(europe);
    assertThat(validAt("keyword", null)).as("invalidated, not forgotten").containsExactlyInAnyOrder(paris, europe);
    assertThat(api.listAll(ns)).containsExactly(paris, europe);
    JsonNode got = api.getJson("/v1/memories/" + paris);
    assertThat(got.path("invalidatedAt").asLong()).isEqualTo(JUL_2024);
    assertThat(got.has("validTo")).as("the memory's own validTo is its block's").isFalse();
    assertThat(api.getJson("/v1/memories/" + paris + "/history").path("history").get(0).path("invalidatedAt").asLong())
        .isEqualTo(JUL_2024);

    // A later time changes nothing; an earlier one wins.
    r = api.post("/v1/namespaces/" + ns + "/memories/" + paris + "/invalidate", Map.of("at", "2025-01-01T00:00:00Z"));
    assertThat(r.json().path("invalidatedAt").asLong()).as("%s", r).isEqualTo(JUL_2024);
    r = api.post("/v1/namespaces/" + ns + "/memories/" + paris + "/invalidate", Map.of("at", JAN_2024 + 1));
    assertThat(r.json().path("invalidatedAt").asLong()).as("%s", r).isEqualTo(JAN_2024 + 1);
    assertThat(validAt("vector", JAN_2024)).containsExactlyInAnyOrder(paris, europe);
    assertThat(validAt("vector", JAN_2024 + 1)).containsExactly(europe);
    assertThat(validAt("vector", JAN_2025)).containsExactly(europe);
  }

  @Test
  void invalidateWithoutABodyEndsValidityNow() {
    String cid = api.remember(ns, memory("Bob is at the office", 1, null, null));
    long before = System.currentTimeMillis();
    Response r = api.send("POST", "/v1/namespaces/" + ns + "/memories/" + cid + "/invalidate", null,
        java.net.http.HttpRequest.BodyPublishers.noBody());
    long after = System.currentTimeMillis();
    assertThat(r.status()).as("%s", r).isEqualTo(200);
    assertThat(r.json().path("invalidatedAt").asLong()).isBetween(before, after);
    assertThat(validAt("vector", before - 1)).containsExactly(cid);
    assertThat(validAt("vector", after)).isEmpty();
  }

  @Test
  void badTimesAndBoundsAreClearJson422s() {
    String base = "/v1/namespaces/" + ns + "/memories";
    assertError(api.post(base, memory("backwards", 1, JUL_2024, JAN_2024)), 422, "validation_failed");
    Response equal = api.post(base, memory("empty", 1, JUL_2024, JUL_2024));
    assertError(equal, 422, "validation_failed");
    assertThat(equal.json().path("error").path("message").asText()).contains("validFrom must be before validTo");
    Response words = api.post(base, memory("words", 1, "yesterday", null));
    assertError(words, 422, "validation_failed");
    assertThat(words.json().path("error").path("message").asText()).contains("validFrom").contains("ISO-8601");
    assertError(api.post(base, memory("date only", 1, null, "2024-01-01")), 422, "validation_failed");
    assertError(api.post(base, memory("fraction", 1, 1.5, null)), 422, "validation_failed");
    assertError(api.post(base, memory("object", 1, Map.of("t", 1), null)), 422, "validation_failed");
    assertError(api.post(base, Map.of("memories", List.of(memory("ok", 1, null, null), memory("bad", 2, 5, 4)))),
        422, "validation_failed");
    assertThat(api.listAll(ns)).as("nothing of a refused batch").isEmpty();
    assertError(api.post("/v1/namespaces/" + ns + "/recall", Map.of("vector", TestVectors.random(1),
        "filter", Map.of("validAt", "soon"))), 422, "validation_failed");
  }

  @Test
  void invalidateRefusesWhatItCannotTake() {
    String cid = api.remember(ns, memory("soon forgotten", 1, null, null));
    String path = "/v1/namespaces/" + ns + "/memories/" + cid + "/invalidate";
    assertError(api.post(path, Map.of("at", "never")), 422, "validation_failed");
    assertError(api.post(path, Map.of("when", 5)), 422, "validation_failed");
    assertError(api.postRaw(path, ApiClient.JSON_TYPE, "{\"at\": "), 400, "invalid_json");
    assertError(api.postRaw(path, "text/plain", "at=5"), 415, "unsupported_media_type");
    assertError(api.post("/v1/namespaces/" + ns + "/memories/not-a-cid/invalidate", Map.of()), 400, "invalid_cid");
    String unknown = api.remember("elsewhere-" + ns, memory("in another namespace", 2, null, null));
    assertError(api.post("/v1/namespaces/" + ns + "/memories/" + unknown + "/invalidate", Map.of()), 404, "not_found");
    assertThat(api.getJson("/v1/memories/" + cid).has("invalidatedAt")).as("refusals wrote nothing").isFalse();

    assertThat(api.delete("/v1/namespaces/" + ns + "/memories/" + cid).status()).isEqualTo(200);
    assertError(api.post(path, Map.of()), 404, "not_found");
  }

  @Test
  void invalidatingNeedsRememberInTheNamespace() {
    String cid = api.remember(ns, memory("the owner's fact", 1, null, null));
    ApiClient reader = agent("reader");
    ApiClient writer = agent("writer");
    grant(reader, "read", "forget");
    grant(writer, "remember");
    String path = "/v1/namespaces/" + ns + "/memories/" + cid + "/invalidate";
    assertError(reader.post(path, Map.of("at", JAN_2024)), 403, "forbidden");
    assertThat(api.getJson("/v1/memories/" + cid).has("invalidatedAt")).isFalse();
    Response ok = writer.post(path, Map.of("at", JAN_2024));
    assertThat(ok.status()).as("%s", ok).isEqualTo(200);
    assertThat(api.getJson("/v1/memories/" + cid).path("invalidatedAt").asLong()).isEqualTo(JAN_2024);
  }

  private static ApiClient agent(String name) {
    Response created = api.post("/v1/agents", Map.of("name", name));
    assertThat(created.status()).as("%s", created).isEqualTo(201);
    return api.withToken(created.json().path("token").asText());
  }

  private void grant(ApiClient to, String... can) {
    String did = to.getJson("/v1/whoami").path("did").asText();
    Response r = api.post("/v1/namespaces/" + ns + "/grants", Map.of("to", did, "can", List.of(can)));
    assertThat(r.status()).as("%s", r).isEqualTo(201);
  }
}
