package dev.mnemo.node.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Flags over environment over file over defaults, and clear errors for every bad value. */
class ConfigLoaderTest {
  @TempDir Path dir;

  @Test
  void defaultsAreTheDocumentedOnes() throws Exception {
    NodeConfig config = ConfigLoader.load(null, Map.of(), Map.of());
    assertThat(config.host()).isEqualTo("127.0.0.1");
    assertThat(config.port()).isEqualTo(7700);
    assertThat(config.gossipPort()).isEqualTo(7701);
    assertThat(config.dataDir()).isEqualTo(Path.of("./mnemo-data"));
    assertThat(config.embedder()).isEqualTo("e5-small-v2");
    assertThat(config.dimension()).isEqualTo(384);
    assertThat(config.indexOptimizeIdleMillis()).isEqualTo(30_000);
    assertThat(config.recallDepth()).isEqualTo(64);
    assertThat(config.indexMaxBehind()).isEqualTo(10_000);
    assertThat(config.memoryCacheMb()).isEqualTo(64);
    assertThat(config.indexConfig().graphBuild()).isEqualTo(dev.mnemo.index.IndexConfig.GraphBuild.MERGE);
    assertThat(config.indexConfig().searchDepth()).isEqualTo(64);
    assertThat(config.blockStore()).isEqualTo("embedded");
    assertThat(config.seeds()).isEmpty();
    assertThat(config.embedContext().isNone()).as("text embedded alone unless configured").isTrue();
  }

