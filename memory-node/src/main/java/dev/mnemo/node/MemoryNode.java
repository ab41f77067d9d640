package dev.mnemo.node;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mnemo.index.LogIndexer;
import dev.mnemo.index.LuceneMemoryIndex;
import dev.mnemo.node.api.HttpApi;
import dev.mnemo.node.auth.AgentRegistry;
import dev.mnemo.node.auth.ApiAuth;
import dev.mnemo.node.auth.HostedAgent;
import dev.mnemo.node.auth.PeerRequests;
import dev.mnemo.node.config.NodeConfig;
import dev.mnemo.node.embed.Embedder;
import dev.mnemo.node.embed.ContextEmbedders;
import dev.mnemo.node.embed.Embedders;
import dev.mnemo.node.embed.WarmingEmbedder;
import dev.mnemo.node.ipfs.KuboBlockStore;
import dev.mnemo.node.ipfs.KuboClient;
import dev.mnemo.node.metrics.Metrics;
import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.acl.Ability;
import dev.mnemo.store.acl.NamespaceAcl;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.identity.Author;
import dev.mnemo.store.identity.DidKey;
import dev.mnemo.store.log.MemoryCacheStats;
import dev.mnemo.sync.Peer;
import dev.mnemo.sync.PeerStatus;
import dev.mnemo.sync.PeerAllowlist;
import dev.mnemo.sync.PeerAuth;
import dev.mnemo.sync.PeerClient;
import dev.mnemo.sync.PeerTls;
import dev.mnemo.sync.ReplicationPolicy;
import dev.mnemo.sync.Replicator;
import dev.mnemo.sync.ScaleCubeMembership;
import dev.mnemo.sync.SyncAccess;
import dev.mnemo.sync.SyncEndpoint;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A running memory node: the store, the index kept caught up with it, the embedder, and the HTTP
 * API on Vert.x. {@link #start} returns once the index has caught up and the port is bound; the
 * model may still be warming up then (a text call waits for it, and the log says when it is ready).
 * {@link #close} stops taking requests, then closes everything in reverse order.
 */
public final class MemoryNode implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(MemoryNode.class.getName());
  /** How long a shutdown waits for requests under way to finish. */
  private static final long SHUTDOWN_GRACE_SECONDS = 10;
  public static final String VERSION = "0.1.0";

  private final NodeConfig config;
  private final MnemoStore store;
  private final LuceneMemoryIndex index;
  private final LogIndexer indexer;
  private final Embedder embedder;
  private final Metrics metrics = new Metrics();
  private final Vertx vertx;
  private final AgentRegistry agents;
  private HttpServer server;
  private Replicator replicator;
  private PeerClient peerClient;
  /** The server half of node-to-node authentication and access: what the sync endpoint serves by. */
  private SyncAccess syncAccess;

  private MemoryNode(NodeConfig config, Vertx vertx, MnemoStore store, AgentRegistry agents, LuceneMemoryIndex index,
      LogIndexer indexer, Embedder embedder) {
    this.config = config;
    this.agents = agents;
    this.vertx = vertx;
    this.store = store;
    this.index = index;
    this.indexer = indexer;
    this.embedder = embedder;
  }

  /** Namespaces whose first memory is checked against the configured model at start. */
  private static final int MODEL_CHECK_NAMESPACES = 100;

  /**
   * Refuses to start a node on data whose memories its own model did not embed: query vectors
   * of one model compared with memory vectors of another rank at random, silently. The usual
   * cause is a node started before the default became E5 (it embedded with BGE); it must keep its
   * model. Memories with client vectors, and nodes that embed nothing, are not checked.
   */
  static void refuseAnotherModelsMemories(MnemoStore store, Embedder embedder, String configured) throws IOException {
    if (Embedders.NONE.equals(configured)) {
      return;
    }
    int checked = 0;
    for (String ns : store.log().namespaces()) {
      if (checked++ == MODEL_CHECK_NAMESPACES) {
        return;
      }
      List<dev.mnemo.store.cid.Cid> first;
      try {
        first = store.log().list(ns, null, 1).memories();
      } catch (dev.mnemo.store.InvalidFormatException e) {
        throw new IOException(e);
      }
      for (dev.mnemo.store.cid.Cid cid : first) {
        String model = store.log().memory(cid).map(m -> m.embedding() == null ? null : m.embedding().model()).orElse(null);
        if (model != null && !model.equals("client") && !model.equals(embedder.model())) {
          throw new IllegalStateException("the memories in this data directory were embedded with " + model
              + ", not with this node's embedder " + embedder.model() + " (" + configured + "); start the node with the"
              + " embedder that made them (e.g. --embedder " + configName(model) + ")");
        }
      }
    }
  }

  private static String configName(String modelName) {
    for (dev.mnemo.node.embed.OnnxEmbedder.Model m : dev.mnemo.node.embed.OnnxEmbedder.Model.values()) {
      if (m.modelName().equals(modelName)) {
        return m.configName();
      }
    }
    return modelName;
  }

  public static MemoryNode start(NodeConfig config) throws IOException {
    refuseTakenPorts(config);
    // First, so that the model loads and runs once on its own thread while the store opens and
    // the index catches up; text calls wait for it, nothing else does.
    Embedder embedder = Embedders.warming(config.embedder(), config.dimension());
    Vertx vertx = Vertx.vertx(new VertxOptions().setWorkerPoolSize(config.workerThreads()));
    OutOfMemoryHalt.install(vertx);
    MnemoStore store;
    try {
      store = openStore(config, vertx);
      store.log().limitHeads(config.heads().importMaxNewHeads(), config.heads().syncMaxHeads(), config.heads().writeMaxParents());
    } catch (IOException | RuntimeException e) {
      closeQuietly(embedder);
      vertx.close();
      throw e;
    }
    LuceneMemoryIndex index = null;
    LogIndexer indexer = null;
    MemoryNode node = null;
    try {
      // After the store: its lock keeps a second node off this data directory and its agents.
      AgentRegistry agents = ApiAuth.openRegistry(config.dataDir(), config.auth());
      refuseAnotherModelsMemories(store, embedder, config.embedder());
      index = LuceneMemoryIndex.open(indexDir(config.dataDir()), config.indexConfig());
      indexer = new LogIndexer(store.log(), index, config.indexCommitIntervalMillis(),
          config.indexOptimizeIdleMillis(), config.indexMaxBehind());
      // Before catching up: a rebuild embeds each memory's context with the node's model.
      indexer.useContextEmbedder(ContextEmbedders.of(embedder, config.fusion().context()));
      long behind = store.log().lastPosition() - index.appliedPosition();
      if (behind > 0) {
        LOG.log(System.Logger.Level.INFO, "index is " + behind + " log entries behind; catching up");
      }
      indexer.catchUp(null);
      adoptLegacyNamespaces(store, agents);
      node = new MemoryNode(config, vertx, store, agents, index, indexer, embedder);
      node.listen();
      return node;
    } catch (IOException | RuntimeException e) {
      if (node != null) {
        // The node owns every part now; closing them here as well would close them twice.
        node.close();
        throw e;
      }
      closeQuietly(embedder);
      closeQuietly(indexer);
      closeQuietly(index);
      closeQuietly(store);
      vertx.close();
      throw e;
    }
  }

  /** How an operator moves the HTTP API to another address. */
  private static final String HTTP_SETTING = "--host/--port (config keys host, port; MNEMO_HOST, MNEMO_PORT)";
  /** How an operator moves gossip to another address. */
  private static final String GOSSIP_SETTING =
      "--gossip-host/--gossip-port (config keys gossipHost, gossipPort; MNEMO_GOSSIP_HOST, MNEMO_GOSSIP_PORT)";

  /**
   * Checks that the HTTP and gossip ports are free before anything is opened or created. A second
   * node started with only {@code --port} found the default gossip port taken after it had opened
   * its store and bound HTTP, and died with a 70-line stack trace from the gossip library. A port
   * taken between this check and the bind fails there, with the same one line.
   */
  static void refuseTakenPorts(NodeConfig config) throws StartupException {
    refuseTaken("HTTP", config.host(), config.port(), HTTP_SETTING);
    refuseTaken("gossip", config.gossipHost(), config.gossipPort(), GOSSIP_SETTING);
  }

  private static void refuseTaken(String what, String host, int port, String setting) throws StartupException {
    if (port == 0) {
      return;
    }
    java.net.InetSocketAddress address = new java.net.InetSocketAddress(host, port);
    if (address.isUnresolved()) {
      throw new StartupException("cannot listen for " + what + " on " + host + ":" + port + ": unknown host; set " + setting);
    }
    try (java.net.ServerSocket probe = new java.net.ServerSocket()) {
      // As the servers bind: a port left in TIME_WAIT by a node just stopped is free to them.
      probe.setReuseAddress(true);
      probe.bind(address);
    } catch (IOException e) {
      String reason = String.valueOf(e.getMessage());
      if (reason.contains("in use")) {
        throw new StartupException("the " + what + " port " + host + ":" + port + " is taken (another node on this"
            + " machine?); choose another with " + setting, e);
      }
      throw new StartupException("cannot listen for " + what + " on " + host + ":" + port + " (" + reason + "); set "
          + setting, e);
    }
  }

  /**
   * Hands the node's own namespaces to its owner agent. A data directory written before access
   * control has namespaces whose entries the node signed, so the node is their owner and no agent
   * could reach them through the API; for each one where the owner agent is neither owner nor
   * admin, the node grants it {@code admin}, signed as the node. Runs at every start, so a legacy
   * namespace that arrives later by sync is adopted at the next one; an adopted namespace is left
   * alone.
   */
  static void adoptLegacyNamespaces(MnemoStore store, AgentRegistry agents) throws IOException {
    Optional<HostedAgent> owner = agents.agent(AgentRegistry.OWNER)
        .filter(HostedAgent::admin)
        .or(() -> agents.agents().stream().filter(HostedAgent::admin).findFirst());
    if (owner.isEmpty()) {
      return;
    }
    DidKey node = store.nodeKey().did();
    DidKey to = owner.get().did();
    List<String> adopted = new ArrayList<>();
    for (String ns : store.log().namespaces()) {
      NamespaceAcl acl = store.log().acl(ns);
      if (acl.isOwner(node) && !acl.can(to, Ability.ADMIN)) {
        store.log().grant(Author.of(store.nodeKey()), ns, to, Set.of(Ability.ADMIN));
        adopted.add(ns);
      }
    }
    if (!adopted.isEmpty()) {
      LOG.log(System.Logger.Level.INFO, "granted the owner agent " + owner.get().name() + " (" + to + ") admin in " + adopted.size()
          + " namespace(s) this node owns, written before access control: "
          + String.join(", ", adopted.subList(0, Math.min(adopted.size(), 20))) + (adopted.size() > 20 ? ", …" : ""));
    }
  }

  /** The embedded store, or blocks on an IPFS node with the rest of the state kept locally. */
  /** The node's store on its configured block store (embedded RocksDB, or an IPFS node through {@code vertx}). */
  public static MnemoStore openStore(NodeConfig config, Vertx vertx) throws IOException {
    if (!config.blockStore().equals(NodeConfig.IPFS)) {
      return recorded(config, MnemoStore.open(config.dataDir(), null, config.memoryCacheBytes()));
    }
    KuboClient client = new KuboClient(vertx, java.net.URI.create(config.ipfsApi()), config.ipfsTimeoutMillis(), 2);
    try {
      String id = client.id().toCompletionStage().toCompletableFuture().get(config.ipfsTimeoutMillis() * 3, TimeUnit.MILLISECONDS);
      LOG.log(System.Logger.Level.INFO, "blocks go to the IPFS node " + id + " at " + config.ipfsApi());
    } catch (Exception e) {
      // Start anyway: writes answer 503 until the IPFS node is back, which an operator can see.
      LOG.log(System.Logger.Level.WARNING, "the IPFS node at " + config.ipfsApi() + " does not answer yet: " + rootMessage(e));
    }
    return recorded(config, MnemoStore.open(config.dataDir(), new KuboBlockStore(client, config.ipfsTimeoutMillis(), 2),
        config.memoryCacheBytes()));
  }

  /** {@code store}, once its data directory records where its blocks live (see BlockStoreRecord); else closed. */
  public static MnemoStore recorded(NodeConfig config, MnemoStore store) throws IOException {
    try {
      dev.mnemo.node.config.BlockStoreRecord.keep(config, store);
      return store;
    } catch (IOException | RuntimeException e) {
      closeQuietly(store);
      throw e;
    }
  }

  public static Path indexDir(Path dataDir) {
    return dataDir.resolve("index");
  }

  private void listen() throws IOException {
    MemoryService.cleanImportSpills(config.dataDir());
    MemoryService service = new MemoryService(store, index, indexer, embedder, config.dimension(), config.embedContext());
    service.defaultFusion(config.fusion());
    PeerAuth peerAuth = new PeerAuth(store.nodeKey());
    syncAccess = new SyncAccess(store.log(), replicationPolicy(), peerAuth);
    registerGauges();
    // With authentication on, only /health and node requests (signed, verified by the API itself)
    // reach it without a caller; should anything else, it acts as no one, not as the node.
    HttpApi api = new HttpApi(vertx, service, new SyncEndpoint(syncAccess), ApiAuth.nobody(), config.limits(),
        metrics, this::info).onClearBackoff(this::clearBackoff);
    io.vertx.ext.web.Router router = api.router();
    dev.mnemo.node.api.ConnectionGuard guard = new dev.mnemo.node.api.ConnectionGuard(vertx, config.limits(), metrics);
    guard.mount(router);
    new ApiAuth(vertx, agents, config.auth(), servedHosts(), PeerRequests.checkedByRoutes(HttpApi::isPeerRequest), metrics)
        .mount(router);
    try {
      HttpServerOptions options = new HttpServerOptions().setHost(config.host()).setPort(config.port())
          .setCompressionSupported(true)
          // Off: Vert.x holds a cleartext connection back until it knows HTTP/1 from an h2c
          // preface, and until then no connection handler runs, so neither the header timeout nor
          // the connection cap would see a socket that sends half a request line. HTTP/1.1 only.
          .setHttp2ClearTextEnabled(false);
      if (config.tlsCert() != null) {
        options.setSsl(true).setKeyCertOptions(new PemKeyCertOptions()
            .setCertPath(config.tlsCert().toString()).setKeyPath(config.tlsKey().toString()));
      }
      server = vertx.createHttpServer(options)
          // A server has one connection handler: it marks HTTP/9.9 and such as invalid requests
          // (answered by invalidRequest, not by Vert.x's bare 501), then times and counts the connection.
          .connectionHandler(connection -> {
            dev.mnemo.node.api.HttpVersionGuard.install(connection);
            guard.connected(connection);
          })
          .requestHandler(guard.requests(router))
          .invalidRequestHandler(api::invalidRequest)
          .listen()
          .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      vertx.close();
      throw new StartupException("cannot listen on " + config.host() + ":" + config.port() + " (" + rootMessage(e)
          + "); set " + HTTP_SETTING, e);
    }
    try {
      startSync(service, peerAuth);
    } catch (IOException e) {
      throw new StartupException(e.getMessage() + "; set " + GOSSIP_SETTING, e);
    }
    vertx.executeBlocking(this::warmRecall, false);
    LOG.log(System.Logger.Level.INFO, "Mnemo node " + store.nodeKey().did() + " listening on " + config.scheme() + "://" + config.host() + ":"
        + port() + " with data in " + config.dataDir().toAbsolutePath().normalize() + " (embedder " + embedder.model()
        + (embedder.readiness() == Embedder.Readiness.WARMING ? " warming up" : "")
        + ", gossip " + replicator.membership().localAddress() + ")"
        + (config.auth().enabled() ? "; owner token in " + agents.ownerTokenFile().toAbsolutePath().normalize()
            : "; AUTHENTICATION OFF"));
    if (embedder instanceof WarmingEmbedder warming) {
      // Registered after the line above, so this one follows it even if the warm-up ended first.
      warming.whenReady().whenComplete((millis, failure) -> {
        if (failure == null) {
          LOG.log(System.Logger.Level.INFO, "Mnemo node ready for text (" + embedder.model() + ", loaded and warmed in "
              + millis + " ms)");
        } else {
          LOG.log(System.Logger.Level.ERROR, "the embedder " + embedder.model() + " failed to load; text calls fail"
              + " (503) until the node restarts, calls with vectors work: " + rootMessage(failure));
        }
      });
    }
  }

  /**
   * Runs one search of each mode and throws the results away, on a worker while the node already
   * serves. A node's first search loads hundreds of classes (Lucene's codecs and queries, the JDK's
   * vector API): restarted on data, its first recall searched for 85-235 ms where the next took
   * one; after this warm-up, 17-30 ms (2 busy cores). Reads only, in a namespace of this node's
   * if it has one, so that its segments are opened as a recall will use them.
   */
  private Void warmRecall() {
    String ns = store.log().namespaces().stream().findFirst().orElse("mnemo-warm-up");
    float[] vector = new float[config.dimension()];
    vector[0] = 1;
    try {
      for (dev.mnemo.index.RecallMode mode : dev.mnemo.index.RecallMode.values()) {
        index.recall(dev.mnemo.index.RecallQuery.of(ns, "warm up", vector, 1, mode));
      }
    } catch (IOException | RuntimeException e) {
      // Only a head start for the first recall; a node closing meanwhile is no fault.
      LOG.log(System.Logger.Level.DEBUG, "recall warm-up: " + e);
    }
    return null;
  }

  /** The names clients may send as Host: the bind address and the advertised one (IP literals always pass). */
  private java.util.Set<String> servedHosts() {
    java.util.Set<String> hosts = new java.util.LinkedHashSet<>();
    if (!NodeConfig.isWildcard(config.host())) {
      hosts.add(config.host());
    }
    String advertised = config.advertiseHttp() == null ? null : java.net.URI.create(config.advertiseHttp()).getHost();
    if (advertised != null) {
      hosts.add(advertised);
    }
    return hosts;
  }

  /** The hosted agents and their API tokens. */
  public AgentRegistry agents() {
    return agents;
  }

  /** Joins the gossip cluster; remote entries reach the index through the same log tailer as local ones. */
  private void startSync(MemoryService service, PeerAuth peerAuth) throws IOException {
    String http = config.advertiseHttp() != null ? config.advertiseHttp()
        : config.scheme() + "://" + NodeConfig.urlHost(config.host()) + ":" + port();
    if (config.advertiseHttp() == null && NodeConfig.isWildcard(config.host())) {
      LOG.log(System.Logger.Level.WARNING, "listening on every interface (" + config.host() + ") without advertiseHttp:"
          + " nodes that join this one cannot reach it for replication");
    }
    ScaleCubeMembership membership = new ScaleCubeMembership(config.syncConfig(), http, store.nodeKey());
    peerClient = new PeerClient(peerAuth, config.tlsCa() == null ? null : PeerTls.trusting(config.tlsCa()));
    replicator = new Replicator(store.log(), membership, peerClient, config.syncConfig(),
        store.nodeKey(), syncAccess.policy(), ns -> {
      try {
        // Indexed now, searchable from the next recall, like a local write.
        indexer.awaitApplied(store.log().lastPosition());
      } catch (IOException e) {
        LOG.log(System.Logger.Level.WARNING, "index catch-up after sync failed: " + e.getMessage());
      }
    }, syncAccess.digests());
    replicator.start();
    service.afterWrite(replicator::announce);
    metrics.gauge("mnemo_sync_peers", "Live peers", () -> membership.peers().size());
    metrics.gauge("mnemo_sync_entries_applied_total", "Entries applied from peers", () -> replicator.status().entriesApplied());
    metrics.gauge("mnemo_sync_blocks_fetched_total", "Blocks fetched from peers", () -> replicator.status().blocksFetched());
    metrics.gauge("mnemo_sync_bytes_fetched_total", "Bytes fetched from peers", () -> replicator.status().bytesFetched());
    metrics.gauge("mnemo_sync_rejected_total", "Blocks or entries from peers rejected (bad hash, signature, namespace)",
        () -> replicator.status().rejected());
    metrics.gauge("mnemo_sync_digest_bytes_total", "Bytes of anti-entropy digest replies received from peers",
        peerClient::digestBytesReceived);
    metrics.gauge("mnemo_sync_refused_members_total", "Gossip members ignored: a bad HTTP address or metadata that does not verify",
        membership::refusedMembers);
  }

  /**
   * Which peers may replicate which namespaces: the operator's allowlist, or the namespace's own
   * {@code replicate} grants. The sync endpoint serves heads and blocks by it, and announcements
   * go by it.
   */
  ReplicationPolicy replicationPolicy() {
    PeerAllowlist allowlist = config.replicationAllowlist();
    if (allowlist.everyNode()) {
      LOG.log(System.Logger.Level.WARNING, "replicationPeers is *: every node that can reach the gossip port"
          + " (" + config.syncConfig().gossipHost() + ":" + config.gossipPort() + ") may replicate every namespace;"
          + " list node did:keys instead unless the network is closed");
    }
    // A node may replicate a namespace its owner or an admin granted it 'replicate' in, or every
    // namespace if the operator lists it.
    return allowlist.or((peer, ns) -> store.log().acl(ns).can(peer, dev.mnemo.store.acl.Ability.REPLICATE));
  }

  private void registerGauges() {
    metrics.gauge("mnemo_embedder_ready", "1 once the embedder has loaded and run its warm-up (text calls no longer wait), else 0",
        () -> embedder.readiness() == Embedder.Readiness.READY ? 1 : 0);
    metrics.gauge("mnemo_log_position", "Position of the last entry applied to the log", store.log()::lastPosition);
    metrics.gauge("mnemo_index_position", "Log position the recall index has applied", indexer::appliedPosition);
    metrics.gauge("mnemo_index_visible_position", "Log position recall sees (the next recall refreshes up to mnemo_index_position)",
        indexer::visiblePosition);
    metrics.gauge("mnemo_index_segments", "Segments of the recall index (merged into one when writes pause)", () -> {
      try {
        return index.segmentCount();
      } catch (IOException e) {
        return -1;
      }
    });
    metrics.gauge("mnemo_memory_cache_hits_total", "Memory reads served from the cache of decoded memories",
        () -> store.log().memoryCacheStats().hits());
    metrics.gauge("mnemo_memory_cache_misses_total", "Memory reads that went to the block store",
        () -> store.log().memoryCacheStats().misses());
    metrics.gauge("mnemo_memory_cache_bytes", "Estimated heap held by the cache of decoded memories",
        () -> store.log().memoryCacheStats().bytes());
    metrics.gauge("mnemo_index_memories", "Memories in the recall index, as of its last searcher refresh", () -> {
      try {
        return index.size();
      } catch (IOException e) {
        return -1;
      }
    });
  }

  /** For the sync endpoint: authenticates peers' requests and filters what they are served. */
  public SyncAccess syncAccess() {
    return syncAccess;
  }

  /** The bound HTTP port (useful when configured as 0). */
  public int port() {
    return server.actualPort();
  }

  public NodeConfig config() {
    return config;
  }

  public MnemoStore store() {
    return store;
  }

  /** The operator view served at GET /v1/node, with the first page of namespaces. */
  ObjectNode info() {
    return info(new dev.mnemo.node.api.NamespacesPage(null, dev.mnemo.node.api.NamespacesPage.DEFAULT_LIMIT));
  }

  /** The operator view served at GET /v1/node, with one page of its namespaces. */
  ObjectNode info(dev.mnemo.node.api.NamespacesPage page) {
    ObjectMapper json = new ObjectMapper();
    ObjectNode node = json.createObjectNode();
    node.put("id", store.nodeKey().did().toString());
    node.put("version", VERSION);
    ObjectNode http = node.putObject("http");
    http.put("host", config.host());
    http.put("port", port());
    ObjectNode emb = node.putObject("embedder");
    emb.put("model", embedder.model());
    emb.put("dimension", config.dimension());
    emb.put("state", embedder.readiness().label());
    if (embedder instanceof WarmingEmbedder warming && warming.warmMillis() >= 0) {
      emb.put("warmupMs", warming.warmMillis());
    }
    ArrayNode context = emb.putArray("embedContext");
    config.embedContext().keys().forEach(context::add);
    ObjectNode idx = node.putObject("index");
    // Exact for an operator: counts every acknowledged write, at the cost of indexing what writers
    // left behind and a refresh, if either is due; done before the positions are read.
    Integer memories = null;
    Integer segments = null;
    try {
      indexer.awaitAcknowledged();
      memories = index.size();
      segments = index.segmentCount();
    } catch (IOException e) {
      // reported as memories: null
    }
    idx.put("appliedPosition", indexer.appliedPosition());
    idx.put("logPosition", store.log().lastPosition());
    idx.put("vectorEncoding", config.vectorEncoding().name().toLowerCase());
    ObjectNode blocks = node.putObject("blockStore");
    blocks.put("type", config.blockStore());
    if (config.blockStore().equals(NodeConfig.IPFS)) {
      blocks.put("api", config.ipfsApi());
    }
    MemoryCacheStats cached = store.log().memoryCacheStats();
    ObjectNode cache = node.putObject("memoryCache");
    cache.put("maxBytes", cached.maxBytes());
    cache.put("bytes", cached.bytes());
    cache.put("entries", cached.entries());
    cache.put("hits", cached.hits());
    cache.put("misses", cached.misses());
    if (memories == null) {
      idx.putNull("memories");
    } else {
      idx.put("memories", memories);
      idx.put("segments", segments);
    }
    if (replicator == null) {
      return node;
    }
    Replicator.Status sync = replicator.status();
    ObjectNode gossip = node.putObject("sync");
    gossip.put("memberId", replicator.membership().localId());
    gossip.put("gossipAddress", replicator.membership().localAddress());
    gossip.put("pulls", sync.pulls());
    gossip.put("entriesApplied", sync.entriesApplied());
    gossip.put("blocksFetched", sync.blocksFetched());
    gossip.put("bytesFetched", sync.bytesFetched());
    gossip.put("rejected", sync.rejected());
    gossip.put("lastRejection", sync.lastRejection());
    gossip.put("deferredAnnouncements", sync.deferredAnnouncements());
    gossip.put("ignoredAnnouncements", sync.ignoredAnnouncements());
    gossip.put("refusedMembers", sync.refusedMembers());
    // What anti-entropy's digest comparisons cost this node, apart from the blocks they led to.
    gossip.put("digestRequests", peerClient.digestRequests());
    gossip.put("digestBytes", peerClient.digestBytesReceived());
    // Peers not pulled from for a while after serving data this node rejected (README "Replication").
    ArrayNode backoffs = gossip.putArray("backoffs");
    sync.backoffs().forEach((did, backoff) -> backoff(backoffs.addObject().put("did", did.toString()), backoff));
    ArrayNode peers = node.putArray("peers");
    for (PeerStatus member : replicator.membership().members()) {
      Peer peer = member.peer();
      ObjectNode p = peers.addObject();
      p.put("id", peer.id());
      p.put("http", peer.http());
      p.put("state", member.state().label());
      p.put("since", member.since());
      ArrayNode ns = p.putArray("namespaces");
      peer.namespaces().forEach(ns::add);
      Replicator.Backoff backoff = sync.backoffs().get(peer.did());
      if (backoff != null) {
        backoff(p.putObject("backoff"), backoff);
      }
    }
    namespaces(node, page, sync.lagMillis());
    return node;
  }

  /**
   * One page of the namespaces, in name order, and {@code namespacePage}: how many there are in
   * all and the cursor of the next page (null after the last).
   */
  private void namespaces(ObjectNode node, dev.mnemo.node.api.NamespacesPage page, java.util.Map<String, Long> lagMillis) {
    // One more than the page: whether a next page exists, without a second seek.
    List<String> names = store.log().namespaces(page.after(), page.limit() + 1);
    boolean more = names.size() > page.limit();
    if (more) {
      names = names.subList(0, page.limit());
    }
    ArrayNode namespaces = node.putArray("namespaces");
    for (String ns : names) {
      ObjectNode n = namespaces.addObject();
      n.put("name", ns);
      n.put("clock", store.log().clock(ns));
      n.put("replicationLagMs", lagMillis.getOrDefault(ns, 0L));
      ArrayNode heads = n.putArray("heads");
      for (Cid head : store.log().heads(ns)) {
        heads.add(head.toString());
      }
    }
    ObjectNode paging = node.putObject("namespacePage");
    paging.put("total", store.log().namespaceCount());
    paging.put("limit", page.limit());
    if (more) {
      paging.put("next", dev.mnemo.node.api.NamespacesPage.cursorAfter(names.get(names.size() - 1)));
    } else {
      paging.putNull("next");
    }
  }

  private static void backoff(ObjectNode out, Replicator.Backoff backoff) {
    out.put("http", backoff.http());
    out.put("failures", backoff.failures());
    out.put("until", backoff.untilMillis());
    out.put("lastReason", backoff.lastReason());
  }

  /** DELETE /v1/node/peers/{did}/backoff: pull from that peer again at the next announcement or round. */
  ObjectNode clearBackoff(String did) throws dev.mnemo.node.NotFoundException {
    DidKey key;
    try {
      key = DidKey.parse(did);
    } catch (dev.mnemo.store.InvalidFormatException e) {
      throw new dev.mnemo.node.api.ApiException(400, "invalid_did", "not a did:key: " + e.getMessage());
    }
    if (replicator == null || !replicator.clearBackoff(key)) {
      throw new dev.mnemo.node.NotFoundException("no back-off from peer " + did);
    }
    ObjectNode out = new ObjectMapper().createObjectNode();
    out.put("did", key.toString());
    out.put("cleared", true);
    return out;
  }

  @Override
  public void close() {
    if (replicator != null) {
      replicator.close();
    }
    try {
      if (server != null) {
        // Stop taking connections and let requests under way finish (up to the grace period):
        // close() alone reset them, so a client whose write was committed saw an error and, by
        // retrying with the default ts, stored a second copy. Only then do the pools and the store
        // close under them.
        server.shutdown(SHUTDOWN_GRACE_SECONDS, TimeUnit.SECONDS).toCompletionStage().toCompletableFuture()
            .get(SHUTDOWN_GRACE_SECONDS + 5, TimeUnit.SECONDS);
      }
      vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.log(System.Logger.Level.WARNING, "HTTP server did not stop cleanly: " + rootMessage(e));
    }
    closeQuietly(indexer);
    closeQuietly(index);
    closeQuietly(embedder);
    closeQuietly(store);
    LOG.log(System.Logger.Level.INFO, "Mnemo node stopped");
  }

  private static void closeQuietly(AutoCloseable closeable) {
    if (closeable == null) {
      return;
    }
    try {
      closeable.close();
    } catch (Exception e) {
      LOG.log(System.Logger.Level.WARNING, "error while closing " + closeable.getClass().getSimpleName() + ": " + e.getMessage());
    }
  }

  private static String rootMessage(Throwable e) {
    while (e.getCause() != null) {
      e = e.getCause();
    }
    return e.getMessage();
  }
}
