package dev.mnemo.node.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mnemo.store.MnemoStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The data directory's record of its block store, as a configuration layer and as written at open. */
class BlockStoreRecordTest {
  @TempDir Path dir;

  @Test
  void theRecordFillsInWhatTheOperatorLeftUnset() throws Exception {
    Path data = record("{\"v\": 1, \"blockStore\": \"ipfs\", \"ipfsApi\": \"http://10.0.0.9:5001\"}");
    NodeConfig config = load(data, Map.of());
    assertThat(config.blockStore()).isEqualTo("ipfs");
    assertThat(config.ipfsApi()).isEqualTo("http://10.0.0.9:5001");

    NodeConfig moved = ConfigLoader.load(null, Map.of("MNEMO_IPFS_API", "http://10.0.0.7:5001"), Map.of("data", data.toString()));
    assertThat(moved.ipfsApi()).as("an explicit ipfsApi wins").isEqualTo("http://10.0.0.7:5001");
    assertThat(moved.blockStore()).isEqualTo("ipfs");
  }

  @Test
  void aBlockStoreSetAgainstTheRecordIsRefused() throws Exception {
    Path data = record("{\"v\": 1, \"blockStore\": \"ipfs\", \"ipfsApi\": \"http://10.0.0.9:5001\"}");
    assertThatThrownBy(() -> load(data, Map.of("blockStore", "embedded")))
        .isInstanceOf(ConfigLoader.ConfigException.class)
        .hasMessageContaining("keeps its blocks on the IPFS node at http://10.0.0.9:5001")
        .hasMessageContaining("blockStore is set to embedded");
    Path embedded = record("{\"v\": 1, \"blockStore\": \"embedded\"}");
    assertThatThrownBy(() -> load(embedded, Map.of("blockStore", "ipfs"))).hasMessageContaining("keeps its blocks in it (embedded)");
    assertThat(load(embedded, Map.of("blockStore", "embedded")).blockStore()).isEqualTo("embedded");
  }

  @Test
  void aRecordOfAnotherVersionOrDamagedIsRefused() throws Exception {
    assertThatThrownBy(() -> load(record("{\"v\": 2, \"blockStore\": \"embedded\"}"), Map.of()))
        .hasMessageContaining("has version 2; this Mnemo reads version 1");
    assertThatThrownBy(() -> load(record("{\"blockStore\": \"embedded\"}"), Map.of())).hasMessageContaining("is damaged");
    assertThatThrownBy(() -> load(record("{\"v\": 1, \"blockStore\": \"ipfs\"}"), Map.of())).hasMessageContaining("is damaged");
    assertThatThrownBy(() -> load(record("not json"), Map.of())).isInstanceOf(ConfigLoader.ConfigException.class);
  }

  @Test
  void openingAStoreRecordsItsBlockStoreAndAMovedIpfsNode() throws Exception {
    Path data = dir.resolve("data");
    NodeConfig config = load(data, Map.of());
    try (MnemoStore store = MnemoStore.open(data)) {
      BlockStoreRecord.keep(config, store);
    }
    assertThat(BlockStoreRecord.read(data)).contains(new BlockStoreRecord("embedded", null));

    Path ipfs = dir.resolve("ipfs");
    try (MnemoStore store = MnemoStore.open(ipfs)) {
      BlockStoreRecord.keep(load(ipfs, Map.of("blockStore", "ipfs", "ipfsApi", "http://10.0.0.9:5001")), store);
      BlockStoreRecord.keep(load(ipfs, Map.of("ipfsApi", "http://10.0.0.7:5001")), store);
    }
    assertThat(BlockStoreRecord.read(ipfs)).contains(new BlockStoreRecord("ipfs", "http://10.0.0.7:5001"));
  }

  private Path record(String json) throws Exception {
    Path data = Files.createTempDirectory(dir, "data");
    Files.writeString(data.resolve(BlockStoreRecord.FILE_NAME), json);
    return data;
  }

  private static NodeConfig load(Path data, Map<String, String> flags) throws Exception {
    Map<String, String> all = new java.util.HashMap<>(flags);
    all.put("data", data.toString());
    return ConfigLoader.load(null, Map.of(), all);
  }
}
