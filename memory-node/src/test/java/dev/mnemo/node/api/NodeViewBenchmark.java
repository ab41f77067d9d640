package dev.mnemo.node.api;

import dev.mnemo.node.ApiClient.Response;
import dev.mnemo.node.TestNode;
import dev.mnemo.store.model.Memory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code GET /v1/node} with many namespaces (figures in benchmarks/README.md, "Hardening (issue
 * 22): heads"): the default page against every namespace in one answer, as the unpaged view gave
 * (limit=1000 at 600 namespaces). Runs only with {@code -Dmnemo.bench=true}:
 *
 * <pre>
 * ./mvnw -q -B test -pl store,index,sync,memory-node -Dtest=NodeViewBenchmark \
 *     -Dsurefire.failIfNoSpecifiedTests=false -Dmnemo.bench=true [-Dmnemo.bench.nodeNamespaces=600]
 * </pre>
 */
class NodeViewBenchmark {
  @TempDir Path dir;

  @Test
  void nodeViewSizeAndTime() throws Exception {
    Assumptions.assumeTrue(Boolean.getBoolean("mnemo.bench"), "benchmark: run with -Dmnemo.bench=true");
    int n = Integer.getInteger("mnemo.bench.nodeNamespaces", 600);
    try (TestNode node = TestNode.start(dir, TestNode.NONE)) {
      List<CompletableFuture<?>> writes = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        String ns = String.format("ns-%04d", i);
        writes.add(node.node().store().log().appendAsync(ns, List.of(new Memory(ns, "m", Map.of(), List.of(), 1L, null, null))));
      }
      CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get();
      for (String query : List.of("", "?limit=1000")) {
        long[] nanos = new long[9];
        int bytes = 0;
        for (int r = 0; r < nanos.length; r++) {
          long t = System.nanoTime();
          Response response = node.api().get("/v1/node" + query);
          nanos[r] = System.nanoTime() - t;
          bytes = response.body().length;
        }
        Arrays.sort(nanos);
        System.out.printf("GET /v1/node%s at %d namespaces: %d bytes, %.1f ms (median of 9)%n", query, n, bytes, nanos[4] / 1e6);
      }
    }
  }
}
