package dev.mnemo.sync;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.block.Block;
import dev.mnemo.store.car.CarWriter;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.identity.AgentKey;
import dev.mnemo.store.log.MemoryState;
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
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A pull applies a peer's namespace in causal-order batches with the memories each adds, so that
 * a namespace of millions of memories is not held in memory at once. The peer is a real HTTP
 * server answering {@code POST /v1/sync/blocks} from a real store, as a node does.
 */
class ReplicatorPullTest {
  private static final String NS = "notes";

  @TempDir Path dir;
  private MnemoStore source;
  private MnemoStore target;
  private HttpServer peer;
  private final AtomicInteger blockRequests = new AtomicInteger();
  private final AtomicInteger unauthenticated = new AtomicInteger();
  private final AtomicInteger entriesRequests = new AtomicInteger();
  /** Whether the peer serves POST /v1/sync/entries (a node from before it answers 404). */
  private volatile boolean servesEntries;
  /** Whether the peer answers digest protocol v2 ({@code /v1/sync/digest}), as a current node does. */
  private volatile boolean servesDigest = true;
  private final AtomicInteger wholeDigests = new AtomicInteger();
  private final AtomicInteger digestRequests = new AtomicInteger();
  private final AgentKey peerKey = AgentKey.generate();
  private final PeerAuth peerAuth = new PeerAuth(peerKey);
  /** Blocks the peer serves besides the source store's, and CIDs it withholds. */
  private final Map<Cid, byte[]> extraBlocks = new java.util.concurrent.ConcurrentHashMap<>();
  private final java.util.Set<Cid> withheld = java.util.concurrent.ConcurrentHashMap.newKeySet();
  /** Run by the peer before it answers a block request, with the CIDs asked for. */
  private volatile java.util.function.Consumer<List<Cid>> beforeAnswer = cids -> { };

  @BeforeEach
  void start() throws IOException {
    source = MnemoStore.open(dir.resolve("source"));
    target = MnemoStore.open(dir.resolve("target"));
    peer = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    peer.createContext("/v1/sync/blocks", exchange -> {
      blockRequests.incrementAndGet();
      try {
        byte[] body = exchange.getRequestBody().readAllBytes();
        try {
          // As a node does: only a request signed by the target's node key, for this peer, is served.
          assertThat(peerAuth.verify(exchange.getRequestHeaders().getFirst("Authorization"), exchange.getRequestMethod(),
              exchange.getRequestURI().getRawPath(), body)).isEqualTo(target.nodeKey().did());
        } catch (PeerAuth.RejectedException | AssertionError e) {
          unauthenticated.incrementAndGet();
          exchange.sendResponseHeaders(401, -1);
          return;
        }
        BlockRequest request = BlockRequest.decode(body);
        beforeAnswer.accept(request.cids());
        ByteArrayOutputStream car = new ByteArrayOutputStream();
        CarWriter writer = new CarWriter(car, List.of());
        for (Cid cid : request.cids()) {
          Optional<byte[]> data = withheld.contains(cid) ? Optional.empty()
              : extraBlocks.containsKey(cid) ? Optional.of(extraBlocks.get(cid)) : source.log().blocks().get(cid);
          if (data.isPresent()) {
            writer.write(new Block(cid, data.get()));
          }
        }
        exchange.sendResponseHeaders(200, car.size());
        exchange.getResponseBody().write(car.toByteArray());
      } catch (IOException e) {
        exchange.sendResponseHeaders(400, -1);
      } finally {
        exchange.close();
      }
    });
    // The real serving code, for a peer that may replicate everything.
    SyncEndpoint endpoint = new SyncEndpoint(new SyncAccess(source.log(), (node, ns) -> true, peerAuth));
    peer.createContext("/v1/sync/entries", exchange -> {
      try (exchange) {
        if (!servesEntries) {
          exchange.sendResponseHeaders(404, -1);
          return;
        }
        entriesRequests.incrementAndGet();
        byte[] body = exchange.getRequestBody().readAllBytes();
        ByteArrayOutputStream car = new ByteArrayOutputStream();
        try {
          endpoint.entries(endpoint.authenticate(exchange.getRequestHeaders().getFirst("Authorization"), "POST",
              exchange.getRequestURI().getRawPath(), body), body, car);
        } catch (PeerAuth.RejectedException e) {
          unauthenticated.incrementAndGet();
          exchange.sendResponseHeaders(401, -1);
          return;
        }
        exchange.sendResponseHeaders(200, car.size());
        exchange.getResponseBody().write(car.toByteArray());
      }
    });
    peer.createContext("/v1/sync/digest", exchange -> {
      try (exchange) {
        if (!servesDigest) {
          exchange.sendResponseHeaders(404, -1);
          return;
        }
        digestRequests.incrementAndGet();
        byte[] body = exchange.getRequestBody().readAllBytes();
        byte[] answer;
        try {
          answer = endpoint.digest(endpoint.authenticate(exchange.getRequestHeaders().getFirst("Authorization"), "POST",
              exchange.getRequestURI().getRawPath(), body), body);
        } catch (PeerAuth.RejectedException e) {
          unauthenticated.incrementAndGet();
          exchange.sendResponseHeaders(401, -1);
          return;
        } catch (MalformedSyncRequestException e) {
          exchange.sendResponseHeaders(400, -1);
          return;
        }
        exchange.sendResponseHeaders(200, answer.length);
        exchange.getResponseBody().write(answer);
      }
    });
    peer.createContext("/v1/sync/heads", exchange -> {
      wholeDigests.incrementAndGet();
      byte[] digest = HeadsDigest.of(source.log()).encode();
      exchange.sendResponseHeaders(200, digest.length);
      exchange.getResponseBody().write(digest);
      exchange.close();
    });
    peer.start();
  }

