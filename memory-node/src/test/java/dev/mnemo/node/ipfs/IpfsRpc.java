package dev.mnemo.node.ipfs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * A plain Kubo RPC client on the JDK's HTTP client, independent of {@link KuboClient}: tests use it
 * to look at what the IPFS node really holds (pins, blocks, DAG views) without trusting the code
 * under test.
 */
final class IpfsRpc {
  static final ObjectMapper JSON = new ObjectMapper();

  /** One answer of the node. */
  record Answer(String call, int status, byte[] body) {
    String text() {
      return new String(body, StandardCharsets.UTF_8);
    }

    JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (IOException e) {
        throw new AssertionError(call + " -> " + status + ": not JSON: " + text(), e);
      }
    }

    Answer ok() {
      if (status != 200) {
        throw new AssertionError(call + " -> " + status + ": " + text());
      }
      return this;
    }

    @Override
    public String toString() {
      String t = text();
      return call + " -> " + status + " " + (t.length() > 300 ? t.substring(0, 300) + "…" : t);
    }
  }

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final String base;

  IpfsRpc(URI api) {
    this.base = api.toString().replaceAll("/$", "") + "/api/v0/";
  }

  /** POST {@code command} with query arguments given as name, value pairs. */
  Answer call(String command, String... args) {
    return send(command, null, args);
  }

  /** POST {@code command} with {@code file} as the multipart "file" part (with a Content-Type, as js-ipfs wants). */
  Answer upload(String command, byte[] file, String... args) {
    return send(command, file, args);
  }

  private Answer send(String command, byte[] file, String... args) {
    StringBuilder url = new StringBuilder(base).append(command);
    for (int i = 0; i < args.length; i += 2) {
      url.append(i == 0 ? '?' : '&').append(URLEncoder.encode(args[i], StandardCharsets.UTF_8)).append('=')
          .append(URLEncoder.encode(args[i + 1], StandardCharsets.UTF_8));
    }
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url.toString())).timeout(Duration.ofSeconds(60));
    if (file == null) {
      request.POST(HttpRequest.BodyPublishers.noBody());
    } else {
      String boundary = "test-" + UUID.randomUUID();
      byte[] head = ("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"file\"\r\n"
          + "Content-Type: application/octet-stream\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
      byte[] tail = ("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII);
      byte[] body = new byte[head.length + file.length + tail.length];
      System.arraycopy(head, 0, body, 0, head.length);
      System.arraycopy(file, 0, body, head.length, file.length);
      System.arraycopy(tail, 0, body, head.length + file.length, tail.length);
      request.header("Content-Type", "multipart/form-data; boundary=" + boundary).POST(HttpRequest.BodyPublishers.ofByteArray(body));
    }
    try {
      HttpResponse<byte[]> response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
      return new Answer(command + (args.length > 0 ? " " + String.join(" ", args) : ""), response.statusCode(), response.body());
    } catch (IOException e) {
      throw new UncheckedIOException(command + " failed: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Every pin of the node: CID → type (direct, recursive), from {@code pin/ls}. */
  Map<String, String> pins() {
    Map<String, String> pins = new TreeMap<>();
    JsonNode keys = call("pin/ls").ok().json().path("Keys");
    for (Iterator<Map.Entry<String, JsonNode>> it = keys.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      pins.put(e.getKey(), e.getValue().path("Type").asText());
    }
    return pins;
  }

  /** Whether the node's blockstore has the block ({@code block/stat} answers 200). */
  boolean hasBlock(String cid) {
    return call("block/stat", "arg", cid).status() == 200;
  }

  /** The block's bytes; fails when the node does not have it. */
  byte[] block(String cid) {
    return call("block/get", "arg", cid).ok().body();
  }

  /** {@code dag/get}: the node's dag-json view of a block. */
  JsonNode dag(String cid) {
    return call("dag/get", "arg", cid).ok().json();
  }
}
