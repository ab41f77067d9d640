package dev.mnemo.sync;

import com.sun.net.httpserver.HttpServer;
import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.identity.AgentKey;
import dev.mnemo.store.identity.DidKey;
import dev.mnemo.store.model.Memory;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Anti-entropy digest cost at scale (figures in benchmarks/README.md, "Hardening (issue 22):
 * heads"). Runs only with {@code -Dmnemo.bench=true}:
 *
 * <pre>
 * ./mvnw -q -B test -pl store,sync -Dtest=DigestScaleBenchmark -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dmnemo.bench=true [-Dmnemo.bench.namespaces=100000]
 * </pre>
 *
 * Two real stores holding the same namespaces (one memory each), the second a copy of the
 * first's; the source served over HTTP from its {@link SyncEndpoint}. Prints: the v1 digest's
 * bytes and the time to build and encode it; the v2 tree's first build; and, with nothing and with
 * one namespace differing, the v2 comparison's requests, body bytes and time (medians of 7).
 */
class DigestScaleBenchmark {
  @TempDir Path dir;

  @Test
  void digestCostAtScale() throws Exception {
    Assumptions.assumeTrue(Boolean.getBoolean("mnemo.bench"), "benchmark: run with -Dmnemo.bench=true");
    int n = Integer.getInteger("mnemo.bench.namespaces", 100_000);
    try (MnemoStore first = MnemoStore.open(dir.resolve("source"))) {
      List<CompletableFuture<?>> writes = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        String ns = String.format("ns-%06d", i);
        writes.add(first.log().appendAsync(ns, List.of(new Memory(ns, "m " + i, Map.of(), List.of(), 1L, null, null))));
      }
      CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get(900, TimeUnit.SECONDS);
    }
    copy(dir.resolve("source").resolve("store"), dir.resolve("target").resolve("store"));
    AgentKey serverKey = AgentKey.generate();
    try (MnemoStore source = MnemoStore.open(dir.resolve("source")); MnemoStore target = MnemoStore.open(dir.resolve("target"))) {
      ReplicationPolicy all = new PeerAllowlist(Set.of(), true);
      SyncAccess access = new SyncAccess(source.log(), all, new PeerAuth(serverKey));
      SyncEndpoint endpoint = new SyncEndpoint(access);
      long[] bodyBytes = new long[1];
      HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
      server.createContext(PeerClient.DIGEST_PATH, exchange -> {
        try (exchange) {
          byte[] body = exchange.getRequestBody().readAllBytes();
          DidKey peer = endpoint.authenticate(exchange.getRequestHeaders().getFirst("Authorization"), "POST",
              exchange.getRequestURI().getRawPath(), body);
          byte[] reply = endpoint.digest(peer, body);
          synchronized (bodyBytes) {
            bodyBytes[0] += body.length + reply.length;
          }
          exchange.sendResponseHeaders(200, reply.length);
          exchange.getResponseBody().write(reply);
        } catch (PeerAuth.RejectedException e) {
          exchange.sendResponseHeaders(401, -1);
        }
      });
      server.start();
      try {
        Peer peer = new Peer("source", "http://127.0.0.1:" + server.getAddress().getPort(), serverKey.did(), Set.of(Peer.ALL));
        long[] v1Nanos = new long[7];
        int v1Bytes = 0;
        for (int r = 0; r < v1Nanos.length; r++) {
          long t = System.nanoTime();
          v1Bytes = HeadsDigest.of(source.log(), all, AgentKey.generate().did()).encode().length;
          v1Nanos[r] = System.nanoTime() - t;
        }
        System.out.printf("v1 digest at %d namespaces: %d bytes, built and encoded in %.1f ms (median of 7)%n", n, v1Bytes, median(v1Nanos) / 1e6);
        long t = System.nanoTime();
        access.treeFor(AgentKey.generate().did());
        System.out.printf("v2 tree first build: %.1f ms%n", (System.nanoTime() - t) / 1e6);
        NamespaceDigests targetDigests = new NamespaceDigests(target.log());
        t = System.nanoTime();
        targetDigests.view(all, serverKey.did());
        System.out.printf("v2 tree first build (target): %.1f ms%n", (System.nanoTime() - t) / 1e6);
        PeerClient client = new PeerClient(new PeerAuth(target.nodeKey()));
        for (String label : List.of("identical", "one namespace differing")) {
          if (label.startsWith("one")) {
            String ns = "ns-042424";
            source.log().append(ns, List.of(new Memory(ns, "differs", Map.of(), List.of(), 2L, null, null)));
          }
          long[] nanos = new long[7];
          long bytes = 0;
          long requests = 0;
          int found = 0;
          for (int r = 0; r < nanos.length; r++) {
            long before = bodyBytes[0];
            long requestsBefore = client.digestRequests();
            long start = System.nanoTime();
            Map<String, List<Cid>> differing = Reconciliation.run(client, peer, targetDigests.view(all, serverKey.did())).get();
            nanos[r] = System.nanoTime() - start;
            bytes = bodyBytes[0] - before;
            requests = client.digestRequests() - requestsBefore;
            found = differing.size();
          }
          System.out.printf("v2 %s at %d namespaces: %d requests, %d bytes of bodies, %d namespaces fetched, %.2f ms a comparison (median of 7)%n",
              label, n, requests, bytes, found, median(nanos) / 1e6);
        }
      } finally {
        server.stop(0);
      }
    }
  }

  private static double median(long[] values) {
    long[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }

  private static void copy(Path from, Path to) throws IOException {
    try (Stream<Path> files = Files.walk(from)) {
      for (Path file : files.toList()) {
        Path target = to.resolve(from.relativize(file).toString());
        if (Files.isDirectory(file)) {
          Files.createDirectories(target);
        } else if (!file.getFileName().toString().equals("LOCK")) {
          Files.copy(file, target);
        }
      }
    }
  }
}
