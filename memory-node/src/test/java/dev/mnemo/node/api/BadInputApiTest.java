package dev.mnemo.node.api;

import static dev.mnemo.node.ApiClient.CAR_TYPE;
import static dev.mnemo.node.ApiClient.JSON_TYPE;
import static dev.mnemo.node.ApiClient.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mnemo.node.ApiClient;
import dev.mnemo.node.ApiClient.Response;
import dev.mnemo.node.TestNode;
import dev.mnemo.node.TestVectors;
import dev.mnemo.store.cid.Cid;
import java.io.ByteArrayInputStream;
import java.net.http.HttpRequest.BodyPublishers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every class of bad input gets its documented status and error code, in the documented error
 * shape, never a 5xx, and leaves stored data exactly as it was: the node's log position, index
 * size, heads, and the listings of the namespaces involved are compared before and after.
 */
class BadInputApiTest {
  private static final String NS = "bad";
  private static final String SEEDED = "seeded";
  private static final String MEMORIES = "/v1/namespaces/" + NS + "/memories";
  private static final String RECALL = "/v1/namespaces/" + NS + "/recall";

  @TempDir static Path dir;
  private static TestNode node;
  private static ApiClient api;
  private static List<String> seeded;
  /** A valid vector as JSON text, to splice into raw bodies. */
  private static final String V = vectorJson(TestVectors.random(1));

  @BeforeAll
  static void start() {
    node = TestNode.start(dir, TestNode.NONE);
    api = node.api();
    seeded = api.rememberAll(SEEDED, List.of(
        memory("seed one", 11), memory("seed two", 12), memory("seed three", 13)));
  }

  @AfterAll
  static void stop() {
    if (node != null) {
      node.close();
    }
  }

  @AfterEach
  void nodeStillServes() {
    assertThat(api.get("/health").status()).isEqualTo(200);
    assertThat(api.listAll(SEEDED)).isEqualTo(seeded);
  }

  // ---- malformed bodies ----

  @Test
  void malformedJsonIs400InvalidJson() {
    for (String body : List.of(
        "{\"text\": \"hello\", \"vector\": " + V,
        "{\"text\": 'single quotes', \"vector\": " + V + "}",
        "{text: \"unquoted key\", \"vector\": " + V + "}",
        "{\"text\": \"trailing comma\", \"vector\": " + V + ",}",
        "{\"text\": \"dup\", \"text\": \"duplicate key\", \"vector\": " + V + "}",
        "{\"text\": \"nan\", \"vector\": [NaN]}",
        "\u00ff\u00fe garbage")) {
      refused(400, "invalid_json", () -> api.postRaw(MEMORIES, JSON_TYPE, body));
      refused(400, "invalid_json", () -> api.postRaw(RECALL, JSON_TYPE, body));
    }
  }

  @Test
  void contentAfterTheJsonObjectIs400InvalidJson() {
    // A body is one JSON object; a second value after it must not be silently ignored.
    String body = "{\"text\": \"first\", \"vector\": " + V + "} {\"text\": \"second\"}";
    refused(400, "invalid_json", () -> api.postRaw(MEMORIES, JSON_TYPE, body));
    refused(400, "invalid_json", () -> api.postRaw(MEMORIES, JSON_TYPE, "{\"text\": \"x\", \"vector\": " + V + "} garbage"));
  }

  @Test
  void emptyBodyIs400InvalidJson() {
    refused(400, "invalid_json", () -> api.postRaw(MEMORIES, JSON_TYPE, new byte[0]));
    refused(400, "invalid_json", () -> api.postRaw(RECALL, JSON_TYPE, new byte[0]));
    refused(400, "invalid_json", () -> api.postRaw(MEMORIES, JSON_TYPE, "   \n"));
  }

  @Test
  void nonObjectBodyIs400InvalidJson() {
    for (String body : List.of("[{\"text\": \"in an array\", \"vector\": " + V + "}]", "\"text\"", "42", "true", "null")) {
      refused(400, "invalid_json", () -> api.postRaw(MEMORIES, JSON_TYPE, body));
      refused(400, "invalid_json", () -> api.postRaw(RECALL, JSON_TYPE, body));
    }
  }

