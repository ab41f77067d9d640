package dev.mnemo.node.ipfs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mnemo.node.TestVectors;
import dev.mnemo.node.cli.Main;
import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.model.Embedding;
import dev.mnemo.store.model.Memory;
import dev.mnemo.store.rocks.RocksStorage.Family;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.store.FSDirectory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mnemo import}, {@code reindex} and {@code export} on a data directory whose blocks live
 * on an IPFS node (a real one). They once always opened the embedded block store: an import put
 * its blocks in RocksDB, where the node never looks, and reindex and export found no blocks.
 */
class IpfsBackedCommandsTest {
  private static IpfsNode ipfs;
  private static IpfsRpc rpc;

  @TempDir Path dir;

  @BeforeAll
  static void startIpfs() {
    ipfs = IpfsNode.start();
    rpc = new IpfsRpc(ipfs.api());
  }

  @AfterAll
  static void stopIpfs() {
    if (ipfs != null) {
      ipfs.close();
    }
  }

  @Test
  void importReindexAndExportUseTheNodesIpfsBlockStore() throws Exception {
    Path source = dir.resolve("source");
    List<Cid> cids;
    try (MnemoStore store = MnemoStore.open(source)) {
      List<Memory> memories = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        memories.add(new Memory("notes", "note " + i, Map.of(), List.of(), 1_000 + i, new Embedding("test", TestVectors.random(i)), null));
      }
      cids = store.log().append("notes", memories).memories();
    }
    Path car = dir.resolve("notes.car");
    assertThat(Main.run("export", "--data", source.toString(), "--ns", "notes", "--out", car.toString())).isZero();

    Path data = dir.resolve("data");
    Path config = dir.resolve("mnemo.json");
    Files.writeString(config, "{\"blockStore\": \"ipfs\", \"ipfsApi\": \"" + ipfs.api() + "\"}");
    assertThat(Main.run("import", "--data", data.toString(), "--create", "--in", car.toString(), "--config", config.toString())).isZero();
    for (Cid cid : cids) {
      assertThat(rpc.hasBlock(cid.toString())).as("memory %s on the IPFS node", cid).isTrue();
    }
    try (MnemoStore embedded = MnemoStore.open(data)) {
      try (var it = embedded.storage().iterator(Family.BLOCKS)) {
        it.seekToFirst();
        assertThat(it.isValid()).as("no block left in RocksDB").isFalse();
      }
    }
    assertThat(indexedDocs(data)).isEqualTo(20);

    assertThat(Main.run("reindex", "--data", data.toString(), "--config", config.toString())).isZero();
    assertThat(indexedDocs(data)).isEqualTo(20);

    Path again = dir.resolve("again.car");
    assertThat(Main.run("export", "--data", data.toString(), "--ns", "notes", "--out", again.toString(),
        "--config", config.toString())).isZero();
    assertThat(Files.readAllBytes(again)).isEqualTo(Files.readAllBytes(car));
  }

  /**
   * The data directory records where its blocks live, so a command run on it without the node's
   * settings finds the IPFS node; one that used to read the empty embedded store reported a
   * corrupt or missing block. A block store set against the record is a clear error.
   */
  @Test
  void aDataDirectoryRecordsWhereItsBlocksLiveForTheCommandsRunOnIt() throws Exception {
    Path source = dir.resolve("source");
    try (MnemoStore store = MnemoStore.open(source)) {
      List<Memory> memories = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        memories.add(new Memory("notes", "note " + i, Map.of(), List.of(), 1_000 + i, new Embedding("test", TestVectors.random(i)), null));
      }
      store.log().append("notes", memories);
    }
    Path car = dir.resolve("notes.car");
    assertThat(Main.run("export", "--data", source.toString(), "--ns", "notes", "--out", car.toString())).isZero();
    Path data = dir.resolve("data");
    Path config = dir.resolve("mnemo.json");
    Files.writeString(config, "{\"blockStore\": \"ipfs\", \"ipfsApi\": \"" + ipfs.api() + "\"}");
    assertThat(Main.run("import", "--data", data.toString(), "--create", "--in", car.toString(), "--config", config.toString()))
        .isZero();
    Path record = data.resolve("blockstore.json");
    assertThat(Files.readString(record)).contains("\"v\" : 1").contains("\"blockStore\" : \"ipfs\"").contains(ipfs.api().toString());

    Path again = dir.resolve("again.car");
    assertThat(Main.run("export", "--data", data.toString(), "--ns", "notes", "--out", again.toString()))
        .as("no --config: the record says where the blocks are").isZero();
    assertThat(Files.readAllBytes(again)).isEqualTo(Files.readAllBytes(car));
    assertThat(Main.run("reindex", "--data", data.toString())).isZero();
    assertThat(indexedDocs(data)).isEqualTo(5);

    Path embedded = dir.resolve("embedded.json");
    Files.writeString(embedded, "{\"blockStore\": \"embedded\"}");
    Captured mismatch = capture(() -> Main.run("export", "--data", data.toString(), "--ns", "notes", "--out",
        dir.resolve("x.car").toString(), "--config", embedded.toString()));
    assertThat(mismatch.exit()).isEqualTo(2);
    assertThat(mismatch.err()).contains("keeps its blocks on the IPFS node at " + ipfs.api()).contains("blockStore is set to embedded");

    // A directory from before the record, opened without the IPFS settings.
    Files.delete(record);
    Captured legacy = capture(() -> Main.run("export", "--data", data.toString(), "--ns", "notes", "--out",
        dir.resolve("y.car").toString()));
    assertThat(legacy.exit()).isEqualTo(1);
    assertThat(legacy.err().lines().filter(l -> l.startsWith("mnemo: "))).singleElement().asString()
        .contains("holds log entries but none of their blocks").contains("MNEMO_IPFS_API");
    assertThat(record).as("nothing recorded from a guess").doesNotExist();
    assertThat(dir.resolve("y.car")).doesNotExist();
    assertThat(Main.run("export", "--data", data.toString(), "--ns", "notes", "--out", again.toString(),
        "--config", config.toString())).isZero();
    assertThat(record).as("recorded once told").exists();
  }

  record Captured(int exit, String err) {}

  interface Command {
    int run() throws Exception;
  }

  private static synchronized Captured capture(Command command) throws Exception {
    java.io.PrintStream before = System.err;
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    System.setErr(new java.io.PrintStream(bytes, true, java.nio.charset.StandardCharsets.UTF_8));
    try {
      int exit = command.run();
      return new Captured(exit, bytes.toString(java.nio.charset.StandardCharsets.UTF_8));
    } finally {
      System.setErr(before);
    }
  }

  private static int indexedDocs(Path data) throws Exception {
    try (var directory = FSDirectory.open(data.resolve("index")); DirectoryReader reader = DirectoryReader.open(directory)) {
      return reader.numDocs();
    }
  }
}
