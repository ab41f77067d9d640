package dev.mnemo.node.sync;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an operator meets at the command line, each in real processes: a second node on a taken
 * port or a data directory in use, commands beside a running node, the start-up log, and the data
 * directory's permissions. An operator's mistake is one line on stderr and a non-zero exit, never a
 * stack trace.
 */
@ExtendWith(NodeLogsOnFailure.class)
class OperatorCliTest {
  @TempDir Path dir;

  @Test
  void aSecondNodeOnATakenPortOrDataDirectorySaysSoInOneLine() throws Exception {
    try (NodeProcess first = NodeProcess.create("first", dir.resolve("first"), List.of(), Map.of()).start()) {
      Path second = dir.resolve("second");

      Run gossip = cli(Map.of(), "node", "--port", Integer.toString(NodeProcess.freePort()), "--gossip-port",
          Integer.toString(first.gossipPort()), "--data", second.toString(), "--embedder", "none");
      assertThat(gossip.exit()).as("%s", gossip).isEqualTo(1);
      assertThat(gossip.lines()).as("%s", gossip).hasSize(1);
      assertThat(gossip.lines().get(0)).contains("gossip port 127.0.0.1:" + first.gossipPort() + " is taken")
          .contains("--gossip-port").contains("gossipPort");
      assertThat(second).as("nothing created before the ports are known to be free").doesNotExist();

      Run http = cli(Map.of(), "node", "--port", Integer.toString(first.httpPort()), "--gossip-port",
          Integer.toString(NodeProcess.freePort()), "--data", second.toString(), "--embedder", "none");
      assertThat(http.exit()).as("%s", http).isEqualTo(1);
      assertThat(http.lines()).as("%s", http).hasSize(1);
      assertThat(http.lines().get(0)).contains("HTTP port 127.0.0.1:" + first.httpPort() + " is taken").contains("--port");

      Run data = cli(Map.of(), "node", "--port", Integer.toString(NodeProcess.freePort()), "--gossip-port",
          Integer.toString(NodeProcess.freePort()), "--data", first.dataDir().toString(), "--embedder", "none");
      assertThat(data.exit()).as("%s", data).isEqualTo(1);
      assertThat(data.lines()).as("%s", data).hasSize(1);
      assertThat(data.lines().get(0)).contains("is in use by another Mnemo process").contains("--data");
    }
  }

  @Test
  void commandsOnADataDirectoryInUseSaySoInOneLine() throws Exception {
    try (NodeProcess node = NodeProcess.create("busy", dir.resolve("busy"), List.of(), Map.of()).start()) {
      node.api().remember("notes", Map.of("text", "a note", "vector", dev.mnemo.node.TestVectors.random(1)));
      String data = node.dataDir().toString();
      Path car = dir.resolve("notes.car");
      List<Run> runs = List.of(
          cli(Map.of(), "export", "--data", data, "--ns", "notes", "--out", car.toString()),
          cli(Map.of(), "reindex", "--data", data));
      assertThat(car).doesNotExist();
      for (Run run : runs) {
        assertThat(run.exit()).as("%s", run).isEqualTo(1);
        assertThat(run.lines()).as("%s", run).hasSize(1);
        assertThat(run.lines().get(0)).as("%s", run).contains("is in use by another Mnemo process").contains("stop the node");
      }
      Files.writeString(dir.resolve("empty.car"), "");
      Run imported = cli(Map.of(), "import", "--data", data, "--in", dir.resolve("empty.car").toString());
      assertThat(imported.exit()).as("%s", imported).isEqualTo(1);
      assertThat(imported.lines()).as("%s", imported).hasSize(1);
      assertThat(imported.lines().get(0)).contains("is in use by another Mnemo process");
    }
  }

  /**
   * The node's start-up, with the default model, through the launcher as an operator runs it: no
   * CUDA warning on a CPU machine, no tokenizer warning, no configuration dump; Lucene still gets
   * the vector API.
   */
  @Test
  void startUpSaysOnlyWhatAnOperatorActsOn() throws Exception {
    Path log = dir.resolve("node.log");
    ProcessBuilder builder = new ProcessBuilder("bash", launcher().toString(), "node", "--port",
        Integer.toString(NodeProcess.freePort()), "--gossip-port", Integer.toString(NodeProcess.freePort()),
        "--data", dir.resolve("data").toString());
    launcherEnvironment(builder);
    builder.redirectErrorStream(true).redirectOutput(log.toFile());
    Process node = builder.start();
    try {
      Await.until(Duration.ofSeconds(90), "the model ready", () -> read(log).contains("ready for text"), () -> read(log));
      String out = read(log);
      assertThat(out).as(out).contains("Java vector incubator API enabled")
          .doesNotContain("CUDA").doesNotContain("GPU")
          .doesNotContain("maxLength")
          .doesNotContain("ClusterConfig").doesNotContain("Bound cluster transport");
    } finally {
      node.destroy();
      if (!node.waitFor(30, TimeUnit.SECONDS)) {
        node.destroyForcibly();
      }
    }
  }

