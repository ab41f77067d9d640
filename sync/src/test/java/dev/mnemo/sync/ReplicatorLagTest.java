package dev.mnemo.sync;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.car.CarWriter;
import dev.mnemo.store.cid.Cid;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a peer's digest or announcement may name, against the replication lag it leaves behind: a
 * name no node writes under takes no pull and no lag entry, and heads the peer cannot serve do not
 * leave a lag that grows for ever. The peer is a real HTTP server; the membership, which these
 * cases do not use, is a stand-in for the SPI.
 */
class ReplicatorLagTest {
  @TempDir Path dir;
  private HttpServer peer;
  private final AtomicInteger blockRequests = new AtomicInteger();
  private MnemoStore store;
  private Replicator replicator;

  @BeforeEach
  void start() throws IOException {
    peer = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    peer.createContext("/v1/sync/blocks", exchange -> {
      blockRequests.incrementAndGet();
      ByteArrayOutputStream car = new ByteArrayOutputStream();
      new CarWriter(car, List.of()); // a peer that has none of what it named
      exchange.sendResponseHeaders(200, car.size());
      exchange.getResponseBody().write(car.toByteArray());
      exchange.close();
    });
    peer.start();
    store = MnemoStore.open(dir);
    replicator = new Replicator(store.log(), new NoMembers(), new PeerClient(new PeerAuth(store.nodeKey())),
        SyncConfig.defaults(0, List.of()), store.nodeKey(), ReplicationPolicy.NOBODY, ns -> { });
  }

  @AfterEach
  void stop() throws IOException {
    replicator.close();
    store.close();
    peer.stop(0);
  }

  private Peer peerUrl() {
    return new Peer("peer", "http://127.0.0.1:" + peer.getAddress().getPort(), dev.mnemo.store.identity.AgentKey.generate().did(),
        java.util.Set.of(Peer.ALL));
  }

  @Test
  void aNamespaceNameNoNodeWritesUnderIsNotPulled() {
    for (String name : List.of("../etc", "bad name", "", "x".repeat(200))) {
      replicator.requestPull(name, peerUrl(), List.of(head(name)));
    }
    assertThat(replicator.status().lagMillis()).isEmpty();
    assertThat(replicator.status().rejected()).isEqualTo(4);
    assertThat(blockRequests).hasValue(0);
  }

  @Test
  void headsThePeerCannotServeLeaveNoLagBehind() throws Exception {
    replicator.requestPull("ghost", peerUrl(), List.of(head("ghost")));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (blockRequests.get() == 0 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(blockRequests).hasValue(1);
    while (!replicator.status().lagMillis().isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(replicator.status().lagMillis()).isEmpty();
  }

  private static Cid head(String ns) {
    return Cid.dagCbor(("a head of " + ns).getBytes(StandardCharsets.UTF_8));
  }
}
