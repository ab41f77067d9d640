package dev.mnemo.node.sync;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.mnemo.store.block.Block;
import dev.mnemo.store.identity.AgentKey;
import dev.mnemo.store.car.CarWriter;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.sync.BlockRequest;
import dev.mnemo.sync.HeadsAnnouncement;
import dev.mnemo.sync.HeadsDigest;
import dev.mnemo.sync.Membership;
import dev.mnemo.sync.Peer;
import dev.mnemo.sync.ScaleCubeMembership;
import dev.mnemo.sync.SyncConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;

/**
 * A peer that lies. It joins the real nodes' gossip cluster as an ordinary member (ScaleCube, the
 * same membership code the nodes run), advertises an HTTP server that speaks the sync endpoints
 * ({@code GET /v1/sync/heads}, {@code POST /v1/sync/blocks}, {@code GET /v1/blocks/{cid}}), and
 * serves whatever blocks the test gives it, under whatever CIDs, tampered or not.
 */
final class FakePeer implements AutoCloseable {
  /** What the peer serves: its head digest and its blocks, by the CID it claims for them. */
  record Offer(Map<String, List<Cid>> heads, Map<Cid, byte[]> blocks) {}

  private final HttpServer server;
  private final ScaleCubeMembership membership;
  private final List<String> requests = new CopyOnWriteArrayList<>();
  /** Announcements other members sent this peer, decoded (undecodable ones are left out). */
  private final List<HeadsAnnouncement> announcements = new CopyOnWriteArrayList<>();
  private volatile Offer offer = new Offer(Map.of(), Map.of());
  /** A node key of its own: valid, but granted nothing. */
  private final AgentKey key = AgentKey.generate();

  FakePeer(String seedGossip) throws IOException {
    this(seedGossip, "");
  }

  /** @param suffix appended to the HTTP address the peer advertises (a path, a query: what peers must refuse) */
  FakePeer(String seedGossip, String suffix) throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    server.setExecutor(Executors.newCachedThreadPool(r -> Thread.ofPlatform().daemon(true).name("fake-peer").unstarted(r)));
    server.createContext("/", this::handle);
    server.start();
    SyncConfig config = new SyncConfig("127.0.0.1", NodeProcess.freePort(), List.of(seedGossip), List.of(Peer.ALL), null,
        3_600_000, 100, 500, 5_000);
    membership = new ScaleCubeMembership(config, url() + suffix, key);
    membership.start(new Membership.Listener() {
      @Override
      public void onMessage(byte[] payload) {
        // The fake peer never pulls; it only keeps what it was told, for tests of who hears what.
        try {
          announcements.add(HeadsAnnouncement.decode(payload));
        } catch (dev.mnemo.store.InvalidFormatException e) {
          // not an announcement: nothing to keep
        }
      }
    });
  }

  String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  List<Peer> peers() {
    return membership.peers();
  }

  /** Serves {@code offer} from now on, and announces its heads of {@code ns} as a write would. */
  void serve(String ns, Offer offer) {
    this.offer = offer;
    sendToAll(new HeadsAnnouncement(ns, offer.heads().get(ns), key.did()).encode(key));
  }

  /** Sends every member an announcement of {@code heads} signed by {@code signer}. */
  void announce(String ns, List<Cid> heads, AgentKey signer) {
    sendToAll(new HeadsAnnouncement(ns, heads, signer.did()).encode(signer));
  }

  AgentKey key() {
    return key;
  }

  private void sendToAll(byte[] payload) {
    for (Peer peer : membership.peers()) {
      membership.send(peer, payload);
    }
  }

  /** Announcements received so far from other members. */
  List<HeadsAnnouncement> announcements() {
    return List.copyOf(announcements);
  }

  /** Requests received so far, as "METHOD path [cids]". */
  List<String> requests() {
    return List.copyOf(requests);
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String method = exchange.getRequestMethod();
      String path = exchange.getRequestURI().getPath();
      Offer now = offer;
      if (method.equals("GET") && path.equals("/v1/sync/heads")) {
        requests.add("GET " + path);
        reply(exchange, 200, "application/vnd.ipld.dag-cbor", new HeadsDigest(now.heads()).encode());
      } else if (method.equals("POST") && path.equals("/v1/sync/blocks")) {
        BlockRequest request;
        try {
          request = BlockRequest.decode(exchange.getRequestBody().readAllBytes());
        } catch (IOException e) {
          reply(exchange, 400, "text/plain", e.toString().getBytes());
          return;
        }
        requests.add("POST " + path + " " + request.cids());
        ByteArrayOutputStream car = new ByteArrayOutputStream();
        CarWriter writer = new CarWriter(car, List.of());
        for (Cid cid : request.cids()) {
          byte[] data = now.blocks().get(cid);
          if (data != null) {
            writer.write(new Block(cid, data)); // as claimed: no hash check on this side
          }
        }
        reply(exchange, 200, "application/vnd.ipld.car; version=1", car.toByteArray());
      } else if (method.equals("GET") && path.startsWith("/v1/blocks/")) {
        requests.add("GET " + path);
        byte[] data = null;
        try {
          data = now.blocks().get(Cid.parse(path.substring("/v1/blocks/".length())));
        } catch (IOException e) {
          // not a CID: 404 below
        }
        reply(exchange, data == null ? 404 : 200, "application/vnd.ipld.raw", data == null ? new byte[0] : data);
      } else if (path.equals("/health")) {
        reply(exchange, 200, "application/json", "{\"status\":\"ok\"}".getBytes());
      } else {
        requests.add(method + " " + path + " (unknown)");
        reply(exchange, 404, "text/plain", new byte[0]);
      }
    }
  }

  private static void reply(HttpExchange exchange, int status, String type, byte[] body) throws IOException {
    exchange.getResponseHeaders().set("Content-Type", type);
    exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
    if (body.length > 0) {
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    }
  }

  @Override
  public void close() {
    try {
      membership.close();
    } finally {
      server.stop(0);
    }
  }
}
