package dev.mnemo.node.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mnemo.index.IndexConfig;
import dev.mnemo.node.api.Limits;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Merges configuration layers: defaults, then the JSON file, then environment variables
 * ({@code MNEMO_} + the key in upper snake case: {@code MNEMO_PORT}, {@code MNEMO_GOSSIP_PORT}),
 * then flags. Keys: host, port, data, gossipHost (where gossip listens; host unless set), gossipPort, seeds (comma-separated in the environment),
 * embedder, dimension, vectorEncoding (float32|int7), hnswM, hnswBeamWidth, recallDepth,
 * recallKeywordWeight and recallContextWeight (0-1, see {@link dev.mnemo.index.Fusion}),
 * indexGraphBuild (merge|idle), indexCommitIntervalMs, indexOptimizeIdleMs, indexMaxBehind, memoryCacheMb, workerThreads, replicate (namespaces, comma-separated, or *),
 * replicationPeers (node did:keys trusted with every namespace, comma-separated, or *),
 * advertiseHttp (base URL peers use to reach this node), advertiseGossip (HOST:PORT), antiEntropyMs,
 * tlsCert, tlsKey (PEM files: the HTTP API serves TLS), tlsCa (PEM certificates trusted for peers),
 * blockStore (embedded|ipfs), ipfsApi (the Kubo RPC base URL), ipfsTimeoutMs, auth (true|false),
 * ownerKeyFile, allowedHosts and corsOrigins (comma-separated), authFailuresPerMinute, embedContext (metadata keys,
 * comma-separated), importMaxNewHeads, syncMaxHeads, writeMaxParents (see {@link NodeConfig.Heads}). Unknown keys in the file are an error, not a silent typo.
 */
public final class ConfigLoader {
  static final Set<String> KEYS = Set.of("host", "port", "data", "gossipHost", "gossipPort", "seeds", "embedder", "dimension",
      "vectorEncoding", "hnswM", "hnswBeamWidth", "recallDepth", "recallKeywordWeight", "recallContextWeight", "indexGraphBuild", "indexCommitIntervalMs", "indexOptimizeIdleMs", "indexMaxBehind", "memoryCacheMb", "workerThreads",
      "replicate", "replicationPeers", "advertiseHttp", "advertiseGossip", "antiEntropyMs", "blockStore", "ipfsApi", "ipfsTimeoutMs", "tlsCert", "tlsKey", "tlsCa",
      "auth", "ownerKeyFile", "allowedHosts", "corsOrigins", "authFailuresPerMinute", "embedContext",
      "importMaxNewHeads", "syncMaxHeads", "writeMaxParents");

  /** A configuration mistake, with the key and layer at fault. */
  public static final class ConfigException extends Exception {
    public ConfigException(String message) {
      super(message);
    }
  }

  private ConfigLoader() {}

