package dev.mnemo.node.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.identity.PrivateFiles;
import dev.mnemo.store.rocks.RocksStorage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Where a data directory's blocks live, recorded in it as {@value #FILE_NAME} when its store is
 * opened, so that a command run on the directory without the node's settings ({@code mnemo
 * export --data DIR}) finds an IPFS block store by itself instead of reading an empty embedded one
 * and reporting missing or corrupt blocks. The file is a small JSON object:
 * <pre>
 *   {"v": 1, "blockStore": "embedded"}
 *   {"v": 1, "blockStore": "ipfs", "ipfsApi": "http://127.0.0.1:5001"}
 * </pre>
 * As a configuration layer it sits between the defaults and the config file: a block store type
 * set explicitly (file, environment or flag) that differs from the recorded one is an error (the
 * directory's memories would all be missing), while an explicit {@code ipfsApi} wins (the IPFS
 * node moved) and is recorded at the next open.
 *
 * @param ipfsApi the Kubo RPC base URL, or null for the embedded store
 */
public record BlockStoreRecord(String blockStore, String ipfsApi) {
  public static final String FILE_NAME = "blockstore.json";
  private static final int VERSION = 1;
  private static final ObjectMapper JSON = new ObjectMapper();

  static BlockStoreRecord of(String blockStore, String ipfsApi) {
    return new BlockStoreRecord(blockStore, NodeConfig.IPFS.equals(blockStore) ? ipfsApi : null);
  }

  /** Where the blocks are, as an operator reads it. */
  String describe() {
    return NodeConfig.IPFS.equals(blockStore) ? "on the IPFS node at " + ipfsApi : "in it (embedded)";
  }

  /** The record in {@code dataDir}, if there is one. */
  public static Optional<BlockStoreRecord> read(Path dataDir) throws ConfigLoader.ConfigException {
    Path file = dataDir.resolve(FILE_NAME);
    if (!Files.isRegularFile(file)) {
      return Optional.empty();
    }
    JsonNode root;
    try {
      root = JSON.readTree(Files.readAllBytes(file));
    } catch (IOException e) {
      throw new ConfigLoader.ConfigException("cannot read " + file + ": " + e.getMessage());
    }
    if (root == null || !root.isObject() || !root.path("v").isInt()) {
      throw new ConfigLoader.ConfigException(file + " is damaged: expected {\"v\": " + VERSION + ", \"blockStore\": ...}");
    }
    int version = root.path("v").asInt();
    if (version != VERSION) {
      throw new ConfigLoader.ConfigException(file + " has version " + version + "; this Mnemo reads version " + VERSION
          + " (written by a newer Mnemo?)");
    }
    String type = root.path("blockStore").asText("");
    String api = root.path("ipfsApi").asText(null);
    if (!type.equals(NodeConfig.EMBEDDED) && !(type.equals(NodeConfig.IPFS) && api != null)) {
      throw new ConfigLoader.ConfigException(file + " is damaged: blockStore must be embedded, or ipfs with an ipfsApi");
    }
    return Optional.of(of(type, api));
  }

  /**
   * Applies the record in the data directory of {@code merged} to its block store settings, the
   * keys in {@code explicit} having been set by the operator.
   */
  static void apply(Map<String, String> merged, Set<String> explicit) throws ConfigLoader.ConfigException {
    String data = merged.get("data");
    if (data == null || data.isBlank()) {
      return;
    }
    Path dataDir = Path.of(data);
    Optional<BlockStoreRecord> recorded = read(dataDir);
    if (recorded.isEmpty()) {
      return;
    }
    BlockStoreRecord record = recorded.get();
    if (explicit.contains("blockStore") && !record.blockStore().equals(merged.get("blockStore"))) {
      throw new ConfigLoader.ConfigException("the data directory " + dataDir + " keeps its blocks " + record.describe()
          + " (" + dataDir.resolve(FILE_NAME) + "), but blockStore is set to " + merged.get("blockStore")
          + ": its memories would be missing; leave blockStore unset, or use another data directory");
    }
    merged.put("blockStore", record.blockStore());
    if (record.ipfsApi() != null && !explicit.contains("ipfsApi")) {
      merged.put("ipfsApi", record.ipfsApi());
    }
  }

  /**
   * Records where the blocks of {@code store}, just opened as {@code config} says, live; run at
   * every open. A directory recorded before is updated when the IPFS node moved. One without a
   * record (made before there was one) is checked first against where its blocks are: a log
   * with entries but no block in the embedded engine is an IPFS-backed directory opened without
   * the IPFS settings, and the other way round; either is refused, not recorded wrong.
   */
  public static void keep(NodeConfig config, MnemoStore store) throws IOException {
    Path dataDir = config.dataDir();
    BlockStoreRecord wanted = of(config.blockStore(), config.ipfsApi());
    Optional<BlockStoreRecord> recorded;
    try {
      recorded = read(dataDir);
    } catch (ConfigLoader.ConfigException e) {
      throw new dev.mnemo.node.StartupException(e.getMessage(), e);
    }
    if (recorded.isPresent() && recorded.get().equals(wanted)) {
      return;
    }
    if (recorded.isPresent() && !recorded.get().blockStore().equals(wanted.blockStore())) {
      // ConfigLoader refuses this; a config built otherwise must not switch block stores either.
      throw new dev.mnemo.node.StartupException("the data directory " + dataDir + " keeps its blocks " + recorded.get().describe()
          + ", not " + wanted.describe());
    }
    if (recorded.isEmpty() && store.log().lastPosition() > 0) {
      boolean embeddedBlocks;
      try (var blocks = store.storage().iterator(RocksStorage.Family.BLOCKS)) {
        blocks.seekToFirst();
        embeddedBlocks = blocks.isValid();
      }
      if (!embeddedBlocks && wanted.blockStore().equals(NodeConfig.EMBEDDED)) {
        throw new dev.mnemo.node.StartupException("the data directory " + dataDir + " holds log entries but none of their blocks: they"
            + " live on an IPFS node; give its settings once (blockStore ipfs and ipfsApi in --config, or"
            + " MNEMO_BLOCK_STORE=ipfs and MNEMO_IPFS_API) and they are recorded in " + FILE_NAME);
      }
      if (embeddedBlocks && wanted.blockStore().equals(NodeConfig.IPFS)) {
        throw new dev.mnemo.node.StartupException("the data directory " + dataDir + " keeps its blocks in it (embedded), but blockStore is"
            + " ipfs: its memories would be missing; leave blockStore unset");
      }
    }
    ObjectNode json = JSON.createObjectNode();
    json.put("v", VERSION);
    json.put("blockStore", wanted.blockStore());
    if (wanted.ipfsApi() != null) {
      json.put("ipfsApi", wanted.ipfsApi());
    }
    PrivateFiles.writeAtomically(dataDir.resolve(FILE_NAME),
        (JSON.writerWithDefaultPrettyPrinter().writeValueAsString(json) + "\n").getBytes(StandardCharsets.UTF_8));
  }
}
