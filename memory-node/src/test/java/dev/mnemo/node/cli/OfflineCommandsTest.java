package dev.mnemo.node.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mnemo.node.TestVectors;
import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.model.Embedding;
import dev.mnemo.store.model.Memory;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The offline commands' edges: a mistyped {@code --data}, an empty namespace, and what the
 * reindex progress bar counts.
 */
class OfflineCommandsTest {
  @TempDir Path dir;

  @Test
  void importIntoADirectoryWithoutAStoreNeedsCreate() throws Exception {
    Path source = dir.resolve("source");
    write(source, "notes", 5, 1);
    Path car = dir.resolve("notes.car");
    assertThat(Main.run("export", "--data", source.toString(), "--ns", "notes", "--out", car.toString())).isZero();

    Path typo = dir.resolve("sorce");
    Captured refused = capture(() -> Main.run("import", "--data", typo.toString(), "--in", car.toString()));
    assertThat(refused.exit()).isEqualTo(2);
    assertThat(refused.err()).contains("no Mnemo data directory at").contains("--create");
    assertThat(typo).as("no store made where there was none").doesNotExist();

    Files.createDirectories(typo);
    assertThat(capture(() -> Main.run("import", "--data", typo.toString(), "--in", car.toString())).exit())
        .as("an empty directory is no store either").isEqualTo(2);

    assertThat(Main.run("import", "--data", typo.toString(), "--create", "--in", car.toString())).isZero();
    try (MnemoStore store = MnemoStore.open(typo)) {
      assertThat(store.log().list("notes", null, 100).memories()).hasSize(5);
    }
    assertThat(Main.run("import", "--data", typo.toString(), "--in", car.toString())).as("into a store, no --create").isZero();
  }

  @Test
  void importCreateMakesTheDataDirectoryOwnerOnly() throws Exception {
    Path source = dir.resolve("source");
    write(source, "notes", 3, 1);
    Path car = dir.resolve("notes.car");
    assertThat(Main.run("export", "--data", source.toString(), "--ns", "notes", "--out", car.toString())).isZero();
    Path data = dir.resolve("new").resolve("data");
    assertThat(Main.run("import", "--data", data.toString(), "--create", "--in", car.toString())).isZero();
    for (Path created : List.of(data.getParent(), data, data.resolve("store"), data.resolve("index"))) {
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(created))).as("%s", created).isEqualTo("rwx------");
    }
  }

  /** An empty CAR has no root: go-car refuses it and the HTTP export answers 404. */
  @Test
  void exportOfANamespaceWithNoEntriesIsRefusedAndWritesNothing() throws Exception {
    Path data = dir.resolve("data");
    write(data, "notes", 2, 1);
    Path out = dir.resolve("empty.car");
    Captured refused = capture(() -> Main.run("export", "--data", data.toString(), "--ns", "nothing-here", "--out", out.toString()));
    assertThat(refused.exit()).isEqualTo(1);
    assertThat(refused.err().strip()).isEqualTo("mnemo: namespace 'nothing-here' has no entries in " + data + ": nothing to export");
    try (var files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactly("data");
    }

    Path missing = dir.resolve("missing");
    Captured noData = capture(() -> Main.run("export", "--data", missing.toString(), "--ns", "notes", "--out", out.toString()));
    assertThat(noData.exit()).isEqualTo(2);
    assertThat(noData.err()).contains("no Mnemo data directory");
    assertThat(missing).doesNotExist();
    assertThat(out).doesNotExist();
  }

  /**
   * The bar counts memories (what a user knows they have), not log entries, and is drawn before
   * the first batch is indexed. 30 entries of 20 memories, 10 of them forgotten: 590 live.
   */
  @Test
  void reindexCountsMemoriesFromTheStart() throws Exception {
    Path data = dir.resolve("data");
    List<Cid> cids = write(data, "notes", 20, 30);
    try (MnemoStore store = MnemoStore.open(data)) {
      store.log().forget("notes", cids.subList(0, 10));
    }
    Captured run = capture(() -> Main.run("reindex", "--data", data.toString()));
    assertThat(run.exit()).as(run.err()).isZero();
    List<String> draws = List.of(run.err().split("\r")).stream().filter(d -> d.startsWith("reindex [")).toList();
    assertThat(draws).as(run.err()).isNotEmpty();
    assertThat(draws.get(0)).as("drawn before anything is indexed").contains(" 0/590 memories");
    assertThat(draws.get(draws.size() - 1)).contains(" 590/590 memories");
    assertThat(draws).allSatisfy(d -> assertThat(d.lines().findFirst().orElseThrow()).doesNotContain("entries"));
    assertThat(run.err()).contains("into 590 memories");
  }

  /**
   * A command on a data directory whose IPFS node is down says so in one line, at once: it used
   * to log a warning and fail on the first block it read, with a stack trace.
   */
  @Test
  void aCommandOnADataDirectoryWhoseIpfsNodeIsDownSaysSoInOneLine() throws Exception {
    Path data = dir.resolve("data");
    Files.createDirectories(data);
    int port;
    try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
      port = free.getLocalPort();
    }
    String api = "http://127.0.0.1:" + port;
    Files.writeString(data.resolve("blockstore.json"), "{\"v\": 1, \"blockStore\": \"ipfs\", \"ipfsApi\": \"" + api + "\"}");
    try (MnemoStore store = MnemoStore.open(data)) {
      store.log().create(store.log().nodeAuthor(), "notes");
    }
    Path out = dir.resolve("notes.car");
    Captured down = capture(() -> Main.run("export", "--data", data.toString(), "--ns", "notes", "--out", out.toString()));
    assertThat(down.exit()).as(down.err()).isEqualTo(1);
    assertThat(down.err().lines().filter(l -> !l.isBlank())).as(down.err()).singleElement().asString()
        .startsWith("mnemo: the IPFS node at " + api + ", which holds the blocks of " + data + ", does not answer");
    assertThat(out).doesNotExist();
  }

  /** {@code count} entries of {@code perEntry} memories each in {@code ns}; the memories' CIDs. */
  private static List<Cid> write(Path data, String ns, int perEntry, int count) throws Exception {
    List<Cid> cids = new ArrayList<>();
    try (MnemoStore store = MnemoStore.open(data)) {
      for (int e = 0; e < count; e++) {
        List<Memory> memories = new ArrayList<>();
        for (int i = 0; i < perEntry; i++) {
          int n = e * perEntry + i;
          memories.add(new Memory(ns, "memory " + n, Map.of(), List.of(), 1_000 + n, new Embedding("test", TestVectors.random(n)), null));
        }
        cids.addAll(store.log().append(ns, memories).memories());
      }
    }
    return cids;
  }

  record Captured(int exit, String err) {}

  interface Command {
    int run() throws Exception;
  }

  private static synchronized Captured capture(Command command) throws Exception {
    PrintStream before = System.err;
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    System.setErr(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    try {
      int exit = command.run();
      return new Captured(exit, bytes.toString(StandardCharsets.UTF_8));
    } finally {
      System.setErr(before);
    }
  }
}
