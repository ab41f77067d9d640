package dev.mnemo.node.api;

import static dev.mnemo.node.ApiClient.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mnemo.node.ApiClient;
import dev.mnemo.node.TestNode;
import dev.mnemo.node.TestVectors;
import dev.mnemo.store.model.Memory;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the node reports and does when it embeds text, on a node with the real model: {@code
 * embedMs} beside {@code tookMs} (0 when nothing was embedded), and {@code embedContext}, which
 * embeds a memory's text with its metadata (the stored vector is exactly the model's vector of the
 * documented string) and leaves the stored text alone.
 */
class TextEmbeddingApiTest {
  private static final String TEXT = "I went to the LGBTQ support group yesterday and it was so powerful.";
  private static final Map<String, Object> TURN = Map.of("speaker", "Caroline", "session_date", "8 May 2023");
  private static final String COMPOSED = "[8 May 2023] Caroline: " + TEXT;

  @TempDir static Path dir;
  private static TestNode node;
  private static ApiClient api;

  @BeforeAll
  static void start() {
    node = TestNode.start(dir.resolve("plain"), TestNode.BGE);
    api = node.api();
  }

  @AfterAll
  static void stop() {
    if (node != null) {
      node.close();
    }
  }

  @Test
  void recallReportsTheQueryEmbeddingBesideTheSearch() {
    api.remember("timing", Map.of("text", "Bob prefers green tea over coffee."));
    JsonNode text = recall("timing", Map.of("query", "which hot drink does Bob like in the afternoon?"));
    assertThat(text.path("embedMs").asDouble()).as("%s", text).isPositive();
    assertThat(text.path("tookMs").asDouble()).isNotNegative();

    JsonNode vector = recall("timing", Map.of("vector", TestVectors.random(1)));
    assertThat(vector.path("embedMs").isNumber()).isTrue();
    assertThat(vector.path("embedMs").asDouble()).as("the client sent the vector").isZero();
    JsonNode keyword = recall("timing", Map.of("query", "green tea", "mode", "keyword"));
    assertThat(keyword.path("embedMs").asDouble()).as("keyword recall embeds nothing").isZero();
  }

  @Test
  void rememberReportsTheEmbeddingOfItsTexts() {
    ApiClient.Response text = api.post("/v1/namespaces/timing/memories", Map.of("text", "Alice moved to Lisbon in 2021."));
    assertThat(text.status()).isEqualTo(201);
    assertThat(text.json().path("embedMs").asDouble()).as("%s", text).isPositive();
    ApiClient.Response batch = api.post("/v1/namespaces/timing/memories", Map.of("memories", List.of(
        Map.of("text", "a", "vector", TestVectors.random(2)), Map.of("text", "b", "vector", TestVectors.random(3)))));
    assertThat(batch.status()).isEqualTo(201);
    assertThat(batch.json().path("embedMs").isNumber()).isTrue();
    assertThat(batch.json().path("embedMs").asDouble()).as("every memory brought its vector").isZero();
  }

  @Test
  void embedContextEmbedsTheDocumentedStringAndKeepsTheText() throws Exception {
    String withContext = api.remember("context", Map.of("text", TEXT, "metadata", TURN,
        "embedContext", List.of("session_date", "speaker")));
    // Its own ts: equal text and metadata would otherwise be one memory.
    String plain = api.remember("context", Map.of("text", TEXT, "metadata", TURN, "ts", 1));
    String composed = api.remember("context", Map.of("text", COMPOSED));

    assertThat(vector(withContext)).as("the vector of the composed string").isEqualTo(vector(composed));
    assertThat(vector(withContext)).as("the context changed the vector").isNotEqualTo(vector(plain));
    JsonNode stored = api.getJson("/v1/memories/" + withContext);
    assertThat(stored.path("text").asText()).isEqualTo(TEXT);
    assertThat(stored.path("metadata").path("speaker").asText()).isEqualTo("Caroline");
  }

  @Test
  void embedContextIsCheckedLikeEveryField() {
    String path = "/v1/namespaces/context/memories";
    assertError(api.post(path, Map.of("text", "x", "embedContext", List.of("speaker"), "vector", TestVectors.random(4))),
        422, "validation_failed");
    assertError(api.post(path, Map.of("text", "x", "embedContext", "speaker")), 422, "validation_failed");
    assertError(api.post(path, Map.of("text", "x", "embedContext", List.of(1))), 422, "validation_failed");
    assertError(api.post(path, Map.of("text", "x", "embedContext", List.of("speaker", "speaker"))), 422, "validation_failed");
    assertError(api.post(path, Map.of("text", "x", "embedContext", List.of("a#n"))), 422, "validation_failed");
    assertError(api.post(path, Map.of("memories", List.of(Map.of("text", "x", "embedContext", List.of(""))))), 422,
        "validation_failed");
    // null is as absent, as for metadata and tags
    assertThat(api.postRaw(path, ApiClient.JSON_TYPE, "{\"text\": \"x\", \"embedContext\": null, \"vector\": \""
        + TestVectors.base64(TestVectors.random(5)) + "\"}").status()).isEqualTo(201);
  }

  @Test
  void theNodeDefaultAppliesUnlessAMemoryNamesItsOwn() throws Exception {
    try (TestNode withDefault = TestNode.start(dir.resolve("default"), TestNode.BGE,
        Map.of("embedContext", "session_date,speaker"))) {
      ApiClient other = withDefault.api();
      assertThat(other.getJson("/v1/node").path("embedder").path("embedContext").toString()).isEqualTo("[\"session_date\",\"speaker\"]");
      // Each its own ts: equal text and metadata would otherwise be one memory.
      String byDefault = other.remember("context", Map.of("text", TEXT, "metadata", TURN, "ts", 1));
      String optedOut = other.remember("context", Map.of("text", TEXT, "metadata", TURN, "ts", 2, "embedContext", List.of()));
      String speakerOnly = other.remember("context", Map.of("text", TEXT, "metadata", TURN, "ts", 3,
          "embedContext", List.of("speaker")));
      String composed = other.remember("context", Map.of("text", COMPOSED));
      String plain = other.remember("context", Map.of("text", TEXT));
      String speaker = other.remember("context", Map.of("text", "Caroline: " + TEXT));

      assertThat(vector(other, byDefault)).isEqualTo(vector(other, composed));
      assertThat(vector(other, optedOut)).isEqualTo(vector(other, plain));
      assertThat(vector(other, speakerOnly)).isEqualTo(vector(other, speaker));
    }
  }

  private static JsonNode recall(String ns, Map<String, ?> request) {
    ApiClient.Response r = api.post("/v1/namespaces/" + ns + "/recall", request);
    assertThat(r.status()).as("%s", r).isEqualTo(200);
    return r.json();
  }

  private static float[] vector(String cid) throws Exception {
    return vector(api, cid);
  }

  /** The vector stored in the memory block, as every replica and the index get it. */
  private static float[] vector(ApiClient client, String cid) throws Exception {
    ApiClient.Response block = client.get("/v1/blocks/" + cid);
    assertThat(block.status()).as("%s", block).isEqualTo(200);
    return Memory.decode(block.body()).embedding().vector();
  }
}
