package dev.mnemo.node;

import dev.mnemo.node.config.ConfigLoader;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * A memory node started in-process on a free port, with a client for its API. {@code embedder}
 * is {@code none} (clients send 384-dim vectors: fast) or {@code bge-small-en-v1.5} (the node
 * embeds text: slower, for tests where meaning matters).
 */
public final class TestNode implements AutoCloseable {
  public static final String NONE = "none";
  public static final String BGE = "bge-small-en-v1.5";

  private final MemoryNode node;
  private final ApiClient api;

  private TestNode(MemoryNode node) {
    this.node = node;
    this.api = new ApiClient(node.port(), node.config().dataDir());
  }

  public static TestNode start(Path dataDir, String embedder) {
    return start(dataDir, embedder, Map.of());
  }

  /**
   * As {@link #start(Path, String)}, with more configuration keys (flags, so they win over the
   * environment), e.g. {@code blockStore=ipfs, ipfsApi=..., ipfsTimeoutMs=...}.
   */
  public static TestNode start(Path dataDir, String embedder, Map<String, String> extraConfig) {
    Map<String, String> flags = new HashMap<>(Map.of("port", "0", "gossipPort", "0", "data", dataDir.toString(), "embedder", embedder));
    flags.putAll(extraConfig);
    try {
      return new TestNode(MemoryNode.start(ConfigLoader.load(null, Map.of(), flags)));
    } catch (IOException | ConfigLoader.ConfigException e) {
      throw new IllegalStateException("cannot start a node on " + dataDir + ": " + e.getMessage(), e);
    }
  }

  /**
   * Writes a new owner key to {@code dir/owner.key} (once) and returns the config that makes it a
   * node's owner agent: several nodes started with it are one operator's nodes, whose owner's
   * namespaces move between them (by CAR or replication) and stay readable and writable.
   */
  public static Map<String, String> sharedOwner(Path dir) {
    Path key = dir.resolve("owner.key");
    try {
      if (!java.nio.file.Files.exists(key)) {
        dev.mnemo.node.auth.AgentKeyFile.write(key, dev.mnemo.store.identity.AgentKey.generate());
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return Map.of("ownerKeyFile", key.toString());
  }

  public ApiClient api() {
    return api;
  }

  public MemoryNode node() {
    return node;
  }

  @Override
  public void close() {
    node.close();
  }
}
