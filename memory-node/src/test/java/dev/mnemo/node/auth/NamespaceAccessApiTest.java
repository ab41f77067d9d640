package dev.mnemo.node.auth;

import static dev.mnemo.node.ApiClient.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mnemo.node.ApiClient;
import dev.mnemo.node.ApiClient.Response;
import dev.mnemo.node.TestNode;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Per-namespace access through the API (issue 17, sections 3 and 4): an agent without a grant gets
 * 403 on the namespace's routes and 404 for its CIDs, with nothing written; writing to a namespace
 * that does not exist creates it, owned by the writer.
 */
class NamespaceAccessApiTest {
  @TempDir static Path dir;
  private static TestNode node;
  private static ApiClient alice;
  private static ApiClient bob;
  private static String cid;

  @BeforeAll
  static void start() {
    node = TestNode.start(dir, TestNode.NONE);
    alice = node.api().withToken(node.api().post("/v1/agents", Map.of("name", "alice")).json().path("token").asText());
    bob = node.api().withToken(node.api().post("/v1/agents", Map.of("name", "bob")).json().path("token").asText());
    cid = alice.remember("alices", AuthApiTest.memory("alice's memory", 1));
  }

  @AfterAll
  static void stop() {
    if (node != null) {
      node.close();
    }
  }

  @Test
  void anAgentWithoutAGrantIsRefusedEveryRouteOfTheNamespace() {
    long position = node.node().store().log().lastPosition();
    List<Response> refused = List.of(
        bob.post("/v1/namespaces/alices/memories", AuthApiTest.memory("bob's intrusion", 2)),
        bob.post("/v1/namespaces/alices/recall", Map.of("vector", dev.mnemo.node.TestVectors.random(1), "k", 1)),
        bob.get("/v1/namespaces/alices/memories"),
        bob.delete("/v1/namespaces/alices/memories/" + cid),
        bob.get("/v1/namespaces/alices/export"),
        bob.postRaw("/v1/namespaces/alices/import", ApiClient.CAR_TYPE, alice.get("/v1/namespaces/alices/export").body()));
    for (Response r : refused) {
      assertError(r, 403, "forbidden");
    }
    // no existence leak: another namespace's CIDs are not found
    assertError(bob.get("/v1/memories/" + cid), 404, "not_found");
    assertError(bob.get("/v1/memories/" + cid + "/history"), 404, "not_found");
    assertError(bob.get("/v1/blocks/" + cid), 404, "not_found");
    assertThat(node.node().store().log().lastPosition()).isEqualTo(position);
    assertThat(alice.listAll("alices")).containsExactly(cid);
  }

  @Test
  void writingToANewNamespaceMakesTheWriterItsOwner() {
    bob.remember("bobs", AuthApiTest.memory("bob's own", 3));
    HostedAgent b = node.node().agents().agent("bob").orElseThrow();
    assertThat(node.node().store().log().acl("bobs").isOwner(b.did())).isTrue();
    assertError(alice.get("/v1/namespaces/bobs/memories"), 403, "forbidden");
  }
}
