package dev.mnemo.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublisher;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A JSON client for one node's HTTP API over real sockets (HTTP/1.1, as agents and curl talk to
 * it). Low-level calls return every response as it came; the conveniences ({@link #remember},
 * {@link #recall}, …) also assert the success status, so a test reads as the calls it makes.
 */
public final class ApiClient {
  public static final ObjectMapper JSON = new ObjectMapper();
  public static final String JSON_TYPE = "application/json";
  public static final String CAR_TYPE = "application/vnd.ipld.car";

  /** One HTTP response. */
  public record Response(String request, int status, String contentType, byte[] body) {
    public String text() {
      return new String(body, StandardCharsets.UTF_8);
    }

    public JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (IOException e) {
        throw new AssertionError(request + " -> " + status + ": body is not JSON: " + abbreviated(), e);
      }
    }

    String abbreviated() {
      String text = text();
      return text.length() > 500 ? text.substring(0, 500) + "…" : text;
    }

    @Override
    public String toString() {
      return request + " -> " + status + " " + abbreviated();
    }
  }

  private final HttpClient http;
  private final int port;
  private final String base;
  /** The bearer token every call sends; null for none. Read when first needed, the node may write it later. */
  private final java.util.function.Supplier<String> token;

  /** A client that sends no token (for /health, and for tests of refusals). */
  public ApiClient(int port) {
    this(port, () -> null);
  }

  /**
   * A client acting as the node's owner: it sends the token the node wrote to {@code
   * DATA/owner.token} on its first start (read once the file exists).
   */
  public ApiClient(int port, Path dataDir) {
    this(port, ownerToken(dataDir));
  }

  private ApiClient(int port, java.util.function.Supplier<String> token) {
    this.port = port;
    this.base = "http://127.0.0.1:" + port;
    this.token = token;
    this.http = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(5))
        .build();
  }

  /** The same node, acting as the holder of {@code token} (null: no token). */
  public ApiClient withToken(String token) {
    return new ApiClient(port, () -> token);
  }

  /** {@code http://127.0.0.1:PORT}, without a trailing slash. */
  public String baseUrl() {
    return base;
  }

  /** The token this client sends, or null. */
  public String token() {
    return token.get();
  }

  /** Reads {@code DATA/owner.token} on the first call after it exists, then keeps it. */
  public static java.util.function.Supplier<String> ownerToken(Path dataDir) {
    java.util.concurrent.atomic.AtomicReference<String> read = new java.util.concurrent.atomic.AtomicReference<>();
    return () -> {
      String known = read.get();
      if (known != null) {
        return known;
      }
      Path file = dataDir.resolve("owner.token");
      try {
        if (!Files.exists(file)) {
          return null;
        }
        String text = Files.readString(file).strip();
        read.compareAndSet(null, text);
        return text;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    };
  }

  private String authorizationLine() {
    String t = token.get();
    return t == null ? "" : "Authorization: Bearer " + t + "\r\n";
  }

  // ---- raw calls ----

  public Response send(String method, String path, String contentType, BodyPublisher body) {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path))
        .timeout(Duration.ofSeconds(60))
        .method(method, body);
    if (contentType != null) {
      request.header("Content-Type", contentType);
    }
    String t = token.get();
    if (t != null) {
      request.header("Authorization", "Bearer " + t);
    }
    try {
      HttpResponse<byte[]> response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
      return new Response(method + " " + path, response.statusCode(),
          response.headers().firstValue("Content-Type").orElse(""), response.body());
    } catch (IOException e) {
      throw new UncheckedIOException(method + " " + path + " failed: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  public Response get(String path) {
    return send("GET", path, null, BodyPublishers.noBody());
  }

  /**
   * A GET of {@code rawTarget} written byte for byte on a plain socket, for request targets
   * java.net.URI refuses to build (a bad %-escape), as a careless client may still send them.
   */
  public Response rawGet(String rawTarget) {
    return rawGet(rawTarget, null);
  }

  /** The status line and headers of {@code method} on {@code path}, sent on a plain socket. */
  public String rawHead(String method, String path) {
    try (java.net.Socket socket = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), port)) {
      socket.setSoTimeout(30_000);
      socket.getOutputStream().write((method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + authorizationLine() + "Content-Length: 0\r\n"
          + "Connection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
      String raw = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      return raw.substring(0, raw.indexOf("\r\n\r\n"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** As {@link #rawGet(String)}, with one more header line (null for none). */
  public Response rawGet(String rawTarget, String extraHeader) {
    try (java.net.Socket socket = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), port)) {
      socket.setSoTimeout(30_000);
      String extra = extraHeader == null ? "" : extraHeader + "\r\n";
      socket.getOutputStream().write(("GET " + rawTarget + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + authorizationLine() + extra + "Connection: close\r\n\r\n")
          .getBytes(StandardCharsets.ISO_8859_1));
      String raw = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      int headerEnd = raw.indexOf("\r\n\r\n");
      String head = raw.substring(0, headerEnd);
      int status = Integer.parseInt(head.split(" ", 3)[1]);
      String type = head.lines().filter(l -> l.toLowerCase(java.util.Locale.ROOT).startsWith("content-type:"))
          .map(l -> l.substring(13).trim()).findFirst().orElse("");
      return new Response("GET " + rawTarget, status, type, raw.substring(headerEnd + 4).getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public Response delete(String path) {
    return send("DELETE", path, null, BodyPublishers.noBody());
  }

  /** POSTs {@code body} serialized as JSON with the JSON content type. */
  public Response post(String path, Object body) {
    return postRaw(path, JSON_TYPE, bytes(body));
  }

  public Response postRaw(String path, String contentType, byte[] body) {
    return send("POST", path, contentType, BodyPublishers.ofByteArray(body));
  }

  public Response postRaw(String path, String contentType, String body) {
    return postRaw(path, contentType, body.getBytes(StandardCharsets.UTF_8));
  }

  public static byte[] bytes(Object body) {
    try {
      return JSON.writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(e);
    }
  }

  // ---- conveniences that assert success ----

  /** Remembers one memory; returns its CID. */
  public String remember(String ns, Map<String, ?> memory) {
    Response r = post("/v1/namespaces/" + ns + "/memories", memory);
    assertThat(r.status()).as("%s", r).isEqualTo(201);
    assertThat(r.contentType()).startsWith(JSON_TYPE);
    String cid = r.json().path("cid").asText();
    assertThat(cid).as("%s", r).startsWith("bafyrei");
    return cid;
  }

  /** Remembers a batch; returns the CIDs in the order the node gave them. */
  public List<String> rememberAll(String ns, List<? extends Map<String, ?>> memories) {
    Response r = post("/v1/namespaces/" + ns + "/memories", Map.of("memories", memories));
    assertThat(r.status()).as("%s", r).isEqualTo(201);
    JsonNode cids = r.json().path("cids");
    assertThat(cids.isArray()).as("%s", r).isTrue();
    List<String> out = new ArrayList<>();
    cids.forEach(c -> out.add(c.asText()));
    return out;
  }

  /** The results array of a successful recall. */
  public JsonNode recall(String ns, Map<String, ?> request) {
    Response r = post("/v1/namespaces/" + ns + "/recall", request);
    assertThat(r.status()).as("%s", r).isEqualTo(200);
    JsonNode body = r.json();
    assertThat(body.path("results").isArray()).as("%s", r).isTrue();
    assertThat(body.path("tookMs").isNumber()).as("%s", r).isTrue();
    assertThat(body.path("embedMs").isNumber() && body.path("embedMs").asDouble() >= 0).as("%s", r).isTrue();
    return body.path("results");
  }

  /** The CIDs of a successful recall, best first. */
  public List<String> recallCids(String ns, Map<String, ?> request) {
    return cids(recall(ns, request));
  }

  public JsonNode getJson(String path) {
    Response r = get(path);
    assertThat(r.status()).as("%s", r).isEqualTo(200);
    return r.json();
  }

  /** Every live memory of the namespace in write order, following the cursor to the end. */
  public List<String> listAll(String ns) {
    List<String> out = new ArrayList<>();
    String cursor = null;
    do {
      JsonNode page = getJson("/v1/namespaces/" + ns + "/memories?limit=1000"
          + (cursor == null ? "" : "&cursor=" + cursor));
      out.addAll(cids(page.path("memories")));
      cursor = page.path("next").isNull() ? null : page.path("next").asText();
    } while (cursor != null);
    return out;
  }

  public static List<String> cids(JsonNode results) {
    List<String> out = new ArrayList<>();
    results.forEach(r -> out.add(r.path("cid").asText()));
    return out;
  }

  /**
   * Asserts the documented error shape: the status, {@code {"error": {"code", "message"}}} with the
   * code and a non-empty message, served as JSON.
   */
  public static void assertError(Response r, int status, String code) {
    assertThat(r.status()).as("status of %s", r).isEqualTo(status);
    assertThat(r.contentType()).as("content type of %s", r).startsWith(JSON_TYPE);
    JsonNode body = r.json();
    assertThat(body.isObject() && body.size() == 1 && body.path("error").isObject())
        .as("error body shape of %s", r).isTrue();
    JsonNode error = body.path("error");
    assertThat(error.path("code").isTextual()).as("error.code of %s", r).isTrue();
    assertThat(error.path("code").asText()).as("error.code of %s", r).isEqualTo(code);
    assertThat(error.path("message").isTextual()).as("error.message of %s", r).isTrue();
    assertThat(error.path("message").asText()).as("error.message of %s", r).isNotBlank();
  }
}
