package dev.mnemo.node.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mnemo.node.TestVectors;
import dev.mnemo.sync.PeerTls;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three node processes that serve their HTTP API over TLS, each with its own self-signed
 * certificate, and trust the three certificates (tlsCa) when they call each other: a memory
 * written on one is replicated to the others over https, and the HTTP port speaks no plain HTTP.
 */
@ExtendWith(NodeLogsOnFailure.class)
class TlsClusterTest {
  private static final char[] PASSWORD = "changeit".toCharArray();
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;
  private final List<NodeProcess> nodes = new ArrayList<>();

  @AfterEach
  void stop() {
    nodes.forEach(NodeProcess::close);
  }

  @Test
  void aClusterReplicatesOverTls() throws Exception {
    List<String> names = List.of("a", "b", "c");
    StringBuilder trusted = new StringBuilder();
    for (String name : names) {
      trusted.append(Files.readString(selfSigned(dir.resolve("tls"), name)));
    }
    Path ca = Files.writeString(dir.resolve("tls").resolve("peers.pem"), trusted.toString());
    for (String name : names) {
      // One owner agent on every node: what it writes on A it may read on B and C.
      Map<String, String> env = Cluster.withSharedOwner(dir, Map.of(
          "MNEMO_TLS_CERT", dir.resolve("tls").resolve(name + ".crt.pem").toString(),
          "MNEMO_TLS_KEY", dir.resolve("tls").resolve(name + ".key.pem").toString(),
          "MNEMO_TLS_CA", ca.toString(), "MNEMO_ANTI_ENTROPY_MS", "500"));
      List<String> seeds = nodes.isEmpty() ? List.of() : List.of(nodes.get(0).gossip());
      nodes.add(NodeProcess.create(name, dir.resolve(name), seeds, env).launch());
    }
    HttpClient https = HttpClient.newBuilder().sslContext(PeerTls.trusting(ca)).version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(2)).build();
    for (NodeProcess node : nodes) {
      Await.until(Duration.ofSeconds(60), node.name() + " answers /health over https",
          () -> status(https, node, "GET", "/health", null) == 200, () -> node.name() + " not healthy");
    }

    byte[] memory = JSON.writeValueAsBytes(Map.of("text", "said over TLS", "vector", TestVectors.random(42)));
    HttpResponse<String> written = send(https, nodes.get(0), "POST", "/v1/namespaces/tls/memories", memory);
    assertThat(written.statusCode()).as(written.body()).isEqualTo(201);
    String cid = JSON.readTree(written.body()).path("cid").asText();
    for (NodeProcess node : nodes.subList(1, 3)) {
      Await.until(Duration.ofSeconds(30), node.name() + " has the memory written on a",
          () -> status(https, node, "GET", "/v1/memories/" + cid, null) == 200, () -> node.name() + " lacks " + cid);
    }
    HttpClient plain = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2)).build();
    assertThatThrownBy(() -> plain.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + nodes.get(1).httpPort() + "/health"))
        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()))
        .as("plain HTTP to a TLS port").isInstanceOf(IOException.class);
  }

  private int status(HttpClient client, NodeProcess node, String method, String path, byte[] body) {
    try {
      return send(client, node, method, path, body).statusCode();
    } catch (IOException e) {
      return -1;
    }
  }

  /** A request to the node over https, with its owner's token when the node keeps one. */
  private static HttpResponse<String> send(HttpClient client, NodeProcess node, String method, String path, byte[] body)
      throws IOException {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + node.httpPort() + path))
        .timeout(Duration.ofSeconds(10))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
    if (body != null) {
      request.header("Content-Type", "application/json");
    }
    Path token = node.dataDir().resolve("owner.token");
    if (Files.exists(token)) {
      request.header("Authorization", "Bearer " + Files.readString(token).trim());
    }
    try {
      return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
  }

  /**
   * A self-signed certificate for 127.0.0.1 made by the JDK's keytool (the JDK has no API that
   * makes one), written as PEM with its PKCS#8 key, as an operator would give them to a node.
   * Returns the certificate's file.
   */
  private static Path selfSigned(Path dir, String name) throws Exception {
    Files.createDirectories(dir);
    Path store = dir.resolve(name + ".p12");
    String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
    run(keytool, "-genkeypair", "-alias", name, "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=" + name,
        "-ext", "san=ip:127.0.0.1,dns:localhost", "-validity", "2", "-keystore", store.toString(), "-storetype", "PKCS12",
        "-storepass", new String(PASSWORD), "-keypass", new String(PASSWORD));
    Path cert = dir.resolve(name + ".crt.pem");
    run(keytool, "-exportcert", "-rfc", "-alias", name, "-keystore", store.toString(), "-storepass", new String(PASSWORD),
        "-file", cert.toString());
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(store)) {
      ks.load(in, PASSWORD);
    }
    Files.writeString(dir.resolve(name + ".key.pem"), "-----BEGIN PRIVATE KEY-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(ks.getKey(name, PASSWORD).getEncoded())
        + "\n-----END PRIVATE KEY-----\n");
    return cert;
  }

  private static void run(String... command) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes());
    if (process.waitFor() != 0) {
      throw new IOException(String.join(" ", command) + " failed: " + output);
    }
  }
}
