package dev.mnemo.node.auth;

import static dev.mnemo.node.ApiClient.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mnemo.node.ApiClient;
import dev.mnemo.node.ApiClient.Response;
import dev.mnemo.node.TestNode;
import dev.mnemo.node.TestVectors;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tokens, admin calls and the Host check on a real node over real sockets. */
class AuthApiTest {
  @TempDir static Path dir;
  private static TestNode node;
  private static ApiClient owner;
  private static String cid;

  @BeforeAll
  static void start() {
    // A high failure limit: this class sends many bad tokens from one address on purpose.
    node = TestNode.start(dir.resolve("node"), TestNode.NONE, Map.of("authFailuresPerMinute", "100000",
        "allowedHosts", "mnemo.internal.example"));
    owner = node.api();
    cid = owner.remember("notes", memory("the first memory", 1));
  }

  @AfterAll
  static void stop() {
    if (node != null) {
      node.close();
    }
  }

  /** Every route the API serves to agents and admins, with a body that would be accepted. */
  private static List<Call> routes() {
    byte[] memory = ApiClient.bytes(memory("a memory that must not be written", 2));
    byte[] recall = ApiClient.bytes(Map.of("vector", TestVectors.random(3), "k", 1));
    byte[] grant = ApiClient.bytes(Map.of("to", dev.mnemo.store.identity.AgentKey.generate().did().toString(), "can", List.of("read")));
    return List.of(
        new Call("POST", "/v1/namespaces/notes/memories", "application/json", memory),
        new Call("POST", "/v1/namespaces/fresh/memories", "application/json", memory),
        new Call("POST", "/v1/namespaces/notes/recall", "application/json", recall),
        new Call("GET", "/v1/namespaces/notes/memories", null, null),
        new Call("DELETE", "/v1/namespaces/notes/memories/" + cid, null, null),
        new Call("POST", "/v1/namespaces/notes/memories/" + cid + "/invalidate", "application/json", "{}".getBytes(StandardCharsets.UTF_8)),
        new Call("GET", "/v1/namespaces/notes/export", null, null),
        new Call("POST", "/v1/namespaces/notes/import", "application/vnd.ipld.car", new byte[] {1, 2, 3}),
        new Call("PUT", "/v1/namespaces/created", null, null),
        new Call("POST", "/v1/namespaces/notes/grants", "application/json", grant),
        new Call("POST", "/v1/namespaces/notes/revocations", "application/json", grant),
        new Call("GET", "/v1/namespaces/notes/acl", null, null),
        new Call("GET", "/v1/whoami", null, null),
        new Call("GET", "/v1/memories/" + cid, null, null),
        new Call("GET", "/v1/memories/" + cid + "/history", null, null),
        new Call("GET", "/v1/blocks/" + cid, null, null),
        new Call("GET", "/v1/node", null, null),
        new Call("GET", "/metrics", null, null),
        new Call("POST", "/v1/agents", "application/json", "{\"name\": \"mallory\"}".getBytes(StandardCharsets.UTF_8)),
        new Call("GET", "/v1/agents", null, null),
        new Call("POST", "/v1/agents/owner/tokens", null, null),
        new Call("GET", "/v1/tokens", null, null),
        new Call("DELETE", "/v1/tokens/" + ownerTokenId(), null, null),
        new Call("GET", "/v1/no-such-endpoint", null, null));
  }

  record Call(String method, String path, String contentType, byte[] body) {
    RawHttp.Reply send(int port, String authorization) {
      return send(port, authorization, "127.0.0.1:" + port);
    }

    RawHttp.Reply send(int port, String authorization, String host) {
      Map<String, String> headers = new java.util.LinkedHashMap<>();
      headers.put("Host", host);
      headers.put("Authorization", authorization);
      headers.put("Content-Type", contentType);
      return RawHttp.send(port, method, path, headers, body);
    }
  }