  public static NodeConfig load(Path file, Map<String, String> env, Map<String, String> flags) throws ConfigException {
    Map<String, String> merged = new LinkedHashMap<>();
    merged.put("host", NodeConfig.DEFAULT_HOST);
    merged.put("port", Integer.toString(NodeConfig.DEFAULT_PORT));
    merged.put("data", NodeConfig.DEFAULT_DATA);
    merged.put("gossipPort", Integer.toString(NodeConfig.DEFAULT_GOSSIP_PORT));
    merged.put("seeds", "");
    merged.put("embedder", NodeConfig.DEFAULT_EMBEDDER);
    merged.put("vectorEncoding", "float32");
    merged.put("hnswM", "16");
    merged.put("hnswBeamWidth", "100");
    merged.put("recallDepth", Integer.toString(NodeConfig.DEFAULT_RECALL_DEPTH));
    merged.put("recallKeywordWeight", Double.toString(dev.mnemo.index.Fusion.DEFAULT.keyword()));
    merged.put("recallContextWeight", Double.toString(dev.mnemo.index.Fusion.DEFAULT.context()));
    merged.put("indexGraphBuild", "merge");
    merged.put("indexCommitIntervalMs", "5000");
    merged.put("indexOptimizeIdleMs", "30000");
    merged.put("indexMaxBehind", Integer.toString(NodeConfig.DEFAULT_INDEX_MAX_BEHIND));
    merged.put("memoryCacheMb", Integer.toString(NodeConfig.DEFAULT_MEMORY_CACHE_MB));
    merged.put("workerThreads", "32");
    merged.put("replicate", "*");
    merged.put("replicationPeers", "");
    merged.put("antiEntropyMs", "2000");
    merged.put("blockStore", NodeConfig.EMBEDDED);
    merged.put("ipfsApi", "http://127.0.0.1:5001");
    merged.put("ipfsTimeoutMs", "10000");
    merged.put("auth", "true");
    merged.put("allowedHosts", "");
    merged.put("corsOrigins", "");
    merged.put("authFailuresPerMinute", Integer.toString(dev.mnemo.node.auth.AuthConfig.DEFAULT_FAILURES_PER_MINUTE));
    merged.put("embedContext", "");
    merged.put("importMaxNewHeads", Integer.toString(NodeConfig.Heads.DEFAULTS.importMaxNewHeads()));
    merged.put("syncMaxHeads", Integer.toString(NodeConfig.Heads.DEFAULTS.syncMaxHeads()));
    merged.put("writeMaxParents", Integer.toString(NodeConfig.Heads.DEFAULTS.writeMaxParents()));
    // Keys the operator set, as against defaults: the data directory's record of its block store
    // gives way only to these.
    Set<String> explicit = new java.util.HashSet<>();
    if (file != null) {
      Map<String, String> fromFile = readFile(file);
      merged.putAll(fromFile);
      explicit.addAll(fromFile.keySet());
    }
    for (String key : KEYS) {
      String value = env.get(envName(key));
      if (value != null && !value.isBlank()) {
        merged.put(key, value);
        explicit.add(key);
      }
    }
    flags.forEach((k, v) -> {
      if (v != null) {
        merged.put(k, v);
        explicit.add(k);
      }
    });
    BlockStoreRecord.apply(merged, explicit);
    return build(merged);
  }

  static String envName(String key) {
    return "MNEMO_" + key.replaceAll("([a-z])([A-Z])", "$1_$2").toUpperCase(Locale.ROOT);
  }

