package dev.mnemo.node.api;

import static dev.mnemo.node.ApiClient.JSON_TYPE;
import static dev.mnemo.node.ApiClient.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mnemo.node.ApiClient;
import dev.mnemo.node.ApiClient.Response;
import dev.mnemo.node.TestNode;
import dev.mnemo.node.TestVectors;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Edges of the wire a probe found: request lines in an HTTP version the node does not speak, and
 * JSON bodies that are not UTF-8 (an overlong form, a byte order mark, UTF-16). Each gets the
 * API's JSON error on a real socket, and nothing is stored.
 */
class WireEdgesApiTest {
  private static final String NS = "wire";
  private static final String MEMORIES = "/v1/namespaces/" + NS + "/memories";

  @TempDir static Path dir;
  private static TestNode node;
  private static ApiClient api;

  @BeforeAll
  static void start() {
    node = TestNode.start(dir, TestNode.NONE);
    api = node.api();
    api.remember(NS, Map.of("text", "seed", "vector", TestVectors.random(1)));
  }

  @AfterAll
  static void stop() {
    if (node != null) {
      node.close();
    }
  }

  // ---- request lines ----

  @Test
  void anUnknownHttpVersionIs505WithAJsonErrorInHttp11() {
    for (String version : List.of("HTTP/9.9", "HTTP/2.0", "HTTP/1.2", "HTTP/0.9")) {
      Raw reply = raw("GET /health " + version);
      assertThat(reply.statusLine()).as(version).isEqualTo("HTTP/1.1 505 HTTP Version Not Supported");
      assertError(reply.response(), 505, "http_version_not_supported");
      assertThat(reply.response().json().path("error").path("message").asText()).contains(version);
      assertThat(reply.header("connection")).as(version).isEqualToIgnoringCase("close");
    }
  }

  @Test
  void otherMalformedRequestLinesAre400WithAJsonError() {
    for (String line : List.of("GET /health FOO/1.1", "GET /health HTTP/1.x", "GET /health", "G\u0001T /health HTTP/1.1",
        "GET /health HTTP/1.1 extra")) {
      Raw reply = raw(line);
      assertError(reply.response(), 400, "bad_request");
    }
  }

  @Test
  void anHttp11RequestWithoutExactlyOneHostIs400NotA500() {
    assertError(rawHead("GET /health HTTP/1.1\r\n\r\n").response(), 400, "bad_request");
    assertError(rawHead("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: 127.0.0.1\r\n\r\n").response(), 400, "bad_request");
    // HTTP/1.0 has no Host requirement.
    assertThat(rawHead("GET /health HTTP/1.0\r\n\r\n").response().status()).isEqualTo(200);
  }

  @Test
  void requestTargetsNoRouteTakesAre404NotFound() {
    assertError(raw("CONNECT 127.0.0.1:443 HTTP/1.1").response(), 404, "not_found");
    assertError(raw("OPTIONS * HTTP/1.1").response(), 404, "not_found");
  }

  @Test
  void http10And11StillWork() {
    for (String version : List.of("HTTP/1.0", "HTTP/1.1")) {
      Raw reply = raw("GET /health " + version);
      assertThat(reply.response().status()).as(version).isEqualTo(200);
      assertThat(reply.response().json().path("status").asText()).isEqualTo("ok");
    }
  }

  // ---- bodies that are not UTF-8 ----

  @Test
  void anOverlongUtf8FormIs400AndNothingIsStored() {
    // "a\xC0\xAFb": C0 AF is an overlong '/', which a lenient decoder turns into "a/b".
    byte[] body = concat("{\"text\": \"a", hex("c0af"), "b\", \"ts\": 1, \"vector\": " + vectorJson() + "}");
    Response r = api.postRaw(MEMORIES, JSON_TYPE, body);
    assertError(r, 400, "invalid_utf8");
    assertThat(r.json().path("error").path("message").asText()).contains("overlong").contains("offset 11");
    assertThat(texts()).doesNotContain("a/b").containsExactly("seed");
  }

  @Test
  void everyKindOfMalformedUtf8Is400() {
    for (String bad : List.of("80", "bf", "c0af", "c1bf", "e080af", "eda080", "f08080af", "f4908080", "f5808080", "ff", "c3",
        "e282", "c328")) {
      byte[] body = concat("{\"text\": \"x", hex(bad), "y\", \"vector\": " + vectorJson() + "}");
      assertError(api.postRaw(MEMORIES, JSON_TYPE, body), 400, "invalid_utf8");
      assertError(api.postRaw("/v1/namespaces/" + NS + "/recall", JSON_TYPE, concat("{\"query\": \"", hex(bad), "\"}")),
          400, "invalid_utf8");
    }
    assertThat(texts()).containsExactly("seed");
  }

  @Test
  void aLeadingByteOrderMarkIs400() {
    byte[] body = concat("", hex("efbbbf"), "{\"text\": \"with a BOM\", \"vector\": " + vectorJson() + "}");
    Response r = api.postRaw(MEMORIES, JSON_TYPE, body);
    assertError(r, 400, "invalid_utf8");
    assertThat(r.json().path("error").path("message").asText()).contains("byte order mark");
    assertThat(texts()).containsExactly("seed");
  }