  @Test
  void missingMalformedWrongAndRevokedTokensAre401WithNothingWritten() {
    String revoked = issue("owner");
    String revokedId = revoked.split("_")[1];
    assertThat(owner.delete("/v1/tokens/" + revokedId).status()).isEqualTo(200);
    String valid = owner.token();
    String secretFlipped = valid.substring(0, valid.length() - 1) + (valid.endsWith("A") ? "B" : "A");
    List<String> refused = new ArrayList<>();
    refused.add(null); // no Authorization header
    refused.addAll(List.of("", "Bearer", "Bearer ", "Basic b3duZXI6cGFzcw==", valid, "Token " + valid, "Bearer " + valid + " x",
        "Bearer " + secretFlipped, "Bearer " + valid.substring(0, valid.length() - 2), "Bearer mnemo_0000000000000000_abc",
        "Bearer not-a-mnemo-token", "Bearer " + "x".repeat(2000), "Bearer " + revoked));
    long position = node.node().store().log().lastPosition();
    var namespaces = node.node().store().log().namespaces();
    int agents = node.node().agents().agents().size();
    int tokens = node.node().agents().tokens().size();
    for (Call call : routes()) {
      for (String authorization : refused) {
        RawHttp.Reply reply = call.send(node.node().port(), authorization);
        String what = call.method() + " " + call.path() + " with " + authorization + ": " + reply;
        assertThat(reply.status()).as(what).isEqualTo(401);
        assertThat(reply.header("Content-Type")).as(what).startsWith("application/json");
        assertThat(reply.header("WWW-Authenticate")).as(what).startsWith("Bearer");
        assertThat(reply.json().path("error").path("code").asText()).as(what).isEqualTo("unauthorized");
        assertThat(reply.json().path("error").path("message").asText()).as(what).isNotBlank();
      }
    }
    assertThat(node.node().store().log().lastPosition()).isEqualTo(position);
    assertThat(node.node().store().log().namespaces()).isEqualTo(namespaces);
    assertThat(node.node().agents().agents()).hasSize(agents);
    assertThat(node.node().agents().tokens()).hasSize(tokens);
    assertThat(owner.get("/v1/memories/" + cid).status()).isEqualTo(200);
  }

  /**
   * Node-to-node routes take a bearer token or a node's signed request, which the routes verify
   * themselves; a request that is neither is 401, and one that only looks like a node's (another
   * spelling of the scheme) is an agent's request with a bad token, never a request of no one.
   */
  @Test
  void nodeRoutesTakeSignedNodeRequestsOrTokens() {
    int port = node.node().port();
    Call heads = new Call("GET", "/v1/sync/heads", null, null);
    Call block = new Call("GET", "/v1/blocks/" + cid, null, null);
    for (Call call : List.of(heads, block)) {
      for (String authorization : java.util.Arrays.asList(null, "MnemoNode did=did:key:z6Mk, ts=1, sig=x", "mnemonode x",
          "MNEMONODE did=x", "Bearer mnemo_0000000000000000_nope")) {
        RawHttp.Reply reply = call.send(port, authorization);
        assertThat(reply.status()).as(call.path() + " with " + authorization + ": " + reply).isEqualTo(401);
        assertThat(reply.json().path("error").path("code").asText()).isEqualTo("unauthorized");
      }
    }
    // an agent reads a block with its token, but the sync calls are for nodes only
    assertThat(block.send(port, "Bearer " + owner.token()).status()).isEqualTo(200);
    assertThat(heads.send(port, "Bearer " + owner.token()).status()).isEqualTo(401);
  }

  /** The checks decide on the path the routes match: dot segments cannot dress a write as /health or a node route. */
  @Test
  void dotSegmentsDoNotDressAWriteAsAnOpenRoute() {
    int port = node.node().port();
    long position = node.node().store().log().lastPosition();
    byte[] body = ApiClient.bytes(memory("smuggled", 11));
    for (String target : List.of("/v1/sync/../namespaces/smuggled/memories", "/v1/sync/%2E%2E/namespaces/smuggled/memories",
        "/v1/sync/%2e%2e/namespaces/smuggled/memories", "/health/../v1/namespaces/smuggled/memories",
        "/v1/sync/./../namespaces/smuggled/memories", "/v1/sync/heads/../../namespaces/smuggled/memories")) {
      RawHttp.Reply reply = RawHttp.send(port, "POST", target, Map.of("Host", "localhost", "Content-Type", "application/json"), body);
      assertThat(reply.status()).as(target + ": " + reply).isIn(400, 401, 404);
    }
    for (String malformed : List.of("/v1/memories/%zz", "/v1/sync/%zz", "/health%zz", "/%")) {
      RawHttp.Reply reply = RawHttp.get(port, malformed, Map.of("Host", "localhost"));
      assertThat(reply.status()).as(malformed + ": " + reply).isEqualTo(400);
      assertThat(reply.json().path("error").path("code").asText()).isEqualTo("bad_request");
    }
    RawHttp.Reply node = RawHttp.get(port, "/health/../v1/node", Map.of("Host", "localhost"));
    assertThat(node.status()).as("%s", node).isIn(400, 401, 404);
    assertThat(AuthApiTest.node.node().store().log().lastPosition()).isEqualTo(position);
    assertThat(AuthApiTest.node.node().store().log().namespaces()).doesNotContain("smuggled");
  }

