package dev.mnemo.node.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mnemo.node.ApiClient;
import dev.mnemo.node.TestNode;
import dev.mnemo.node.TestVectors;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 10,000 requests over every route with no token or a bad one (random text, random well-formed
 * tokens, real ids with wrong secrets, revoked, truncated, other schemes): no answer is a 5xx and
 * nothing is written. Reproducible from the seed in the failure message.
 */
class AuthFuzzTest {
  private static final int REQUESTS = 10_000;
  private static final int THREADS = 4;
  private static final String PRINTABLE = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.~+/=!$%&'()*,;:@[]{}<>?|\"\\^` ";

  @TempDir Path dir;

  @Test
  void randomOrAbsentTokensNeverWriteAndNeverFailTheServer() throws Exception {
    long seed = Long.getLong("fuzz.seed", System.nanoTime());
    try (TestNode node = TestNode.start(dir, TestNode.NONE, Map.of("authFailuresPerMinute", "1000000"))) {
      ApiClient owner = node.api();
      String cid = owner.remember("kept", Map.of("text", "the one memory", "vector", TestVectors.random(1)));
      String revoked = owner.post("/v1/agents/owner/tokens", Map.of()).json().path("token").asText();
      assertThat(owner.delete("/v1/tokens/" + revoked.split("_")[1]).status()).isEqualTo(200);
      String agentToken = owner.post("/v1/agents", Map.of("name", "agent")).json().path("token").asText();
      assertThat(owner.delete("/v1/tokens/" + agentToken.split("_")[1]).status()).isEqualTo(200);
      List<String> realTokens = List.of(owner.token(), revoked, agentToken);

      long position = node.node().store().log().lastPosition();
      Set<String> namespaces = Set.copyOf(node.node().store().log().namespaces());
      byte[] agentsFile = Files.readAllBytes(node.node().agents().file());
      int tokens = node.node().agents().tokens().size();

      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
      String base = "http://127.0.0.1:" + node.node().port();
      Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
      List<String> serverErrors = java.util.Collections.synchronizedList(new ArrayList<>());
      ExecutorService pool = Executors.newFixedThreadPool(THREADS);
      try {
        List<Future<?>> workers = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
          Random random = new Random(seed + t);
          workers.add(pool.submit(() -> {
            for (int i = 0; i < REQUESTS / THREADS; i++) {
              Fuzzed request = fuzzed(random, cid, realTokens);
              HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(base + request.path()))
                  .timeout(Duration.ofSeconds(30))
                  .method(request.method(), request.body() == null ? HttpRequest.BodyPublishers.noBody()
                      : HttpRequest.BodyPublishers.ofByteArray(request.body()));
              if (request.contentType() != null) {
                builder.header("Content-Type", request.contentType());
              }
              if (request.authorization() != null) {
                builder.header("Authorization", request.authorization());
              }
              HttpResponse<byte[]> response = http.send(builder.build(), HttpResponse.BodyHandlers.ofByteArray());
              statuses.computeIfAbsent(response.statusCode(), s -> new AtomicInteger()).incrementAndGet();
              if (response.statusCode() >= 500) {
                serverErrors.add(request + " -> " + response.statusCode() + " " + new String(response.body(), StandardCharsets.UTF_8));
              }
            }
            return null;
          }));
        }
        for (Future<?> worker : workers) {
          worker.get();
        }
      } finally {
        pool.shutdownNow();
      }
      String context = "seed " + seed + " (rerun with -Dfuzz.seed=" + seed + "), statuses " + statuses;
      assertThat(statuses.values().stream().mapToInt(AtomicInteger::get).sum()).as(context).isEqualTo(REQUESTS);
      assertThat(serverErrors).as(context).isEmpty();
      assertThat(statuses.get(401).get()).as(context).isGreaterThan(REQUESTS / 2);
      assertThat(node.node().store().log().lastPosition()).as(context).isEqualTo(position);
      assertThat(Set.copyOf(node.node().store().log().namespaces())).as(context).isEqualTo(namespaces);
      assertThat(Files.readAllBytes(node.node().agents().file())).as(context).isEqualTo(agentsFile);
      assertThat(node.node().agents().tokens()).as(context).hasSize(tokens);
      assertThat(owner.listAll("kept")).as(context).containsExactly(cid);
    }
  }

  record Fuzzed(String method, String path, String contentType, byte[] body, String authorization) {
    @Override
    public String toString() {
      return method + " " + path + " [" + contentType + ", " + (body == null ? 0 : body.length) + " bytes] Authorization: "
          + (authorization == null ? "(none)" : authorization.length() > 80 ? authorization.substring(0, 80) + "…" : authorization);
    }
  }

  private static Fuzzed fuzzed(Random random, String cid, List<String> realTokens) {
    String ns = random.nextBoolean() ? "kept" : "fuzz-" + random.nextInt(5);
    String someCid = random.nextBoolean() ? cid : "bafyreib" + text(random, 20, "abcdefghijklmnopqrstuvwxyz234567");
    String[][] routes = {
        {"POST", "/v1/namespaces/" + ns + "/memories"},
        {"POST", "/v1/namespaces/" + ns + "/recall"},
        {"GET", "/v1/namespaces/" + ns + "/memories?limit=" + random.nextInt(5)},
        {"DELETE", "/v1/namespaces/" + ns + "/memories/" + someCid},
        {"POST", "/v1/namespaces/" + ns + "/memories/" + someCid + "/invalidate"},
        {"GET", "/v1/namespaces/" + ns + "/export"},
        {"POST", "/v1/namespaces/" + ns + "/import"},
        {"PUT", "/v1/namespaces/" + ns},
        {"POST", "/v1/namespaces/" + ns + "/grants"},
        {"POST", "/v1/namespaces/" + ns + "/revocations"},
        {"GET", "/v1/namespaces/" + ns + "/acl"},
        {"GET", "/v1/whoami"},
        {"GET", "/v1/memories/" + someCid},
        {"GET", "/v1/memories/" + someCid + "/history"},
        {"GET", "/v1/node"},
        {"GET", "/metrics"},
        {"POST", "/v1/agents"},
        {"GET", "/v1/agents"},
        {"POST", "/v1/agents/" + (random.nextBoolean() ? "owner" : "agent") + "/tokens"},
        {"GET", "/v1/tokens"},
        {"DELETE", "/v1/tokens/" + realTokens.get(random.nextInt(realTokens.size())).split("_")[1]},
        {"GET", "/v1/blocks/" + someCid},
        {"GET", "/v1/sync/heads"},
        {"POST", "/v1/sync/blocks"},
        {"GET", "/health"},
        {randomMethod(random), "/" + text(random, random.nextInt(30), "abcdefghijklmnopqrstuvwxyz0123456789/-_.")},
        {randomMethod(random), "/v1/namespaces/" + ns + "/memories"},
    };
    String[] route = routes[random.nextInt(routes.length)];
    String contentType = null;
    byte[] body = null;
    if (!route[0].equals("GET") && !route[0].equals("DELETE")) {
      switch (random.nextInt(6)) {
        case 0 -> {
          contentType = "application/json";
          body = ApiClient.bytes(Map.of("text", "fuzz " + random.nextLong(), "vector", TestVectors.random(random.nextLong())));
        }
        case 1 -> {
          contentType = "application/json";
          body = ApiClient.bytes(Map.of("name", "fuzz-" + random.nextInt(1000)));
        }
        case 5 -> {
          contentType = "application/json";
          body = ApiClient.bytes(Map.of("to", AgentKeyHolder.DID, "can", List.of(random.nextBoolean() ? "admin" : "read")));
        }
        case 2 -> {
          contentType = random.nextBoolean() ? "application/vnd.ipld.car" : "application/vnd.ipld.dag-cbor";
          body = new byte[random.nextInt(200)];
          random.nextBytes(body);
        }
        case 3 -> {
          contentType = "text/plain";
          body = text(random, random.nextInt(100), PRINTABLE).getBytes(StandardCharsets.UTF_8);
        }
        default -> {
        }
      }
    }
    return new Fuzzed(route[0], route[1], contentType, body, authorization(random, realTokens));
  }

  private static String authorization(Random random, List<String> realTokens) {
    String real = realTokens.get(random.nextInt(realTokens.size()));
    String owner = realTokens.get(0);
    String revoked = realTokens.get(1 + random.nextInt(realTokens.size() - 1));
    return switch (random.nextInt(12)) {
      case 0, 1 -> null;
      case 2 -> text(random, 1 + random.nextInt(200), PRINTABLE).strip();
      case 3 -> "Bearer " + text(random, 1 + random.nextInt(100), PRINTABLE).strip();
      case 4 -> "Bearer mnemo_" + HexFormat.of().formatHex(bytes(random, 8)) + "_"
          + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes(random, 32));
      case 5 -> "Bearer mnemo_" + owner.split("_")[1] + "_" + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes(random, 32));
      // revoked ones (the owner's own token is left out: it is valid)
      case 6 -> "Bearer " + revoked;
      case 7 -> {
        int at = random.nextInt(real.length());
        char c = real.charAt(at);
        char other = (char) ('a' + (c - 'a' + 1 + random.nextInt(25)) % 26);
        yield "Bearer " + real.substring(0, at) + (c == other ? 'Z' : other) + real.substring(at + 1);
      }
      case 8 -> "Bearer " + owner.substring(0, random.nextInt(owner.length()));
      // other spellings of the scheme ("bearer" is the same scheme, so only with revoked tokens)
      case 9 -> List.of("bearer", "BEARER", "Basic", "Token", "Bearer\t", "MnemoNode", "mnemonode").get(random.nextInt(7)) + " "
          + (random.nextBoolean() ? revoked : owner + " extra");
      case 10 -> "MnemoNode did=" + AgentKeyHolder.DID + ", ts=" + System.currentTimeMillis() + ", sig="
          + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes(random, 64));
      default -> "Bearer " + "A".repeat(1000 + random.nextInt(5000));
    };
  }

  /** A node's did, for signed node requests with a signature that is not its. */
  private static final class AgentKeyHolder {
    static final String DID = dev.mnemo.store.identity.AgentKey.generate().did().toString();
  }

  private static String randomMethod(Random random) {
    return List.of("GET", "POST", "DELETE", "PUT", "PATCH").get(random.nextInt(5));
  }

  private static String text(Random random, int length, String alphabet) {
    StringBuilder s = new StringBuilder(length);
    for (int i = 0; i < length; i++) {
      s.append(alphabet.charAt(random.nextInt(alphabet.length())));
    }
    return s.toString();
  }

  private static byte[] bytes(Random random, int n) {
    byte[] b = new byte[n];
    random.nextBytes(b);
    return b;
  }
}