  @Test
  void utf16And32BodiesAre400() {
    String json = "{\"text\": \"sixteen\", \"vector\": " + vectorJson() + "}";
    for (java.nio.charset.Charset charset : List.of(StandardCharsets.UTF_16BE, StandardCharsets.UTF_16LE,
        java.nio.charset.Charset.forName("UTF-32BE"))) {
      assertError(api.postRaw(MEMORIES, JSON_TYPE, json.getBytes(charset)), 400, "invalid_utf8");
    }
    assertThat(texts()).containsExactly("seed");
  }

  @Test
  void aLoneSurrogateEscapeIs422NotA500() {
    // Valid UTF-8 bytes, but "\\ud800" decodes to half a character, which no UTF-8 block can hold.
    for (String escaped : List.of("\\ud800", "a\\udc00b", "\\ud83d")) {
      String text = "{\"text\": \"" + escaped + "\", \"vector\": " + vectorJson() + "}";
      Response r = api.postRaw(MEMORIES, JSON_TYPE, text);
      assertError(r, 422, "validation_failed");
      assertThat(r.json().path("error").path("message").asText()).contains("text holds a lone surrogate");
      String tagged = "{\"text\": \"ok\", \"tags\": [\"" + escaped + "\"], \"metadata\": {\"k\": \"" + escaped + "\"}, \"vector\": " + vectorJson() + "}";
      Response t = api.postRaw(MEMORIES, JSON_TYPE, tagged);
      assertError(t, 422, "validation_failed");
      assertError(api.postRaw("/v1/namespaces/" + NS + "/recall", JSON_TYPE, "{\"query\": \"" + escaped + "\"}"),
          422, "validation_failed");
    }
    assertThat(texts()).containsExactly("seed");
  }

  @Test
  void wellFormedUtf8IsStoredAsSent() {
    // Every length of UTF-8 character, and the edges of the ranges the checks narrow.
    String text = "é ñ \u0800 \uD7FF \uE000 \uFFFD \uD800\uDC00 😀 \uDBFF\uDFFF 中文";
    String ns = "wire-ok";
    String cid = api.remember(ns, Map.of("text", text, "vector", TestVectors.random(2)));
    assertThat(api.getJson("/v1/memories/" + cid).path("text").asText()).isEqualTo(text);
  }

  @Test
  void malformedUtf8InThePathOrQueryIsRefusedAsAnInvalidName() {
    // Vert.x decodes %-escapes into text with U+FFFD for bad bytes; no name or cursor holds it.
    assertError(api.get("/v1/namespaces/a%C0%AFb/memories"), 400, "invalid_namespace");
    assertError(api.get(MEMORIES + "?cursor=%C0%AF"), 400, "invalid_cursor");
  }

  // ---- helpers ----

  private static List<String> texts() {
    JsonNode list = api.getJson(MEMORIES);
    return java.util.stream.StreamSupport.stream(list.path("memories").spliterator(), false)
        .map(m -> m.path("text").asText()).toList();
  }

  private static String vectorJson() {
    return ApiClient.JSON.valueToTree(TestVectors.random(3)).toString();
  }

  private static byte[] hex(String hex) {
    return HexFormat.of().parseHex(hex);
  }

  private static byte[] concat(String before, byte[] middle, String after) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(before.getBytes(StandardCharsets.UTF_8));
    out.writeBytes(middle);
    out.writeBytes(after.getBytes(StandardCharsets.UTF_8));
    return out.toByteArray();
  }

  /** A reply read off a plain socket: the status line as sent, the headers, the body. */
  private record Raw(String statusLine, Map<String, String> headers, Response response) {
    String header(String name) {
      return headers.get(name);
    }
  }

  /** Sends {@code requestLine} and a Host header, on a new connection, and reads the reply. */
  private static Raw raw(String requestLine) {
    return rawHead(requestLine + "\r\nHost: 127.0.0.1\r\n\r\n");
  }

  /** Sends {@code head} (request line and headers) as given, on a new connection, and reads the reply. */
  private static Raw rawHead(String head) {
    String requestLine = head.substring(0, head.indexOf("\r\n"));
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), node.node().port())) {
      socket.setSoTimeout(30_000);
      socket.getOutputStream().write(head.getBytes(StandardCharsets.ISO_8859_1));
      socket.getOutputStream().flush();
      // An HTTP/1.1 answer may keep the connection open; read the head, then Content-Length bytes.
      var in = socket.getInputStream();
      ByteArrayOutputStream reply = new ByteArrayOutputStream();
      while (!reply.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
        int b = in.read();
        if (b < 0) {
          throw new AssertionError(requestLine + ": connection closed after " + reply);
        }
        reply.write(b);
      }
      String[] lines = reply.toString(StandardCharsets.ISO_8859_1).split("\r\n");
      Map<String, String> headers = new java.util.HashMap<>();
      for (int i = 1; i < lines.length; i++) {
        int colon = lines[i].indexOf(':');
        headers.put(lines[i].substring(0, colon).trim().toLowerCase(java.util.Locale.ROOT), lines[i].substring(colon + 1).trim());
      }
      byte[] body = in.readNBytes(Integer.parseInt(headers.getOrDefault("content-length", "0")));
      int status = Integer.parseInt(lines[0].split(" ", 3)[1]);
      return new Raw(lines[0], headers, new Response(requestLine, status, headers.getOrDefault("content-type", ""), body));
    } catch (IOException e) {
      throw new UncheckedIOException(requestLine, e);
    }
  }
}
