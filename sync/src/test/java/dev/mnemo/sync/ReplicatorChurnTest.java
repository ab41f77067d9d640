package dev.mnemo.sync;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.block.Block;
import dev.mnemo.store.car.CarWriter;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.identity.AgentKey;
import dev.mnemo.store.model.Memory;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Announcements under churn. A node that restarts, or that its peers declared dead while it was
 * stopped, writes and announces before the others' membership views have it (back): those
 * honest announcements were dropped as "ignored" (57 in one fault run), and what they named
 * waited for a digest round that, with the peer busy or just restarted, may fail. Such an
 * announcement is kept and pulled from the member that holds the signing key as soon as it
 * joins. The peer is a real HTTP server answering block requests from a real store; the
 * membership is scripted, so the order "announcement, then join" is exact.
 */
class ReplicatorChurnTest {
  private static final String NS = "notes";

  @TempDir Path dir;
  private MnemoStore source;
  private MnemoStore target;
  private HttpServer server;
  private final AgentKey peerKey = AgentKey.generate();
  private final AtomicInteger blockRequests = new AtomicInteger();
  private final ScriptedMembership membership = new ScriptedMembership();

  @BeforeEach
  void start() throws IOException {
    source = MnemoStore.open(dir.resolve("source"));
    target = MnemoStore.open(dir.resolve("target"));
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    server.createContext("/v1/sync/blocks", exchange -> {
      blockRequests.incrementAndGet();
      try (exchange) {
        BlockRequest request = BlockRequest.decode(exchange.getRequestBody().readAllBytes());
        ByteArrayOutputStream car = new ByteArrayOutputStream();
        CarWriter writer = new CarWriter(car, List.of());
        for (Cid cid : request.cids()) {
          Optional<byte[]> data = source.log().blocks().get(cid);
          if (data.isPresent()) {
            writer.write(new Block(cid, data.get()));
          }
        }
        exchange.sendResponseHeaders(200, car.size());
        exchange.getResponseBody().write(car.toByteArray());
      }
    });
    // A digest the peer cannot give right now (busy, just restarted): the join's anti-entropy
    // finds nothing, so only the kept announcement can bring its heads.
    server.createContext("/v1/sync/heads", exchange -> {
      try (exchange) {
        exchange.sendResponseHeaders(503, -1);
      }
    });
    server.start();
  }

  @AfterEach
  void stop() throws IOException {
    server.stop(0);
    source.close();
    target.close();
  }

  @Test
  void anAnnouncementFromANodeNotYetAMemberIsPulledWhenItJoins() throws Exception {
    List<Memory> memories = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      memories.add(new Memory(NS, "note " + i, Map.of(), List.of(), 1_000 + i, null, null));
    }
    List<Cid> added = source.log().append(NS, memories).memories();
    List<Cid> heads = List.copyOf(source.log().heads(NS));
    Peer peer = new Peer("restarted", "http://127.0.0.1:" + server.getAddress().getPort(), peerKey.did(), java.util.Set.of(Peer.ALL));
    // No anti-entropy round during the test: only the announcement and the join act.
    SyncConfig config = new SyncConfig("127.0.0.1", 0, List.of(), List.of(Peer.ALL), null, 3_600_000, 100, 500, 5_000);

    try (Replicator replicator = new Replicator(target.log(), membership, new PeerClient(new PeerAuth(target.nodeKey())),
        config, target.nodeKey(), ReplicationPolicy.NOBODY, ns -> { })) {
      replicator.start();
      membership.deliver(new HeadsAnnouncement(NS, heads, peerKey.did()).encode(peerKey));
      Thread.sleep(300);
      assertThat(blockRequests).as("requests before the signer is a member").hasValue(0);
      assertThat(replicator.status().deferredAnnouncements()).as("announcements kept for a signer not yet a member").isEqualTo(1);

      membership.join(peer);
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (!target.log().heads(NS).equals(source.log().heads(NS)) && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertThat(target.log().heads(NS)).as("heads after the signer joined").isEqualTo(source.log().heads(NS));
      assertThat(replicator.status().ignoredAnnouncements()).as("announcements dropped").isZero();
      assertThat(replicator.status().rejected()).as("rejections: %s", replicator.status().lastRejection()).isZero();
    }
    for (Cid cid : added) {
      assertThat(target.log().memory(cid)).as("%s", cid).isPresent();
    }
  }

  /**
   * A node stopped for a while is declared dead by its peers and announces its first writes after
   * it resumes, before they re-admit it (a restarted one comes back under a new member id). Its
   * card is still the one they verified moments ago: its announcements are pulled from it at once.
   */
  @Test
  void anAnnouncementFromAMemberThatDepartedMomentsAgoIsPulledAtOnce() throws Exception {
    List<Cid> added = source.log().append(NS, List.of(new Memory(NS, "written after resuming", Map.of(), List.of(), 1_000, null, null)))
        .memories();
    Peer peer = new Peer("stopped", "http://127.0.0.1:" + server.getAddress().getPort(), peerKey.did(), java.util.Set.of(Peer.ALL));
    membership.departed(peer, System.currentTimeMillis());
    SyncConfig config = new SyncConfig("127.0.0.1", 0, List.of(), List.of(Peer.ALL), null, 3_600_000, 100, 500, 5_000);
    try (Replicator replicator = new Replicator(target.log(), membership, new PeerClient(new PeerAuth(target.nodeKey())),
        config, target.nodeKey(), ReplicationPolicy.NOBODY, ns -> { })) {
      replicator.start();
      membership.deliver(new HeadsAnnouncement(NS, List.copyOf(source.log().heads(NS)), peerKey.did()).encode(peerKey));
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (!target.log().heads(NS).equals(source.log().heads(NS)) && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertThat(target.log().heads(NS)).as("heads announced by a member that departed moments ago").isEqualTo(source.log().heads(NS));
      assertThat(target.log().memory(added.get(0))).isPresent();
      assertThat(replicator.status().deferredAnnouncements()).isZero();
    }
  }

  /** The membership SPI with members the test adds, and messages the test delivers. */
  private static final class ScriptedMembership extends NoMembers {
    private final List<Peer> peers = new CopyOnWriteArrayList<>();
    private final List<PeerStatus> departed = new CopyOnWriteArrayList<>();
    private volatile Listener listener;

    void departed(Peer peer, long since) {
      departed.add(new PeerStatus(peer, PeerStatus.State.UNREACHABLE, since));
    }

    @Override
    public void start(Listener listener) {
      this.listener = listener;
    }

    void deliver(byte[] payload) {
      listener.onMessage(payload);
    }

    void join(Peer peer) {
      peers.add(peer);
      listener.onPeerJoined(peer);
    }

    @Override
    public List<Peer> peers() {
      return List.copyOf(peers);
    }

    @Override
    public List<PeerStatus> members() {
      List<PeerStatus> all = new ArrayList<>(peers.stream().map(p -> new PeerStatus(p, PeerStatus.State.ALIVE, 0)).toList());
      all.addAll(departed);
      return all;
    }
  }
}