  private static Map<String, String> readFile(Path file) throws ConfigException {
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(Files.readAllBytes(file));
    } catch (IOException e) {
      throw new ConfigException("cannot read config file " + file + ": " + e.getMessage());
    }
    if (root == null || !root.isObject()) {
      throw new ConfigException("config file " + file + " must hold a JSON object");
    }
    Map<String, String> values = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (!KEYS.contains(e.getKey())) {
        throw new ConfigException("config file " + file + ": unknown key '" + e.getKey() + "'; known keys: " + new java.util.TreeSet<>(KEYS));
      }
      JsonNode v = e.getValue();
      if (v.isNull() || v.isObject()) {
        // asText() would make null the string "null": "data": null would write to ./null.
        throw new ConfigException("config file " + file + ": " + e.getKey() + " must be a string, a number or a list, not "
            + (v.isNull() ? "null" : "an object") + "; leave it out for the default");
      }
      if (v.isArray()) {
        StringBuilder joined = new StringBuilder();
        v.forEach(item -> joined.append(joined.isEmpty() ? "" : ",").append(item.asText()));
        values.put(e.getKey(), joined.toString());
      } else {
        values.put(e.getKey(), v.asText());
      }
    }
    return values;
  }

  private static NodeConfig build(Map<String, String> m) throws ConfigException {
    String embedder = m.get("embedder");
    if (!dev.mnemo.node.embed.Embedders.names().contains(embedder)) {
      throw new ConfigException("embedder must be one of " + String.join(", ", dev.mnemo.node.embed.Embedders.names())
          + ", not '" + embedder + "'");
    }
    int dimension = m.containsKey("dimension") ? integer(m, "dimension", 1, dev.mnemo.index.IndexConfig.MAX_DIMENSION)
        : NodeConfig.DEFAULT_DIMENSION;
    if (!embedder.equals("none") && dimension != NodeConfig.DEFAULT_DIMENSION) {
      throw new ConfigException("dimension " + dimension + " does not match embedder " + embedder + " (384); set embedder to none to use another");
    }
    IndexConfig.VectorEncoding encoding;
    try {
      encoding = IndexConfig.VectorEncoding.valueOf(m.get("vectorEncoding").toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new ConfigException("vectorEncoding must be float32 or int7, not '" + m.get("vectorEncoding") + "'");
    }
    List<String> seeds = Arrays.stream(m.get("seeds").split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    for (String seed : seeds) {
      if (!seed.matches("[^:\\s]+:\\d{1,5}")) {
        throw new ConfigException("seeds: '" + seed + "' must be HOST:PORT");
      }
    }
    List<String> replicate = Arrays.stream(m.get("replicate").split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    for (String ns : replicate) {
      if (!ns.equals("*") && !dev.mnemo.store.model.Namespace.isValid(ns)) {
        throw new ConfigException("replicate: '" + ns + "' is not a namespace name or *");
      }
    }
    List<String> replicationPeers = Arrays.stream(m.get("replicationPeers").split(",")).map(String::trim)
        .filter(s -> !s.isEmpty()).toList();
    try {
      dev.mnemo.sync.PeerAllowlist.parse(replicationPeers);
    } catch (dev.mnemo.store.InvalidFormatException e) {
      throw new ConfigException("replicationPeers: each entry must be a node's did:key or *: " + e.getMessage());
    }
    String advertiseHttp = m.get("advertiseHttp");
    if (advertiseHttp != null && dev.mnemo.sync.Peer.badHttp(advertiseHttp).isPresent()) {
      // Peers refuse a member whose address is anything more than scheme, host and port.
      throw new ConfigException("advertiseHttp must be a base URL like http://10.0.0.5:7700 (" + dev.mnemo.sync.Peer.badHttp(advertiseHttp).get()
          + "), not '" + advertiseHttp + "'");
    }
    if (advertiseHttp == null && !seeds.isEmpty() && NodeConfig.isWildcard(m.get("host"))) {
      // Peers would be told http://0.0.0.0:PORT, which is themselves: replication would stall unseen.
      throw new ConfigException("host " + m.get("host") + " listens on every interface, so peers cannot be told where to"
          + " reach this node; set advertiseHttp (e.g. http://10.0.0.5:7700)");
    }
    String advertiseGossip = m.get("advertiseGossip");
    if (advertiseGossip != null && !advertiseGossip.matches("[^:\\s]+:\\d{1,5}")) {
      throw new ConfigException("advertiseGossip must be HOST:PORT, not '" + advertiseGossip + "'");
    }
    String gossipHost = m.getOrDefault("gossipHost", m.get("host"));
    if (gossipHost == null || gossipHost.isBlank() || gossipHost.matches(".*[\\s/].*")) {
      throw new ConfigException("gossipHost must be a host name or address, not '" + gossipHost + "'");
    }
    String blockStore = m.get("blockStore");
    if (!List.of(NodeConfig.EMBEDDED, NodeConfig.IPFS).contains(blockStore)) {
      throw new ConfigException("blockStore must be embedded or ipfs, not '" + blockStore + "'");
    }
    String ipfsApi = m.get("ipfsApi");
    if (!ipfsApi.matches("https?://[^/\\s]+/?")) {
      throw new ConfigException("ipfsApi must be a base URL like http://127.0.0.1:5001, not '" + ipfsApi + "'");
    }
    IndexConfig.GraphBuild graphBuild = switch (m.get("indexGraphBuild").trim().toLowerCase(Locale.ROOT)) {
      case "merge" -> IndexConfig.GraphBuild.MERGE;
      case "idle" -> IndexConfig.GraphBuild.IDLE;
      default -> throw new ConfigException("indexGraphBuild must be merge or idle, not '" + m.get("indexGraphBuild") + "'");
    };
    int optimizeIdleMs = integer(m, "indexOptimizeIdleMs", 0, 86_400_000);
    if (graphBuild == IndexConfig.GraphBuild.IDLE && optimizeIdleMs == 0) {
      throw new ConfigException("indexGraphBuild idle builds graphs once writes pause, so indexOptimizeIdleMs must not be 0");
    }
    Path tlsCert = readableFile(m, "tlsCert");
    Path tlsKey = readableFile(m, "tlsKey");
    if ((tlsCert == null) != (tlsKey == null)) {
      throw new ConfigException("tlsCert and tlsKey go together: give both PEM files for TLS, or neither");
    }
    Path tlsCa = readableFile(m, "tlsCa");
    String data = m.get("data");
    if (data == null || data.isBlank()) {
      throw new ConfigException("data directory must not be empty");
    }
    return new NodeConfig(m.get("host"), integer(m, "port", 0, 65535), Path.of(data),
        gossipHost, integer(m, "gossipPort", 0, 65535), seeds, embedder, dimension, encoding,
        integer(m, "hnswM", 2, 512), integer(m, "hnswBeamWidth", 1, 3200),
        integer(m, "recallDepth", 1, 1000), graphBuild,
        integer(m, "indexCommitIntervalMs", 100, 3_600_000), optimizeIdleMs,
        integer(m, "indexMaxBehind", 0, 1_000_000),
        integer(m, "memoryCacheMb", 0, 1_048_576),
        integer(m, "workerThreads", 1, 1024),
        replicate, replicationPeers, advertiseHttp, advertiseGossip, integer(m, "antiEntropyMs", 100, 3_600_000),
        blockStore, ipfsApi, integer(m, "ipfsTimeoutMs", 100, 600_000), tlsCert, tlsKey, tlsCa,
        Limits.defaults(), auth(m), embedContext(m.get("embedContext")),
        new dev.mnemo.index.Fusion(weight(m, "recallKeywordWeight"), weight(m, "recallContextWeight"), 0),
        // A write with one parent would merge no heads; more than an entry may list cannot be written.
        new NodeConfig.Heads(integer(m, "importMaxNewHeads", 1, 1_000_000), integer(m, "syncMaxHeads", 1, 1_000_000),
            integer(m, "writeMaxParents", 2, dev.mnemo.store.model.LogEntry.MAX_PARENTS)));
  }

  /** Metadata keys as a remember's {@code embedContext} takes them: distinct, and keys a memory can hold. */
  private static dev.mnemo.node.EmbedContext embedContext(String value) throws ConfigException {
    List<String> keys = list(value);
    Limits limits = Limits.defaults();
    if (keys.size() > limits.maxMetadataKeys() || keys.size() != new java.util.HashSet<>(keys).size()) {
      throw new ConfigException("embedContext: at most " + limits.maxMetadataKeys() + " distinct metadata keys, not '" + value + "'");
    }
    for (String key : keys) {
      if (key.length() > limits.maxKeyChars() || key.indexOf('#') >= 0) {
        throw new ConfigException("embedContext: '" + key + "' is not a metadata key (1-" + limits.maxKeyChars()
            + " characters, no '#')");
      }
    }
    return new dev.mnemo.node.EmbedContext(keys);
  }

  private static dev.mnemo.node.auth.AuthConfig auth(Map<String, String> m) throws ConfigException {
    boolean enabled = switch (m.get("auth").trim().toLowerCase(Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default -> throw new ConfigException("auth must be true or false, not '" + m.get("auth") + "'");
    };
    String ownerKeyFile = m.get("ownerKeyFile");
    List<String> hosts = list(m.get("allowedHosts"));
    for (String host : hosts) {
      if (!host.matches("[A-Za-z0-9.-]+|\\[[0-9A-Fa-f:.]+\\]")) {
        throw new ConfigException("allowedHosts: '" + host + "' must be a host name or address, without a port");
      }
    }
    List<String> origins = list(m.get("corsOrigins"));
    for (String origin : origins) {
      if (!origin.matches("https?://[^/\\s]+")) {
        throw new ConfigException("corsOrigins: '" + origin + "' must be an origin like https://app.example:8443");
      }
    }
    return new dev.mnemo.node.auth.AuthConfig(enabled,
        ownerKeyFile == null || ownerKeyFile.isBlank() ? null : Path.of(ownerKeyFile), hosts, origins,
        integer(m, "authFailuresPerMinute", 1, 1_000_000));
  }

  private static List<String> list(String commaSeparated) {
    return Arrays.stream(commaSeparated.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
  }

  /** The file {@code key} names, checked now so that a typo fails at start and not at the first connection. */
  private static Path readableFile(Map<String, String> m, String key) throws ConfigException {
    String value = m.get(key);
    if (value == null || value.isBlank()) {
      return null;
    }
    Path path = Path.of(value.trim());
    if (!Files.isRegularFile(path) || !Files.isReadable(path)) {
      throw new ConfigException(key + ": '" + value + "' is not a readable file");
    }
    return path;
  }

  private static double weight(Map<String, String> m, String key) throws ConfigException {
    try {
      double w = Double.parseDouble(m.get(key).trim());
      if (w >= 0 && w <= 1) {
        return w;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new ConfigException(key + " must be a number from 0 to 1, not '" + m.get(key) + "'");
  }

  private static int integer(Map<String, String> m, String key, int min, int max) throws ConfigException {
    String value = m.get(key);
    try {
      int parsed = Integer.parseInt(value.trim());
      if (parsed < min || parsed > max) {
        throw new NumberFormatException();
      }
      return parsed;
    } catch (NumberFormatException | NullPointerException e) {
      throw new ConfigException(key + " must be an integer from " + min + " to " + max + ", not '" + value + "'");
    }
  }
}
