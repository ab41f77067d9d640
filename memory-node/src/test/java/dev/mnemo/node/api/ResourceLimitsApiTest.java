package dev.mnemo.node.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mnemo.node.ApiClient;
import dev.mnemo.node.MemoryService;
import dev.mnemo.node.TestNode;
import dev.mnemo.node.TestVectors;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a set of clients can hold on a node (issue 22): import bodies stream to a spill file in
 * the data directory, never kept; imports beyond the cap get 503; bodies read whole share one
 * budget; sockets that never finish their headers, idle ones, and ones beyond the connection cap
 * are closed. Every check runs against a real node on real sockets.
 */
class ResourceLimitsApiTest {
  private static final String NS = "limits";
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  @Test
  void anImportStreamsToASpillFileInTheDataDirectoryWhichGoesOnEveryPath() throws Exception {
    try (TestNode node = TestNode.start(dir, TestNode.NONE)) {
      byte[] car = someCar(node.api());
      Path spills = MemoryService.importSpillDir(dir);

      // Half a body: it is on disk, in the data directory, before the request has ended.
      try (RawRequest upload = RawRequest.importCar(node, car.length)) {
        upload.send(Arrays.copyOf(car, car.length / 2));
        await(() -> spillBytes(spills) == car.length / 2, "half the body in a spill file");
        upload.send(Arrays.copyOfRange(car, car.length / 2, car.length));
        RawRequest.Reply reply = upload.reply();
        assertThat(reply.status()).as("%s", reply).isEqualTo(200);
        assertThat(reply.json().path("blocks").asInt()).isPositive();
      }
      await(() -> spillFiles(spills).isEmpty(), "the spill file deleted after the import");

      // A client that goes away mid-body leaves nothing behind.
      try (RawRequest upload = RawRequest.importCar(node, car.length)) {
        upload.send(Arrays.copyOf(car, car.length / 2));
        await(() -> spillFiles(spills).size() == 1, "a spill file while the body arrives");
      }
      await(() -> spillFiles(spills).isEmpty(), "the spill file deleted after the client left");

      // Over the limit as declared: refused before any of the body is read.
      try (RawRequest upload = RawRequest.importCar(node, Limits.defaults().maxImportBytes() + 1L)) {
        RawRequest.Reply reply = upload.reply();
        assertThat(reply.status()).as("%s", reply).isEqualTo(413);
        assertThat(reply.json().path("error").path("code").asText()).isEqualTo("too_large");
        assertThat(closedByPeer(upload.socket)).isTrue();
      }
      // Chunked, so declaring nothing: the node stops reading as the stream passes the limit
      // (and closes the connection), not after the whole of it.
      long planned = Limits.defaults().maxImportBytes() + (64L << 20);
      long sent = 0;
      try (RawRequest upload = RawRequest.open(node, "POST", "/v1/namespaces/" + NS + "/import",
          "Content-Type: application/vnd.ipld.car\r\nTransfer-Encoding: chunked\r\n")) {
        byte[] chunk = new byte[1 << 20];
        byte[] size = (Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.US_ASCII);
        try {
          while (sent < planned) {
            upload.send(size);
            upload.send(chunk);
            upload.send("\r\n".getBytes(StandardCharsets.US_ASCII));
            sent += chunk.length;
          }
        } catch (SocketException closed) {
          // The node closed the connection: what this checks.
        }
      }
      assertThat(sent).as("bytes sent before the node closed the connection").isLessThan(planned);
      await(() -> spillFiles(spills).isEmpty(), "no spill file after a refused import");
      // And the node still imports.
      assertThat(node.api().postRaw("/v1/namespaces/" + NS + "/import", ApiClient.CAR_TYPE, car).status()).isEqualTo(200);
    }
  }

  @Test
  void importsBeyondTheCapAreRefusedWith503AndRetryAfterUntilOneEnds() throws Exception {
    try (TestNode node = TestNode.start(dir, TestNode.NONE, Map.of("maxConcurrentImports", "1"))) {
      byte[] car = someCar(node.api());
      Path spills = MemoryService.importSpillDir(dir);
      try (RawRequest first = RawRequest.importCar(node, car.length)) {
        first.send(Arrays.copyOf(car, 10));
        await(() -> spillFiles(spills).size() == 1, "the first import under way");

        try (RawRequest second = RawRequest.importCar(node, car.length)) {
          RawRequest.Reply busy = second.reply();
          assertThat(busy.status()).as("%s", busy).isEqualTo(503);
          assertThat(busy.header("Retry-After")).isNotBlank();
          assertThat(busy.json().path("error").path("code").asText()).isEqualTo("busy");
        }

        first.send(Arrays.copyOfRange(car, 10, car.length));
        assertThat(first.reply().status()).isEqualTo(200);
      }
      assertThat(node.api().postRaw("/v1/namespaces/" + NS + "/import", ApiClient.CAR_TYPE, car).status()).isEqualTo(200);
    }
  }

