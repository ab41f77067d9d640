package dev.mnemo.store;

import dev.mnemo.store.block.BlockStore;
import dev.mnemo.store.identity.AgentKey;
import dev.mnemo.store.identity.NodeKeyFile;
import dev.mnemo.store.identity.PrivateFiles;
import dev.mnemo.store.log.NamespaceLog;
import dev.mnemo.store.rocks.RocksBlockStore;
import dev.mnemo.store.rocks.RocksStorage;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The store module's entry point: a node's data directory opened as its signing key
 * ({@code node.key}), its embedded storage engine ({@code store/}), the block store in it and
 * the namespace logs over them.
 */
public final class MnemoStore implements AutoCloseable {
  /** Default RocksDB block cache. */
  public static final long DEFAULT_CACHE_BYTES = 256L << 20;

  private final Path dataDir;
  private final AgentKey nodeKey;
  private final RocksStorage storage;
  private final BlockStore blocks;
  private final NamespaceLog log;
  private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

  private MnemoStore(Path dataDir, AgentKey nodeKey, RocksStorage storage, BlockStore blocks, long memoryCacheBytes)
      throws IOException {
    this.dataDir = dataDir;
    this.nodeKey = nodeKey;
    this.storage = storage;
    this.blocks = blocks;
    this.log = new NamespaceLog(storage, blocks, nodeKey, memoryCacheBytes);
  }

  /** Opens (creating if needed) the data directory with the embedded block store. */
  public static MnemoStore open(Path dataDir) throws IOException {
    return open(dataDir, null, NamespaceLog.DEFAULT_MEMORY_CACHE_BYTES);
  }

  /**
   * Opens the data directory with blocks kept in {@code blocks} (an IPFS node, say) instead of the
   * embedded engine. Heads, positions, namespace state and the node key stay in the data directory.
   */
  public static MnemoStore open(Path dataDir, BlockStore blocks) throws IOException {
    return open(dataDir, blocks, NamespaceLog.DEFAULT_MEMORY_CACHE_BYTES);
  }

  /**
   * Opens the data directory with blocks in {@code blocks}, or in the embedded engine when it is
   * null, keeping up to {@code memoryCacheBytes} of decoded memories for reads (0: none).
   */
  public static MnemoStore open(Path dataDir, BlockStore blocks, long memoryCacheBytes) throws IOException {
    if (!PrivateFiles.createDirectories(dataDir)) {
      warnIfShared(dataDir);
    }
    AgentKey key = NodeKeyFile.loadOrCreate(dataDir);
    RocksStorage storage = openStorage(dataDir);
    BlockStore store = blocks != null ? blocks : new RocksBlockStore(storage);
    try {
      return new MnemoStore(dataDir, key, storage, store, memoryCacheBytes);
    } catch (IOException | RuntimeException e) {
      storage.close();
      throw e;
    }
  }

  /**
   * One warning for a data directory other users may enter: it was made by an older Mnemo (755,
   * from the umask) or by hand. It is not tightened here: its mode may be the operator's choice
   * (a mount point, a directory a service manager owns, a backup user's group), and changing it
   * behind their back would be a surprise. The directories Mnemo creates are owner-only.
   */
  private static void warnIfShared(Path dataDir) {
    PrivateFiles.sharedPermissions(dataDir).ifPresent(mode -> System.getLogger(MnemoStore.class.getName()).log(
        System.Logger.Level.WARNING, "the data directory " + dataDir.toAbsolutePath().normalize() + " is " + mode
            + ": other users may read the memories in it; chmod 700 it unless they should"));
  }

  private static RocksStorage openStorage(Path dataDir) throws IOException {
    try {
      return RocksStorage.open(dataDir.resolve("store"), DEFAULT_CACHE_BYTES);
    } catch (IOException e) {
      if (String.valueOf(e.getMessage()).contains("lock")) {
        throw new DataDirectoryInUseException(dataDir, e);
      }
      throw e;
    }
  }

  public Path dataDir() {
    return dataDir;
  }

  public AgentKey nodeKey() {
    return nodeKey;
  }

  public BlockStore blocks() {
    return blocks;
  }

  public NamespaceLog log() {
    return log;
  }

  public RocksStorage storage() {
    return storage;
  }

  /** Finishes queued writes, then closes the log, the block store and the engine. */
  @Override
  public void close() throws IOException {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      log.close();
      blocks.close();
    } finally {
      storage.close();
    }
  }
}
