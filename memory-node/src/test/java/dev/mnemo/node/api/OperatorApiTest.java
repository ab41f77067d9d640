package dev.mnemo.node.api;

import static dev.mnemo.node.ApiClient.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mnemo.node.ApiClient;
import dev.mnemo.node.ApiClient.Response;
import dev.mnemo.node.TestNode;
import dev.mnemo.node.TestVectors;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.codec.DagCbor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The operator and peer surface: raw blocks, health, metrics and the node view. */
class OperatorApiTest {
  @TempDir static Path dir;
  private static TestNode node;
  private static ApiClient api;

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

  @Test
  void blocksAreServedAsTheBytesTheirCidNames() throws IOException {
    String cid = api.remember("blocks", Map.of("text", "a block of memory", "vector", TestVectors.random(1),
        "metadata", Map.of("k", "v"), "tags", List.of("t")));
    Response block = api.get("/v1/blocks/" + cid);
    assertThat(block.status()).as("%s", block).isEqualTo(200);
    assertThat(block.contentType()).isEqualTo("application/vnd.ipld.raw");
    assertThat(Cid.parse(cid).matches(block.body())).isTrue();
    Map<String, Object> decoded = DagCbor.decodeMap(block.body());
    assertThat(decoded).containsEntry("text", "a block of memory").containsEntry("ns", "blocks");

    // The namespace's head is the signed log entry that added it, served the same way.
    List<String> heads = heads("blocks");
    assertThat(heads).hasSize(1);
    Response entry = api.get("/v1/blocks/" + heads.get(0));
    assertThat(entry.status()).isEqualTo(200);
    assertThat(Cid.parse(heads.get(0)).matches(entry.body())).isTrue();
    assertThat(DagCbor.decodeMap(entry.body())).containsKeys("op", "refs", "parents", "clock", "author", "sig");

    assertError(api.get("/v1/blocks/" + Cid.dagCbor(new byte[] {1, 2, 3})), 404, "not_found");
    assertError(api.get("/v1/blocks/xyz"), 400, "invalid_cid");
  }

  @Test
  void health() {
    Response health = api.get("/health");
    assertThat(health.status()).isEqualTo(200);
    assertThat(health.contentType()).startsWith("application/json");
    assertThat(health.json().path("status").asText()).isEqualTo("ok");
  }

  @Test
  void metricsCountRequestsByRouteAndStatus() {
    api.remember("metrics", Map.of("text", "counted", "vector", TestVectors.random(2)));
    api.recall("metrics", Map.of("vector", TestVectors.random(2)));
    assertError(api.post("/v1/namespaces/metrics/memories", Map.of("text", "")), 422, "validation_failed");
    Response metrics = api.get("/metrics");
    assertThat(metrics.status()).isEqualTo(200);
    assertThat(metrics.contentType()).startsWith("text/plain");
    String text = metrics.text();
    assertThat(text).contains("# TYPE mnemo_http_requests_total counter");
    assertThat(counter(text, "mnemo_http_requests_total{route=\"remember\",status=\"201\"}")).isPositive();
    assertThat(counter(text, "mnemo_http_requests_total{route=\"recall\",status=\"200\"}")).isPositive();
    assertThat(counter(text, "mnemo_http_requests_total{route=\"remember\",status=\"422\"}")).isPositive();
    assertThat(text).contains("mnemo_http_request_duration_seconds_bucket{route=\"recall\",le=\"+Inf\"}");
    assertThat(counter(text, "mnemo_log_position")).isPositive();
    assertThat(counter(text, "mnemo_index_memories")).isPositive();

    // Counters only go up: one more remember is one more count.
    double before = counter(text, "mnemo_http_requests_total{route=\"remember\",status=\"201\"}");
    api.remember("metrics", Map.of("text", "counted again", "vector", TestVectors.random(3)));
    assertThat(counter(api.get("/metrics").text(), "mnemo_http_requests_total{route=\"remember\",status=\"201\"}"))
        .isEqualTo(before + 1);
  }