  @Test
  void spillFilesLeftByAnEarlierRunAreDeletedAtStart() throws Exception {
    Path spills = MemoryService.importSpillDir(dir);
    Files.createDirectories(spills);
    Files.write(spills.resolve("import-1234.car"), new byte[4096]);
    try (TestNode node = TestNode.start(dir, TestNode.NONE)) {
      assertThat(spillFiles(spills)).isEmpty();
    }
  }

  @Test
  void bodiesReadWholeWaitUnreadWhileOthersHoldTheBudget() throws Exception {
    // The smallest budget: one body of the largest size.
    try (TestNode node = TestNode.start(dir, TestNode.NONE, Map.of("maxBufferedBodyMb", "16"))) {
      int large = Limits.defaults().maxBodyBytes();
      try (RawRequest big = RawRequest.open(node, "POST", "/v1/namespaces/" + NS + "/memories",
          "Content-Type: application/json\r\nContent-Length: " + large + "\r\n")) {
        big.send("{\"text\": \"".getBytes(StandardCharsets.US_ASCII));
        // The two connections may land on different event loops: give the large body's request
        // time to be routed and reserve the budget before the small one comes (once in six runs
        // the small one was routed first and, finding room, was answered).
        Thread.sleep(300);
        byte[] small = JSON.writeValueAsBytes(Map.of("text", "small", "vector", TestVectors.random(1)));
        try (RawRequest waiting = RawRequest.open(node, "POST", "/v1/namespaces/" + NS + "/memories",
            "Content-Type: application/json\r\nContent-Length: " + small.length + "\r\n")) {
          waiting.send(small);
          assertThat(waiting.replyWithin(1_000)).as("a body waits while the budget is held").isNull();
          big.close();
          RawRequest.Reply reply = waiting.reply();
          assertThat(reply.status()).as("%s", reply).isEqualTo(201);
        }
      }
    }
  }

  @Test
  void socketsThatNeverFinishTheirHeadersAreClosedAfterTheHeaderTimeout() throws Exception {
    try (TestNode node = TestNode.start(dir, TestNode.NONE, Map.of("headerTimeoutMs", "300"))) {
      List<Socket> sockets = new ArrayList<>();
      try {
        for (int i = 0; i < 50; i++) {
          Socket socket = connect(node);
          socket.getOutputStream().write(("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + i).getBytes(StandardCharsets.US_ASCII));
          socket.getOutputStream().flush();
          sockets.add(socket);
        }
        // One deadline for all: they are closed together, and a failing run should not wait 15 s per socket.
        long deadline = System.nanoTime() + 15_000_000_000L;
        for (Socket socket : sockets) {
          socket.setSoTimeout((int) Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
          assertThat(closedByPeer(socket)).as("a socket with unfinished headers is closed").isTrue();
        }
      } finally {
        for (Socket socket : sockets) {
          socket.close();
        }
      }
      // A request that sends its headers in time is served as ever.
      assertThat(node.api().get("/health").status()).isEqualTo(200);
    }
  }

  @Test
  void anIdleConnectionIsClosedAfterTheIdleTimeout() throws Exception {
    try (TestNode node = TestNode.start(dir, TestNode.NONE, Map.of("idleTimeoutMs", "1000", "headerTimeoutMs", "600000"))) {
      try (Socket socket = connect(node)) {
        RawRequest.Reply reply = keepAliveHealth(socket);
        assertThat(reply.status()).isEqualTo(200);
        assertThat(closedByPeer(socket)).as("an idle keep-alive connection is closed").isTrue();
      }
    }
  }

  @Test
  void connectionsBeyondTheCapAreClosedAndServedAgainOnceUnderIt() throws Exception {
    int cap = 8;
    try (TestNode node = TestNode.start(dir, TestNode.NONE, Map.of("maxConnections", Integer.toString(cap),
        "headerTimeoutMs", "600000"))) {
      List<Socket> held = new ArrayList<>();
      try {
        for (int i = 0; i < cap; i++) {
          Socket socket = connect(node);
          // Answered, so the node has counted it.
          assertThat(keepAliveHealth(socket).status()).isEqualTo(200);
          held.add(socket);
        }
        try (Socket extra = connect(node)) {
          try {
            extra.getOutputStream().write(healthRequest());
          } catch (SocketException closed) {
            // Closed before the request could be written: refused, as checked below.
          }
          assertThat(closedByPeer(extra)).as("connection %d of a cap of %d is closed", cap + 1, cap).isTrue();
        }
        held.remove(0).close();
        await(() -> {
          try (Socket again = connect(node)) {
            return keepAliveHealth(again).status() == 200;
          } catch (IOException | RuntimeException e) {
            return false;
          }
        }, "a request served once a connection has closed");
      } finally {
        for (Socket socket : held) {
          socket.close();
        }
      }
    }
  }

  // ---- helpers ----

  /** An export of a namespace with a few memories: a CAR this node accepts back (applying nothing new). */
  private static byte[] someCar(ApiClient api) {
    for (int i = 0; i < 20; i++) {
      api.remember(NS, Map.of("text", "memory " + i, "vector", TestVectors.random(i)));
    }
    ApiClient.Response export = api.get("/v1/namespaces/" + NS + "/export");
    assertThat(export.status()).isEqualTo(200);
    return export.body();
  }

  private static List<Path> spillFiles(Path spills) {
    try (Stream<Path> files = Files.list(spills)) {
      return files.toList();
    } catch (IOException e) {
      return List.of();
    }
  }

  private static long spillBytes(Path spills) {
    return spillFiles(spills).stream().mapToLong(f -> {
      try {
        return Files.size(f);
      } catch (IOException e) {
        return -1;
      }
    }).sum();
  }

  private static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + 20_000_000_000L;
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within 20 s: " + what);
      }
      Thread.sleep(20);
    }
  }

