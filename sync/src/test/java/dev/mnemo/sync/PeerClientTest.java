package dev.mnemo.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.identity.AgentKey;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A peer that sends its answer's headers and then stalls, on a real socket. The request timeout
 * covers only the wait for the headers, so the body read once blocked its thread for good: every
 * pull thread could be held by one silent peer, and anti-entropy with it stopped.
 */
@Timeout(30)
class PeerClientTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(1);

  private ServerSocket server;
  private final List<Socket> accepted = new CopyOnWriteArrayList<>();

  @BeforeEach
  void startStallingPeer() throws IOException {
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread.ofPlatform().daemon(true).start(() -> {
      while (!server.isClosed()) {
        try {
          Socket socket = server.accept();
          accepted.add(socket);
          Thread.ofPlatform().daemon(true).start(() -> answerAndStall(socket));
        } catch (IOException closed) {
          return;
        }
      }
    });
  }

  @AfterEach
  void stop() throws IOException {
    server.close();
    for (Socket socket : accepted) {
      socket.close();
    }
  }

  /** Reads the request head, sends a 200 that promises 1,000 bytes, sends 3, and says no more. */
  private static void answerAndStall(Socket socket) {
    try {
      var in = socket.getInputStream();
      int matched = 0;
      byte[] end = "\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
      while (matched < end.length) {
        int b = in.read();
        if (b < 0) {
          return;
        }
        matched = b == end[matched] ? matched + 1 : (b == end[0] ? 1 : 0);
      }
      OutputStream out = socket.getOutputStream();
      out.write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nabc".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      Thread.sleep(60_000);
    } catch (IOException | InterruptedException e) {
      // The client gave up and closed the connection, or the test ended.
    }
  }

  private Peer peer() {
    return new Peer("stalling", "http://127.0.0.1:" + server.getLocalPort(), AgentKey.generate().did(), java.util.Set.of(Peer.ALL));
  }

  @Test
  void aBlockFetchFromAPeerThatStallsMidBodyTimesOut() {
    PeerClient client = new PeerClient(new PeerAuth(AgentKey.generate()), TIMEOUT, TIMEOUT);
    long start = System.nanoTime();
    assertThatThrownBy(() -> client.blocks(peer(), List.of(Cid.dagCbor(new byte[] {1}))))
        .isInstanceOf(HttpTimeoutException.class);
    assertThat(System.nanoTime() - start).isLessThan(TimeUnit.SECONDS.toNanos(10));
  }

  @Test
  void aDigestFromAPeerThatStallsMidBodyTimesOut() {
    PeerClient client = new PeerClient(new PeerAuth(AgentKey.generate()), TIMEOUT, TIMEOUT);
    assertThat(client.digestAsync(peer()))
        .failsWithin(Duration.ofSeconds(10))
        .withThrowableOfType(ExecutionException.class)
        .withRootCauseInstanceOf(HttpTimeoutException.class);
  }
}