  @Test
  void jsonNestedDeeperThanTheLimitIs400() {
    assertThat(Limits.defaults().maxJsonDepth()).isEqualTo(32);
    String deep = "[".repeat(40) + "]".repeat(40);
    refused(400, "invalid_json", () -> api.postRaw(MEMORIES, JSON_TYPE,
        "{\"text\": \"deep\", \"vector\": " + V + ", \"metadata\": {\"k\": " + deep + "}}"));
    refused(400, "invalid_json", () -> api.postRaw(RECALL, JSON_TYPE,
        "{\"vector\": " + V + ", \"filter\": {\"metadata\": {\"k\": " + deep + "}}}"));
    String objects = "{\"a\":".repeat(100) + "1" + "}".repeat(100);
    refused(400, "invalid_json", () -> api.postRaw(MEMORIES, JSON_TYPE, objects));
    // Well under the limit the same shape parses and fails validation instead: the 400 is about depth.
    String shallow = "[".repeat(20) + "]".repeat(20);
    refused(422, "validation_failed", () -> api.postRaw(MEMORIES, JSON_TYPE,
        "{\"text\": \"shallow\", \"vector\": " + V + ", \"metadata\": {\"k\": " + shallow + "}}"));
  }

  @Test
  void wrongContentTypeIs415() {
    byte[] valid = ApiClient.bytes(memory("typed wrongly", 2));
    for (String type : Arrays.asList("text/plain", "text/json", CAR_TYPE, "application/octet-stream", "application/jsonx", null)) {
      refused(415, "unsupported_media_type", () -> api.postRaw(MEMORIES, type, valid));
      refused(415, "unsupported_media_type", () -> api.postRaw(RECALL, type,
          ApiClient.bytes(Map.of("vector", TestVectors.random(2)))));
    }
    // Form types are refused as well while the body is small.
    refused(415, "unsupported_media_type", () -> api.postRaw(MEMORIES, "application/x-www-form-urlencoded", "{\"text\": \"x\"}"));
    refused(415, "unsupported_media_type", () -> api.postRaw(MEMORIES, "multipart/form-data; boundary=x", "{\"text\": \"x\"}"));
  }

  @Test
  void formContentTypeWithABodyOverOneKibibyteIs415Not500() {
    // The body handler parses form bodies before the endpoint can refuse the type; a "form field"
    // over its 1 KiB attribute limit must still be the client's 415, not a 500.
    byte[] valid = ApiClient.bytes(memory("typed wrongly", 2));
    assertThat(valid.length).isGreaterThan(1024);
    refused(415, "unsupported_media_type", () -> api.postRaw(MEMORIES, "application/x-www-form-urlencoded", valid));
    refused(415, "unsupported_media_type", () -> api.postRaw(RECALL, "application/x-www-form-urlencoded",
        ApiClient.bytes(Map.of("vector", TestVectors.random(2)))));
    refused(415, "unsupported_media_type", () -> api.postRaw(MEMORIES, "multipart/form-data; boundary=x", valid));
    refused(415, "unsupported_media_type", () -> api.postRaw("/v1/namespaces/" + NS + "/import",
        "application/x-www-form-urlencoded", new byte[2048]));
  }

