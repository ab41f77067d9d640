package dev.mnemo.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mnemo.node.ApiClient.Response;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node in its own JVM, killed with SIGKILL while clients are writing, then restarted on the
 * same data: every write it acknowledged (201) is there and recallable, because a write is only
 * acknowledged once durable and the index catches up from the log on start.
 */
class NodeRestartTest {
  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

  @TempDir Path data;
  @TempDir Path logs;

  private record Acknowledged(String cid, long seed) {}

  @Test
  void everyAcknowledgedWriteSurvivesSigkill() throws Exception {
    int port = freePort();
    Process first = startNode(port, logs.resolve("first.log"));
    List<Acknowledged> acknowledged;
    try {
      ApiClient api = awaitHealthy(first, port, logs.resolve("first.log"));
      assertStartupLine(logs.resolve("first.log"), port);
      acknowledged = writeUntilKilled(first, api);
    } finally {
      first.destroyForcibly();
    }
    assertThat(first.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(first.exitValue()).as("exit code after SIGKILL").isEqualTo(137);
    assertThat(acknowledged).hasSizeGreaterThanOrEqualTo(20);

    int port2 = freePort();
    Process second = startNode(port2, logs.resolve("second.log"));
    try {
      ApiClient api = awaitHealthy(second, port2, logs.resolve("second.log"));
      assertStartupLine(logs.resolve("second.log"), port2);
      JsonNode index = api.getJson("/v1/node").path("index");
      assertThat(index.path("appliedPosition").asLong()).as("%s", index).isEqualTo(index.path("logPosition").asLong());
      assertThat(index.path("memories").asLong()).as("%s", index).isGreaterThanOrEqualTo(acknowledged.size());

      List<String> listed = api.listAll("crash");
      List<String> missing = new ArrayList<>();
      List<String> notFirst = new ArrayList<>();
      for (Acknowledged ack : acknowledged) {
        Response memory = api.get("/v1/memories/" + ack.cid());
        if (memory.status() != 200 || !memory.json().path("text").asText().equals("crash memory " + ack.seed())) {
          missing.add(ack.cid() + " -> " + memory);
          continue;
        }
        List<String> top = api.recallCids("crash", Map.of("vector", TestVectors.random(ack.seed()), "mode", "vector", "k", 1));
        if (!top.equals(List.of(ack.cid()))) {
          notFirst.add(ack.cid() + " (seed " + ack.seed() + ") -> " + top);
        }
      }
      assertThat(missing).as("acknowledged memories lost after SIGKILL").isEmpty();
      assertThat(notFirst).as("acknowledged memories not recalled at rank 1 after restart").isEmpty();
      assertThat(listed).containsAll(acknowledged.stream().map(Acknowledged::cid).toList());

      // Still a working node: it takes new writes.
      String after = api.remember("crash", Map.of("text", "after the crash", "vector", TestVectors.random(-1)));
      assertThat(api.recallCids("crash", Map.of("vector", TestVectors.random(-1), "k", 1))).containsExactly(after);

      // SIGTERM shuts it down cleanly and promptly.
      second.destroy();
      assertThat(second.waitFor(10, TimeUnit.SECONDS)).as("exits within 10 s of SIGTERM").isTrue();
      assertThat(second.exitValue()).as("exit code after SIGTERM").isIn(0, 143);
      assertThat(Files.readString(logs.resolve("second.log"))).doesNotContain("Exception");
    } finally {
      second.destroyForcibly();
    }
  }

  /**
   * Four clients write until 300 writes are acknowledged or four seconds have passed, then the
   * node is killed while they are still writing. Writes in flight at the kill fail on the client
   * and are not counted: only a 201 is a promise.
   */
  private static List<Acknowledged> writeUntilKilled(Process node, ApiClient api) throws Exception {
    ConcurrentLinkedQueue<Acknowledged> acknowledged = new ConcurrentLinkedQueue<>();
    AtomicBoolean killed = new AtomicBoolean();
    AtomicLong seeds = new AtomicLong();
    ExecutorService clients = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> writers = new ArrayList<>();
      for (int w = 0; w < 4; w++) {
        writers.add(clients.submit(() -> {
          while (!killed.get()) {
            long seed = seeds.incrementAndGet();
            Response r;
            try {
              r = api.post("/v1/namespaces/crash/memories",
                  Map.of("text", "crash memory " + seed, "vector", TestVectors.random(seed)));
            } catch (UncheckedIOException e) {
              if (killed.get()) {
                return;
              }
              throw e;
            }
            if (r.status() == 201) {
              acknowledged.add(new Acknowledged(r.json().path("cid").asText(), seed));
            } else {
              throw new AssertionError("write refused before the kill: " + r);
            }
          }
        }));
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(4);
      while (acknowledged.size() < 300 && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      killed.set(true);
      node.destroyForcibly();
      for (Future<?> writer : writers) {
        writer.get(30, TimeUnit.SECONDS);
      }
    } finally {
      clients.shutdownNow();
    }
    return new ArrayList<>(acknowledged);
  }

  private Process startNode(int port, Path log) throws IOException {
    String java = ProcessHandle.current().info().command().orElse(
        Path.of(System.getProperty("java.home"), "bin", "java").toString());
    return new ProcessBuilder(java,
        "--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector", "-XX:+ExitOnOutOfMemoryError",
        "-cp", System.getProperty("java.class.path"),
        "dev.mnemo.node.cli.Main", "node",
        "--port", Integer.toString(port), "--gossip-port", "0",
        "--data", data.toString(), "--embedder", "none")
        .redirectError(log.toFile())
        .redirectOutput(log.resolveSibling(log.getFileName() + ".stdout").toFile())
        .start();
  }

  private ApiClient awaitHealthy(Process node, int port, Path log) throws Exception {
    ApiClient api = new ApiClient(port, data);
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      if (!node.isAlive()) {
        throw new AssertionError("node exited with " + node.exitValue() + " before answering /health:\n" + Files.readString(log));
      }
      try {
        if (api.get("/health").status() == 200) {
          return api;
        }
      } catch (UncheckedIOException notYet) {
        // not listening yet
      }
      Thread.sleep(50);
    }
    throw new AssertionError("node did not answer /health within " + START_TIMEOUT + ":\n" + Files.readString(log));
  }

  /** One line of the node's stderr says where it listens and where its data is (it may follow /health by a moment). */
  private void assertStartupLine(Path log, int port) throws Exception {
    String dataDir = data.toAbsolutePath().normalize().toString();
    String listening = "listening on http://127.0.0.1:" + port;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    List<String> lines = Files.readAllLines(log);
    while (lines.stream().noneMatch(line -> line.contains(listening)) && System.nanoTime() < deadline) {
      Thread.sleep(20);
      lines = Files.readAllLines(log);
    }
    assertThat(lines)
        .as("a line naming http://127.0.0.1:%d and %s in:%n%s", port, dataDir, String.join("\n", lines))
        .anySatisfy(line -> assertThat(line).contains(listening).contains(dataDir));
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      socket.setReuseAddress(true);
      return socket.getLocalPort();
    }
  }
}
