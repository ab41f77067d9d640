package dev.mnemo.node;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.log.MemoryState;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node asked to stop while a write is under way answers it before it stops. It used to reset
 * the connection: the write was committed, but its client saw an error, and a retry with the
 * default ts stored a second copy under a new CID.
 */
class GracefulShutdownTest {
  @TempDir Path dir;

  @Test
  void aWriteUnderWayWhenTheNodeStopsIsAnsweredAndKept() throws Exception {
    TestNode node = TestNode.start(dir, TestNode.NONE);
    ApiClient api = node.api();
    // The same keep-alive connection as the batch below, so that it is open before the stop.
    api.remember("warm", Map.of("text", "warm", "vector", TestVectors.random(0)));
    List<Map<String, Object>> batch = new ArrayList<>();
    for (int i = 0; i < 1_000; i++) {
      batch.add(Map.of("text", "note " + i, "vector", TestVectors.random(i + 1), "ts", 1_000 + i));
    }
    CompletableFuture<ApiClient.Response> write = CompletableFuture.supplyAsync(
        () -> api.post("/v1/namespaces/big/memories", Map.of("memories", batch)));
    Thread.sleep(150);
    node.close();

    ApiClient.Response response = write.get(60, TimeUnit.SECONDS);
    assertThat(response.status()).as("%s", response).isEqualTo(201);
    List<String> cids = new ArrayList<>();
    response.json().path("cids").forEach(cid -> cids.add(cid.asText()));
    assertThat(cids).hasSize(1_000);
    try (MnemoStore store = MnemoStore.open(dir)) {
      for (String cid : cids) {
        assertThat(store.log().state("big", Cid.parse(cid))).isEqualTo(MemoryState.LIVE);
      }
    }
  }
}