  @Test
  void nodeViewShowsNamespacesWithTheirHeads() throws IOException {
    JsonNode before = api.getJson("/v1/node");
    assertThat(before.path("id").asText()).startsWith("did:key:z6Mk");
    assertThat(before.path("version").asText()).isNotBlank();
    assertThat(before.path("http").path("port").asInt()).isEqualTo(node.node().port());
    assertThat(before.path("embedder").path("model").asText()).isEqualTo("none");
    assertThat(before.path("embedder").path("dimension").asInt()).isEqualTo(384);

    String first = api.remember("view", Map.of("text", "first", "vector", TestVectors.random(4)));
    List<String> afterFirst = heads("view");
    String second = api.remember("view", Map.of("text", "second", "vector", TestVectors.random(5)));
    JsonNode after = api.getJson("/v1/node");
    JsonNode view = namespace(after, "view");
    assertThat(view).as("namespace view in %s", after).isNotNull();
    // add, the grant of replicate to this node (the namespace was created through it), add
    assertThat(view.path("clock").asLong()).isEqualTo(3);
    List<String> heads = heads("view");
    assertThat(heads).hasSize(1).doesNotContainAnyElementsOf(afterFirst);
    // The new head is the entry adding the second memory, and its parent is the previous head.
    Map<String, Object> entry = DagCbor.decodeMap(api.get("/v1/blocks/" + heads.get(0)).body());
    assertThat(String.valueOf(entry.get("refs"))).contains(second);
    assertThat(String.valueOf(entry.get("parents"))).contains(afterFirst.get(0));
    assertThat(first).isNotEqualTo(second);

    JsonNode index = after.path("index");
    assertThat(index.path("appliedPosition").asLong()).isEqualTo(index.path("logPosition").asLong());
    assertThat(index.path("logPosition").asLong()).isGreaterThan(before.path("index").path("logPosition").asLong());
    assertThat(index.path("memories").asLong()).isEqualTo(before.path("index").path("memories").asLong() + 2);
  }

  @Test
  void aRepeatedRecallReadsItsMemoriesFromTheCache() {
    float[] vector = TestVectors.random(40);
    String cid = api.remember("cached", Map.of("text", "kept close at hand", "vector", vector));
    Map<String, Object> recall = Map.of("vector", vector, "k", 1, "mode", "vector");
    assertThat(api.recallCids("cached", recall)).containsExactly(cid);
    JsonNode before = api.getJson("/v1/node").path("memoryCache");
    assertThat(api.recallCids("cached", recall)).containsExactly(cid);
    JsonNode after = api.getJson("/v1/node").path("memoryCache");
    assertThat(after.path("maxBytes").asLong()).isEqualTo(64L << 20);
    assertThat(after.path("entries").asLong()).isPositive();
    assertThat(after.path("hits").asLong()).as("cache in %s", after).isEqualTo(before.path("hits").asLong() + 1);
    assertThat(after.path("misses").asLong()).isEqualTo(before.path("misses").asLong());
    assertThat(counter(api.get("/metrics").text(), "mnemo_memory_cache_hits_total"))
        .isGreaterThanOrEqualTo(after.path("hits").asLong());
  }

  // ---- helpers ----

  private static List<String> heads(String ns) {
    JsonNode n = namespace(api.getJson("/v1/node"), ns);
    List<String> out = new ArrayList<>();
    if (n != null) {
      n.path("heads").forEach(h -> out.add(h.asText()));
    }
    return out;
  }

  private static JsonNode namespace(JsonNode info, String ns) {
    for (JsonNode n : info.path("namespaces")) {
      if (n.path("name").asText().equals(ns)) {
        return n;
      }
    }
    return null;
  }

  /** The value of one sample line in the Prometheus text, or -1 when absent. */
  private static double counter(String metrics, String series) {
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(metrics);
    return m.find() ? Double.parseDouble(m.group(1)) : -1;
  }
}