  @Test
  void healthNeedsNoToken() {
    RawHttp.Reply health = RawHttp.get(node.node().port(), "/health", Map.of("Host", "localhost"));
    assertThat(health.status()).isEqualTo(200);
    assertThat(health.json().path("status").asText()).isEqualTo("ok");
  }

  @Test
  void anAgentWritesWithItsOwnTokenButAdminCallsAre403() {
    Response created = owner.post("/v1/agents", Map.of("name", "writer"));
    assertThat(created.status()).as("%s", created).isEqualTo(201);
    JsonNode body = created.json();
    assertThat(body.path("name").asText()).isEqualTo("writer");
    assertThat(body.path("did").asText()).startsWith("did:key:z6Mk");
    String token = body.path("token").asText();
    assertThat(token).startsWith("mnemo_" + body.path("tokenId").asText() + "_");
    ApiClient writer = owner.withToken(token);

    String written = writer.remember("writers", memory("written by an agent", 4));
    assertThat(writer.getJson("/v1/memories/" + written).path("text").asText()).isEqualTo("written by an agent");

    long position = node.node().store().log().lastPosition();
    int tokens = node.node().agents().tokens().size();
    for (Call call : routes()) {
      if (!List.of("/v1/node", "/metrics").contains(call.path()) && !call.path().startsWith("/v1/agents")
          && !call.path().startsWith("/v1/tokens")) {
        continue;
      }
      RawHttp.Reply reply = call.send(node.node().port(), "Bearer " + token);
      String what = call.method() + " " + call.path() + ": " + reply;
      assertThat(reply.status()).as(what).isEqualTo(403);
      assertThat(reply.json().path("error").path("code").asText()).as(what).isEqualTo("forbidden");
    }
    assertThat(node.node().store().log().lastPosition()).isEqualTo(position);
    assertThat(node.node().agents().tokens()).hasSize(tokens);
    assertThat(node.node().agents().agent("mallory")).isEmpty();
  }

  @Test
  void theOwnerManagesAgentsAndTokens() {
    Response created = owner.post("/v1/agents", Map.of("name", "helper"));
    assertThat(created.status()).as("%s", created).isEqualTo(201);
    String token = created.json().path("token").asText();
    String id = created.json().path("tokenId").asText();
    assertError(owner.post("/v1/agents", Map.of("name", "helper")), 409, "conflict");
    assertError(owner.post("/v1/agents", Map.of("name", "no spaces")), 422, "validation_failed");
    assertError(owner.post("/v1/agents", Map.of("nom", "x")), 422, "validation_failed");
    assertError(owner.post("/v1/agents", List.of("helper")), 422, "validation_failed");
    assertError(owner.postRaw("/v1/agents", "application/json", "{"), 400, "invalid_json");
    assertError(owner.postRaw("/v1/agents", "text/plain", "{\"name\": \"x\"}"), 415, "unsupported_media_type");
    assertError(owner.postRaw("/v1/agents", "application/json", "{\"name\": \"" + "x".repeat(5000) + "\"}"), 413, "too_large");

    JsonNode agents = owner.getJson("/v1/agents").path("agents");
    assertThat(agents.findValuesAsText("name")).contains("owner", "helper");
    for (JsonNode agent : agents) {
      assertThat(agent.has("seed") || agent.has("key")).isFalse();
    }

    Response second = owner.post("/v1/agents/helper/tokens", Map.of());
    assertThat(second.status()).as("%s", second).isEqualTo(201);
    String token2 = second.json().path("token").asText();
    assertError(owner.post("/v1/agents/nobody/tokens", Map.of()), 404, "not_found");

    Response listed = owner.get("/v1/tokens");
    assertThat(listed.status()).isEqualTo(200);
    assertThat(listed.text()).doesNotContain(secretOf(token))
        .doesNotContain(secretOf(token2)).doesNotContain("hash");
    JsonNode helperToken = null;
    for (JsonNode t : listed.json().path("tokens")) {
      if (t.path("id").asText().equals(id)) {
        helperToken = t;
      }
    }
    assertThat(helperToken).isNotNull();
    assertThat(helperToken.path("name").asText()).isEqualTo("helper");
    assertThat(helperToken.path("revoked").asBoolean()).isFalse();

    ApiClient helper = owner.withToken(token);
    // The helper reads a namespace of its own ("notes" is the owner's, which it may not read).
    assertThat(helper.get("/v1/namespaces/helper-notes/memories").status()).isEqualTo(200);
    assertError(helper.get("/v1/namespaces/notes/memories"), 403, "forbidden");
    Response revoked = owner.delete("/v1/tokens/" + id);
    assertThat(revoked.status()).as("%s", revoked).isEqualTo(200);
    assertThat(revoked.json().path("revoked").asBoolean()).isTrue();
    assertError(helper.get("/v1/namespaces/helper-notes/memories"), 401, "unauthorized");
    // the agent's other token still works
    assertThat(owner.withToken(token2).get("/v1/namespaces/helper-notes/memories").status()).isEqualTo(200);
    assertError(owner.delete("/v1/tokens/ffffffffffffffff"), 404, "not_found");
  }

