package dev.mnemo.node.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mnemo.node.ApiClient;
import dev.mnemo.node.ApiClient.Response;
import dev.mnemo.node.TestNode;
import dev.mnemo.node.TestVectors;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An invalidate written over HTTP still ends the memory's validity in recall after {@code mnemo reindex}. */
class ReindexValidityTest {
  private static final String NS = "facts";
  private static final long T = 1_719_792_000_000L;

  @TempDir Path dir;

  @Test
  void aRebuiltIndexKeepsEveryInvalidate() {
    Path data = dir.resolve("data");
    float[] vector = TestVectors.random(3);
    String ended;
    String open;
    try (TestNode node = TestNode.start(data, TestNode.NONE)) {
      ApiClient api = node.api();
      ended = api.remember(NS, Map.of("text", "Bob lives in Paris", "vector", vector, "validFrom", T - 10_000));
      open = api.remember(NS, Map.of("text", "Bob likes tea", "vector", TestVectors.random(4)));
      Response r = api.post("/v1/namespaces/" + NS + "/memories/" + ended + "/invalidate", Map.of("at", T));
      assertThat(r.status()).as("%s", r).isEqualTo(200);
      assertThat(validAt(api, vector, T)).containsExactly(open);
    }

    assertThat(Main.run("reindex", "--data", data.toString())).isZero();

    try (TestNode node = TestNode.start(data, TestNode.NONE)) {
      ApiClient api = node.api();
      assertThat(validAt(api, vector, T - 1)).containsExactlyInAnyOrder(ended, open);
      assertThat(validAt(api, vector, T)).containsExactly(open);
      assertThat(api.getJson("/v1/memories/" + ended).path("invalidatedAt").asLong()).isEqualTo(T);
    }
  }

  private static List<String> validAt(ApiClient api, float[] vector, long t) {
    return api.recallCids(NS, Map.of("vector", vector, "k", 5, "filter", Map.of("validAt", t)));
  }
}