  @Test
  void bodyOverTheLimitIs413() {
    int limit = Limits.defaults().maxBodyBytes();
    assertThat(limit).isEqualTo(16 << 20);
    byte[] body = ("{\"text\": \"" + "a".repeat(limit + (1 << 20)) + "\"}").getBytes(StandardCharsets.UTF_8);
    refused(413, "too_large", () -> api.postRaw(MEMORIES, JSON_TYPE, body));
    refused(413, "too_large", () -> api.postRaw(RECALL, JSON_TYPE, body));
    // Streamed without a Content-Length (chunked), the limit holds as well.
    refused(413, "too_large", () -> api.send("POST", MEMORIES, JSON_TYPE,
        BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body))));
  }

  // ---- memory fields ----

  @Test
  void unknownFieldIs422() {
    refused(422, "validation_failed", () -> api.post(MEMORIES, with(memory("colour", 3), "colour", "red")));
    refused(422, "validation_failed", () -> api.post(MEMORIES,
        Map.of("memories", List.of(memory("ok", 4), with(memory("bad", 5), "txt", "typo")))));
    refused(422, "validation_failed", () -> api.post(MEMORIES,
        Map.of("memories", List.of(memory("ok", 4)), "extra", true)));
    refused(422, "validation_failed", () -> api.post(RECALL, Map.of("vector", TestVectors.random(3), "limit", 5)));
    refused(422, "validation_failed", () -> api.post(RECALL,
        Map.of("vector", TestVectors.random(3), "filter", Map.of("namespace", "x"))));
    refused(422, "validation_failed", () -> api.post(RECALL,
        Map.of("vector", TestVectors.random(3), "recency", Map.of("weight", 0.5, "halfLife", 3))));
    refused(422, "validation_failed", () -> api.post(RECALL, Map.of("vector", TestVectors.random(3),
        "filter", Map.of("metadata", Map.of("n", Map.of("gte", 1, "gt", 2))))));
  }

  @Test
  void textMissingBlankWrongTypeOrTooLongIs422() {
    refused(422, "validation_failed", () -> api.postRaw(MEMORIES, JSON_TYPE, "{\"vector\": " + V + "}"));
    for (String text : List.of("\"\"", "\"   \\n\\t \"", "42", "null", "true", "[\"a\"]", "{\"t\": \"a\"}")) {
      refused(422, "validation_failed", () -> api.postRaw(MEMORIES, JSON_TYPE,
          "{\"text\": " + text + ", \"vector\": " + V + "}"));
    }
    int max = Limits.defaults().maxTextChars();
    assertThat(max).isEqualTo(32_768);
    refused(422, "text_too_long", () -> api.post(MEMORIES, memory("a".repeat(max + 1), 5)));
    refused(422, "text_too_long", () -> api.post(RECALL, Map.of("query", "q".repeat(max + 1), "mode", "keyword")));
  }

  @Test
  void textAtTheLimitIsAccepted() {
    String text = "b".repeat(Limits.defaults().maxTextChars());
    String cid = api.remember("limits", memory(text, 6));
    assertThat(api.getJson("/v1/memories/" + cid).path("text").asText()).isEqualTo(text);
  }

  @Test
  void metadataThatIsNotFlatScalarsIs422() {
    for (String value : List.of("{\"nested\": 1}", "[1, 2]", "null", "[]", "{}")) {
      refused(422, "validation_failed", () -> api.postRaw(MEMORIES, JSON_TYPE,
          "{\"text\": \"meta\", \"vector\": " + V + ", \"metadata\": {\"k\": " + value + "}}"));
    }
    for (String metadata : List.of("\"source\"", "[\"source\"]", "7")) {
      refused(422, "validation_failed", () -> api.postRaw(MEMORIES, JSON_TYPE,
          "{\"text\": \"meta\", \"vector\": " + V + ", \"metadata\": " + metadata + "}"));
    }
    Map<String, Object> tooMany = new LinkedHashMap<>();
    for (int i = 0; i <= Limits.defaults().maxMetadataKeys(); i++) {
      tooMany.put("k" + i, i);
    }
    refused(422, "validation_failed", () -> api.post(MEMORIES, with(memory("meta", 7), "metadata", tooMany)));
    refused(422, "validation_failed", () -> api.post(MEMORIES,
        with(memory("meta", 7), "metadata", Map.of("", "empty key"))));
    // '#' marks the index's own number and boolean fields: "score#n" would share the number field of "score".
    refused(422, "validation_failed", () -> api.post(MEMORIES,
        with(memory("meta", 7), "metadata", Map.of("score#n", "high"))));
    refused(422, "validation_failed", () -> api.post(RECALL, Map.of("vector", TestVectors.random(7),
        "filter", Map.of("metadata", Map.of("flag#b", "true")))));
    refused(422, "validation_failed", () -> api.post(MEMORIES,
        with(memory("meta", 7), "metadata", Map.of("long", "v".repeat(Limits.defaults().maxValueChars() + 1)))));
    refused(422, "validation_failed", () -> api.postRaw(MEMORIES, JSON_TYPE,
        "{\"text\": \"meta\", \"vector\": " + V + ", \"metadata\": {\"big\": 123456789012345678901234567890}}"));
  }

  @Test
  void badTagsAre422() {
    List<String> tooMany = new ArrayList<>();
    for (int i = 0; i <= Limits.defaults().maxTags(); i++) {
      tooMany.add("t" + i);
    }
    refused(422, "validation_failed", () -> api.post(MEMORIES, with(memory("tags", 8), "tags", tooMany)));
    for (String tags : List.of("\"pref\"", "[1]", "[\"\"]", "[null]", "[[\"a\"]]", "{\"a\": 1}")) {
      refused(422, "validation_failed", () -> api.postRaw(MEMORIES, JSON_TYPE,
          "{\"text\": \"tags\", \"vector\": " + V + ", \"tags\": " + tags + "}"));
    }
    refused(422, "validation_failed", () -> api.post(MEMORIES,
        with(memory("tags", 8), "tags", List.of("t".repeat(Limits.defaults().maxTagChars() + 1)))));
  }

  @Test
  void badTimestampIs422() {
    for (String ts : List.of("-1", "\"2024-01-01\"", "1.5", "1e30", "true")) {
      refused(422, "validation_failed", () -> api.postRaw(MEMORIES, JSON_TYPE,
          "{\"text\": \"when\", \"vector\": " + V + ", \"ts\": " + ts + "}"));
    }
  }

  @Test
  void badVectorsAre422InvalidVector() {
    float[] good = TestVectors.random(9);
    List<Object> wrongDimension = floats(Arrays.copyOf(good, 383));
    List<Object> tooLong = floats(Arrays.copyOf(good, 385));
    List<Object> withString = floats(good);
    withString.set(17, "0.5");
    List<Object> overflows = floats(good);
    overflows.set(3, 1e39);
    List<Object> withNull = floats(good);
    withNull.set(0, null);
    List<Object> zeros = floats(new float[TestVectors.DIMENSION]);
    float[] withNaN = good.clone();
    withNaN[5] = Float.NaN;
    for (Object vector : Arrays.asList(wrongDimension, tooLong, withString, overflows, withNull, zeros, List.of(),
        "[0.1, 0.2]", 0.5, Map.of("0", 1.0),
        // base64 float32: too short, not base64, NaN inside, all zeros
        TestVectors.base64(Arrays.copyOf(good, 383)), "not*base64!", TestVectors.base64(withNaN),
        TestVectors.base64(new float[TestVectors.DIMENSION]))) {
      refused(422, "invalid_vector", () -> api.post(MEMORIES, with(Map.of("text", "vec"), "vector", vector)));
      refused(422, "invalid_vector", () -> api.post(RECALL, with(Map.of("mode", "vector"), "vector", vector)));
    }
  }

  // ---- batches ----

  @Test
  void batchOverTheLimitIs422BatchTooLarge() {
    List<Map<String, Object>> batch = new ArrayList<>();
    for (int i = 0; i <= Limits.defaults().maxBatch(); i++) {
      batch.add(Map.of("text", "item " + i));
    }
    assertThat(batch).hasSize(1001);
    refused(422, "batch_too_large", () -> api.post(MEMORIES, Map.of("memories", batch)));
  }

  @Test
  void emptyOrMalformedBatchIs422() {
    refused(422, "validation_failed", () -> api.post(MEMORIES, Map.of("memories", List.of())));
    refused(422, "validation_failed", () -> api.post(MEMORIES, Map.of("memories", memory("not a list", 1))));
    refused(422, "validation_failed", () -> api.postRaw(MEMORIES, JSON_TYPE, "{\"memories\": [\"just text\"]}"));
    refused(422, "validation_failed", () -> api.postRaw(MEMORIES, JSON_TYPE, "{\"memories\": null}"));
  }

  @Test
  void batchWhoseLastItemIsBadStoresNothing() {
    List<Map<String, Object>> good = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      good.add(memory("good item " + i, 100 + i));
    }
    Map<String, Object> unknownField = with(memory("bad", 200), "colour", "red");
    Map<String, Object> badVector = with(Map.of("text", "bad"), "vector", floats(new float[TestVectors.DIMENSION]));
    Map<String, Object> longText = memory("x".repeat(Limits.defaults().maxTextChars() + 1), 201);
    Map<String, Object> unknownPrev = with(memory("bad", 202), "prev", unknownCid());
    Map<String, Object> prevInOtherNamespace = with(memory("bad", 203), "prev", seeded.get(0));
    Map<String, Object> noVector = Map.of("text", "this node cannot embed me");
    Map<String, Object> badMetadata = with(memory("bad", 204), "metadata", Map.of("k", List.of(1)));
    record Case(Map<String, Object> last, int status, String code) {}
    for (Case c : List.of(
        new Case(unknownField, 422, "validation_failed"),
        new Case(badVector, 422, "invalid_vector"),
        new Case(longText, 422, "text_too_long"),
        new Case(badMetadata, 422, "validation_failed"),
        new Case(unknownPrev, 422, "unknown_prev"),
        new Case(prevInOtherNamespace, 422, "unknown_prev"),
        new Case(noVector, 422, "no_embedder"))) {
      List<Map<String, Object>> batch = new ArrayList<>(good);
      batch.add(c.last());
      refused(c.status(), c.code(), () -> api.post(MEMORIES, Map.of("memories", batch)));
    }
    assertThat(api.listAll(NS)).isEmpty();
    assertThat(api.recallCids(NS, Map.of("vector", TestVectors.random(100), "k", 5))).isEmpty();
  }

  // ---- references ----

  @Test
  void unknownPrevIs422() {
    refused(422, "unknown_prev", () -> api.post(MEMORIES, with(memory("update", 20), "prev", unknownCid())));
    // A memory of another namespace is not a version this namespace can update.
    refused(422, "unknown_prev", () -> api.post(MEMORIES, with(memory("update", 20), "prev", seeded.get(1))));
    refused(400, "invalid_cid", () -> api.post(MEMORIES, with(memory("update", 20), "prev", "not-a-cid")));
    refused(422, "validation_failed", () -> api.post(MEMORIES, with(memory("update", 20), "prev", 42)));
  }

  @Test
  void invalidNamespaceInPathIs400() {
    String tooLong = "n".repeat(129);
    for (String ns : List.of("-leading-dash", ".hidden", "_under", "has%20space", "semi%3Bcolon", "caf%C3%A9", tooLong)) {
      String base = "/v1/namespaces/" + ns;
      refused(400, "invalid_namespace", () -> api.post(base + "/memories", memory("ns", 30)));
      refused(400, "invalid_namespace", () -> api.post(base + "/recall", Map.of("vector", TestVectors.random(30))));
      refused(400, "invalid_namespace", () -> api.get(base + "/memories"));
      refused(400, "invalid_namespace", () -> api.delete(base + "/memories/" + seeded.get(0)));
      refused(400, "invalid_namespace", () -> api.get(base + "/export"));
      refused(400, "invalid_namespace", () -> api.postRaw(base + "/import", CAR_TYPE, new byte[] {1, 2, 3}));
    }
    assertThat(api.getJson("/v1/memories/" + seeded.get(0)).path("text").asText()).isEqualTo("seed one");
  }

  @Test
  void invalidCidInPathIs400() {
    for (String cid : List.of("not-a-cid", "bafyreiXXXX", "Qm123", "zzzzzzzzzzzz", "b" + "a".repeat(300))) {
      refused(400, "invalid_cid", () -> api.get("/v1/memories/" + cid));
      refused(400, "invalid_cid", () -> api.get("/v1/memories/" + cid + "/history"));
      refused(400, "invalid_cid", () -> api.delete("/v1/namespaces/" + SEEDED + "/memories/" + cid));
      refused(400, "invalid_cid", () -> api.get("/v1/blocks/" + cid));
    }
  }

  @Test
  void unknownMemoryIs404() {
    String unknown = unknownCid();
    refused(404, "not_found", () -> api.get("/v1/memories/" + unknown));
    refused(404, "not_found", () -> api.get("/v1/memories/" + unknown + "/history"));
    refused(404, "not_found", () -> api.delete("/v1/namespaces/" + SEEDED + "/memories/" + unknown));
    refused(404, "not_found", () -> api.get("/v1/blocks/" + unknown));
    // A log entry's CID is not a memory's: 404, not a corrupt block.
    String entry = api.getJson("/v1/node").path("namespaces").findValue("heads").get(0).asText();
    refused(404, "not_found", () -> api.get("/v1/memories/" + entry));
    refused(404, "not_found", () -> api.get("/v1/memories/" + entry + "/history"));
    // Forgetting through another namespace's path must not touch the memory.
    refused(404, "not_found", () -> api.delete("/v1/namespaces/" + NS + "/memories/" + seeded.get(2)));
    assertThat(api.get("/v1/memories/" + seeded.get(2)).status()).isEqualTo(200);
  }

  /** Netty refuses these before any route; the default answer had an empty body. */
  @Test
  void aRequestLineOrHeadersOverTheDecoderLimitsGetAJsonError() {
    refused(414, "uri_too_long", () -> api.rawGet("/v1/memories/b" + "a".repeat(5_000)));
    refused(431, "headers_too_large", () -> api.rawGet("/health", "X-Big: " + "a".repeat(20_000)));
  }

  @Test
  void jsonWithACharsetParameterIsAccepted() {
    assertThat(api.postRaw("/v1/namespaces/typed/memories", "application/json; charset=utf-8",
        ApiClient.bytes(memory("typed with a charset", 3))).status()).isEqualTo(201);
  }

  @Test
  void malformedUriEscapesAre400WithAJsonError() {
    refused(400, "bad_request", () -> api.rawGet("/v1/memories/%zz"));
    refused(400, "bad_request", () -> api.rawGet("/v1/namespaces/" + SEEDED + "/memories?cursor=%%%"));
    assertThat(api.getJson("/v1/memories/" + seeded.get(0)).path("text").asText()).isEqualTo("seed one");
  }

  @Test
  void unknownEndpointIs404() {
    refused(404, "not_found", () -> api.get("/v1/nothing"));
    refused(404, "not_found", () -> api.get("/v2/node"));
    refused(404, "not_found", () -> api.get("/"));
    refused(404, "not_found", () -> api.post("/v1/namespaces/" + NS + "/memories/x/y", memory("no collection", 40)));
    refused(404, "not_found", () -> api.post("/v1/namespaces/" + NS + "/memorys", memory("typo", 40)));
  }

  @Test
  void wrongMethodIs405() {
    refused(405, "method_not_allowed", () -> api.send("PUT", MEMORIES, JSON_TYPE,
        BodyPublishers.ofByteArray(ApiClient.bytes(memory("put", 50)))));
    refused(405, "method_not_allowed", () -> api.delete(MEMORIES));
    refused(405, "method_not_allowed", () -> api.get(RECALL));
    refused(405, "method_not_allowed", () -> api.send("PATCH", "/v1/memories/" + seeded.get(0), JSON_TYPE,
        BodyPublishers.ofString("{\"text\": \"patched\"}")));
    refused(405, "method_not_allowed", () -> api.delete("/v1/memories/" + seeded.get(0)));
    refused(405, "method_not_allowed", () -> api.delete("/v1/node"));
    refused(405, "method_not_allowed", () -> api.post("/health", Map.of()));
    refused(405, "method_not_allowed", () -> api.post("/v1/namespaces/" + NS + "/export", Map.of()));
    // a namespace itself is created with PUT, not written to
    refused(405, "method_not_allowed", () -> api.post("/v1/namespaces/" + NS, memory("no collection", 40)));
    refused(405, "method_not_allowed", () -> api.delete("/v1/namespaces/" + NS));
    refused(405, "method_not_allowed", () -> api.get("/v1/namespaces/" + NS + "/grants"));
    refused(405, "method_not_allowed", () -> api.post("/v1/namespaces/" + NS + "/acl", Map.of()));
    // Each 405 names what the resource takes.
    assertThat(api.rawHead("PUT", MEMORIES)).containsIgnoringCase("\r\nallow: GET, POST");
    assertThat(api.rawHead("DELETE", "/v1/memories/" + seeded.get(0))).containsIgnoringCase("\r\nallow: GET");
    assertThat(api.rawHead("POST", "/health")).containsIgnoringCase("\r\nallow: GET");
    assertThat(api.getJson("/v1/memories/" + seeded.get(0)).path("text").asText()).isEqualTo("seed one");
  }

  // ---- recall ----

  @Test
  void badRecallParametersAre422() {
    float[] v = TestVectors.random(60);
    for (Object k : Arrays.asList(0, 1001, -1, 1.5, "5", null, 1L << 40)) {
      refused(422, "validation_failed", () -> api.post(RECALL, with(Map.of("vector", v), "k", k)));
    }
    for (Object mode : Arrays.asList("fuzzy", "", "VECTORS", 3, null)) {
      refused(422, "validation_failed", () -> api.post(RECALL, with(Map.of("vector", v), "mode", mode)));
    }
    refused(422, "validation_failed", () -> api.post(RECALL, Map.of()));
    refused(422, "validation_failed", () -> api.post(RECALL, Map.of("k", 5, "mode", "hybrid")));
    refused(422, "validation_failed", () -> api.post(RECALL, Map.of("query", "   ", "mode", "keyword")));
    refused(422, "validation_failed", () -> api.post(RECALL, Map.of("query", 42)));
    refused(422, "validation_failed", () -> api.post(RECALL, Map.of("vector", v, "mode", "keyword")));
    refused(422, "validation_failed", () -> api.post(RECALL, Map.of("vector", v, "filter", "source=chat")));
    refused(422, "validation_failed", () -> api.post(RECALL, Map.of("vector", v, "filter", Map.of("after", "yesterday"))));
    refused(422, "validation_failed", () -> api.post(RECALL, Map.of("vector", v, "filter", Map.of("before", 1.5))));
    refused(422, "validation_failed", () -> api.post(RECALL, Map.of("vector", v, "filter", Map.of("tags", "pref"))));
    refused(422, "validation_failed", () -> api.post(RECALL, Map.of("vector", v,
        "filter", Map.of("metadata", Map.of("n", Map.of())))));
    refused(422, "validation_failed", () -> api.post(RECALL, Map.of("vector", v,
        "filter", Map.of("metadata", Map.of("n", Map.of("gte", "low"))))));
    refused(422, "validation_failed", () -> api.post(RECALL, Map.of("vector", v,
        "filter", Map.of("metadata", Map.of("n", List.of(1, 2))))));
    refused(422, "validation_failed", () -> api.post(RECALL, Map.of("vector", v, "recency", 0.5)));
    refused(422, "validation_failed", () -> api.post(RECALL, Map.of("vector", v, "recency", Map.of("weight", 1.5))));
    refused(422, "validation_failed", () -> api.post(RECALL, Map.of("vector", v, "recency", Map.of("weight", -0.1))));
    refused(422, "validation_failed", () -> api.post(RECALL, Map.of("vector", v, "recency", Map.of("halfLifeDays", 0))));
    refused(422, "validation_failed", () -> api.post(RECALL, Map.of("vector", v, "fusion", 0.5)));
    refused(422, "validation_failed", () -> api.post(RECALL, Map.of("vector", v, "fusion", Map.of("keyword", 1.5))));
    refused(422, "validation_failed", () -> api.post(RECALL, Map.of("vector", v, "fusion", Map.of("context", -0.1))));
    refused(422, "validation_failed", () -> api.post(RECALL, Map.of("vector", v, "fusion", Map.of("context", "half"))));
    refused(422, "validation_failed", () -> api.post(RECALL, Map.of("vector", v, "fusion", Map.of("depth", 0))));
    refused(422, "validation_failed", () -> api.post(RECALL, Map.of("vector", v, "fusion", Map.of("depth", 1001))));
    refused(422, "validation_failed", () -> api.post(RECALL, Map.of("vector", v, "fusion", Map.of("weight", 0.5))));
  }

  /** Lucene takes at most 1,024 clauses; more words, or more filter keys, were a 500. */
  @Test
  void recallsOverLuceneClauseLimitAre422NotAServerError() {
    float[] v = TestVectors.random(61);
    StringBuilder words = new StringBuilder();
    for (int i = 0; i < 1_100; i++) {
      words.append(" w").append(i);
    }
    refused(422, "validation_failed", () -> api.post(RECALL, Map.of("query", words.toString().trim(), "mode", "keyword")));
    for (int keys : List.of(65, 1_100)) {
      Map<String, Object> metadata = new LinkedHashMap<>();
      for (int i = 0; i < keys; i++) {
        metadata.put("k" + i, i);
      }
      refused(422, "validation_failed", () -> api.post(RECALL, Map.of("vector", v, "filter", Map.of("metadata", metadata))));
    }
    refused(422, "validation_failed", () -> api.post(RECALL, Map.of("vector", v,
        "filter", Map.of("metadata", Map.of("k".repeat(129), "x")))));
  }

  /**
   * A vector of norm ~1e-39 passed the finite and not-all-zero checks, then normalized to
   * infinities that Lucene refused: every later remember and recall failed, and the node could not
   * start again. It is a direction like any other.
   */
  @Test
  void aVectorOfTinyNormIsRememberedAndRecalledByItsDirection() {
    float[] tiny = new float[TestVectors.DIMENSION];
    tiny[0] = 1e-39f;
    String ns = "tiny";
    String cid = api.remember(ns, Map.of("text", "a tiny vector", "vector", tiny));
    String after = api.remember(ns, memory("remembered after it", 62));
    float[] direction = new float[TestVectors.DIMENSION];
    direction[0] = 1;
    assertThat(api.recallCids(ns, Map.of("vector", direction, "k", 1))).containsExactly(cid);
    assertThat(api.recallCids(ns, Map.of("vector", tiny, "k", 1))).containsExactly(cid);
    assertThat(api.recallCids(ns, Map.of("query", "remembered", "mode", "keyword"))).containsExactly(after);
  }

  @Test
  void queryTextWithoutAnEmbedderIs422NoEmbedder() {
    refused(422, "no_embedder", () -> api.post(RECALL, Map.of("query", "what does Bob drink?")));
    refused(422, "no_embedder", () -> api.post(RECALL, Map.of("query", "what does Bob drink?", "mode", "vector")));
    refused(422, "no_embedder", () -> api.post(RECALL, Map.of("query", "what does Bob drink?", "mode", "hybrid")));
    refused(422, "no_embedder", () -> api.post(MEMORIES, Map.of("text", "Bob prefers green tea")));
    // A bad field is reported as such, not as the missing embedder the text would have needed.
    refused(422, "validation_failed", () -> api.post(RECALL, Map.of("query", "what does Bob drink?", "mode", "fuzzy")));
    refused(422, "validation_failed", () -> api.post(RECALL, Map.of("query", "what does Bob drink?", "k", 0)));
    // Keyword recall needs no embedder.
    assertThat(api.recallCids(SEEDED, Map.of("query", "three", "mode", "keyword"))).containsExactly(seeded.get(2));
    assertThat(api.recallCids(SEEDED, Map.of("query", "three", "mode", "KEYWORD"))).containsExactly(seeded.get(2));
  }

  @Test
  void badListParametersAre400() {
    for (String query : List.of("limit=0", "limit=1001", "limit=ten", "limit=-5", "limit=")) {
      refused(400, "invalid_limit", () -> api.get("/v1/namespaces/" + SEEDED + "/memories?" + query));
    }
    for (String cursor : List.of("garbage", "1", "-1.0", "1.x", "..", "9223372036854775808.0")) {
      refused(400, "invalid_cursor", () -> api.get("/v1/namespaces/" + SEEDED + "/memories?cursor=" + cursor));
    }
  }

  // ---- import ----

  @Test
  void importWithoutCarContentTypeIs415() {
    byte[] car = exportOf(SEEDED);
    for (String type : Arrays.asList(JSON_TYPE, "text/plain", null)) {
      refused(415, "unsupported_media_type", () -> api.postRaw("/v1/namespaces/" + SEEDED + "/import", type, car));
    }
  }

  @Test
  void importOfGarbageIs422AndStoresNothing() {
    String path = "/v1/namespaces/" + NS + "/import";
    refused(422, "invalid_car", () -> api.postRaw(path, CAR_TYPE, "this is not a CAR file".getBytes(StandardCharsets.UTF_8)));
    refused(422, "invalid_car", () -> api.postRaw(path, CAR_TYPE, new byte[0]));
    refused(422, "invalid_car", () -> api.postRaw(path, CAR_TYPE, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0x7f}));
    byte[] car = exportOf(SEEDED);
    byte[] truncated = Arrays.copyOf(car, car.length - 7);
    refused(422, "invalid_car", () -> api.postRaw("/v1/namespaces/" + SEEDED + "/import", CAR_TYPE, truncated));
    byte[] flipped = car.clone();
    flipped[flipped.length - 3] ^= 0x01;
    refused(422, "invalid_car", () -> api.postRaw("/v1/namespaces/" + SEEDED + "/import", CAR_TYPE, flipped));
  }

  // ---- random damage ----

  @Test
  void randomlyDamagedBodiesNeverGetA5xx() {
    long seed = System.nanoTime();
    Random random = new Random(seed);
    byte[] remember = ApiClient.bytes(Map.of("text", "fuzz me", "vector", TestVectors.random(70),
        "metadata", Map.of("s", "x", "n", 1, "b", true), "tags", List.of("t"), "ts", 5));
    byte[] recall = ApiClient.bytes(Map.of("query", "fuzz", "vector", TestVectors.random(70), "k", 3, "mode", "hybrid",
        "filter", Map.of("metadata", Map.of("n", Map.of("gte", 0)), "tags", List.of("t"), "after", 1)));
    byte[] alphabet = "{}[]\",:0123456789eE.+-ntrufalse\\ \u0000".getBytes(StandardCharsets.ISO_8859_1);
    for (int i = 0; i < 150; i++) {
      boolean isRecall = i % 2 == 1;
      byte[] body = (isRecall ? recall : remember).clone();
      switch (random.nextInt(3)) {
        case 0 -> {
          for (int flips = 1 + random.nextInt(3); flips > 0; flips--) {
            body[random.nextInt(body.length)] = alphabet[random.nextInt(alphabet.length)];
          }
        }
        case 1 -> body = Arrays.copyOf(body, random.nextInt(body.length));
        default -> {
          int from = random.nextInt(body.length);
          int to = from + random.nextInt(Math.min(200, body.length - from));
          byte[] longer = new byte[body.length + (to - from)];
          System.arraycopy(body, 0, longer, 0, to);
          System.arraycopy(body, from, longer, to, body.length - from);
          body = longer;
        }
      }
      byte[] sent = body;
      Response r = api.postRaw(isRecall ? "/v1/namespaces/fuzz/recall" : "/v1/namespaces/fuzz/memories", JSON_TYPE, sent);
      String what = "seed " + seed + ", case " + i + ": " + new String(sent, StandardCharsets.ISO_8859_1) + " -> " + r;
      assertThat(r.status()).as(what).isLessThan(500);
      if (r.status() >= 400) {
        assertThat(r.status()).as(what).isIn(400, 413, 415, 422);
        assertThat(r.json().path("error").path("code").asText()).as(what).isNotBlank();
        assertThat(r.json().path("error").path("message").asText()).as(what).isNotBlank();
      } else {
        assertThat(r.status()).as(what).isEqualTo(isRecall ? 200 : 201);
      }
    }
  }

  // ---- helpers ----

  private record Snapshot(JsonNode index, JsonNode namespaces, List<String> listed, List<String> seededListed) {}

  private static Snapshot snapshot() {
    JsonNode info = api.getJson("/v1/node");
    return new Snapshot(info.path("index"), info.path("namespaces"), api.listAll(NS), api.listAll(SEEDED));
  }

  /** Sends a bad request and asserts its error and that nothing stored changed. */
  private static void refused(int status, String code, Supplier<Response> request) {
    Snapshot before = snapshot();
    Response response = request.get();
    assertError(response, status, code);
    assertThat(snapshot()).as("stored data after %s", response).isEqualTo(before);
  }

  private static Map<String, Object> memory(String text, long seed) {
    return Map.of("text", text, "vector", TestVectors.random(seed));
  }

  /** A copy of {@code map} with one more entry (null values allowed). */
  private static Map<String, Object> with(Map<String, ?> map, String key, Object value) {
    Map<String, Object> out = new LinkedHashMap<>(map);
    out.put(key, value);
    return out;
  }

  private static List<Object> floats(float[] v) {
    List<Object> out = new ArrayList<>(v.length);
    for (float f : v) {
      out.add(f);
    }
    return out;
  }

  private static String vectorJson(float[] v) {
    return new String(ApiClient.bytes(v), StandardCharsets.UTF_8);
  }

  /** A well-formed CID of a block this node has never seen. */
  private static String unknownCid() {
    return Cid.dagCbor("never stored".getBytes(StandardCharsets.UTF_8)).toString();
  }

  private static byte[] exportOf(String ns) {
    Response r = api.get("/v1/namespaces/" + ns + "/export");
    assertThat(r.status()).as("%s", r).isEqualTo(200);
    return r.body();
  }
}
