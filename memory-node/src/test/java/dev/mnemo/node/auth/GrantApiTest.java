package dev.mnemo.node.auth;

import static dev.mnemo.node.ApiClient.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mnemo.node.ApiClient;
import dev.mnemo.node.ApiClient.Response;
import dev.mnemo.node.TestNode;
import dev.mnemo.node.TestVectors;
import dev.mnemo.store.identity.AgentKey;
import java.net.http.HttpRequest.BodyPublishers;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The grant API on a real node (README "Namespaces and grants"): an owner creates a namespace,
 * grants and revokes other agents' abilities, and each answer of the namespace's routes follows.
 * Each test works in namespaces of its own, so they run in any order on one node.
 */
class GrantApiTest {
  @TempDir static Path dir;
  private static TestNode node;
  private static ApiClient owner;
  private static ApiClient alice;
  private static ApiClient bob;
  private static ApiClient carol;
  private static ApiClient dave;

  @BeforeAll
  static void start() {
    node = TestNode.start(dir, TestNode.NONE);
    owner = node.api();
    alice = agent("alice");
    bob = agent("bob");
    carol = agent("carol");
    dave = agent("dave");
  }

  @AfterAll
  static void stop() {
    if (node != null) {
      node.close();
    }
  }

  private static ApiClient agent(String name) {
    Response created = owner.post("/v1/agents", Map.of("name", name));
    assertThat(created.status()).as("%s", created).isEqualTo(201);
    return owner.withToken(created.json().path("token").asText());
  }

  private static String did(ApiClient client) {
    return client.getJson("/v1/whoami").path("did").asText();
  }

  private static Response create(ApiClient client, String ns) {
    return client.send("PUT", "/v1/namespaces/" + ns, null, BodyPublishers.noBody());
  }

  private static Response grant(ApiClient client, String ns, ApiClient to, String... can) {
    return client.post("/v1/namespaces/" + ns + "/grants", Map.of("to", did(to), "can", List.of(can)));
  }

  private static Response revoke(ApiClient client, String ns, ApiClient to, String... can) {
    return client.post("/v1/namespaces/" + ns + "/revocations", Map.of("to", did(to), "can", List.of(can)));
  }

  private static String entry(Response r, int status) {
    assertThat(r.status()).as("%s", r).isEqualTo(status);
    String entry = r.json().path("entry").asText();
    assertThat(entry).as("%s", r).startsWith("bafyrei");
    return entry;
  }

  private static Map<String, Object> recall(long seed) {
    return Map.of("vector", TestVectors.random(seed), "k", 10);
  }

  /** Every route of namespace {@code ns} as {@code client} calls it, with a body that would be accepted. */
  private static List<Response> everyRoute(ApiClient client, String ns, String cid) {
    String base = "/v1/namespaces/" + ns;
    return List.of(
        client.post(base + "/memories", AuthApiTest.memory("an intrusion", 99)),
        client.post(base + "/recall", recall(99)),
        client.get(base + "/memories"),
        client.delete(base + "/memories/" + cid),
        client.get(base + "/export"),
        client.postRaw(base + "/import", ApiClient.CAR_TYPE, alice.get(base + "/export").body()),
        client.post(base + "/grants", Map.of("to", did(client), "can", List.of("read"))),
        client.post(base + "/revocations", Map.of("to", did(alice), "can", List.of("read"))),
        client.get(base + "/acl"));
  }