  /** The JVM warns of incubator modules whenever one is added: only the commands that need it get it. */
  @Test
  void helpPrintsNoIncubatorWarning() throws Exception {
    for (List<String> args : List.of(List.of("--help"), List.of("node", "--help"), List.of("export", "--help"))) {
      List<String> command = new ArrayList<>(List.of("bash", launcher().toString()));
      command.addAll(args);
      ProcessBuilder help = new ProcessBuilder(command);
      launcherEnvironment(help);
      Run run = run(help);
      assertThat(run.exit()).as("%s", run).isZero();
      assertThat(run.out()).contains("Usage: mnemo");
      assertThat(run.err()).as("%s", run).isEmpty();
    }
  }

  /** The data directory, its missing parents and the directories the node makes in it are owner-only. */
  @Test
  void aNodeCreatesItsDataDirectoryOwnerOnly() throws Exception {
    Path data = dir.resolve("parent").resolve("data");
    try (NodeProcess node = NodeProcess.create("private", data, List.of(), Map.of()).start()) {
      for (Path created : List.of(data.getParent(), data, data.resolve("store"), data.resolve("index"))) {
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(created))).as("%s", created)
            .isEqualTo("rwx------");
      }
    }
  }

  /** An existing data directory keeps the mode its operator gave it; the node says when others can read it. */
  @Test
  void anExistingSharedDataDirectoryIsLeftAsItIsWithAWarning() throws Exception {
    Path data = dir.resolve("shared");
    Files.createDirectories(data);
    Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwxr-x---"));
    try (NodeProcess node = NodeProcess.create("shared", data, List.of(), Map.of()).start()) {
      Await.until(Duration.ofSeconds(10), "the warning", () -> node.log().contains("chmod 700"), () -> node.logTail(20));
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(data))).isEqualTo("rwxr-x---");
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(data.resolve("store")))).isEqualTo("rwx------");
    }
  }

  record Run(int exit, String out, String err) {
    /** The non-blank lines the command printed, stdout and stderr. */
    List<String> lines() {
      List<String> lines = new ArrayList<>();
      (out + "\n" + err).lines().filter(l -> !l.isBlank()).forEach(lines::add);
      return lines;
    }
  }

  /** The launcher at the repository's root. */
  private static Path launcher() {
    Path root = Path.of("").toAbsolutePath();
    while (root != null && !Files.isRegularFile(root.resolve("mnemo"))) {
      root = root.getParent();
    }
    assertThat(root).as("the mnemo launcher above " + Path.of("").toAbsolutePath()).isNotNull();
    return root.resolve("mnemo");
  }

  /** The launcher runs this build's classes (no jar, no build) with this test's JDK. */
  private static void launcherEnvironment(ProcessBuilder builder) {
    builder.environment().keySet().removeIf(k -> k.startsWith("MNEMO_"));
    builder.environment().put("MNEMO_CLASSPATH", ClasspathSnapshot.get());
    builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
  }

  private static String read(Path file) {
    try {
      return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      return e.toString();
    }
  }

  /** {@code mnemo ARGS} in its own JVM, as the launcher runs the commands that need no vector API. */
  private static Run cli(Map<String, String> env, String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    // As the launcher runs every command: RocksDB and Netty load native code.
    command.add("--enable-native-access=ALL-UNNAMED");
    command.add("-cp");
    command.add(ClasspathSnapshot.get());
    command.add("dev.mnemo.node.cli.Main");
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().keySet().removeIf(k -> k.startsWith("MNEMO_"));
    builder.environment().putAll(env);
    return run(builder);
  }

  private static Run run(ProcessBuilder builder) throws Exception {
    File out = File.createTempFile("mnemo-cli-", ".out");
    File err = File.createTempFile("mnemo-cli-", ".err");
    try {
      Process process = builder.redirectOutput(out).redirectError(err).start();
      assertThat(process.waitFor(120, TimeUnit.SECONDS)).as("the command ended").isTrue();
      return new Run(process.exitValue(), Files.readString(out.toPath()), Files.readString(err.toPath()));
    } finally {
      out.delete();
      err.delete();
    }
  }
}