  private static Socket connect(TestNode node) throws IOException {
    Socket socket = new Socket(InetAddress.getLoopbackAddress(), node.node().port());
    socket.setSoTimeout(15_000);
    return socket;
  }

  private static byte[] healthRequest() {
    return "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  }

  /** GET /health on a kept-alive connection: reads exactly the response, leaving the socket open. */
  private static RawRequest.Reply keepAliveHealth(Socket socket) throws IOException {
    socket.getOutputStream().write(healthRequest());
    socket.getOutputStream().flush();
    return RawRequest.readReply(socket.getInputStream());
  }

  /** Whether the node closes the socket (end of stream, or a reset) before the socket's read timeout. */
  private static boolean closedByPeer(Socket socket) throws IOException {
    try {
      InputStream in = socket.getInputStream();
      while (in.read() >= 0) {
        // An error response before the close is fine; what counts is the close.
      }
      return true;
    } catch (SocketTimeoutException stillOpen) {
      return false;
    } catch (SocketException reset) {
      return true;
    }
  }

  /** A request written by hand on its own socket, its body sent when and as the test says. */
  static final class RawRequest implements AutoCloseable {
    record Reply(int status, Map<String, String> headers, byte[] body) {
      String header(String name) {
        return headers.get(name.toLowerCase(Locale.ROOT));
      }

      JsonNode json() throws IOException {
        return JSON.readTree(body);
      }

      @Override
      public String toString() {
        return status + " " + headers + " " + new String(body, StandardCharsets.UTF_8);
      }
    }

    private final Socket socket;
    private final OutputStream out;

    private RawRequest(Socket socket) throws IOException {
      this.socket = socket;
      this.out = socket.getOutputStream();
    }

    static RawRequest importCar(TestNode node, long contentLength) throws IOException {
      return open(node, "POST", "/v1/namespaces/" + NS + "/import",
          "Content-Type: application/vnd.ipld.car\r\nContent-Length: " + contentLength + "\r\n");
    }

    /** Sends the request line and headers (with the owner's token); {@code headers} end with CRLF. */
    static RawRequest open(TestNode node, String method, String path, String headers) throws IOException {
      Socket socket = connect(node);
      RawRequest request = new RawRequest(socket);
      String token = node.api().token();
      request.send((method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
          + (token == null ? "" : "Authorization: Bearer " + token + "\r\n") + headers + "\r\n").getBytes(StandardCharsets.US_ASCII));
      return request;
    }

    void send(byte[] bytes) throws IOException {
      out.write(bytes);
      out.flush();
    }

    Reply reply() throws IOException {
      return readReply(socket.getInputStream());
    }

    /** The reply if one comes within {@code millis}, else null (and the socket is no longer usable for it). */
    Reply replyWithin(int millis) throws IOException {
      socket.setSoTimeout(millis);
      try {
        InputStream in = socket.getInputStream();
        int first = in.read();
        socket.setSoTimeout(15_000);
        if (first < 0) {
          throw new AssertionError("closed without a reply");
        }
        return readReply(new java.io.SequenceInputStream(new java.io.ByteArrayInputStream(new byte[] {(byte) first}), in));
      } catch (SocketTimeoutException none) {
        socket.setSoTimeout(15_000);
        return null;
      }
    }

    /** Reads one response: status line, headers, and a body of Content-Length bytes (or to the end of the stream). */
    static Reply readReply(InputStream in) throws IOException {
      ByteArrayOutputStream head = new ByteArrayOutputStream();
      int matched = 0;
      while (matched < 4) {
        int b = in.read();
        if (b < 0) {
          throw new IOException("closed before a full response head: " + head.toString(StandardCharsets.ISO_8859_1));
        }
        head.write(b);
        matched = (b == "\r\n\r\n".charAt(matched)) ? matched + 1 : (b == '\r' ? 1 : 0);
      }
      String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r\n");
      Map<String, String> headers = new java.util.LinkedHashMap<>();
      for (int i = 1; i < lines.length; i++) {
        int colon = lines[i].indexOf(':');
        if (colon > 0) {
          headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
        }
      }
      String length = headers.get("content-length");
      byte[] body = length != null ? in.readNBytes(Integer.parseInt(length)) : in.readAllBytes();
      return new Reply(Integer.parseInt(lines[0].split(" ", 3)[1]), headers, body);
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }
}