  @Test
  void theOwnerGrantsAndRevokesAndEachRouteFollows() {
    Response created = create(alice, "shared");
    assertThat(created.status()).as("%s", created).isEqualTo(201);
    assertThat(created.json().path("ns").asText()).isEqualTo("shared");
    assertThat(created.json().path("owner").asText()).isEqualTo(did(alice));
    String root = created.json().path("entry").asText();
    assertThat(root).startsWith("bafyrei");
    String mine = alice.remember("shared", AuthApiTest.memory("alice's plan", 1));

    // no grant: every route refused, nothing written, and its CIDs are not found
    long position = node.node().store().log().lastPosition();
    for (Response r : everyRoute(bob, "shared", mine)) {
      assertError(r, 403, "forbidden");
    }
    for (String path : List.of("/v1/memories/" + mine, "/v1/memories/" + mine + "/history", "/v1/blocks/" + mine, "/v1/blocks/" + root)) {
      assertError(bob.get(path), 404, "not_found");
    }
    assertThat(node.node().store().log().lastPosition()).isEqualTo(position);

    // remember: writes, but still cannot read
    entry(grant(alice, "shared", bob, "remember"), 201);
    String bobs = bob.remember("shared", AuthApiTest.memory("bob's note", 2));
    assertError(bob.post("/v1/namespaces/shared/recall", recall(2)), 403, "forbidden");
    assertError(bob.get("/v1/namespaces/shared/memories"), 403, "forbidden");
    assertError(bob.get("/v1/namespaces/shared/export"), 403, "forbidden");
    assertError(bob.get("/v1/namespaces/shared/acl"), 403, "forbidden");
    assertError(bob.get("/v1/memories/" + bobs), 404, "not_found");
    assertError(bob.delete("/v1/namespaces/shared/memories/" + bobs), 403, "forbidden");

    // read: recalls what both wrote
    entry(grant(alice, "shared", bob, "read"), 201);
    assertThat(bob.recallCids("shared", recall(2)).get(0)).isEqualTo(bobs);
    assertThat(bob.recallCids("shared", recall(1))).contains(mine);
    assertThat(bob.getJson("/v1/memories/" + mine).path("text").asText()).isEqualTo("alice's plan");

    // revoke remember: writes refused again; what bob wrote before stays, and he still reads
    String revoked = entry(revoke(alice, "shared", bob, "remember"), 200);
    assertThat(revoked).isNotEqualTo(root);
    position = node.node().store().log().lastPosition();
    assertError(bob.post("/v1/namespaces/shared/memories", AuthApiTest.memory("after the revoke", 3)), 403, "forbidden");
    assertThat(node.node().store().log().lastPosition()).isEqualTo(position);
    assertThat(alice.listAll("shared")).containsExactly(mine, bobs);
    assertThat(bob.recallCids("shared", recall(2)).get(0)).isEqualTo(bobs);

    // a holder of read and nothing else cannot grant or revoke, even to itself
    position = node.node().store().log().lastPosition();
    assertError(grant(bob, "shared", bob, "remember"), 403, "forbidden");
    assertError(grant(bob, "shared", carol, "read"), 403, "forbidden");
    assertError(revoke(bob, "shared", alice, "read"), 403, "forbidden");
    // administering the node is not administering a namespace
    assertError(grant(owner, "shared", owner, "read"), 403, "forbidden");
    assertError(owner.get("/v1/namespaces/shared/memories"), 403, "forbidden");
    assertThat(node.node().store().log().lastPosition()).isEqualTo(position);

    JsonNode acl = bob.getJson("/v1/namespaces/shared/acl");
    assertThat(acl.path("ns").asText()).isEqualTo("shared");
    assertThat(texts(acl.path("owners"))).containsExactly(did(alice));
    assertThat(acl.path("grants").size()).as("%s", acl).isEqualTo(1);
    assertThat(texts(acl.path("grants").path(did(bob)))).containsExactly("read");
  }

  @Test
  void anAdminGrantsAndRevokesButCannotRevokeTheOwner() {
    entry(create(alice, "team"), 201);
    entry(grant(alice, "team", carol, "admin"), 201);
    // carol administers: she grants dave read and remember, and revokes one of them
    entry(grant(carol, "team", dave, "read", "remember"), 201);
    String daves = dave.remember("team", AuthApiTest.memory("dave's", 10));
    assertThat(dave.recallCids("team", recall(10)).get(0)).isEqualTo(daves);
    entry(revoke(carol, "team", dave, "remember"), 200);
    assertError(dave.post("/v1/namespaces/team/memories", AuthApiTest.memory("dave again", 11)), 403, "forbidden");
    // her admin implies every ability, which the ACL spells out
    JsonNode acl = alice.getJson("/v1/namespaces/team/acl");
    assertThat(texts(acl.path("grants").path(did(carol)))).contains("admin", "read", "remember", "forget");
    assertThat(texts(acl.path("grants").path(did(dave)))).containsExactly("read");

    long position = node.node().store().log().lastPosition();
    for (ApiClient admin : List.of(alice, carol)) {
      assertError(revoke(admin, "team", alice, "read"), 422, "validation_failed");
      assertError(revoke(admin, "team", alice, "admin"), 422, "validation_failed");
    }
    assertThat(node.node().store().log().lastPosition()).isEqualTo(position);
    assertThat(alice.listAll("team")).containsExactly(daves);

    // the owner takes admin back; carol is then refused
    entry(revoke(alice, "team", carol, "admin"), 200);
    assertError(grant(carol, "team", bob, "read"), 403, "forbidden");
    assertError(carol.get("/v1/namespaces/team/memories"), 403, "forbidden");
  }

