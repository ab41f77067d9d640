package dev.mnemo.sync;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.identity.AgentKey;
import dev.mnemo.store.identity.DidKey;
import dev.mnemo.store.model.Memory;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Digest protocol v2 between two real stores of {@value #NAMESPACES} namespaces, the peer a real
 * HTTP server answering from its {@link SyncEndpoint} as a node does. The v1 digest listed every
 * namespace and its heads on every round (about 16 MiB at 100,000 namespaces, where a peer's
 * limit stopped anti-entropy); v2 costs a few hundred bytes when one namespace differs.
 */
class DigestReconciliationTest {
  static final int NAMESPACES = 20_000;

  @TempDir static Path dir;
  private static MnemoStore source;
  private static MnemoStore target;
  private static HttpServer server;
  private static final AgentKey SERVER_KEY = AgentKey.generate();
  /** What the source lets each peer replicate; every namespace to every peer unless a test says otherwise. */
  private static volatile ReplicationPolicy policy = new PeerAllowlist(Set.of(), true);
  private static SyncEndpoint endpoint;
  private static final AtomicLong requestBytes = new AtomicLong();
  private static final AtomicLong replyBytes = new AtomicLong();
  private static final AtomicLong digestRequests = new AtomicLong();
  private static final AtomicBoolean speaksV2 = new AtomicBoolean(true);

  /** Two stores with the same namespaces: the second a copy of the first's, with a key of its own. */
  @BeforeAll
  static void start() throws Exception {
    try (MnemoStore first = MnemoStore.open(dir.resolve("source"))) {
      List<CompletableFuture<?>> writes = new ArrayList<>();
      for (int i = 0; i < NAMESPACES; i++) {
        String ns = ns(i);
        writes.add(first.log().appendAsync(ns, List.of(new Memory(ns, "m " + i, Map.of(), List.of(), 1L, null, null))));
      }
      CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
    }
    copy(dir.resolve("source").resolve("store"), dir.resolve("target").resolve("store"));
    source = MnemoStore.open(dir.resolve("source"));
    target = MnemoStore.open(dir.resolve("target"));
    ReplicationPolicy current = new ReplicationPolicy() {
      @Override
      public boolean mayReplicate(DidKey peer, String ns) {
        return policy.mayReplicate(peer, ns);
      }

      @Override
      public boolean mayReplicateAll(DidKey peer) {
        return policy.mayReplicateAll(peer);
      }
    };
    endpoint = new SyncEndpoint(new SyncAccess(source.log(), current, new PeerAuth(SERVER_KEY)));
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    server.createContext(PeerClient.DIGEST_PATH, exchange -> serve(exchange, (peer, body) -> {
      if (!speaksV2.get()) {
        return null;
      }
      digestRequests.incrementAndGet();
      requestBytes.addAndGet(body.length);
      byte[] reply = endpoint.digest(peer, body);
      replyBytes.addAndGet(reply.length);
      return reply;
    }));
    server.createContext(PeerClient.HEADS_PATH, exchange -> serve(exchange, (peer, body) -> endpoint.heads(peer)));
    server.createContext(PeerClient.BLOCKS_PATH, exchange -> serve(exchange, (peer, body) -> {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      endpoint.blocks(peer, body, out);
      return out.toByteArray();
    }));
    server.start();
  }

  @AfterAll
  static void stop() throws IOException {
    server.stop(0);
    source.close();
    target.close();
  }

  @BeforeEach
  void reset() {
    policy = new PeerAllowlist(Set.of(), true);
    speaksV2.set(true);
  }

  @Test
  void identicalNodesCompareInOneRequestOfAFewHundredBytes() throws Exception {
    Exchange exchange = reconcile(target, AgentKey.generate());
    assertThat(exchange.found()).isEmpty();
    assertThat(exchange.requests()).isEqualTo(1);
    assertThat(exchange.bytes()).as("request and reply bodies").isLessThan(600);
  }

  @Test
  void oneDifferingNamespaceAmongManyCostsAFewSmallRequests() throws Exception {
    String ns = ns(4_242);
    source.log().append(ns, List.of(new Memory(ns, "only on the source", Map.of(), List.of(), 2L, null, null)));
    try {
      Exchange exchange = reconcile(target, AgentKey.generate());
      assertThat(exchange.found()).containsKey(ns).hasSizeLessThanOrEqualTo(Reconciliation.FETCH_AT_MOST);
      assertThat(exchange.found().get(ns)).containsExactlyElementsOf(source.log().heads(ns));
      for (String other : exchange.found().keySet()) {
        if (!other.equals(ns)) {
          assertThat(exchange.found().get(other)).containsExactlyElementsOf(target.log().heads(other));
        }
      }
      int v1 = HeadsDigest.of(source.log()).encode().length;
      System.out.printf("digest v2 at %d namespaces, one differing: %d requests, %d bytes of bodies (v1: %d bytes)%n",
          NAMESPACES, exchange.requests(), exchange.bytes(), v1);
      assertThat(exchange.requests()).isLessThanOrEqualTo(NamespaceDigests.DEPTH + 1);
      assertThat(exchange.bytes()).as("request and reply bodies").isLessThan(4_000);
      assertThat(v1).isGreaterThan(100 * 4_000);
    } finally {
      // Level again for the other tests: the target takes the source's entries of the namespace.
      try (Replicator replicator = new Replicator(target.log(), new NoMembers(), new PeerClient(new PeerAuth(target.nodeKey())),
          SyncConfig.defaults(0, List.of()), target.nodeKey(), ReplicationPolicy.NOBODY, n -> { })) {
        replicator.pull(peer(), ns, List.copyOf(source.log().heads(ns)));
      }
      assertThat(target.log().heads(ns)).isEqualTo(source.log().heads(ns));
    }
  }

  /** Anti-entropy between the two, as a node runs it: exactly the namespace that differs is pulled. */
  @Test
  void antiEntropyRepairsExactlyTheNamespaceThatDiffers() throws Exception {
    String ns = ns(17_000);
    source.log().append(ns, List.of(new Memory(ns, "missed announcement", Map.of(), List.of(), 3L, null, null)));
    PeerClient client = new PeerClient(new PeerAuth(target.nodeKey()));
    AtomicLong applied = new AtomicLong();
    try (Replicator replicator = new Replicator(target.log(), new Joining(peer()), client, SyncConfig.defaults(0, List.of()),
        target.nodeKey(), new PeerAllowlist(Set.of(), true), n -> applied.incrementAndGet())) {
      replicator.start();
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (!target.log().heads(ns).equals(source.log().heads(ns)) && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(target.log().heads(ns)).isEqualTo(source.log().heads(ns));
      Thread.sleep(200); // any other pull the comparison started would have begun by now
      assertThat(replicator.status().pulls()).as("pulls").isEqualTo(1);
      assertThat(replicator.status().entriesApplied()).isEqualTo(1);
      assertThat(replicator.status().rejected()).isZero();
      assertThat(client.digestBytesReceived()).as("digest replies").isLessThan(4_000);
    }
  }

  /**
   * A peer sees the tree of the namespaces it may replicate, no other: its counts and digests, and
   * the namespaces it can list, say nothing of the rest.
   */
  @Test
  void aPeerSeesOnlyTheNamespacesItMayReplicate() throws Exception {
    AgentKey narrow = AgentKey.generate();
    policy = (peer, ns) -> !peer.equals(narrow.did()) || ns.startsWith("ns-001");
    PeerClient client = new PeerClient(new PeerAuth(narrow));
    List<NamespaceDigests.Node> root = DigestExchange.decodeChildren(
        client.digestAsync(peer(), new DigestExchange.Request(DigestExchange.Want.CHILDREN, 0, List.of(0))).get(), 1);
    assertThat(root.stream().mapToLong(NamespaceDigests.Node::count).sum()).isEqualTo(1_000);
    List<Integer> everyTopNode = Stream.iterate(0, i -> i + 1).limit(NamespaceDigests.FANOUT).toList();
    Map<String, List<Cid>> listed = DigestExchange.decodeNamespaces(
        client.digestAsync(peer(), new DigestExchange.Request(DigestExchange.Want.NAMESPACES, 1, everyTopNode)).get()).heads();
    assertThat(listed).hasSize(1_000);
    assertThat(listed.keySet()).allMatch(ns -> ns.startsWith("ns-001"));
    // Its tree is that of a node holding those namespaces alone.
    NamespaceDigests.View alone = new NamespaceDigests(source.log()).view((peer, ns) -> ns.startsWith("ns-001"), narrow.did());
    assertThat(root).isEqualTo(alone.children(0, 0));
  }

  /** The tree kept up to date commit by commit is the tree built afresh. */
  @Test
  void theKeptTreeIsTheTreeBuiltAfresh() throws Exception {
    NamespaceDigests kept = new NamespaceDigests(source.log());
    DidKey anyone = AgentKey.generate().did();
    ReplicationPolicy all = new PeerAllowlist(Set.of(), true);
    kept.view(all, anyone);
    for (int i = 0; i < 50; i++) {
      String ns = i % 10 == 0 ? "new-" + i : ns(i * 7);
      source.log().append(ns, List.of(new Memory(ns, "change " + i, Map.of(), List.of(), 4L, null, null)));
    }
    NamespaceDigests.View before = kept.view(all, anyone);
    NamespaceDigests.View fresh = new NamespaceDigests(source.log()).view(all, anyone);
    for (int level = 0; level < NamespaceDigests.DEPTH; level++) {
      for (int index = 0; index < 1 << (4 * level); index += 1 + (level * 37)) {
        assertThat(before.children(level, index)).as("level %d node %d", level, index).isEqualTo(fresh.children(level, index));
      }
    }
    // Level the target again for the other tests.
    try (Replicator replicator = new Replicator(target.log(), new NoMembers(), new PeerClient(new PeerAuth(target.nodeKey())),
        SyncConfig.defaults(0, List.of()), target.nodeKey(), ReplicationPolicy.NOBODY, n -> { })) {
      for (int i = 0; i < 50; i++) {
        String ns = i % 10 == 0 ? "new-" + i : ns(i * 7);
        replicator.pull(peer(), ns, List.copyOf(source.log().heads(ns)));
      }
    }
  }

  /** A peer older than v2 answers 404 there: anti-entropy falls back to its v1 digest. */
  @Test
  void aPeerWithoutV2IsComparedByItsV1Digest() throws Exception {
    speaksV2.set(false);
    String ns = ns(NAMESPACES - 1);
    source.log().append(ns, List.of(new Memory(ns, "from an older peer", Map.of(), List.of(), 5L, null, null)));
    PeerClient client = new PeerClient(new PeerAuth(target.nodeKey()));
    try (Replicator replicator = new Replicator(target.log(), new Joining(peer()), client, SyncConfig.defaults(0, List.of()),
        target.nodeKey(), new PeerAllowlist(Set.of(), true), n -> { })) {
      replicator.start();
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (!target.log().heads(ns).equals(source.log().heads(ns)) && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(target.log().heads(ns)).isEqualTo(source.log().heads(ns));
      assertThat(client.digestBytesReceived()).as("the whole v1 digest").isGreaterThan(NAMESPACES * 40L);
    }
  }

  private record Exchange(Map<String, List<Cid>> found, long requests, long bytes) {}

  private static Exchange reconcile(MnemoStore asker, AgentKey askerKey) throws Exception {
    long requestsBefore = digestRequests.get();
    long bytesBefore = requestBytes.get() + replyBytes.get();
    NamespaceDigests.View local = new NamespaceDigests(asker.log()).view(new PeerAllowlist(Set.of(), true), SERVER_KEY.did());
    Map<String, List<Cid>> found = Reconciliation.run(new PeerClient(new PeerAuth(askerKey)), peer(), local).get(30, TimeUnit.SECONDS);
    return new Exchange(found, digestRequests.get() - requestsBefore, requestBytes.get() + replyBytes.get() - bytesBefore);
  }

  /** A membership of one peer, which joins as it starts. */
  private static final class Joining extends NoMembers {
    private final Peer peer;

    Joining(Peer peer) {
      this.peer = peer;
    }

    @Override
    public void start(Listener listener) {
      listener.onPeerJoined(peer);
    }

    @Override
    public List<Peer> peers() {
      return List.of(peer);
    }
  }

  @FunctionalInterface
  private interface Handler {
    /** The reply body for a verified request, or null for a 404. */
    byte[] answer(DidKey peer, byte[] body) throws IOException;
  }

  private static void serve(HttpExchange exchange, Handler handler) throws IOException {
    try (exchange) {
      byte[] body = exchange.getRequestBody().readAllBytes();
      DidKey peer;
      try {
        peer = endpoint.authenticate(exchange.getRequestHeaders().getFirst("Authorization"), exchange.getRequestMethod(),
            exchange.getRequestURI().getRawPath(), body);
      } catch (PeerAuth.RejectedException e) {
        exchange.sendResponseHeaders(401, -1);
        return;
      }
      byte[] reply;
      try {
        reply = handler.answer(peer, body);
      } catch (MalformedSyncRequestException e) {
        exchange.sendResponseHeaders(400, -1);
        return;
      }
      if (reply == null) {
        exchange.sendResponseHeaders(404, -1);
        return;
      }
      exchange.sendResponseHeaders(200, reply.length);
      exchange.getResponseBody().write(reply);
    }
  }

  private static Peer peer() {
    return new Peer("source", "http://127.0.0.1:" + server.getAddress().getPort(), SERVER_KEY.did(), Set.of(Peer.ALL));
  }

  static String ns(int i) {
    return String.format("ns-%06d", i);
  }

  private static void copy(Path from, Path to) throws IOException {
    try (Stream<Path> files = Files.walk(from)) {
      for (Path file : files.toList()) {
        Path target = to.resolve(from.relativize(file).toString());
        if (Files.isDirectory(file)) {
          Files.createDirectories(target);
        } else if (!file.getFileName().toString().equals("LOCK")) {
          Files.copy(file, target);
        }
      }
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }
}
