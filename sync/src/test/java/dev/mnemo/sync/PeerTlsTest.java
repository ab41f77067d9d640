package dev.mnemo.sync;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.identity.AgentKey;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Node-to-node calls over https: a peer's certificate must chain to what the node was told to trust. */
class PeerTlsTest {
  @TempDir Path dir;
  private HttpsServer server;
  private SelfSignedCert cert;
  private final AgentKey peerKey = AgentKey.generate();
  private final PeerAuth peerAuth = new PeerAuth(peerKey);
  private final AgentKey nodeKey = AgentKey.generate();

  @BeforeEach
  void start() throws Exception {
    cert = SelfSignedCert.create(dir, "peer");
    KeyStore store = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(cert.keyStore())) {
      store.load(in, SelfSignedCert.PASSWORD);
    }
    KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    keys.init(store, SelfSignedCert.PASSWORD);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(keys.getKeyManagers(), null, null);
    server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    server.setHttpsConfigurator(new HttpsConfigurator(context));
    server.createContext(PeerClient.HEADS_PATH, exchange -> {
      try (exchange) {
        int status = 200;
        try {
          peerAuth.verify(exchange.getRequestHeaders().getFirst("Authorization"), "GET", exchange.getRequestURI().getRawPath(), null);
        } catch (PeerAuth.RejectedException e) {
          status = 401;
        }
        byte[] body = new HeadsDigest(Map.of("notes", List.of(Cid.dagCbor(new byte[] {7})))).encode();
        exchange.sendResponseHeaders(status, status == 200 ? body.length : -1);
        if (status == 200) {
          exchange.getResponseBody().write(body);
        }
      }
    });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private Peer peer() {
    return new Peer("tls", "https://127.0.0.1:" + server.getAddress().getPort(), peerKey.did(), Set.of(Peer.ALL));
  }

  @Test
  void aPeerWhoseCertificateIsTrustedIsCalledOverTls() throws Exception {
    PeerClient client = new PeerClient(new PeerAuth(nodeKey), PeerTls.trusting(cert.certPem()));
    HeadsDigest digest = client.digestAsync(peer()).get();
    assertThat(digest.namespaces()).containsOnlyKeys("notes");
  }

  @Test
  void aPeerWhoseCertificateIsNotTrustedIsRefused() throws Exception {
    SelfSignedCert other = SelfSignedCert.create(dir.resolve("other"), "other");
    for (PeerClient client : List.of(new PeerClient(new PeerAuth(nodeKey)),
        new PeerClient(new PeerAuth(nodeKey), PeerTls.trusting(other.certPem())))) {
      assertThat(client.digestAsync(peer())).failsWithin(Duration.ofSeconds(10))
          .withThrowableOfType(ExecutionException.class).withCauseInstanceOf(SSLHandshakeException.class);
    }
  }
}