  @Test
  void aForeignHostIs421BeforeAuthentication() {
    int port = node.node().port();
    Call list = new Call("GET", "/v1/namespaces/notes/memories", null, null);
    String bearer = "Bearer " + owner.token();
    for (String host : List.of("rebind.attacker.example", "rebind.attacker.example:" + port, "localhost.attacker.example",
        "127.0.0.1.nip.io:" + port, "mnemo.internal.example.evil")) {
      RawHttp.Reply reply = list.send(port, bearer, host);
      assertThat(reply.status()).as(host + ": " + reply).isEqualTo(421);
      assertThat(reply.json().path("error").path("code").asText()).isEqualTo("misdirected_request");
      // before authentication: no token is needed to be told so, and a write is refused too
      assertThat(list.send(port, null, host).status()).isEqualTo(421);
      assertThat(new Call("POST", "/v1/namespaces/rebound/memories", "application/json",
          ApiClient.bytes(memory("rebound", 9))).send(port, bearer, host).status()).isEqualTo(421);
      assertThat(RawHttp.get(port, "/health", Map.of("Host", host)).status()).isEqualTo(421);
    }
    assertThat(node.node().store().log().namespaces()).doesNotContain("rebound");
    for (String host : List.of("localhost", "localhost:" + port, "127.0.0.1:" + port, "[::1]:" + port, "LocalHost",
        "mnemo.internal.example", "MNEMO.internal.example:" + port)) {
      RawHttp.Reply reply = list.send(port, bearer, host);
      assertThat(reply.status()).as(host + ": " + reply).isEqualTo(200);
    }
  }

  @Test
  void noCorsHeadersUnlessConfigured() {
    int port = node.node().port();
    RawHttp.Reply reply = RawHttp.get(port, "/v1/namespaces/notes/memories", Map.of("Host", "localhost",
        "Authorization", "Bearer " + owner.token(), "Origin", "https://evil.example"));
    assertThat(reply.status()).isEqualTo(200);
    assertThat(reply.headers().keySet()).noneMatch(h -> h.startsWith("access-control-"));
    RawHttp.Reply preflight = RawHttp.send(port, "OPTIONS", "/v1/namespaces/notes/memories", Map.of("Host", "localhost",
        "Origin", "https://evil.example", "Access-Control-Request-Method", "POST"), null);
    assertThat(preflight.headers().keySet()).noneMatch(h -> h.startsWith("access-control-"));
  }

  @Test
  void configuredCorsOriginsGetCorsHeaders() {
    try (TestNode cors = TestNode.start(dir.resolve("cors"), TestNode.NONE, Map.of("corsOrigins", "https://app.example"))) {
      int port = cors.node().port();
      RawHttp.Reply preflight = RawHttp.send(port, "OPTIONS", "/v1/namespaces/notes/memories", Map.of("Host", "localhost",
          "Origin", "https://app.example", "Access-Control-Request-Method", "POST",
          "Access-Control-Request-Headers", "authorization,content-type"), null);
      assertThat(preflight.status()).as("%s", preflight).isBetween(200, 204);
      assertThat(preflight.header("Access-Control-Allow-Origin")).isEqualTo("https://app.example");
      RawHttp.Reply call = RawHttp.get(port, "/v1/namespaces/notes/memories", Map.of("Host", "localhost",
          "Authorization", "Bearer " + cors.api().token(), "Origin", "https://app.example"));
      assertThat(call.status()).isEqualTo(200);
      assertThat(call.header("Access-Control-Allow-Origin")).isEqualTo("https://app.example");
      RawHttp.Reply other = RawHttp.get(port, "/v1/namespaces/notes/memories", Map.of("Host", "localhost",
          "Authorization", "Bearer " + cors.api().token(), "Origin", "https://evil.example"));
      assertThat(other.status()).as("%s", other).isEqualTo(200);
      assertThat(other.headers().keySet()).noneMatch(h -> h.startsWith("access-control-"));
    }
  }

