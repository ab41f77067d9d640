package dev.mnemo.node.cli;

import dev.mnemo.node.MemoryNode;
import dev.mnemo.node.StartupException;
import dev.mnemo.node.config.ConfigLoader;
import dev.mnemo.node.config.NodeConfig;
import dev.mnemo.store.MnemoStore;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A node's store, opened for a command run while the node is stopped, on the node's own block
 * store. A data directory whose blocks live on an IPFS node holds only the logs and states in
 * RocksDB: opened with the embedded block store, an import would put its blocks where the node
 * never looks, and a reindex or export would find none.
 */
final class OfflineStore implements AutoCloseable {
  private final Vertx vertx;
  private final MnemoStore store;

  private OfflineStore(Vertx vertx, MnemoStore store) {
    this.vertx = vertx;
    this.store = store;
  }

  /** With the config file and environment the node runs with (its {@code data} set to {@code data}). */
  static OfflineStore open(Path configFile, Path data) throws IOException, ConfigLoader.ConfigException {
    NodeConfig config = ConfigLoader.load(configFile, System.getenv(), Map.of("data", data.toString()));
    if (!config.blockStore().equals(NodeConfig.IPFS)) {
      return new OfflineStore(null, MemoryNode.recorded(config, MnemoStore.open(data, null, 0)));
    }
    Vertx vertx = Vertx.vertx();
    try {
      requireAnswer(config, vertx);
      return new OfflineStore(vertx, MemoryNode.openStore(config, vertx));
    } catch (IOException | RuntimeException e) {
      vertx.close();
      throw e;
    }
  }

  /**
   * A command fails at once, in one line, when the IPFS node does not answer: a node starts anyway
   * (its writes answer 503 until the IPFS node is back), but a command would log a warning and
   * then fail on its first block.
   */
  private static void requireAnswer(NodeConfig config, Vertx vertx) throws StartupException {
    dev.mnemo.node.ipfs.KuboClient client = new dev.mnemo.node.ipfs.KuboClient(vertx, java.net.URI.create(config.ipfsApi()),
        config.ipfsTimeoutMillis(), 0);
    try {
      client.id().toCompletionStage().toCompletableFuture().get(config.ipfsTimeoutMillis() * 2, TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      Throwable cause = e instanceof java.util.concurrent.ExecutionException && e.getCause() != null ? e.getCause() : e;
      throw new StartupException("the IPFS node at " + config.ipfsApi() + ", which holds the blocks of " + config.dataDir()
          + ", does not answer (" + cause.getMessage() + "); start it, or set ipfsApi if it moved", e);
    }
  }

  /**
   * Whether {@code data} holds a node's store. Opening a store creates one where there is none,
   * so a command given a mistyped {@code --data} would otherwise work on a new, empty directory.
   */
  static boolean exists(Path data) {
    return java.nio.file.Files.isRegularFile(data.resolve("store").resolve("CURRENT"));
  }

  /** The line a command that needs an existing data directory prints when there is none. */
  static String noDataDirectory(Path data) {
    return "mnemo: no Mnemo data directory at " + data.toAbsolutePath().normalize() + " (no store in it); check --data";
  }

  MnemoStore store() {
    return store;
  }

  @Override
  public void close() throws IOException {
    try {
      store.close();
    } finally {
      if (vertx != null) {
        try {
          vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
          System.err.println("mnemo: the IPFS client did not stop cleanly: " + e.getMessage());
        }
      }
    }
  }
}