  @Test
  void creatingANamespaceThatExistsIs409() {
    entry(create(alice, "once"), 201);
    long position = node.node().store().log().lastPosition();
    assertError(create(alice, "once"), 409, "namespace_exists");
    assertError(create(bob, "once"), 409, "namespace_exists");
    // a namespace made by its first write exists as well
    bob.remember("bobs-first", AuthApiTest.memory("bob's first", 20));
    position = node.node().store().log().lastPosition();
    assertError(create(alice, "bobs-first"), 409, "namespace_exists");
    assertThat(node.node().store().log().lastPosition()).isEqualTo(position);
    assertError(create(alice, "not%20valid"), 400, "invalid_namespace");
    // a create takes no body; one sent is refused, and the connection serves the next call
    assertError(alice.send("PUT", "/v1/namespaces/with-body", ApiClient.JSON_TYPE, BodyPublishers.ofString("{\"owner\": \"me\"}")),
        422, "validation_failed");
    assertThat(alice.getJson("/v1/whoami").path("name").asText()).isEqualTo("alice");
    assertThat(node.node().store().log().lastPosition()).isEqualTo(position);
    assertThat(node.node().store().log().namespaces()).doesNotContain("with-body");
    // an empty namespace: listed empty to its owner, refused to others
    assertThat(alice.listAll("once")).isEmpty();
    assertError(bob.get("/v1/namespaces/once/memories"), 403, "forbidden");
  }

  @Test
  void grantsInANamespaceThatIsNotHereAre404AndCreateNothing() {
    long position = node.node().store().log().lastPosition();
    assertError(grant(alice, "nowhere", bob, "read"), 404, "not_found");
    assertError(revoke(alice, "nowhere", bob, "read"), 404, "not_found");
    assertError(alice.get("/v1/namespaces/nowhere/acl"), 404, "not_found");
    assertThat(node.node().store().log().lastPosition()).isEqualTo(position);
    assertThat(node.node().store().log().namespaces()).doesNotContain("nowhere");
  }

  @Test
  void badBodiesAre4xxWithNothingWritten() {
    entry(create(alice, "strict"), 201);
    String bobDid = did(bob);
    String path = "/v1/namespaces/strict/grants";
    long position = node.node().store().log().lastPosition();
    List<Object> invalid = new ArrayList<>(List.of(
        Map.of("to", "did:key:nope", "can", List.of("read")),
        Map.of("to", "did:web:example.com", "can", List.of("read")),
        Map.of("to", 7, "can", List.of("read")),
        Map.of("can", List.of("read")),
        Map.of("to", bobDid),
        Map.of("to", bobDid, "can", List.of()),
        Map.of("to", bobDid, "can", "read"),
        Map.of("to", bobDid, "can", List.of("fly")),
        Map.of("to", bobDid, "can", List.of("READ")),
        Map.of("to", bobDid, "can", List.of(1)),
        Map.of("to", bobDid, "can", List.of("read", "read")),
        Map.of("to", bobDid, "can", List.of("read"), "until", 5)));
    for (Object body : invalid) {
      for (String route : List.of(path, "/v1/namespaces/strict/revocations")) {
        assertError(alice.post(route, body), 422, "validation_failed");
      }
    }
    assertError(alice.postRaw(path, ApiClient.JSON_TYPE, "{\"to\": "), 400, "invalid_json");
    assertError(alice.postRaw(path, ApiClient.JSON_TYPE, "[]"), 400, "invalid_json");
    assertError(alice.postRaw(path, ApiClient.JSON_TYPE, ""), 400, "invalid_json");
    assertError(alice.postRaw(path, "text/plain", "to=bob"), 415, "unsupported_media_type");
    assertError(alice.post("/v1/namespaces/bad%20name/grants", Map.of("to", bobDid, "can", List.of("read"))), 400, "invalid_namespace");
    assertError(alice.get("/v1/namespaces/bad%20name/acl"), 400, "invalid_namespace");
    assertError(alice.send("PATCH", "/v1/namespaces/strict", null, BodyPublishers.noBody()), 405, "method_not_allowed");
    assertError(alice.get(path), 405, "method_not_allowed");
    assertThat(node.node().store().log().lastPosition()).isEqualTo(position);

    // an agent this node does not host is a did like any other
    String stranger = AgentKey.generate().did().toString();
    entry(alice.post(path, Map.of("to", stranger, "can", List.of("replicate", "read"))), 201);
    assertThat(texts(alice.getJson("/v1/namespaces/strict/acl").path("grants").path(stranger))).containsExactly("read", "replicate");
  }

  @Test
  void whoamiNamesTheCallingAgent() {
    JsonNode me = alice.getJson("/v1/whoami");
    assertThat(me.path("name").asText()).isEqualTo("alice");
    assertThat(me.path("did").asText()).isEqualTo(node.node().agents().agent("alice").orElseThrow().did().toString());
    assertThat(me.path("admin").asBoolean()).isFalse();
    JsonNode root = owner.getJson("/v1/whoami");
    assertThat(root.path("name").asText()).isEqualTo("owner");
    assertThat(root.path("admin").asBoolean()).isTrue();
    assertError(owner.withToken(null).get("/v1/whoami"), 401, "unauthorized");
  }

  private static List<String> texts(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }
}
