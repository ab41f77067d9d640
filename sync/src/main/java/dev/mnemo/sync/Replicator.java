package dev.mnemo.sync;

import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.block.Block;
import dev.mnemo.store.block.CorruptBlockException;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.identity.AgentKey;
import dev.mnemo.store.identity.DidKey;
import dev.mnemo.store.log.MemoryState;
import dev.mnemo.store.log.NamespaceLog;
import dev.mnemo.store.log.RejectedEntryException;
import dev.mnemo.store.model.LogEntry;
import dev.mnemo.store.model.Namespace;
import dev.mnemo.store.model.Op;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * Replicates namespaces between nodes. Three small pieces around one pull:
 *
 * <ul>
 *   <li>announce: after a local write, send the namespace's new heads to the peers that may
 *       replicate it (signed; see {@link HeadsAnnouncement});
 *   <li>on an announcement naming heads this node lacks, pull from the announcer;
 *   <li>anti-entropy: every few seconds, compare head digests with a random live peer and pull
 *       whatever differs, which heals announcements lost to a crash or a partition.
 * </ul>
 *
 * <p>A pull walks back from the unknown heads one level of parents per request until it reaches
 * entries this node has, then applies the entries in causal order, in batches with the memories
 * they add, through {@link NamespaceLog#applyBlocks}: hashes, signatures and the entry rules are
 * checked there, and one bad block rejects its batch with nothing of the batch stored (earlier
 * batches, complete and verified, stay).
 *
 * <p>A peer that stops answering (a hung process, a silent partition) must not hold up
 * replication with the others. So digests are fetched asynchronously, at most one in flight per
 * peer; pulls run on a small pool, at most one per namespace at a time (so two announcements of
 * the same heads never fetch twice), and every call to a peer has a timeout.
 */
public final class Replicator implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(Replicator.class.getName());
  /**
   * A pull walks back through at most this many entries, or bytes of entries, to reach one this
   * node has; past that it gives up (an honest backlog that large is ~2 billion memories).
   */
  private static final int MAX_PULL_ENTRIES = 2_000_000;
  private static final long MAX_PULL_ENTRY_BYTES = 512L << 20;
  /** New memories fetched and applied together in one batch of a pull. */
  static final int MEMORIES_PER_APPLY = 10_000;
  /**
   * Times one pull may fetch the entries a peer wrote since it started, when the peer turns out
   * to lack memories its entries add (forgotten there meanwhile); a peer that forgets faster than
   * this node pulls is pulled again later rather than chased.
   */
  private static final int MAX_CATCH_UPS = 3;
  /** The most levels below the asked ones a walk request asks a peer to add ({@link EntriesRequest}). */
  private static final int MAX_WALK_DEPTH = 64;
  /** Namespaces pulled at once; each pull blocks on one peer at a time. */
  private static final int PULL_THREADS = 4;

  /**
   * Sync counters and per-namespace lag, for GET /v1/node and /metrics.
   *
   * @param deferredAnnouncements announcements kept because their signer was not (yet) a member
   *     when they came: pulled if it joins within {@link #DEFERRED_ANNOUNCEMENT_MILLIS}
   * @param ignoredAnnouncements of those, the ones whose signer did not join in time (dropped)
   * @param backoffs peers this node does not pull from for a while, having rejected their data
   */
  public record Status(long pulls, long entriesApplied, long blocksFetched, long bytesFetched, long rejected,
      String lastRejection, long deferredAnnouncements, long ignoredAnnouncements, long refusedMembers,
      Map<String, Long> lagMillis, Map<DidKey, Backoff> backoffs) {}

  /**
   * A peer this node stopped pulling from after rejecting its data: {@code failures} rejections in
   * a row, no pull from it before {@code untilMillis} (epoch), and why the last one was rejected.
   * The wait doubles with each rejection up to {@link #MAX_BACKOFF_MILLIS}; a pull from the peer
   * that goes through, or an operator (DELETE /v1/node/peers/{did}/backoff), ends it.
   */
  public record Backoff(String http, int failures, long untilMillis, String lastReason) {}

  /**
   * Longest wait before pulling again from a peer whose data was rejected: long enough that a
   * peer serving bad data costs a few requests an hour, short enough that one fixed without an
   * operator is pulled from again within minutes.
   */
  public static final long MAX_BACKOFF_MILLIS = 10 * 60_000;
  /**
   * How long an announcement from a key no member holds is kept, waiting for its signer to join:
   * a restarted node, or one its peers declared dead while it was stopped, writes and announces
   * before the others' membership views have it back (SWIM takes a few seconds to spread a join).
   */
  public static final long DEFERRED_ANNOUNCEMENT_MILLIS = 30_000;
  /** How long a member that left this node's view is still pulled from (see {@link #recentlyDeparted}). */
  static final long RECENTLY_DEPARTED_MILLIS = 60_000;
  /** Announcements kept at most, whatever their signers: a flood of strangers' ones costs this much. */
  private static final int MAX_DEFERRED_ANNOUNCEMENTS = 1_024;

  private final NamespaceLog log;
  private final Membership membership;
  private final PeerClient client;
  private final SyncConfig config;
  private final AgentKey nodeKey;
  private final ReplicationPolicy policy;
  private final Consumer<String> onApplied;
  private final ScheduledExecutorService timer;
  private final ExecutorService pullers;
  /** Builds this node's digest views and acts on comparisons' results: one at a time, off the network threads. */
  private final ExecutorService comparing;
  /** Runs {@code onApplied} after pulls, off the pull threads ({@link #indexLater}). */
  private final ExecutorService indexing;
  private final Set<String> indexWanted = ConcurrentHashMap.newKeySet();
  /**
   * Pulls wanted per namespace, waiting for the namespace's running pull to end: the latest want
   * per peer (by HTTP address), in arrival order. Changed only inside {@code compute} of its
   * namespace, so a want never lands in a map being dropped.
   */
  private final Map<String, LinkedHashMap<String, PullRequest>> pending = new ConcurrentHashMap<>();
  private final Set<String> pulling = ConcurrentHashMap.newKeySet();
  /** When the last anti-entropy round ran, and when this node last found it had been stopped (System.nanoTime; 0: never). */
  private volatile long lastRoundNanos;
  private volatile long resumedNanos;
  /** Peers (HTTP addresses) with a digest request in flight. */
  private final Set<String> digesting = ConcurrentHashMap.newKeySet();
  /** Peers (HTTP addresses) that answered 404 to {@code /v1/sync/entries}: walked one level per request. */
  private final Set<String> blocksOnly = ConcurrentHashMap.newKeySet();
  private final Map<String, Long> behindSince = new ConcurrentHashMap<>();
  private final LongAdder pulls = new LongAdder();
  private final LongAdder entriesApplied = new LongAdder();
  private final LongAdder blocksFetched = new LongAdder();
  private final LongAdder rejected = new LongAdder();
  private final LongAdder ignoredAnnouncements = new LongAdder();
  private final LongAdder deferredAnnouncements = new LongAdder();
  private volatile String lastRejection = "";
  /** Peers not pulled from for a while, by node key (see {@link Backoff}). */
  private final Map<DidKey, Backoff> backoffs = new ConcurrentHashMap<>();
  /** Announcements whose signer is no member yet, by signer and namespace, oldest first. */
  private final Map<DeferredKey, Deferred> deferred = new LinkedHashMap<>();
  private final int memoriesPerApply;
  /** This node's digest tree, compared with peers' in anti-entropy; guarded by this. */
  private NamespaceDigests digests;

  /**
   * @param nodeKey signs this node's announcements
   * @param policy which peers hear of which namespaces: announcements go only to peers it allows
   * @param onApplied called with a namespace after entries of it from a peer are stored
   */
  public Replicator(NamespaceLog log, Membership membership, PeerClient client, SyncConfig config, AgentKey nodeKey,
      ReplicationPolicy policy, Consumer<String> onApplied) {
    this(log, membership, client, config, nodeKey, policy, onApplied, MEMORIES_PER_APPLY);
  }

  /**
   * As the other constructor, comparing digests with the tree {@code digests} keeps (the node's
   * sync endpoint serves from the same: one tree in memory, not two).
   */
  public Replicator(NamespaceLog log, Membership membership, PeerClient client, SyncConfig config, AgentKey nodeKey,
      ReplicationPolicy policy, Consumer<String> onApplied, NamespaceDigests digests) {
    this(log, membership, client, config, nodeKey, policy, onApplied, MEMORIES_PER_APPLY);
    this.digests = digests;
  }

  /** @param memoriesPerApply new memories fetched and applied together in one batch of a pull */
  Replicator(NamespaceLog log, Membership membership, PeerClient client, SyncConfig config, AgentKey nodeKey,
      ReplicationPolicy policy, Consumer<String> onApplied, int memoriesPerApply) {
    this.memoriesPerApply = memoriesPerApply;
    this.log = log;
    this.membership = membership;
    this.client = client;
    this.config = config;
    this.nodeKey = nodeKey;
    this.policy = policy;
    this.onApplied = onApplied;
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().name("mnemo-sync-timer").daemon(true).unstarted(r));
    this.pullers = Executors.newFixedThreadPool(PULL_THREADS, Thread.ofPlatform().name("mnemo-sync-", 0).daemon(true).factory());
    this.comparing = Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().name("mnemo-sync-compare").daemon(true).unstarted(r));
    this.indexing = Executors.newSingleThreadExecutor(Thread.ofPlatform().name("mnemo-sync-index").daemon(true).factory());
  }

  private record PullRequest(Peer peer, List<Cid> heads) {}

  private record DeferredKey(DidKey did, String ns) {}

  private record Deferred(List<Cid> heads, long atMillis) {}

  public void start() throws IOException {
    membership.start(new Membership.Listener() {
      @Override
      public void onMessage(byte[] payload) {
        received(payload);
      }

      @Override
      public void onPeerJoined(Peer peer) {
        joined(peer);
      }
    });
    timer.scheduleWithFixedDelay(this::antiEntropyRound, config.antiEntropyMillis(), config.antiEntropyMillis(), TimeUnit.MILLISECONDS);
  }

  public Membership membership() {
    return membership;
  }

  /**
   * Sends the namespace's heads to each peer that replicates it and may (a peer without the right
   * hears nothing of the namespace, not even its name); called after every local write. Never
   * blocks on the network.
   */
  public void announce(String ns) {
    if (!config.replicates(ns)) {
      return;
    }
    byte[] announcement = null;
    for (Peer peer : membership.peers()) {
      if (peer.replicates(ns) && policy.mayReplicate(peer.did(), ns)) {
        if (announcement == null) {
          announcement = new HeadsAnnouncement(ns, List.copyOf(log.heads(ns)), nodeKey.did()).encode(nodeKey);
        }
        membership.send(peer, announcement);
      }
    }
  }

  private void received(byte[] payload) {
    HeadsAnnouncement announcement;
    try {
      announcement = HeadsAnnouncement.decode(payload);
    } catch (InvalidFormatException e) {
      reject("unreadable or unsigned announcement: " + e.getMessage());
      return;
    }
    if (!config.replicates(announcement.ns()) || announcement.did().equals(nodeKey.did()) || allKnown(announcement.heads())) {
      return;
    }
    // Only a member whose signed card names this key is pulled from, at the address that card
    // advertises: an announcement names no address, so no message can send this node's requests
    // anywhere else, and one signed by a key no member holds is ignored (anti-entropy with the
    // members still finds any heads they have).
    Optional<Peer> member = memberWith(announcement.did());
    if (member.isEmpty()) {
      // Under churn this is most often an honest node this one's view has not (re)admitted yet:
      // keep the heads and pull them from it when it joins, not a round later.
      defer(announcement);
      return;
    }
    requestPull(announcement.ns(), member.get(), announcement.heads());
  }

  private void defer(HeadsAnnouncement announcement) {
    long now = System.currentTimeMillis();
    synchronized (deferred) {
      expireDeferred(now);
      deferred.remove(new DeferredKey(announcement.did(), announcement.ns()));
      if (deferred.size() >= MAX_DEFERRED_ANNOUNCEMENTS) {
        var oldest = deferred.keySet().iterator();
        oldest.next();
        oldest.remove();
        ignoredAnnouncements.increment();
      }
      deferred.put(new DeferredKey(announcement.did(), announcement.ns()), new Deferred(announcement.heads(), now));
    }
    deferredAnnouncements.increment();
    LOG.log(System.Logger.Level.DEBUG, "keeping heads of " + announcement.ns() + " announced by " + announcement.did()
        + ", which is no member's key yet, until it joins");
  }

  /** Drops kept announcements older than the keep window, counting them as ignored. */
  private void expireDeferred(long now) {
    synchronized (deferred) {
      var it = deferred.values().iterator();
      while (it.hasNext() && now - it.next().atMillis() > DEFERRED_ANNOUNCEMENT_MILLIS) {
        it.remove();
        ignoredAnnouncements.increment();
      }
    }
  }

  /**
   * A new or returning peer: pull what it announced while this node did not know it as a member,
   * and compare digests, since it may hold more that this node missed.
   */
  private void joined(Peer peer) {
    List<Map.Entry<String, List<Cid>>> kept = new ArrayList<>();
    synchronized (deferred) {
      var it = deferred.entrySet().iterator();
      while (it.hasNext()) {
        Map.Entry<DeferredKey, Deferred> e = it.next();
        if (e.getKey().did().equals(peer.did())) {
          kept.add(Map.entry(e.getKey().ns(), e.getValue().heads()));
          it.remove();
        }
      }
    }
    for (Map.Entry<String, List<Cid>> e : kept) {
      if (!allKnown(e.getValue())) {
        requestPull(e.getKey(), peer, e.getValue());
      }
    }
    antiEntropyWith(peer);
  }

  private Optional<Peer> memberWith(DidKey did) {
    for (Peer peer : membership.peers()) {
      if (peer.did().equals(did)) {
        return Optional.of(peer);
      }
    }
    return recentlyDeparted().stream().filter(p -> p.did().equals(did)).findFirst();
  }

  /**
   * Members that left this node's view in the last {@link #RECENTLY_DEPARTED_MILLIS}, as their
   * signed cards described them. Under churn most of them are back already: a node stopped for a
   * while is declared dead and sends its first announcements before the others re-admit it, a
   * restarted one comes back under a new member id, and a node that was itself stopped declares
   * every peer dead at once when it resumes and is alone in its view until the next membership
   * sync. Their cards still hold (the same key, the same verified address), so they are pulled
   * from meanwhile instead of waiting for SWIM.
   */
  private List<Peer> recentlyDeparted() {
    long now = System.currentTimeMillis();
    List<Peer> departed = new ArrayList<>();
    for (PeerStatus status : membership.members()) {
      if (status.state() != PeerStatus.State.ALIVE && now - status.since() < RECENTLY_DEPARTED_MILLIS) {
        departed.add(status.peer());
      }
    }
    return departed;
  }

  /**
   * Wants the heads of {@code ns} pulled from {@code peer}. A newer want from the same peer
   * replaces one still waiting (its heads include what the older named, or were merged past it);
   * wants from other peers wait beside it. One want per namespace, the latest from anyone, lost
   * the others' heads: when the last writes of a run landed on two nodes at once, a third pulled
   * from one of them and waited for an anti-entropy round to pick the other.
   */
  void requestPull(String ns, Peer peer, List<Cid> heads) {
    if (backedOff(peer)) {
      return;
    }
    if (!Namespace.isValid(ns)) {
      // A name no node would write under: a peer's digest or announcement may list any string,
      // and each would otherwise take a pull and an entry in the lag map.
      reject(peer, "a namespace named " + ns.substring(0, Math.min(ns.length(), 64)) + " from " + peer.http());
      return;
    }
    behindSince.putIfAbsent(ns, System.currentTimeMillis());
    PullRequest want = new PullRequest(peer, heads);
    pending.compute(ns, (k, wants) -> {
      LinkedHashMap<String, PullRequest> out = wants == null ? new LinkedHashMap<>() : wants;
      out.remove(peer.http()); // to the back: the others waited longer
      out.put(peer.http(), want);
      return out;
    });
    startPulling(ns);
  }

  private void startPulling(String ns) {
    if (pending.containsKey(ns) && pulling.add(ns)) {
      try {
        pullers.execute(() -> drain(ns));
      } catch (RejectedExecutionException e) {
        pulling.remove(ns); // closing
      }
    }
  }

  private void drain(String ns) {
    try {
      for (PullRequest request = nextWant(ns); request != null; request = nextWant(ns)) {
        if (allKnown(request.heads())) {
          continue; // another pull brought them meanwhile
        }
        if (pullOnce(request.peer(), ns, request.heads())) {
          indexLater(ns);
        }
      }
    } finally {
      pulling.remove(ns);
      startPulling(ns); // a want that came in after the last look
    }
  }

  /** Takes the oldest waiting want of {@code ns}; null if there is none. */
  private PullRequest nextWant(String ns) {
    PullRequest[] taken = new PullRequest[1];
    pending.computeIfPresent(ns, (k, wants) -> {
      var first = wants.entrySet().iterator();
      if (first.hasNext()) {
        taken[0] = first.next().getValue();
        first.remove();
      }
      return wants.isEmpty() ? null : wants;
    });
    return taken[0];
  }

  private void antiEntropyRound() {
    expireDeferred(System.currentTimeMillis());
    // A peer in back-off is left out, so the round goes to one this node can pull from.
    java.util.function.Predicate<Peer> free = p -> !digesting.contains(p.http()) && !backedOff(p);
    List<Peer> peers = membership.peers().stream().filter(free).toList();
    long now = System.nanoTime();
    if (lastRoundNanos != 0 && now - lastRoundNanos > Math.max(5_000_000_000L, 5_000_000L * config.antiEntropyMillis())) {
      // This timer fell far behind: the process was stopped (SIGSTOP, a long pause) and has just
      // declared every peer dead at once.
      resumedNanos = now;
    }
    lastRoundNanos = now;
    if (peers.isEmpty() && resumedNanos != 0 && now - resumedNanos < RECENTLY_DEPARTED_MILLIS * 1_000_000L) {
      // Alone in its view after a stop (see recentlyDeparted): compare with a member that was there
      // moments ago rather than wait for SWIM to re-admit it. Not after a partition, where this
      // node's peers went away and it did not: those it pulls from again when they come back.
      peers = recentlyDeparted().stream().filter(free).toList();
    }
    if (!peers.isEmpty()) {
      antiEntropyWith(peers.get(ThreadLocalRandom.current().nextInt(peers.size())));
    }
  }

  /**
   * Compares digests with the peer without waiting for the answer, and pulls whatever differs:
   * by digest protocol v2 (a walk down the digest trees where they differ, see
   * {@link Reconciliation}), or, with a peer older than v2, by its whole v1 digest.
   */
  private void antiEntropyWith(Peer peer) {
    if (backedOff(peer) || !digesting.add(peer.http())) {
      return;
    }
    // This node's tree as it would serve it to the peer: under the usual symmetric policy, what the
    // peer's tree for this node holds too, so only real differences show.
    // On the comparing thread: the first view builds the tree (a pass over every namespace's
    // heads), which must not hold up the gossip thread that may have called this.
    CompletableFuture<NamespaceDigests.View> view;
    try {
      view = CompletableFuture.supplyAsync(() -> digests().view(policy, peer.did()), comparing);
    } catch (RejectedExecutionException closing) {
      digesting.remove(peer.http());
      return;
    }
    orV1(view.thenCompose(local -> Reconciliation.run(client, peer, local)), peer, HeadsDigest::namespaces)
        // On the comparing thread, not the HTTP client's: close() waits for it before the store
        // closes under it (a comparison that ended after close once read a closed store and crashed).
        .whenCompleteAsync((namespaces, error) -> {
      digesting.remove(peer.http());
      if (error != null) {
        LOG.log(System.Logger.Level.DEBUG, "anti-entropy with " + peer.http() + " failed: " + unwrap(error).getMessage());
        return;
      }
      try {
        for (Map.Entry<String, List<Cid>> e : namespaces.entrySet()) {
          if (config.replicates(e.getKey()) && !allKnown(e.getValue())) {
            requestPull(e.getKey(), peer, e.getValue());
          }
        }
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "anti-entropy with " + peer.http() + " failed: " + e);
      }
    }, comparing).exceptionally(error -> {
      if (unwrap(error) instanceof RejectedExecutionException) {
        digesting.remove(peer.http()); // closing: the comparing thread takes no more work
      }
      return null;
    });
  }

  /** {@code v2}, or, when the peer is older than digest protocol v2, {@code fromV1} of its whole v1 digest. */
  private <T> CompletableFuture<T> orV1(CompletableFuture<T> v2, Peer peer, java.util.function.Function<HeadsDigest, T> fromV1) {
    return v2.exceptionallyCompose(error -> unwrap(error) instanceof PeerClient.NoDigestV2Exception
        ? client.digestAsync(peer).thenApply(fromV1)
        : CompletableFuture.failedFuture(error));
  }

  /** The tree given at construction, else one of this replicator's own, made on first use. */
  private synchronized NamespaceDigests digests() {
    if (digests == null) {
      digests = new NamespaceDigests(log);
    }
    return digests;
  }

  private static Throwable unwrap(Throwable error) {
    return error instanceof java.util.concurrent.CompletionException && error.getCause() != null ? error.getCause() : error;
  }

  private boolean allKnown(Collection<Cid> heads) {
    for (Cid head : heads) {
      if (log.position(head).isEmpty()) {
        return false;
      }
    }
    return true;
  }

  /**
   * Fetches what is missing behind {@code heads} from one peer and applies it: first the entries,
   * walking back one level of parents per request until it reaches entries this node has; then,
   * in causal order, batches of entries with the memories they add, each batch verified and
   * applied all or nothing. Only the entries (small: a batch of 1,000 memories is one entry of
   * ~40 KB) are held for the whole pull, so a namespace of millions of memories replicates in
   * bounded memory, and each batch's parents are stored by the time it is applied.
   */
  void pull(Peer peer, String ns, List<Cid> heads) {
    if (pullOnce(peer, ns, heads)) {
      onApplied.accept(ns);
    }
  }

  /**
   * Calls {@code onApplied} for {@code ns} on the indexing thread, once for any number of pulls
   * that applied entries meanwhile. Not on the pull thread: indexing what a catch-up brought
   * (hundreds of memories) took 10 s on a loaded machine, and the namespace's next pull, with the
   * last writes, waited behind it; the heads were applied all along.
   */
  private void indexLater(String ns) {
    if (indexWanted.add(ns)) {
      try {
        indexing.execute(() -> {
          indexWanted.remove(ns);
          onApplied.accept(ns);
        });
      } catch (RejectedExecutionException e) {
        indexWanted.remove(ns); // closing
      }
    }
  }

  /** The pull {@link #pull} describes, without {@code onApplied}; true if it applied any entry. */
  private boolean pullOnce(Peer peer, String ns, List<Cid> heads) {
    if (backedOff(peer)) {
      return false; // it was wanted before the peer's data was rejected by another pull
    }
    pulls.increment();
    boolean lacksAll = false;
    int applied = 0;
    try {
      Walked walked = walkEntries(peer, ns, heads, null);
      if (walked == null) {
        return false;
      }
      if (walked.blocks().isEmpty()) {
        lacksAll = true;
        return false;
      }
      Set<Cid> forgottenInPull = forgottenBy(walked);
      List<Cid> order = NamespaceLog.causalOrder(walked.entries());
      // Memories fetched and not yet applied: kept when a batch is put off to catch up with the peer.
      Map<Cid, Block> fetchedMemories = new HashMap<>();
      int catchUps = 0;
      for (int from = 0; from < order.size(); ) {
        Batch batch = nextBatch(ns, order, from, walked, forgottenInPull, fetchedMemories.keySet());
        if (!batch.memories().isEmpty()) {
          List<Block> memoryBlocks = client.blocks(peer, List.copyOf(batch.memories()));
          blocksFetched.add(memoryBlocks.size());
          memoryBlocks.forEach(b -> fetchedMemories.put(b.cid(), b));
        }
        Set<Cid> lacking = new LinkedHashSet<>(batch.needed());
        lacking.removeAll(fetchedMemories.keySet());
        if (!lacking.isEmpty()) {
          // The peer lacks memories its own entries add. An honest peer drops a memory's block
          // when it forgets it, so the likeliest cause is a forget committed there since this
          // pull listed the entries: fetch the entries written since (the forget among them)
          // and go on with them, keeping what was fetched. Only what no forget of the peer's
          // explains is left for applyBlocks to reject as missing.
          if (catchUps == MAX_CATCH_UPS) {
            throw new IOException(peer.http() + " still lacks " + lacking.size() + " memories after " + catchUps
                + " catch-ups with its newer entries (forgetting while this node pulls)");
          }
          catchUps++;
          int before = walked.entries().size();
          if (walkEntries(peer, ns, peerHeads(peer, ns), walked) == null) {
            return applied > 0; // past the walk's bounds: logged there, and nothing of the extension applied
          }
          if (walked.entries().size() > before) {
            forgottenInPull = forgottenBy(walked);
            Map<Cid, LogEntry> unapplied = new HashMap<>();
            walked.entries().forEach((cid, entry) -> {
              if (log.position(cid).isEmpty()) {
                unapplied.put(cid, entry);
              }
            });
            order = NamespaceLog.causalOrder(unapplied);
            from = 0;
            continue;
          }
        }
        List<Block> blocks = new ArrayList<>(batch.entries());
        for (Cid memory : batch.needed()) {
          Block block = fetchedMemories.remove(memory);
          if (block != null) {
            blocks.add(block);
          }
        }
        int batchApplied = log.applyBlocks(blocks, ns, forgottenInPull);
        applied += batchApplied;
        entriesApplied.add(batchApplied);
        from = batch.end();
      }
      if (backoffs.remove(peer.did()) != null) {
        LOG.log(System.Logger.Level.INFO, "pulled " + ns + " from " + peer.http() + " again: its back-off is over");
      }
    } catch (RejectedEntryException | CorruptBlockException | InvalidFormatException e) {
      reject(peer, "from " + peer.http() + " for " + ns + ": " + e.getMessage());
    } catch (IOException | RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "pull of " + ns + " from " + peer.http() + " failed (anti-entropy will retry): " + e.getMessage());
    } finally {
      // Known by now (this pull, or another that got there first), or not to be had from this
      // peer at all (it answered without any entry it named): either way not behind on what was
      // asked. A peer that could not be asked leaves the lag running.
      if (lacksAll || allKnown(heads)) {
        behindSince.remove(ns);
      }
    }
    // Also when a later batch failed: the batches before it are stored and must reach recall.
    return applied > 0;
  }

  private static Set<Cid> forgottenBy(Walked walked) {
    Set<Cid> forgotten = new HashSet<>();
    for (LogEntry entry : walked.entries().values()) {
      if (entry.op() == Op.FORGET) {
        forgotten.addAll(entry.refs());
      }
    }
    return forgotten;
  }

  /**
   * The peer's heads of {@code ns} now (empty if it names none): from the one bucket of its v2
   * digest that holds {@code ns}, or from its whole v1 digest if it is older.
   */
  private List<Cid> peerHeads(Peer peer, String ns) throws IOException {
    try {
      return orV1(Reconciliation.headsOf(client, peer, ns), peer, digest -> digest.namespaces().getOrDefault(ns, List.of()))
          .get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted asking " + peer.http() + " for its heads");
    } catch (java.util.concurrent.ExecutionException e) {
      throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
    }
  }

  /** The entries a pull walked, as fetched and decoded. */
  private record Walked(Map<Cid, Block> blocks, Map<Cid, LogEntry> entries) {}

  /**
   * Fetches the entries behind {@code heads} that this node lacks, one level of parents per
   * request, until it reaches entries it has; null when the walk passes its bounds first. With
   * {@code more}, adds to an earlier walk: its entries are not fetched again, nor walked behind.
   */
  private Walked walkEntries(Peer peer, String ns, List<Cid> heads, Walked more) throws IOException {
    Map<Cid, Block> fetched = more == null ? new LinkedHashMap<>() : more.blocks();
    Map<Cid, LogEntry> entries = more == null ? new HashMap<>() : more.entries();
    long entryBytes = 0;
    List<Cid> level = heads.stream().filter(h -> !fetched.containsKey(h) && log.position(h).isEmpty()).toList();
    List<Cid> have = log.heads(ns).stream().limit(BlockRequest.MAX_CIDS).toList();
    // Levels below the asked ones that the peer adds to its answer: none at first (a pull is most
    // often one entry behind), then doubling, so a walk of L levels takes about log2(L) + L / 64
    // round trips rather than L.
    int depth = 0;
    while (!level.isEmpty()) {
      if (fetched.size() >= MAX_PULL_ENTRIES || entryBytes >= MAX_PULL_ENTRY_BYTES) {
        LOG.log(System.Logger.Level.WARNING, "pull of " + ns + " from " + peer.http() + " stopped after " + fetched.size()
            + " entries (" + entryBytes + " bytes) without reaching an entry this node has");
        return null;
      }
      Map<Cid, Block> answer = new HashMap<>();
      for (Block block : fetchEntries(peer, level, have, depth)) {
        answer.put(block.cid(), block);
      }
      blocksFetched.add(answer.size());
      // Only what the walk reaches through parent links from the asked level is used: the rest of
      // an answer (ancestors this node has, blocks nobody linked to) is dropped unread.
      Set<Cid> next = new LinkedHashSet<>();
      java.util.ArrayDeque<Cid> reach = new java.util.ArrayDeque<>(level);
      Set<Cid> asked = new HashSet<>(level);
      int lacked = 0;
      while (!reach.isEmpty()) {
        Cid cid = reach.poll();
        if (fetched.containsKey(cid)) {
          continue;
        }
        Block block = answer.get(cid);
        if (block == null) {
          if (asked.contains(cid)) {
            lacked++;
          } else {
            next.add(cid);
          }
          continue;
        }
        LogEntry entry = decodeEntry(block, ns);
        fetched.put(block.cid(), block);
        entries.put(block.cid(), entry);
        entryBytes += block.data().length;
        for (Cid parent : entry.parents()) {
          if (!fetched.containsKey(parent) && log.position(parent).isEmpty()) {
            reach.add(parent);
          }
        }
      }
      if (lacked > 0) {
        // The peer lacks part of what it announced (it may have been forgotten, or it lies);
        // applying checks completeness, so go on with what came.
        LOG.log(System.Logger.Level.DEBUG, peer.http() + " lacked " + lacked + " entries");
      }
      level = List.copyOf(next);
      depth = Math.min(MAX_WALK_DEPTH, Math.max(1, depth * 2));
    }
    return new Walked(fetched, entries);
  }

  /** The entries at {@code level} and {@code depth} levels below, by the walk route where the peer has it. */
  private List<Block> fetchEntries(Peer peer, List<Cid> level, List<Cid> have, int depth) throws IOException {
    if (!blocksOnly.contains(peer.http())) {
      List<Block> out = new ArrayList<>();
      boolean served = true;
      for (int from = 0; from < level.size() && served; from += BlockRequest.MAX_CIDS) {
        Optional<List<Block>> answer = client.entries(peer, level.subList(from, Math.min(level.size(), from + BlockRequest.MAX_CIDS)),
            have, depth);
        served = answer.isPresent();
        answer.ifPresent(out::addAll);
      }
      if (served) {
        return out;
      }
      // A node from before /v1/sync/entries: one level per request, as it serves.
      blocksOnly.add(peer.http());
    }
    return client.blocks(peer, level);
  }

  /**
   * One batch of a pull: its entries' blocks, the memories they add that are unknown here and
   * not forgotten later in the pull ({@code needed}), those of them still to fetch, and where the
   * next batch starts.
   */
  private record Batch(List<Block> entries, Set<Cid> needed, Set<Cid> memories, int end) {}

  /**
   * The batch that starts at {@code from}: at least one entry, then entries while their new
   * memories fit. A memory the pull's own entries forget is not asked for: the peer dropped its
   * block at the forget.
   */
  private Batch nextBatch(String ns, List<Cid> order, int from, Walked walked, Set<Cid> forgottenInPull,
      Set<Cid> fetched) {
    List<Block> entries = new ArrayList<>();
    Set<Cid> memories = new LinkedHashSet<>();
    int to = from;
    while (to < order.size()) {
      LogEntry entry = walked.entries().get(order.get(to));
      boolean adds = entry.op() == Op.ADD;
      if (to > from && memories.size() + (adds ? entry.refs().size() : 0) > memoriesPerApply) {
        break;
      }
      entries.add(walked.blocks().get(order.get(to)));
      if (adds) {
        for (Cid ref : entry.refs()) {
          if (!forgottenInPull.contains(ref) && log.state(ns, ref) == MemoryState.UNKNOWN) {
            memories.add(ref);
          }
        }
      }
      to++;
    }
    Set<Cid> toFetch = new LinkedHashSet<>(memories);
    toFetch.removeAll(fetched);
    return new Batch(entries, memories, toFetch, to);
  }

  private static LogEntry decodeEntry(Block block, String ns) throws IOException {
    LogEntry entry;
    try {
      entry = LogEntry.decode(block.data());
    } catch (InvalidFormatException e) {
      throw new RejectedEntryException(block.cid(), "not a log entry: " + e.getMessage());
    }
    if (!entry.ns().equals(ns)) {
      throw new RejectedEntryException(block.cid(), "entry of namespace " + entry.ns() + " offered for " + ns);
    }
    return entry;
  }

  private void reject(String what) {
    rejected.increment();
    lastRejection = what;
    LOG.log(System.Logger.Level.WARNING, "rejected data " + what);
  }

  /**
   * Rejects data {@code peer} served and backs off from it: no pull from it, and no digest,
   * until the wait is over; the wait doubles with each rejection in a row, up to
   * {@link #MAX_BACKOFF_MILLIS}. One line per step, so a peer that keeps serving bad data logs
   * a few lines an hour rather than one per anti-entropy round.
   */
  private void reject(Peer peer, String what) {
    rejected.increment();
    lastRejection = what;
    long now = System.currentTimeMillis();
    Backoff step = backoffs.compute(peer.did(), (did, before) -> {
      int failures = before == null ? 1 : before.failures() + 1;
      long wait = Math.min(MAX_BACKOFF_MILLIS, firstBackoffMillis() << Math.min(failures - 1, 30));
      return new Backoff(peer.http(), failures, now + wait, what);
    });
    LOG.log(System.Logger.Level.WARNING, "rejected data " + what + "; not pulling from " + peer.http() + " (" + peer.did()
        + ") for " + (step.untilMillis() - now) / 1000.0 + " s (rejection " + step.failures() + " in a row)");
  }

  /** The first back-off: a round or two of anti-entropy, at least a second. */
  private long firstBackoffMillis() {
    return Math.max(1_000, 2 * config.antiEntropyMillis());
  }

  private boolean backedOff(Peer peer) {
    Backoff backoff = backoffs.get(peer.did());
    return backoff != null && System.currentTimeMillis() < backoff.untilMillis();
  }

  /**
   * Ends the back-off from the peer with key {@code did} (an operator who fixed it, or trusts it
   * again): it is pulled from at the next announcement or round. False if there was none.
   */
  public boolean clearBackoff(DidKey did) {
    Backoff cleared = backoffs.remove(did);
    if (cleared != null) {
      LOG.log(System.Logger.Level.INFO, "back-off from " + cleared.http() + " (" + did + ") cleared after "
          + cleared.failures() + " rejections");
    }
    return cleared != null;
  }

  public Status status() {
    long now = System.currentTimeMillis();
    Map<String, Long> lag = new LinkedHashMap<>();
    behindSince.forEach((ns, since) -> lag.put(ns, now - since));
    return new Status(pulls.sum(), entriesApplied.sum(), blocksFetched.sum(), client.bytesReceived(), rejected.sum(),
        lastRejection, deferredAnnouncements.sum(), ignoredAnnouncements.sum(), membership.refusedMembers(), lag,
        Map.copyOf(backoffs));
  }

  @Override
  public void close() {
    timer.shutdownNow();
    comparing.shutdownNow();
    pullers.shutdownNow();
    indexing.shutdown();
    try {
      // A comparison may be reading the store (building the digest tree, checking heads): let it end.
      comparing.awaitTermination(10, TimeUnit.SECONDS);
      pullers.awaitTermination(10, TimeUnit.SECONDS);
      indexing.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    membership.close();
  }
}
