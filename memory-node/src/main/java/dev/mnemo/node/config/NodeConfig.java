package dev.mnemo.node.config;

import dev.mnemo.index.IndexConfig;
import dev.mnemo.node.api.Limits;
import java.nio.file.Path;
import java.util.List;

/**
 * Everything a node is started with. Built by {@link ConfigLoader} from defaults, a JSON config
 * file, {@code MNEMO_*} environment variables and command-line flags, later ones winning.
 *
 * @param embedder {@code e5-small-v2} (default), {@code bge-small-en-v1.5}, {@code all-minilm-l6-v2}, or {@code none}
 *     (clients send vectors)
 * @param dimension vector length; must match the embedder's unless the embedder is {@code none}
 * @param recallDepth the least number of candidates a vector search collects (HNSW k); more
 *     finds more of the true nearest neighbours at some cost in speed
 * @param indexGraphBuild when HNSW graphs are built: by merges while writes go on (default), or
 *     only once writes pause (bulk loads; vector recall scans exactly until then)
 * @param indexOptimizeIdleMillis once writes have paused this long, merge the recall index into
 *     one segment (0: never)
 * @param indexMaxBehind while no recall has come for a few seconds, how many acknowledged
 *     memories may wait to be indexed in the background (0: a write returns only once indexed);
 *     the next recall waits until they are
 * @param gossipHost the address gossip listens on; {@link #host} unless configured
 * @param replicationPeers node did:keys trusted to replicate every namespace, or {@code *} for
 *     every authenticated node; other nodes replicate only namespaces that grant them
 *     {@code replicate}
 * @param tlsCert PEM certificate (chain) the HTTP API serves TLS with, and {@link #tlsKey} its
 *     PKCS#8 PEM private key; both null for plain HTTP
 * @param tlsCa PEM certificates this node trusts when it calls peers over https (a private CA,
 *     or the peers' self-signed certificates); null for the JVM's default CAs
 * @param memoryCacheMb heap for recently read memories, hash-verified and decoded, so that a
 *     recall of hot memories skips the block store (0: none)
 * @param auth API tokens, served host names, CORS origins, the failed-attempt limit
 * @param embedContext the metadata a memory's text is embedded with when the client names none
 *     (default: none, the text alone)
 * @param fusion how hybrid recall weighs keyword against vector, and each memory's conversation
 *     context against the memory alone, unless a recall says otherwise
 * @param heads how far imports and peers may widen a namespace's heads, and how many parents a
 *     local write lists (see {@link Heads})
 */
public record NodeConfig(
    String host,
    int port,
    Path dataDir,
    String gossipHost,
    int gossipPort,
    List<String> seeds,
    String embedder,
    int dimension,
    IndexConfig.VectorEncoding vectorEncoding,
    int hnswM,
    int hnswBeamWidth,
    int recallDepth,
    IndexConfig.GraphBuild indexGraphBuild,
    long indexCommitIntervalMillis,
    long indexOptimizeIdleMillis,
    int indexMaxBehind,
    int memoryCacheMb,
    int workerThreads,
    List<String> replicate,
    List<String> replicationPeers,
    String advertiseHttp,
    String advertiseGossip,
    long antiEntropyMillis,
    String blockStore,
    String ipfsApi,
    long ipfsTimeoutMillis,
    Path tlsCert,
    Path tlsKey,
    Path tlsCa,
    Limits limits,
    dev.mnemo.node.auth.AuthConfig auth,
    dev.mnemo.node.EmbedContext embedContext,
    dev.mnemo.index.Fusion fusion,
    Heads heads) {

  /**
   * Bounds against head flooding (README "Limits"): the heads one import may add to a namespace
   * ({@code importMaxNewHeads}), the heads a replicated batch may leave it with
   * ({@code syncMaxHeads}), the parents a local write lists ({@code writeMaxParents}).
   */
  public record Heads(int importMaxNewHeads, int syncMaxHeads, int writeMaxParents) {
    public static final Heads DEFAULTS = new Heads(dev.mnemo.store.log.NamespaceLog.DEFAULT_MAX_IMPORTED_HEADS,
        dev.mnemo.store.log.NamespaceLog.DEFAULT_MAX_REPLICATED_HEADS, dev.mnemo.store.log.NamespaceLog.DEFAULT_MAX_LOCAL_PARENTS);
  }

  public static final String DEFAULT_HOST = "127.0.0.1";
  public static final int DEFAULT_PORT = 7700;
  public static final int DEFAULT_GOSSIP_PORT = 7701;
  public static final String DEFAULT_DATA = "./mnemo-data";
  public static final String DEFAULT_EMBEDDER = dev.mnemo.node.embed.Embedders.DEFAULT;
  public static final int DEFAULT_DIMENSION = 384;
  /**
   * Candidates a vector search collects by default: recall@10 of about 0.95 at 100k memories;
   * on a harder 1M corpus, 100 was needed for that (benchmarks/README.md).
   */
  public static final int DEFAULT_RECALL_DEPTH = 64;
  /**
   * Acknowledged memories that may wait for the background indexer while the node is not being
   * searched: about a third of a second of indexing on the benchmark machine, so the first recall
   * after a burst of writes waits at most about that long (benchmarks/README.md).
   */
  public static final int DEFAULT_INDEX_MAX_BEHIND = 10_000;
  /** Heap for decoded memories: some 30,000 with 384-dimension vectors. */
  public static final int DEFAULT_MEMORY_CACHE_MB = (int) (dev.mnemo.store.log.NamespaceLog.DEFAULT_MEMORY_CACHE_BYTES >> 20);
  public static final String EMBEDDED = "embedded";
  public static final String IPFS = "ipfs";

  public dev.mnemo.sync.SyncConfig syncConfig() {
    dev.mnemo.sync.SyncConfig d = dev.mnemo.sync.SyncConfig.defaults(gossipPort, seeds);
    return new dev.mnemo.sync.SyncConfig(gossipHost, gossipPort, seeds, replicate, advertiseGossip, antiEntropyMillis,
        d.gossipIntervalMillis(), d.pingIntervalMillis(), d.membershipSyncMillis());
  }

  /** {@link #replicationPeers} as a policy; ConfigLoader has checked every entry. */
  public dev.mnemo.sync.PeerAllowlist replicationAllowlist() {
    try {
      return dev.mnemo.sync.PeerAllowlist.parse(replicationPeers);
    } catch (dev.mnemo.store.InvalidFormatException e) {
      throw new IllegalStateException("replicationPeers was not checked: " + e.getMessage(), e);
    }
  }

  public IndexConfig indexConfig() {
    return new IndexConfig(dimension, vectorEncoding, hnswM, hnswBeamWidth, recallDepth, indexGraphBuild);
  }

  /** How peers and clients reach the HTTP API. */
  public String scheme() {
    return tlsCert == null ? "http" : "https";
  }

  /** {@link #memoryCacheMb} in bytes, as the store takes it. */
  public long memoryCacheBytes() {
    return memoryCacheMb * (1L << 20);
  }

  /** Whether {@code host} is an address that binds every interface, and so names no one. */
  public static boolean isWildcard(String host) {
    return host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]");
  }

  /** {@code host} as the host part of a URL: an IPv6 literal in brackets. */
  public static String urlHost(String host) {
    return host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host;
  }
}
