package dev.mnemo.node.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mnemo.node.ApiClient;
import dev.mnemo.node.TestNode;
import dev.mnemo.node.TestVectors;
import dev.mnemo.store.block.Block;
import dev.mnemo.store.car.CarReader;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.identity.AgentKey;
import dev.mnemo.store.identity.DidKey;
import dev.mnemo.sync.BlockRequest;
import dev.mnemo.sync.HeadsDigest;
import dev.mnemo.sync.PeerAuth;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node-to-node routes on a real node: only signed requests are answered, and a signed request
 * gets only what its node may replicate (here: the operator's allowlist names one node).
 */
class PeerEndpointApiTest {
  private static final String DAG_CBOR = "application/vnd.ipld.dag-cbor";
  private static final AgentKey TRUSTED = AgentKey.generate();
  private static final AgentKey STRANGER = AgentKey.generate();

  @TempDir static Path dir;
  private static TestNode node;
  private static DidKey nodeDid;
  private static List<Cid> memories;
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(dir, TestNode.NONE, Map.of("replicationPeers", TRUSTED.did().toString()));
    nodeDid = node.node().store().nodeKey().did();
    memories = node.api().rememberAll("shared", List.of(Map.of("text", "one", "vector", TestVectors.random(1)),
        Map.of("text", "two", "vector", TestVectors.random(2)))).stream().map(PeerEndpointApiTest::cid).toList();
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  @Test
  void unsignedAndBadlySignedNodeCallsAre401() throws Exception {
    byte[] request = new BlockRequest(memories).encode();
    assertThat(call("GET", "/v1/sync/heads", null, null).statusCode()).isEqualTo(401);
    assertThat(call("POST", "/v1/sync/blocks", null, request).statusCode()).isEqualTo(401);
    // Signed for another node, or for another path: not good here.
    String forOther = new PeerAuth(TRUSTED).sign(STRANGER.did(), "GET", "/v1/sync/heads", new byte[0]);
    HttpResponse<byte[]> wrongAudience = call("GET", "/v1/sync/heads", forOther, null);
    assertThat(wrongAudience.statusCode()).isEqualTo(401);
    assertThat(new String(wrongAudience.body(), StandardCharsets.UTF_8)).contains("\"code\":\"unauthorized\"");
    String forOtherPath = new PeerAuth(TRUSTED).sign(nodeDid, "GET", "/v1/sync/heads?x=1", new byte[0]);
    assertThat(call("GET", "/v1/sync/heads", forOtherPath, null).statusCode()).isEqualTo(401);
  }

  @Test
  void aNodeMayReplicateOnlyWhatItIsAllowedTo() throws Exception {
    assertThat(digest(TRUSTED).namespaces()).containsKey("shared");
    assertThat(servedBlocks(TRUSTED)).containsExactlyElementsOf(memories);
    assertThat(blockStatus(TRUSTED, memories.get(0))).isEqualTo(200);

    // A node with a valid key but no grant: no head, no block, and no sign the namespace exists.
    assertThat(digest(STRANGER).namespaces()).isEmpty();
    assertThat(servedBlocks(STRANGER)).isEmpty();
    assertThat(blockStatus(STRANGER, memories.get(0))).isEqualTo(404);
  }

  @Test
  void aSignedMalformedBlockRequestIs400() throws Exception {
    for (byte[] body : List.of(new byte[0], "not DAG-CBOR".getBytes(StandardCharsets.UTF_8),
        dev.mnemo.store.codec.DagCbor.encode(Map.of("v", 1L, "cids", List.of())))) {
      HttpResponse<byte[]> response = call("POST", "/v1/sync/blocks", sign(TRUSTED, "POST", "/v1/sync/blocks", body), body);
      assertThat(response.statusCode()).isEqualTo(400);
      assertThat(new String(response.body(), StandardCharsets.UTF_8)).contains("\"code\":\"invalid_block_request\"");
    }
  }

  /** Digest protocol v2 over HTTP: signed requests only, filtered by the same policy, malformed ones a 400. */
  @Test
  void theV2DigestIsSignedFilteredAndChecked() throws Exception {
    byte[] everything = dev.mnemo.store.codec.DagCbor.encode(
        new java.util.TreeMap<>(Map.of("v", 2L, "want", "namespaces", "level", 0L, "nodes", List.of(0L))));
    String path = "/v1/sync/digest";
    assertThat(call("POST", path, null, everything).statusCode()).isEqualTo(401);
    for (AgentKey peer : List.of(TRUSTED, STRANGER)) {
      HttpResponse<byte[]> response = call("POST", path, sign(peer, "POST", path, everything), everything);
      assertThat(response.statusCode()).isEqualTo(200);
      Object namespaces = dev.mnemo.store.codec.DagCbor.decodeMap(response.body()).get("namespaces");
      assertThat(((Map<?, ?>) namespaces).containsKey("shared")).as("%s sees the namespace", peer.did()).isEqualTo(peer == TRUSTED);
    }
    byte[] bad = dev.mnemo.store.codec.DagCbor.encode(Map.of("v", 2L, "want", "children", "level", 9L, "nodes", List.of(0L)));
    HttpResponse<byte[]> response = call("POST", path, sign(TRUSTED, "POST", path, bad), bad);
    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(new String(response.body(), StandardCharsets.UTF_8)).contains("\"code\":\"invalid_block_request\"");
  }

  private static HeadsDigest digest(AgentKey peer) throws Exception {
    HttpResponse<byte[]> response = call("GET", "/v1/sync/heads", sign(peer, "GET", "/v1/sync/heads", new byte[0]), null);
    assertThat(response.statusCode()).isEqualTo(200);
    return HeadsDigest.decode(response.body());
  }

  private static List<Cid> servedBlocks(AgentKey peer) throws Exception {
    byte[] request = new BlockRequest(memories).encode();
    HttpResponse<byte[]> response = call("POST", "/v1/sync/blocks", sign(peer, "POST", "/v1/sync/blocks", request), request);
    assertThat(response.statusCode()).isEqualTo(200);
    CarReader car = new CarReader(new ByteArrayInputStream(response.body()));
    List<Cid> served = new ArrayList<>();
    for (Block block = car.next(); block != null; block = car.next()) {
      served.add(block.cid());
    }
    return served;
  }

  private static int blockStatus(AgentKey peer, Cid cid) throws Exception {
    String path = "/v1/blocks/" + cid;
    return call("GET", path, sign(peer, "GET", path, new byte[0]), null).statusCode();
  }

  private static String sign(AgentKey peer, String method, String path, byte[] body) {
    return new PeerAuth(peer).sign(nodeDid, method, path, body);
  }

  private static HttpResponse<byte[]> call(String method, String path, String authorization, byte[] body) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.node().port() + path))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
    if (body != null) {
      request.header("Content-Type", DAG_CBOR);
    }
    if (authorization != null) {
      request.header("Authorization", authorization);
    }
    return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  private static Cid cid(String text) {
    try {
      return Cid.parse(text);
    } catch (dev.mnemo.store.InvalidFormatException e) {
      throw new IllegalStateException(e);
    }
  }
}
