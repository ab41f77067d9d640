package dev.mnemo.node.api;

import static dev.mnemo.node.ApiClient.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mnemo.index.IndexConfig;
import dev.mnemo.index.LogIndexer;
import dev.mnemo.index.LuceneMemoryIndex;
import dev.mnemo.node.ApiClient;
import dev.mnemo.node.Caller;
import dev.mnemo.node.MemoryService;
import dev.mnemo.node.TestVectors;
import dev.mnemo.node.embed.WarmingEmbedder;
import dev.mnemo.node.metrics.Metrics;
import dev.mnemo.store.MnemoStore;
import dev.mnemo.sync.PeerAuth;
import dev.mnemo.sync.ReplicationPolicy;
import dev.mnemo.sync.SyncAccess;
import dev.mnemo.sync.SyncEndpoint;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP API over a model that could not load (a native library that would not extract, say):
 * text calls are 503 {@code embedder_failed} with the load failure, a fault of the node and not of
 * the client, while calls with vectors and keyword recall work, and {@code /health} says so.
 */
class EmbedderFailureApiTest {
  private static final int DIM = TestVectors.DIMENSION;

  @TempDir Path dir;

  @Test
  void textCallsFailWith503AndEverythingElseWorks() throws Exception {
    WarmingEmbedder broken = new WarmingEmbedder("broken-model", DIM, () -> {
      throw new IllegalStateException("cannot load ONNX Runtime's native library");
    });
    Vertx vertx = Vertx.vertx();
    try (MnemoStore store = MnemoStore.open(dir.resolve("store"));
        LuceneMemoryIndex index = LuceneMemoryIndex.open(dir.resolve("index"), IndexConfig.defaults(DIM));
        LogIndexer indexer = new LogIndexer(store.log(), index, 1_000)) {
      MemoryService service = new MemoryService(store, index, indexer, broken, DIM);
      SyncEndpoint sync = new SyncEndpoint(new SyncAccess(store.log(), ReplicationPolicy.NOBODY, new PeerAuth(store.nodeKey())));
      HttpApi api = new HttpApi(vertx, service, sync, Caller.node(store.nodeKey()), Limits.defaults(), new Metrics(),
          page -> null);
      HttpServer server = vertx.createHttpServer().requestHandler(api.router()).listen(0)
          .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      broken.whenReady().exceptionally(e -> null).get(10, TimeUnit.SECONDS);
      ApiClient client = new ApiClient(server.actualPort());

      assertThat(client.getJson("/health").path("embedder").asText()).isEqualTo("failed");
      ApiClient.Response text = client.post("/v1/namespaces/notes/memories", Map.of("text", "Bob prefers green tea."));
      assertError(text, 503, "embedder_failed");
      assertThat(text.json().path("error").path("message").asText()).contains("broken-model", "cannot load ONNX Runtime's native library");
      assertError(client.post("/v1/namespaces/notes/recall", Map.of("query", "what does Bob drink?")), 503, "embedder_failed");

      String cid = client.remember("notes", Map.of("text", "Bob prefers green tea.", "vector", TestVectors.random(1)));
      assertThat(client.recallCids("notes", Map.of("vector", TestVectors.random(1), "k", 1))).containsExactly(cid);
      assertThat(client.recallCids("notes", Map.of("query", "tea", "mode", "keyword"))).containsExactly(cid);
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }
}