  @Test
  void failedAttemptsAreLimitedPerAddress() {
    try (TestNode limited = TestNode.start(dir.resolve("limited"), TestNode.NONE, Map.of("authFailuresPerMinute", "5"))) {
      int port = limited.node().port();
      Call list = new Call("GET", "/v1/namespaces/notes/memories", null, null);
      for (int i = 0; i < 5; i++) {
        assertThat(list.send(port, "Bearer mnemo_0000000000000000_guess" + i).status()).isEqualTo(401);
      }
      RawHttp.Reply limitedReply = list.send(port, "Bearer mnemo_0000000000000000_guess");
      assertThat(limitedReply.status()).as("%s", limitedReply).isEqualTo(429);
      assertThat(limitedReply.json().path("error").path("code").asText()).isEqualTo("too_many_requests");
      assertThat(Long.parseLong(limitedReply.header("Retry-After"))).isBetween(1L, 12L);
      // the token is not even looked at while the address is over its limit
      assertThat(list.send(port, "Bearer " + limited.api().token()).status()).isEqualTo(429);
      // a request without a token is not a guess: told 401, not counted
      assertThat(list.send(port, null).status()).isEqualTo(401);
      assertThat(RawHttp.get(port, "/health", Map.of("Host", "localhost")).status()).isEqualTo(200);
    }
  }

  @Test
  void aSecondStartKeepsTheOwnerAndItsToken() {
    Path data = dir.resolve("restart");
    String token;
    String did;
    try (TestNode first = TestNode.start(data, TestNode.NONE)) {
      token = first.api().token();
      did = first.node().agents().agent("owner").orElseThrow().did().toString();
      first.api().remember("kept", memory("kept", 5));
    }
    try (TestNode second = TestNode.start(data, TestNode.NONE)) {
      assertThat(second.api().token()).isEqualTo(token);
      assertThat(second.node().agents().agents()).hasSize(1);
      assertThat(second.node().agents().agent("owner").orElseThrow().did().toString()).isEqualTo(did);
      assertThat(second.api().listAll("kept")).hasSize(1);
    }
  }

  @Test
  void ownerKeyFileMakesThatAgentTheOwner() throws Exception {
    Path key = dir.resolve("shared-owner.key");
    dev.mnemo.store.identity.AgentKey shared = dev.mnemo.store.identity.AgentKey.generate();
    AgentKeyFile.write(key, shared);
    try (TestNode a = TestNode.start(dir.resolve("a"), TestNode.NONE, Map.of("ownerKeyFile", key.toString()))) {
      assertThat(a.node().agents().agent("owner").orElseThrow().did()).isEqualTo(shared.did());
      assertThat(a.api().get("/v1/node").status()).isEqualTo(200);
    }
  }

  @Test
  void withAuthenticationOffEveryCallerActsAsTheOwner() {
    try (TestNode open = TestNode.start(dir.resolve("open"), TestNode.NONE, Map.of("auth", "false"))) {
      ApiClient anonymous = open.api().withToken(null);
      String written = anonymous.remember("open", memory("no token needed", 6));
      assertThat(anonymous.getJson("/v1/memories/" + written).path("text").asText()).isEqualTo("no token needed");
      assertThat(anonymous.get("/v1/agents").status()).isEqualTo(200);
      // the Host check stays on
      assertThat(RawHttp.get(open.node().port(), "/v1/agents", Map.of("Host", "rebind.attacker.example")).status()).isEqualTo(421);
    }
  }

  private static String issue(String agent) {
    Response r = owner.post("/v1/agents/" + agent + "/tokens", Map.of());
    assertThat(r.status()).as("%s", r).isEqualTo(201);
    return r.json().path("token").asText();
  }

  private static String ownerTokenId() {
    return owner.token().split("_")[1];
  }

  static Map<String, Object> memory(String text, long seed) {
    Map<String, Object> m = new HashMap<>();
    m.put("text", text);
    m.put("vector", TestVectors.random(seed));
    return m;
  }

  /**
   * The secret of a {@code mnemo_<id>_<secret>} token. Not after its last '_': the secret is
   * base64url and may hold one, which left a single character that the listing did contain.
   */
  private static String secretOf(String token) {
    return token.substring(dev.mnemo.node.auth.AgentRegistry.TOKEN_PREFIX.length() + 16 + 1);
  }
}