  @Test
  void embedContextIsDistinctMetadataKeys() throws Exception {
    assertThat(ConfigLoader.load(null, Map.of("MNEMO_EMBED_CONTEXT", "session_date, speaker"), Map.of()).embedContext().keys())
        .containsExactly("session_date", "speaker");
    Path file = dir.resolve("context.json");
    Files.writeString(file, "{\"embedContext\": [\"speaker\"]}");
    assertThat(ConfigLoader.load(file, Map.of(), Map.of()).embedContext().keys()).containsExactly("speaker");
    for (String bad : List.of("speaker,speaker", "a#n")) {
      assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), Map.of("embedContext", bad)))
          .as(bad).isInstanceOf(ConfigLoader.ConfigException.class).hasMessageContaining("embedContext");
    }
  }

  @Test
  void flagsOverrideEnvironmentWhichOverridesTheFileWhichOverridesDefaults() throws Exception {
    Path file = dir.resolve("mnemo.json");
    Files.writeString(file, "{\"port\": 7800, \"gossipPort\": 7801, \"data\": \"/from/file\", \"seeds\": [\"10.0.0.2:7701\", \"10.0.0.3:7701\"]}");
    Map<String, String> env = Map.of("MNEMO_PORT", "7900", "MNEMO_INDEX_OPTIMIZE_IDLE_MS", "0", "MNEMO_RECALL_DEPTH", "100",
        "MNEMO_INDEX_MAX_BEHIND", "0", "MNEMO_MEMORY_CACHE_MB", "0");
    Map<String, String> flags = new HashMap<>();
    flags.put("port", "8000");
    flags.put("data", null); // a flag not given
    NodeConfig config = ConfigLoader.load(file, env, flags);
    assertThat(config.port()).as("flag over environment and file").isEqualTo(8000);
    assertThat(config.gossipPort()).as("file over default").isEqualTo(7801);
    assertThat(config.dataDir()).as("file, as no flag was given").isEqualTo(Path.of("/from/file"));
    assertThat(config.indexOptimizeIdleMillis()).as("environment over default").isZero();
    assertThat(config.indexConfig().searchDepth()).as("environment over default").isEqualTo(100);
    assertThat(config.indexMaxBehind()).as("environment over default").isZero();
    assertThat(config.memoryCacheMb()).as("environment over default").isZero();
    assertThat(config.seeds()).containsExactly("10.0.0.2:7701", "10.0.0.3:7701");
  }

  @Test
  void graphsBuiltWhenIdleNeedTheIdleMerge() throws Exception {
    NodeConfig bulk = ConfigLoader.load(null, Map.of("MNEMO_INDEX_GRAPH_BUILD", "Idle"), Map.of());
    assertThat(bulk.indexConfig().graphBuild()).isEqualTo(dev.mnemo.index.IndexConfig.GraphBuild.IDLE);
    assertThatThrownBy(() -> ConfigLoader.load(null,
        Map.of("MNEMO_INDEX_GRAPH_BUILD", "idle", "MNEMO_INDEX_OPTIMIZE_IDLE_MS", "0"), Map.of()))
        .isInstanceOf(ConfigLoader.ConfigException.class).hasMessageContaining("indexOptimizeIdleMs");
  }

  @Test
  void gossipListensOnTheHttpHostUnlessAGossipHostIsGiven() throws Exception {
    NodeConfig defaults = ConfigLoader.load(null, Map.of(), Map.of());
    assertThat(defaults.gossipHost()).isEqualTo("127.0.0.1");
    assertThat(defaults.syncConfig().gossipHost()).isEqualTo("127.0.0.1");
    NodeConfig onHost = ConfigLoader.load(null, Map.of("MNEMO_HOST", "10.0.0.5"), Map.of());
    assertThat(onHost.syncConfig().gossipHost()).as("the HTTP host").isEqualTo("10.0.0.5");
    NodeConfig apart = ConfigLoader.load(null, Map.of("MNEMO_HOST", "10.0.0.5", "MNEMO_GOSSIP_HOST", "10.1.0.5"), Map.of());
    assertThat(apart.syncConfig().gossipHost()).isEqualTo("10.1.0.5");
    NodeConfig flag = ConfigLoader.load(null, Map.of("MNEMO_GOSSIP_HOST", "10.1.0.5"), Map.of("gossipHost", "::1"));
    assertThat(flag.gossipHost()).isEqualTo("::1");
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), Map.of("gossipHost", "http://x/")))
        .isInstanceOf(ConfigLoader.ConfigException.class).hasMessageContaining("gossipHost");
  }

  @Test
  void replicationPeersAreNodeDidsOrEveryNode() throws Exception {
    assertThat(ConfigLoader.load(null, Map.of(), Map.of()).replicationAllowlist())
        .as("by default no node is trusted with every namespace").isEqualTo(dev.mnemo.sync.PeerAllowlist.NONE);
    String did = dev.mnemo.store.identity.AgentKey.generate().did().toString();
    NodeConfig listed = ConfigLoader.load(null, Map.of("MNEMO_REPLICATION_PEERS", did + ", " + did), Map.of());
    assertThat(listed.replicationAllowlist().nodes()).extracting(Object::toString).containsExactly(did);
    assertThat(listed.replicationAllowlist().everyNode()).isFalse();
    Path file = dir.resolve("peers.json");
    Files.writeString(file, "{\"replicationPeers\": [\"*\"]}");
    assertThat(ConfigLoader.load(file, Map.of(), Map.of()).replicationAllowlist().everyNode()).isTrue();
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("MNEMO_REPLICATION_PEERS", "node-b"), Map.of()))
        .isInstanceOf(ConfigLoader.ConfigException.class).hasMessageContaining("replicationPeers");
  }

  @Test
  void tlsNeedsBothPemFilesAndEveryFileMustBeReadable() throws Exception {
    NodeConfig plain = ConfigLoader.load(null, Map.of(), Map.of());
    assertThat(plain.scheme()).isEqualTo("http");
    assertThat(plain.tlsCert()).isNull();
    Path cert = Files.writeString(dir.resolve("node.crt.pem"), "cert");
    Path key = Files.writeString(dir.resolve("node.key.pem"), "key");
    NodeConfig tls = ConfigLoader.load(null, Map.of("MNEMO_TLS_CERT", cert.toString(), "MNEMO_TLS_KEY", key.toString()),
        Map.of("tlsCa", cert.toString()));
    assertThat(tls.scheme()).isEqualTo("https");
    assertThat(tls.tlsCa()).isEqualTo(cert);
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("MNEMO_TLS_CERT", cert.toString()), Map.of()))
        .isInstanceOf(ConfigLoader.ConfigException.class).hasMessageContaining("tlsKey");
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), Map.of("tlsCa", dir.resolve("missing.pem").toString())))
        .isInstanceOf(ConfigLoader.ConfigException.class).hasMessageContaining("tlsCa");
  }

  @Test
  void environmentNamesAreUpperSnakeCase() {
    assertThat(ConfigLoader.envName("gossipPort")).isEqualTo("MNEMO_GOSSIP_PORT");
    assertThat(ConfigLoader.envName("indexOptimizeIdleMs")).isEqualTo("MNEMO_INDEX_OPTIMIZE_IDLE_MS");
  }

  @Test
  void anUnknownKeyInTheFileIsAnErrorNotASilentTypo() throws Exception {
    Path file = dir.resolve("typo.json");
    Files.writeString(file, "{\"prot\": 7800}");
    assertThatThrownBy(() -> ConfigLoader.load(file, Map.of(), Map.of()))
        .isInstanceOf(ConfigLoader.ConfigException.class).hasMessageContaining("unknown key 'prot'");
  }

  @Test
  void badValuesNameTheKey() throws Exception {
    Path notJson = dir.resolve("bad.json");
    Files.writeString(notJson, "[1, 2]");
    assertThatThrownBy(() -> ConfigLoader.load(notJson, Map.of(), Map.of())).hasMessageContaining("JSON object");
    assertThatThrownBy(() -> ConfigLoader.load(dir.resolve("missing.json"), Map.of(), Map.of()))
        .hasMessageContaining("cannot read config file");
    for (Map.Entry<String, String> bad : List.of(
        Map.entry("port", "70000"), Map.entry("port", "x"), Map.entry("embedder", "gpt"), Map.entry("seeds", "nohost"),
        Map.entry("blockStore", "s3"), Map.entry("ipfsApi", "ftp://x"), Map.entry("vectorEncoding", "int4"),
        Map.entry("replicate", "-bad-"), Map.entry("indexOptimizeIdleMs", "-1"),
        Map.entry("indexMaxBehind", "-1"), Map.entry("indexMaxBehind", "1000001"),
        Map.entry("memoryCacheMb", "-1"), Map.entry("memoryCacheMb", "64M"),
        Map.entry("recallDepth", "0"), Map.entry("recallDepth", "1001"), Map.entry("indexGraphBuild", "never"), Map.entry("dimension", "512"))) {
      assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), Map.of(bad.getKey(), bad.getValue())))
          .as("%s=%s", bad.getKey(), bad.getValue())
          .isInstanceOf(ConfigLoader.ConfigException.class)
          .hasMessageContaining(bad.getKey());
    }
  }

  /** Lucene's HNSW formats take at most 1,024 dimensions: a node of 1,536 refused every vector. */
  @Test
  void aDimensionOverLucenesLimitIsRefused() throws Exception {
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), Map.of("embedder", "none", "dimension", "1536")))
        .isInstanceOf(ConfigLoader.ConfigException.class).hasMessageContaining("dimension");
    assertThat(ConfigLoader.load(null, Map.of(), Map.of("embedder", "none", "dimension", "1024")).dimension()).isEqualTo(1024);
  }

  @Test
  void aNullOrObjectInTheConfigFileIsAnErrorNotTheStringNull() throws Exception {
    for (String json : List.of("{\"data\": null}", "{\"replicate\": null}", "{\"port\": {\"n\": 1}}")) {
      Path file = dir.resolve("null.json");
      java.nio.file.Files.writeString(file, json);
      assertThatThrownBy(() -> ConfigLoader.load(file, Map.of(), Map.of()))
          .as(json).isInstanceOf(ConfigLoader.ConfigException.class).hasMessageContaining("leave it out");
    }
  }

  /** Peers were told http://0.0.0.0:PORT, which is themselves, and replication stalled unseen. */
  @Test
  void aWildcardHostWithSeedsNeedsAnAdvertisedAddress() throws Exception {
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), Map.of("host", "0.0.0.0", "seeds", "10.0.0.2:7701")))
        .isInstanceOf(ConfigLoader.ConfigException.class).hasMessageContaining("advertiseHttp");
    assertThat(ConfigLoader.load(null, Map.of(), Map.of("host", "0.0.0.0", "seeds", "10.0.0.2:7701",
        "advertiseHttp", "http://10.0.0.5:7700")).advertiseHttp()).isEqualTo("http://10.0.0.5:7700");
    assertThat(ConfigLoader.load(null, Map.of(), Map.of("host", "0.0.0.0")).host()).as("alone, it may").isEqualTo("0.0.0.0");
    assertThat(NodeConfig.urlHost("::1")).isEqualTo("[::1]");
    assertThat(NodeConfig.urlHost("127.0.0.1")).isEqualTo("127.0.0.1");
  }
}