  private Peer peer() {
    return new Peer("peer", "http://127.0.0.1:" + peer.getAddress().getPort(), peerKey.did(), java.util.Set.of(Peer.ALL));
  }

  @AfterEach
  void stop() throws IOException {
    peer.stop(0);
    source.close();
    target.close();
  }

  @Test
  void aNamespaceIsAppliedInBatchesEvenWhenALaterEntryForgetsWhatAnEarlierOneAdded() throws Exception {
    List<Cid> added = new ArrayList<>();
    for (int batch = 0; batch < 5; batch++) {
      List<Memory> memories = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        memories.add(new Memory(NS, "note " + batch + "." + i, Map.of(), List.of(), 1_000 + batch * 10 + i, null, null));
      }
      added.addAll(source.log().append(NS, memories).memories());
    }
    // The source drops the blocks it forgets: the first batch's entry will come without them.
    List<Cid> forgotten = added.subList(0, 3);
    source.log().forget(NS, forgotten);

    try (Replicator replicator = new Replicator(target.log(), new NoMembers(), new PeerClient(new PeerAuth(target.nodeKey())),
        SyncConfig.defaults(0, List.of()), target.nodeKey(), ReplicationPolicy.NOBODY, ns -> { }, 10)) {
      replicator.pull(peer(), NS, List.copyOf(source.log().heads(NS)));
      assertThat(replicator.status().rejected()).as(replicator.status().lastRejection()).isZero();
      assertThat(replicator.status().entriesApplied()).isEqualTo(6);
    }
    // Six levels of entries walked, then one batch of memories per ADD entry (10 new memories each).
    assertThat(blockRequests).hasValue(6 + 5);
    assertThat(unauthenticated).as("requests not signed by the target for this peer").hasValue(0);
    assertThat(target.log().heads(NS)).isEqualTo(source.log().heads(NS));
    for (Cid cid : added) {
      MemoryState expected = forgotten.contains(cid) ? MemoryState.FORGOTTEN : MemoryState.LIVE;
      assertThat(target.log().state(NS, cid)).as("%s", cid).isEqualTo(expected);
    }
    assertThat(target.log().memory(added.get(49))).isPresent();
  }

  /**
   * The forget that excused a missing memory in an earlier batch is in a batch that is refused
   * (here its clock breaks the Lamport rule). The memory was marked forgotten all the same, a
   * state no other node holding the same entries had, and the batches applied before the refusal
   * never reached the index.
   */
  @Test
  void aRefusedLaterBatchLeavesTheMemoryItExcusedUnknownAndTheEarlierBatchesIndexed() throws Exception {
    List<Cid> added = new ArrayList<>();
    List<Cid> entries = new ArrayList<>();
    for (int batch = 0; batch < 3; batch++) {
      List<Memory> memories = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        memories.add(new Memory(NS, "note " + batch + "." + i, Map.of(), List.of(), 1_000 + batch * 10 + i, null, null));
      }
      var appended = source.log().append(NS, memories);
      added.addAll(appended.memories());
      entries.add(appended.entry());
    }
    Cid missing = added.get(0);
    withheld.add(missing);
    Cid head = source.log().heads(NS).iterator().next();
    Block forged = Block.dagCbor(dev.mnemo.store.model.LogEntry.signed(dev.mnemo.store.identity.AgentKey.generate(), NS,
        dev.mnemo.store.model.Op.FORGET, List.of(missing), List.of(head), source.log().clock(NS) + 2).encode());
    extraBlocks.put(forged.cid(), forged.data());

    AtomicInteger onApplied = new AtomicInteger();
    try (Replicator replicator = new Replicator(target.log(), new NoMembers(), new PeerClient(new PeerAuth(target.nodeKey())),
        SyncConfig.defaults(0, List.of()), target.nodeKey(), ReplicationPolicy.NOBODY, ns -> onApplied.incrementAndGet(), 10)) {
      replicator.pull(peer(), NS, List.of(forged.cid()));
      assertThat(replicator.status().rejected()).isEqualTo(1);
      // Batches of 10 new memories: the first two entries apply; the third shares its batch with
      // the forged forget (which adds none) and is refused with it.
      assertThat(replicator.status().entriesApplied()).isEqualTo(2);
    }
    assertThat(onApplied).as("the applied batches are indexed").hasValue(1);
    assertThat(target.log().heads(NS)).containsExactly(entries.get(1));
    assertThat(target.log().state(NS, missing)).as("no forget applied").isEqualTo(MemoryState.UNKNOWN);
    assertThat(target.log().state(NS, added.get(1))).isEqualTo(MemoryState.LIVE);
  }

  /**
   * A pull lists the peer's entries, then fetches their memories; a forget committed on the peer
   * in between (it drops the memory's block) made the batch fail as "memory missing", counted the
   * honest peer as rejected and threw the pull away. The pull fetches the forget too and applies
   * both: nothing rejected, the memory ends forgotten here, the rest live, the heads the peer's.
   */
  @Test
  void aForgetCommittedOnThePeerBetweenListingAndFetchingIsFetchedAndAppliedNotRejected() throws Exception {
    pullMeetingAForget();
    // The peer's new heads came from the one bucket of its digest tree that holds the namespace.
    assertThat(digestRequests).as("digest requests for the namespace's heads").hasValue(1);
    assertThat(wholeDigests).as("whole v1 digests asked for").hasValue(0);
  }

  @Test
  void aPeerOlderThanDigestV2IsAskedForItsWholeDigestWhenAPullMeetsAForget() throws Exception {
    servesDigest = false;
    pullMeetingAForget();
    assertThat(wholeDigests).as("whole v1 digests asked for").hasValue(1);
  }

  private void pullMeetingAForget() throws Exception {
    List<Cid> added = new ArrayList<>();
    for (int batch = 0; batch < 3; batch++) {
      List<Memory> memories = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        memories.add(new Memory(NS, "note " + batch + "." + i, Map.of(), List.of(), 1_000 + batch * 10 + i, null, null));
      }
      added.addAll(source.log().append(NS, memories).memories());
    }
    List<Cid> listed = List.copyOf(source.log().heads(NS));
    Cid victim = added.get(15); // added by the second entry
    java.util.concurrent.atomic.AtomicBoolean forgot = new java.util.concurrent.atomic.AtomicBoolean();
    // The first request for memories comes after the walk has listed every entry: forget then.
    beforeAnswer = cids -> {
      if (cids.contains(added.get(0)) && forgot.compareAndSet(false, true)) {
        try {
          source.log().forget(NS, List.of(victim));
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }
    };

    try (Replicator replicator = new Replicator(target.log(), new NoMembers(), new PeerClient(new PeerAuth(target.nodeKey())),
        SyncConfig.defaults(0, List.of()), target.nodeKey(), ReplicationPolicy.NOBODY, ns -> { }, 10)) {
      replicator.pull(peer(), NS, listed);
      assertThat(forgot).as("the peer forgot between the listing and the fetch").isTrue();
      assertThat(replicator.status().rejected()).as("rejections of an honest peer: %s", replicator.status().lastRejection())
          .isZero();
      assertThat(replicator.status().entriesApplied()).as("three adds and the forget").isEqualTo(4);
    }
    assertThat(target.log().state(NS, victim)).isEqualTo(MemoryState.FORGOTTEN);
    assertThat(target.log().heads(NS)).isEqualTo(source.log().heads(NS));
    for (Cid cid : added) {
      if (!cid.equals(victim)) {
        assertThat(target.log().state(NS, cid)).as("%s", cid).isEqualTo(MemoryState.LIVE);
        assertThat(target.log().memory(cid)).as("%s", cid).isPresent();
      }
    }
  }

  /**
   * A pull walked back one level of parents per request: 200 entries in a chain took 200 round
   * trips (a node catching up after a 25 s stop spent 19 s so on a loaded machine). Against a
   * peer that serves /v1/sync/entries, the walk asks for more levels per request as it goes
   * deeper, and a pull one entry behind still fetches that one entry.
   */
  @Test
  void aDeepWalkTakesAFewRequestsAndAShallowOneFetchesOnlyWhatIsNew() throws Exception {
    servesEntries = true;
    for (int i = 0; i < 200; i++) {
      source.log().append(NS, List.of(new Memory(NS, "note " + i, Map.of(), List.of(), 1_000 + i, null, null)));
    }
    try (Replicator replicator = new Replicator(target.log(), new NoMembers(), new PeerClient(new PeerAuth(target.nodeKey())),
        SyncConfig.defaults(0, List.of()), target.nodeKey(), ReplicationPolicy.NOBODY, ns -> { }, 1_000)) {
      replicator.pull(peer(), NS, List.copyOf(source.log().heads(NS)));
      assertThat(replicator.status().rejected()).as(replicator.status().lastRejection()).isZero();
      assertThat(target.log().heads(NS)).isEqualTo(source.log().heads(NS));
      // Depth 0, 1, 2, 4, ..., 64, 64: 200 levels in 9 requests, not 200.
      assertThat(entriesRequests.get() + blockRequests.get()).as("requests to pull 200 levels (one of them for the memories)")
          .isLessThanOrEqualTo(11);

      source.log().append(NS, List.of(new Memory(NS, "one more", Map.of(), List.of(), 2_000, null, null)));
      long fetchedBefore = replicator.status().blocksFetched();
      entriesRequests.set(0);
      blockRequests.set(0);
      replicator.pull(peer(), NS, List.copyOf(source.log().heads(NS)));
      assertThat(target.log().heads(NS)).isEqualTo(source.log().heads(NS));
      assertThat(entriesRequests.get() + blockRequests.get()).as("requests for one new entry and its memory").isEqualTo(2);
      assertThat(replicator.status().blocksFetched() - fetchedBefore).as("blocks fetched for one new entry and its memory")
          .isEqualTo(2);
    }
    assertThat(unauthenticated).hasValue(0);
  }

  /**
   * Indexing what a pull brought ran on the pull thread: a catch-up's hundreds of memories took
   * 10 s to index on a loaded machine, and the namespace's next pull (with the last writes)
   * waited behind it. Here indexing never finishes, and the next pull goes through all the same.
   */
  @Test
  void theNextPullOfANamespaceDoesNotWaitForTheIndexingOfTheLast() throws Exception {
    servesEntries = true;
    source.log().append(NS, List.of(new Memory(NS, "first", Map.of(), List.of(), 1_000, null, null)));
    java.util.concurrent.CountDownLatch indexing = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    try (Replicator replicator = new Replicator(target.log(), new NoMembers(), new PeerClient(new PeerAuth(target.nodeKey())),
        SyncConfig.defaults(0, List.of()), target.nodeKey(), ReplicationPolicy.NOBODY, ns -> {
          indexing.countDown();
          try {
            release.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        })) {
      replicator.requestPull(NS, peer(), List.copyOf(source.log().heads(NS)));
      assertThat(indexing.await(10, java.util.concurrent.TimeUnit.SECONDS)).as("the first pull is being indexed").isTrue();
      source.log().append(NS, List.of(new Memory(NS, "second", Map.of(), List.of(), 2_000, null, null)));
      replicator.requestPull(NS, peer(), List.copyOf(source.log().heads(NS)));
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (!target.log().heads(NS).equals(source.log().heads(NS)) && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(target.log().heads(NS)).as("heads while the first pull's indexing hangs").isEqualTo(source.log().heads(NS));
      release.countDown();
    }
  }

  /**
   * One want per namespace, the latest from any peer, replaced the others: when the last writes
   * landed on two nodes at once, a third pulled from one and waited for an anti-entropy round to
   * pick the other. Here a stale want from a second peer comes after a newer one from the first,
   * while a pull runs; both are pulled.
   */
  @Test
  void wantsFromTwoPeersWhileAPullRunsAreBothPulled() throws Exception {
    Cid h1 = source.log().append(NS, List.of(new Memory(NS, "first", Map.of(), List.of(), 1_000, null, null))).entry();
    java.util.concurrent.CountDownLatch inPull = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.atomic.AtomicBoolean first = new java.util.concurrent.atomic.AtomicBoolean(true);
    beforeAnswer = cids -> {
      if (first.getAndSet(false)) {
        inPull.countDown();
        try {
          release.await(10, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    };
    // The same server under a second address: another member, as far as the puller can tell.
    Peer other = new Peer("other", "http://localhost:" + peer.getAddress().getPort(), peerKey.did(), java.util.Set.of(Peer.ALL));
    try (Replicator replicator = new Replicator(target.log(), new NoMembers(), new PeerClient(new PeerAuth(target.nodeKey())),
        SyncConfig.defaults(0, List.of()), target.nodeKey(), ReplicationPolicy.NOBODY, ns -> { })) {
      replicator.requestPull(NS, peer(), List.of(h1));
      assertThat(inPull.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
      Cid h2 = source.log().append(NS, List.of(new Memory(NS, "second", Map.of(), List.of(), 2_000, null, null))).entry();
      replicator.requestPull(NS, peer(), List.of(h2));
      replicator.requestPull(NS, other, List.of(h1)); // the other node has not got the second yet
      release.countDown();
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (!target.log().heads(NS).equals(java.util.Set.of(h2)) && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(target.log().heads(NS)).as("heads after both wants").containsExactly(h2);
    }
  }
}
