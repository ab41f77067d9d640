package dev.mnemo.node.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mnemo.node.ApiClient;
import dev.mnemo.node.MemoryNode;
import dev.mnemo.node.TestNode;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node warms its model up after it starts serving: {@code /health} and {@code /v1/node} say
 * whether text works yet, the start-up log says when it does and how long the warm-up took, and a
 * text call made at once simply waits for the model.
 */
class EmbedderWarmupApiTest {
  private static final Pattern READY = Pattern.compile("Mnemo node ready for text \\(bge-small-en-v1\\.5-q, loaded and warmed in (\\d+) ms\\)");

  @TempDir Path dir;

  @Test
  void theNodeSaysWhenItIsReadyForTextAndATextCallMadeAtOnceWaitsForIt() throws Exception {
    List<String> lines = new CopyOnWriteArrayList<>();
    Handler capture = new Handler() {
      @Override
      public void publish(LogRecord record) {
        lines.add(record.getMessage());
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
    Logger log = Logger.getLogger(MemoryNode.class.getName());
    log.addHandler(capture);
    try (TestNode node = TestNode.start(dir, TestNode.BGE)) {
      ApiClient api = node.api();
      JsonNode health = api.getJson("/health");
      assertThat(health.path("status").asText()).isEqualTo("ok");
      assertThat(health.path("embedder").asText()).isIn("warming", "ready");

      // Sent at once: waits for the warm-up if it is still under way, and then works.
      api.remember("notes", Map.of("text", "Bob prefers green tea over coffee."));
      assertThat(api.recallCids("notes", Map.of("query", "what does Bob drink?"))).hasSize(1);

      assertThat(api.getJson("/health").path("embedder").asText()).isEqualTo("ready");
      JsonNode embedder = api.getJson("/v1/node").path("embedder");
      assertThat(embedder.path("state").asText()).isEqualTo("ready");
      long warmupMs = embedder.path("warmupMs").asLong(-1);
      assertThat(warmupMs).isPositive();
      assertThat(embedder.path("embedContext").isArray() && embedder.path("embedContext").isEmpty()).as("%s", embedder).isTrue();
      assertThat(api.get("/metrics").text()).contains("mnemo_embedder_ready 1");

      // The ready line follows the listening line, and names the same warm-up time.
      long deadline = System.nanoTime() + 5_000_000_000L;
      while (lines.stream().noneMatch(l -> READY.matcher(l).matches()) && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      int listening = indexOf(lines, "listening on");
      int ready = indexOf(lines, "ready for text");
      assertThat(listening).as("%s", lines).isNotNegative();
      assertThat(ready).as("%s", lines).isGreaterThan(listening);
      Matcher m = READY.matcher(lines.get(ready));
      assertThat(m.matches()).as(lines.get(ready)).isTrue();
      assertThat(Long.parseLong(m.group(1))).isEqualTo(warmupMs);
    } finally {
      log.removeHandler(capture);
    }
  }

  @Test
  void aNodeWithoutEmbedderSaysSoAndPrintsNoReadyLine() {
    try (TestNode node = TestNode.start(dir, TestNode.NONE)) {
      assertThat(node.api().getJson("/health").path("embedder").asText()).isEqualTo("none");
      JsonNode embedder = node.api().getJson("/v1/node").path("embedder");
      assertThat(embedder.path("state").asText()).isEqualTo("none");
      assertThat(embedder.has("warmupMs")).isFalse();
      assertThat(node.api().get("/metrics").text()).contains("mnemo_embedder_ready 0");
    }
  }

  private static int indexOf(List<String> lines, String part) {
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).contains(part)) {
        return i;
      }
    }
    return -1;
  }
}
