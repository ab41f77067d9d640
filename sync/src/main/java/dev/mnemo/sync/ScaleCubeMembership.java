package dev.mnemo.sync;

import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.identity.AgentKey;
import io.scalecube.cluster.ClusterImpl;
import io.scalecube.cluster.ClusterMessageHandler;
import io.scalecube.cluster.Member;
import io.scalecube.cluster.membership.MembershipEvent;
import io.scalecube.cluster.metadata.MetadataCodec;
import io.scalecube.cluster.transport.api.Message;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * {@link Membership} on ScaleCube's SWIM cluster over TCP. A member's metadata is a small UTF-8
 * card signed by its node key ({@link MemberMetadata}: HTTP base URL, gossip address, namespaces,
 * did:key), so peers learn where to fetch blocks, which namespaces each carries, and which node
 * it is; a member whose card does not verify, names another gossip address than its own, or
 * advertises an HTTP address that is not a bare base URL is ignored. Messages between nodes go
 * directly to one member ({@link #send}), never by gossip to all. Timers use ScaleCube's LAN
 * defaults shortened for a small cluster: failure is suspected within a couple of seconds.
 */
public final class ScaleCubeMembership implements Membership {
  private static final System.Logger LOG = System.getLogger(ScaleCubeMembership.class.getName());
  private static final String MESSAGE_QUALIFIER = "mnemo/v2/message";

  private final SyncConfig config;
  private final String localHttp;
  private final AgentKey nodeKey;
  /** Peers seen joining or leaving, by HTTP address: a restarted node comes back with a new member id. */
  private final Map<String, PeerStatus> seen = new ConcurrentHashMap<>();
  /** Members refused (by id, with why), so that each is logged and counted once however often it is looked at. */
  private final Map<String, String> refused = new ConcurrentHashMap<>();
  private static final int MAX_REFUSED_KEPT = 10_000;
  private final LongAdder refusedMembers = new LongAdder();
  private ClusterImpl cluster;

  /** @param nodeKey the node's key: it signs this member's metadata, and peers know the node by its did */
  public ScaleCubeMembership(SyncConfig config, String localHttp, AgentKey nodeKey) {
    this.config = config;
    this.localHttp = localHttp;
    this.nodeKey = nodeKey;
  }

  @Override
  public void start(Listener listener) throws IOException {
    String bindHost = bindHost(config.gossipHost());
    // The card signs the gossip address, which ScaleCube knows only once bound: predict it (a
    // port of 0 is picked here), and sign it again below should the prediction miss.
    int port = config.gossipPort() != 0 ? config.gossipPort() : freePort(bindHost);
    String predicted = config.advertiseGossip() != null ? config.advertiseGossip() : predictAddress(bindHost, port);
    ClusterImpl c = new ClusterImpl()
        .config(cfg -> {
          cfg = cfg.metadata(card(predicted)).metadataCodec(new StringMetadataCodec());
          if (config.advertiseGossip() != null) {
            String[] hostPort = config.advertiseGossip().split(":");
            cfg = cfg.externalHost(hostPort[0]).externalPort(Integer.parseInt(hostPort[1]));
          }
          return cfg;
        })
        .transport(t -> t.port(port).messageCodec(new FilteredMessageCodec()))
        .transportFactory(() -> new BoundTcpTransportFactory(bindHost))
        .membership(m -> m.seedMembers(config.seeds()).syncInterval(config.membershipSyncMillis()).suspicionMult(3))
        .failureDetector(f -> f.pingInterval(config.pingIntervalMillis()).pingTimeout(Math.max(200, config.pingIntervalMillis() / 2)))
        .gossip(g -> g.gossipInterval(config.gossipIntervalMillis()))
        .handler(cl -> new ClusterMessageHandler() {
          @Override
          public void onMessage(Message message) {
            if (MESSAGE_QUALIFIER.equals(message.qualifier()) && message.data() instanceof byte[] payload) {
              listener.onMessage(payload);
            }
          }

          @Override
          public void onMembershipEvent(MembershipEvent event) {
            if (event.isUpdated()) {
              // A member whose card starts or stops verifying (it re-signed a new address) joins or leaves.
              Optional<Peer> before = peerOf(event.member(), event.oldMetadata());
              Optional<Peer> after = peerOf(event.member(), event.newMetadata());
              if (before.isEmpty() && after.isPresent()) {
                record(after.get(), PeerStatus.State.ALIVE);
                listener.onPeerJoined(after.get());
              } else if (before.isPresent() && after.isEmpty()) {
                listener.onPeerLeft(before.get());
              }
              return;
            }
            Optional<Peer> peer = peerOf(event.member(), event.isRemoved() ? event.oldMetadata() : event.newMetadata());
            if (peer.isEmpty()) {
              return;
            }
            if (event.isAdded()) {
              record(peer.get(), PeerStatus.State.ALIVE);
              listener.onPeerJoined(peer.get());
            } else if (event.isLeaving()) {
              record(peer.get(), PeerStatus.State.LEAVING);
              listener.onPeerLeft(peer.get());
            } else if (event.isRemoved()) {
              PeerStatus before = seen.get(peer.get().http());
              boolean announced = before != null && before.peer().id().equals(peer.get().id())
                  && before.state() == PeerStatus.State.LEAVING;
              record(peer.get(), announced ? PeerStatus.State.LEFT : PeerStatus.State.UNREACHABLE);
              listener.onPeerLeft(peer.get());
            }
          }
        });
    try {
      this.cluster = (ClusterImpl) c.start().block(Duration.ofSeconds(30));
      if (!cluster.member().address().equals(predicted)) {
        cluster.updateMetadata(card(cluster.member().address())).block(Duration.ofSeconds(10));
      }
    } catch (RuntimeException e) {
      throw new IOException("cannot start gossip on " + config.gossipHost() + ":" + port + ": " + e.getMessage(), e);
    }
    LOG.log(System.Logger.Level.INFO, "gossip " + cluster.address() + " as " + cluster.member().id() + " (" + nodeKey.did() + ")"
        + (config.seeds().isEmpty() ? " (no seeds)" : ", seeds " + config.seeds()));
  }

  private String card(String gossipAddress) {
    return MemberMetadata.signed(nodeKey, localHttp, gossipAddress, config.namespaces());
  }

  /** The address ScaleCube's transport reports for a socket bound to {@code host}:{@code port}. */
  private static String predictAddress(String host, int port) {
    try {
      InetAddress address = InetAddress.getByName(host);
      return (address.isAnyLocalAddress() ? InetAddress.getLocalHost() : address).getHostAddress() + ":" + port;
    } catch (IOException e) {
      return host + ":" + port; // wrong, most likely: the card is signed again once bound
    }
  }

  private static int freePort(String host) throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(host))) {
      return socket.getLocalPort();
    }
  }

  /** An IPv6 literal as a socket address wants it, without the brackets a URL host carries. */
  static String bindHost(String host) {
    return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
  }

  @Override
  public List<Peer> peers() {
    List<Peer> peers = new ArrayList<>();
    if (cluster == null) {
      return peers;
    }
    for (Member member : cluster.otherMembers()) {
      cluster.<String>metadata(member).flatMap(m -> parse(member.id(), member.address(), m)).ifPresent(peers::add);
    }
    return peers;
  }

  @Override
  public List<PeerStatus> members() {
    List<PeerStatus> members = new ArrayList<>();
    long now = System.currentTimeMillis();
    Map<String, Peer> alive = new LinkedHashMap<>();
    peers().forEach(p -> alive.put(p.http(), p));
    for (Peer peer : alive.values()) {
      PeerStatus status = seen.get(peer.http());
      long since = status != null && status.state() == PeerStatus.State.ALIVE ? status.since() : now;
      members.add(new PeerStatus(peer, PeerStatus.State.ALIVE, since));
    }
    seen.values().removeIf(s -> s.state() != PeerStatus.State.ALIVE && now - s.since() > DEPARTED_KEPT_MILLIS);
    for (PeerStatus status : seen.values()) {
      if (status.state() != PeerStatus.State.ALIVE && !alive.containsKey(status.peer().http())) {
        members.add(status);
      }
    }
    return members;
  }

  private void record(Peer peer, PeerStatus.State state) {
    seen.put(peer.http(), new PeerStatus(peer, state, System.currentTimeMillis()));
  }

  @Override
  public String localId() {
    return cluster == null ? "" : cluster.member().id();
  }

  @Override
  public String localAddress() {
    return cluster == null ? "" : cluster.address();
  }

  @Override
  public void send(Peer peer, byte[] payload) {
    if (cluster == null) {
      return;
    }
    Optional<Member> member = cluster.memberById(peer.id());
    if (member.isEmpty()) {
      return;
    }
    cluster.transport().send(member.get().address(), Message.withData(payload).qualifier(MESSAGE_QUALIFIER).build())
        .subscribe(ok -> {}, e -> LOG.log(System.Logger.Level.DEBUG, "message to " + peer.http() + " failed: " + e.getMessage()));
  }

  private Optional<Peer> peerOf(Member member, ByteBuffer metadata) {
    if (metadata == null) {
      return cluster == null ? Optional.empty()
          : cluster.<String>metadata(member).flatMap(m -> parse(member.id(), member.address(), m));
    }
    return parse(member.id(), member.address(), (String) new StringMetadataCodec().deserialize(metadata.duplicate()));
  }

  /**
   * The peer a member's metadata describes; empty, logged once and counted, when it describes
   * none: unreadable or unsigned, signed for another gossip address than the member's own, or
   * advertising an HTTP address that is not a bare base URL.
   */
  Optional<Peer> parse(String id, String gossipAddress, String metadata) {
    if (metadata == null) {
      return Optional.empty();
    }
    MemberMetadata card;
    try {
      card = MemberMetadata.verify(metadata);
    } catch (InvalidFormatException e) {
      return refuse(id, "metadata that does not verify (" + e.getMessage() + ")");
    }
    if (!card.gossip().equals(gossipAddress)) {
      return refuse(id, "metadata signed by " + card.did() + " for gossip address " + card.gossip() + ", not " + gossipAddress);
    }
    Optional<String> badHttp = Peer.badHttp(card.http());
    if (badHttp.isPresent()) {
      // Peers append /v1/sync/... to this address: anything but a bare base URL would let the
      // member pick what they request and from whom.
      return refuse(id, "an HTTP address that is not a base URL (" + badHttp.get() + ")");
    }
    return Optional.of(new Peer(id, card.http(), card.did(), card.namespaces()));
  }

  private Optional<Peer> refuse(String id, String why) {
    if (refused.putIfAbsent(id, why) == null) {
      LOG.log(System.Logger.Level.WARNING, "ignoring member " + id + ": " + why + "; nothing is pulled from it");
      if (refused.size() > MAX_REFUSED_KEPT) {
        refused.clear(); // a flood of bad members: log them again rather than grow without bound
      }
      refusedMembers.increment();
    }
    return Optional.empty();
  }

  @Override
  public long refusedMembers() {
    return refusedMembers.sum();
  }

  @Override
  public void close() {
    if (cluster != null) {
      cluster.shutdown();
      try {
        cluster.onShutdown().block(Duration.ofSeconds(10));
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "gossip shutdown: " + e.getMessage());
      }
    }
  }

  /** Member metadata as plain UTF-8 text rather than Java serialization. */
  static final class StringMetadataCodec implements MetadataCodec {
    @Override
    public Object deserialize(ByteBuffer buffer) {
      if (buffer == null || buffer.remaining() == 0) {
        return null;
      }
      byte[] bytes = new byte[buffer.remaining()];
      buffer.get(bytes);
      return new String(bytes, StandardCharsets.UTF_8);
    }

    @Override
    public ByteBuffer serialize(Object metadata) {
      return metadata == null ? null : ByteBuffer.wrap(metadata.toString().getBytes(StandardCharsets.UTF_8));
    }
  }
}
