package dev.mnemo.node.sync;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mnemo.node.OutOfMemoryHalt;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 22: a node out of heap answered nothing for minutes while staying alive, so no supervisor
 * restarted it. Here a real node process with a small heap, its body budget raised far past the
 * heap on purpose, is sent enough large bodies at once to run out of heap: it must exit with a
 * non-zero status, both with {@code -XX:+ExitOnOutOfMemoryError} (the launcher's) and without it
 * ({@link OutOfMemoryHalt}, the node's own second line).
 */
@ExtendWith(NodeLogsOnFailure.class)
class OutOfMemoryExitTest {
  @TempDir Path dir;

  @Test
  void withTheLaunchersFlagTheNodeExitsWhenItRunsOutOfHeap() throws Exception {
    assertExitsOutOfHeap(List.of());
  }

  @Test
  void withoutTheFlagTheNodeHaltsItselfWhenItRunsOutOfHeap() throws Exception {
    assertExitsOutOfHeap(List.of("-XX:-ExitOnOutOfMemoryError"));
  }

  private void assertExitsOutOfHeap(List<String> extraJvmArgs) throws Exception {
    List<String> jvmArgs = new ArrayList<>(List.of("-Xmx128m"));
    jvmArgs.addAll(extraJvmArgs);
    // A budget of 4 GiB for bodies read whole, on a heap of 128 MiB: the misconfiguration that lets this happen.
    try (NodeProcess node = NodeProcess.create("oom", dir.resolve("node"), List.of(), Map.of("MNEMO_MAX_BUFFERED_BODY_MB", "4096"),
        jvmArgs).start()) {
      String token = node.api().token();
      for (int i = 0; i < 24; i++) {
        // Daemons: against a node that hangs instead of exiting, a write may block until the test ends.
        Thread.ofPlatform().daemon(true).start(() -> sendLargeBody(node.httpPort(), token));
      }
      Integer status = node.awaitExit(Duration.ofSeconds(90));
      // 3 either way: the JVM flag's status, and the one OutOfMemoryHalt gives.
      assertThat(status).as("the node's exit status after it ran out of heap (null: still running)\n%s", node.logTail(20))
          .isEqualTo(OutOfMemoryHalt.STATUS);
      assertThat(node.log()).containsAnyOf("OutOfMemoryError", "mnemo: out of memory");
    }
  }

  /** A 15 MiB remember body, sent whole; the node may die while it is sent. */
  private static void sendLargeBody(int port, String token) {
    int length = 15 << 20;
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
      OutputStream out = socket.getOutputStream();
      out.write(("POST /v1/namespaces/oom/memories HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token
          + "\r\nContent-Type: application/json\r\nContent-Length: " + length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      byte[] chunk = new byte[1 << 20];
      Arrays.fill(chunk, (byte) 'a');
      out.write("{\"text\": \"".getBytes(StandardCharsets.US_ASCII));
      for (int sent = 10; sent < length; sent += chunk.length) {
        out.write(chunk, 0, Math.min(chunk.length, length - sent));
      }
      out.flush();
      socket.setSoTimeout(60_000);
      socket.getInputStream().read();
    } catch (IOException e) {
      // The node died, or closed the connection: what the test waits for.
    }
  }
}
