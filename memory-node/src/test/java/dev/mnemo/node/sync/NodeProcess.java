package dev.mnemo.node.sync;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mnemo.node.ApiClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A memory node in its own JVM ({@code mnemo node}), started from the test's own classpath, as an
 * operator would run it: its own ports, data directory and process. Ports are picked once, so a
 * restart comes back at the same addresses its peers know. The node's stdout and stderr go to a
 * log file under {@code target/sync-logs}, printed when a test fails (see {@link NodeLogsOnFailure}).
 *
 * <p>{@link #stop} is SIGTERM (clean shutdown); {@link #kill} is SIGKILL, checked by exit status
 * 137. {@link #close} always leaves no process behind.
 */
public final class NodeProcess implements AutoCloseable {
  /** Every node created since the last reset, for the failure log dump. */
  static final List<NodeProcess> REGISTRY = new CopyOnWriteArrayList<>();
  private static final Path LOG_ROOT = Path.of("target", "sync-logs");
  /** Every process started by this JVM: killed at exit, should a test leave one behind. */
  private static final List<Process> STARTED = new CopyOnWriteArrayList<>();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> STARTED.forEach(Process::destroyForcibly)));
  }

  private static final HttpClient HEALTH = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2)).build();

  private final String name;
  private final Path dataDir;
  private final Path logFile;
  private final int httpPort;
  private final int gossipPort;
  private final List<String> seeds;
  private final Map<String, String> env = new java.util.concurrent.ConcurrentHashMap<>();
  private final List<String> jvmArgs;
  private final ApiClient api;
  private Process process;
  private int starts;

  private NodeProcess(String name, Path dataDir, List<String> seeds, Map<String, String> env, List<String> jvmArgs) {
    this.name = name;
    this.dataDir = dataDir;
    this.httpPort = freePort();
    this.gossipPort = freePort();
    this.seeds = List.copyOf(seeds);
    this.env.putAll(env);
    this.jvmArgs = List.copyOf(jvmArgs);
    this.api = new ApiClient(httpPort, dataDir);
    try {
      Files.createDirectories(LOG_ROOT);
      this.logFile = Files.createTempFile(LOG_ROOT, name + "-", ".log");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    REGISTRY.add(this);
  }

  /** A node not yet started. {@code env} adds MNEMO_* settings (e.g. MNEMO_ANTI_ENTROPY_MS). */
  public static NodeProcess create(String name, Path dataDir, List<String> seeds, Map<String, String> env) {
    return new NodeProcess(name, dataDir, seeds, env, List.of());
  }

  public static NodeProcess create(String name, Path dataDir, List<String> seeds, Map<String, String> env,
      List<String> jvmArgs) {
    return new NodeProcess(name, dataDir, seeds, env, jvmArgs);
  }

  /** Sets a MNEMO_* variable for the next start (e.g. an advertised address known only after creation). */
  public NodeProcess withEnv(String key, String value) {
    env.put(key, value);
    return this;
  }

  /** Starts the process (or starts it again on the same data, ports and seeds) without waiting. */
  public synchronized NodeProcess launch() {
    if (process != null && process.isAlive()) {
      throw new IllegalStateException(name + " is already running");
    }
    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command().orElse(
        Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    command.add("--enable-native-access=ALL-UNNAMED");
    command.add("--add-modules");
    command.add("jdk.incubator.vector");
    command.add("-XX:+IgnoreUnrecognizedVMOptions");
    // As the mnemo launcher: out of heap, the node exits (status 3) rather than hang the test.
    command.add("-XX:+ExitOnOutOfMemoryError");
    command.addAll(jvmArgs);
    command.add("-cp");
    // -Dmnemo.nodeClasspath runs another build's node (a before/after figure), else this one's.
    command.add(System.getProperty("mnemo.nodeClasspath", ClasspathSnapshot.get()));
    command.add("dev.mnemo.node.cli.Main");
    command.add("node");
    command.add("--port");
    command.add(Integer.toString(httpPort));
    command.add("--gossip-port");
    command.add(Integer.toString(gossipPort));
    command.add("--data");
    command.add(dataDir.toString());
    command.add("--embedder");
    command.add("none");
    for (String seed : seeds) {
      command.add("--seed");
      command.add(seed);
    }
    ProcessBuilder builder = new ProcessBuilder(command);
    // The child must not inherit MNEMO_* settings from whoever runs the build.
    builder.environment().keySet().removeIf(k -> k.startsWith("MNEMO_"));
    builder.environment().putAll(env);
    // A test cluster trusts its own nodes with every namespace unless the test says otherwise.
    builder.environment().putIfAbsent("MNEMO_REPLICATION_PEERS", "*");
    builder.redirectErrorStream(true);
    builder.redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
    try {
      starts++;
      Files.writeString(logFile, "==== " + Instant.now() + " start #" + starts + " of " + name + ": http " + httpPort
          + ", gossip " + gossipPort + ", seeds " + seeds + ", env " + new java.util.TreeMap<>(env) + "\n", StandardOpenOption.APPEND);
      process = builder.start();
      STARTED.removeIf(p -> !p.isAlive());
      STARTED.add(process);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + name, e);
    }
    return this;
  }

  /** Starts and waits for GET /health. */
  public NodeProcess start() {
    launch();
    awaitHealthy(Duration.ofSeconds(60));
    return this;
  }

  /** Waits until GET /health answers 200; fails fast, with the log, if the process exits. */
  public void awaitHealthy(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    String last = "";
    while (System.nanoTime() < deadline) {
      Process p = process;
      if (p == null || !p.isAlive()) {
        throw new AssertionError(name + " exited with " + (p == null ? "?" : p.exitValue()) + " before it was healthy\n" + logTail(80));
      }
      try {
        HttpResponse<String> r = HEALTH.send(HttpRequest.newBuilder(URI.create(url() + "/health"))
            .timeout(Duration.ofSeconds(2)).GET().build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          return;
        }
        last = "status " + r.statusCode();
      } catch (IOException e) {
        last = e.toString();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
      sleep(50);
    }
    throw new AssertionError(name + " not healthy within " + timeout + " (" + last + ")\n" + logTail(80));
  }

  /** SIGTERM and wait for a clean exit; returns the exit status. */
  public int stop() {
    Process p = process;
    if (p == null || !p.isAlive()) {
      return p == null ? -1 : p.exitValue();
    }
    p.destroy();
    try {
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        throw new AssertionError(name + " did not stop within 30 s of SIGTERM\n" + logTail(40));
      }
      return p.exitValue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** SIGKILL: no shutdown hook runs. Asserts the process died of the signal (exit status 137). */
  public void kill() {
    Process p = process;
    assertThat(p != null && p.isAlive()).as("%s is running before the kill", name).isTrue();
    p.destroyForcibly();
    try {
      assertThat(p.waitFor(10, TimeUnit.SECONDS)).as("%s died after SIGKILL", name).isTrue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
    assertThat(p.exitValue()).as("exit status of %s after SIGKILL (128 + 9)", name).isEqualTo(137);
  }

  /** SIGSTOP: the process stays, its sockets accept connections, and nothing in it runs (a hung node). */
  public void pause() {
    signal("STOP");
  }

  /** SIGCONT after {@link #pause}. */
  public void resume() {
    signal("CONT");
  }

  private void signal(String name) {
    Process p = process;
    assertThat(p != null && p.isAlive()).as("%s is running before SIG%s", this.name, name).isTrue();
    try {
      Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(p.pid())).redirectErrorStream(true).start();
      assertThat(kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0).as("kill -%s %s", name, p.pid()).isTrue();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  public boolean isAlive() {
    return process != null && process.isAlive();
  }

  /** The exit status once the process has exited within {@code timeout}, or null if it is still running. */
  public Integer awaitExit(Duration timeout) {
    Process p = process;
    try {
      return p != null && p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) ? p.exitValue() : null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Leaves no process behind, whatever state it is in. */
  @Override
  public void close() {
    Process p = process;
    if (p != null && p.isAlive()) {
      p.destroyForcibly();
      try {
        p.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  public static void closeAll(NodeProcess... nodes) {
    for (NodeProcess node : nodes) {
      if (node != null) {
        node.close();
      }
    }
  }

  // ---- addresses ----

  public String name() {
    return name;
  }

  public int httpPort() {
    return httpPort;
  }

  public int gossipPort() {
    return gossipPort;
  }

  /** The gossip address peers seed with. */
  public String gossip() {
    return "127.0.0.1:" + gossipPort;
  }

  public String url() {
    return "http://127.0.0.1:" + httpPort;
  }

  public Path dataDir() {
    return dataDir;
  }

  public Path logFile() {
    return logFile;
  }

  public ApiClient api() {
    return api;
  }

  // ---- HTTP conveniences ----

  public JsonNode info() {
    return api.getJson("/v1/node");
  }

  /** The namespace's heads as GET /v1/node reports them (empty when the node has none). */
  public TreeSet<String> heads(String ns) {
    return heads(info(), ns);
  }

  public static TreeSet<String> heads(JsonNode info, String ns) {
    TreeSet<String> heads = new TreeSet<>();
    for (JsonNode n : info.path("namespaces")) {
      if (n.path("name").asText().equals(ns)) {
        n.path("heads").forEach(h -> heads.add(h.asText()));
      }
    }
    return heads;
  }

  /** Peers this node lists as alive (departed ones are listed too, with their state). */
  public int peerCount() {
    int alive = 0;
    for (JsonNode peer : info().path("peers")) {
      if (peer.path("state").asText().equals("alive")) {
        alive++;
      }
    }
    return alive;
  }

  /** The state this node lists for the peer at {@code http}, or "absent". */
  public String peerState(String http) {
    for (JsonNode peer : info().path("peers")) {
      if (peer.path("http").asText().equals(http)) {
        return peer.path("state").asText();
      }
    }
    return "absent";
  }

  /** Live memories in the recall index, over all namespaces. */
  public long indexedMemories() {
    return info().path("index").path("memories").asLong();
  }

  public JsonNode sync() {
    return info().path("sync");
  }

  public TreeSet<String> memorySet(String ns) {
    return new TreeSet<>(api.listAll(ns));
  }

  /** The CID at rank 1 of a vector recall with k=1, or null when there is no result. */
  public String top(String ns, float[] vector) {
    List<String> cids = api.recallCids(ns, Map.of("vector", vector, "k", 1, "mode", "vector"));
    return cids.isEmpty() ? null : cids.get(0);
  }

  public String metrics() {
    ApiClient.Response r = api.get("/metrics");
    assertThat(r.status()).as("%s", r).isEqualTo(200);
    return r.text();
  }

  /**
   * The stack of the node's threads whose name starts with {@code prefix} (jstack from this JDK),
   * for failure messages that must say where a node is stuck.
   */
  public String threadStack(String prefix) {
    Process p = process;
    if (p == null || !p.isAlive()) {
      return "(" + name + " is not running)";
    }
    Path jstack = Path.of(System.getProperty("java.home"), "bin", "jstack");
    try {
      Process dump = new ProcessBuilder(jstack.toString(), Long.toString(p.pid())).redirectErrorStream(true).start();
      String text = new String(dump.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      dump.waitFor(30, TimeUnit.SECONDS);
      StringBuilder out = new StringBuilder();
      for (String block : text.split("\n\n")) {
        if (block.startsWith("\"" + prefix)) {
          out.append(block).append("\n");
        }
      }
      return out.isEmpty() ? "(no thread " + prefix + "* in " + name + ")" : out.toString();
    } catch (IOException e) {
      return "(jstack failed: " + e + ")";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "(interrupted)";
    }
  }

  public String log() {
    try {
      return Files.readString(logFile, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(cannot read " + logFile + ": " + e + ")";
    }
  }

  public String logTail(int lines) {
    List<String> all = log().lines().toList();
    return "---- last " + Math.min(lines, all.size()) + " lines of " + name + " (" + logFile + ") ----\n"
        + String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
  }

  @Override
  public String toString() {
    return name + "(http " + httpPort + ", gossip " + gossipPort + ")";
  }

  // ---- helpers ----

  /** Ports {@link #freePort} has handed out in this JVM. */
  private static final java.util.Set<Integer> HANDED_OUT = java.util.concurrent.ConcurrentHashMap.newKeySet();

  /**
   * A port free now that this JVM has not handed out before. Ports are picked before the nodes
   * that bind them start, and the OS may offer a port just released again: two nodes of one
   * cluster were once given the same gossip port, and the second failed to bind.
   */
  public static int freePort() {
    while (true) {
      try (ServerSocket socket = new ServerSocket(0)) {
        socket.setReuseAddress(true);
        if (HANDED_OUT.add(socket.getLocalPort())) {
          return socket.getLocalPort();
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  /** A memory request body with a client vector. */
  public static Map<String, Object> memory(String text, float[] vector) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("text", text);
    m.put("vector", vector);
    return m;
  }
}
