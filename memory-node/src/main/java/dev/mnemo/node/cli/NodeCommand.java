package dev.mnemo.node.cli;

import dev.mnemo.node.MemoryNode;
import dev.mnemo.node.config.ConfigLoader;
import dev.mnemo.node.config.NodeConfig;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code mnemo node}: runs a memory node until SIGTERM or SIGINT, then shuts down cleanly. */
@Command(name = "node", mixinStandardHelpOptions = true,
    description = "Run a memory node. Flags override MNEMO_* environment variables, which override the config file.")
final class NodeCommand implements Callable<Integer> {
  @Option(names = "--config", description = "JSON config file") Path config;
  @Option(names = "--host", description = "HTTP address to bind (default 127.0.0.1)") String host;
  @Option(names = "--port", description = "HTTP port (default 7700; 0 picks a free one)") Integer port;
  @Option(names = "--data", description = "data directory (default ./mnemo-data)") Path data;
  @Option(names = "--gossip-host", description = "address gossip listens on (default: the HTTP host)") String gossipHost;
  @Option(names = "--gossip-port", description = "gossip port (default 7701)") Integer gossipPort;
  @Option(names = "--seed", description = "a peer's gossip HOST:PORT; repeat for more") List<String> seeds;
  @Option(names = "--replication-peer", description = "a node did:key trusted to replicate every namespace, or *; repeat for more")
  List<String> replicationPeers;
  @Option(names = "--tls-cert", description = "PEM certificate: serve the HTTP API over TLS (with --tls-key)") Path tlsCert;
  @Option(names = "--tls-key", description = "PEM private key (PKCS#8) of --tls-cert") Path tlsKey;
  @Option(names = "--tls-ca", description = "PEM certificates trusted when calling peers over https") Path tlsCa;
  @Option(names = "--embedder", description = "e5-small-v2 (default), bge-small-en-v1.5, all-minilm-l6-v2 or none") String embedder;
  @Option(names = "--embed-context", description = "metadata keys a memory's text is embedded with unless its remember names others,"
      + " comma-separated (e.g. session_date,speaker; default: none)") String embedContext;
  @Option(names = "--owner-key", description = "on the first start, make the agent of this key file the owner (as config ownerKeyFile)") Path ownerKey;
  @Option(names = "--insecure-no-auth", description = "DEVELOPMENT ONLY: no API tokens; every caller acts as the owner") boolean insecureNoAuth;

  @Override
  public Integer call() throws Exception {
    Map<String, String> flags = new LinkedHashMap<>();
    put(flags, "host", host);
    put(flags, "port", port);
    put(flags, "data", data);
    put(flags, "gossipHost", gossipHost);
    put(flags, "gossipPort", gossipPort);
    put(flags, "seeds", seeds == null ? null : String.join(",", seeds));
    put(flags, "replicationPeers", replicationPeers == null ? null : String.join(",", replicationPeers));
    put(flags, "tlsCert", tlsCert);
    put(flags, "tlsKey", tlsKey);
    put(flags, "tlsCa", tlsCa);
    put(flags, "embedder", embedder);
    put(flags, "embedContext", embedContext);
    put(flags, "ownerKeyFile", ownerKey);
    if (insecureNoAuth) {
      flags.put("auth", "false");
    }
    NodeConfig nodeConfig = ConfigLoader.load(config, System.getenv(), flags);
    MemoryNode node = MemoryNode.start(nodeConfig);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("mnemo-shutdown").unstarted(() -> {
      node.close();
      // java.util.logging may already be shut down by its own hook; say it plainly.
      System.err.println("mnemo: node stopped cleanly");
      stopped.countDown();
    }));
    stopped.await();
    return 0;
  }

  private static void put(Map<String, String> flags, String key, Object value) {
    if (value != null) {
      flags.put(key, value.toString());
    }
  }
}
