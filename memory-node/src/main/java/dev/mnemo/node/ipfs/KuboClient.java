package dev.mnemo.node.ipfs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.cid.Cid;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.net.URI;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;

/**
 * A small non-blocking client for the few Kubo RPC calls Mnemo needs ({@code /api/v0/block/*},
 * {@code pin/*}, {@code dag/*}, {@code id}), on Vert.x's web client. The Java client the IPFS
 * project publishes is not on Maven Central and blocks its caller, hence this one.
 *
 * <p>Every call has a timeout. Failures to connect and 5xx answers that are not "not found" are
 * retried a bounded number of times with backoff; then the future fails with {@link KuboException}
 * whose {@code unavailable()} says whether the node could not be reached (503 territory) or
 * answered with an error.
 */
public final class KuboClient implements AutoCloseable {
  /** A failed call; {@code unavailable} when the node was unreachable or timed out. */
  public static final class KuboException extends RuntimeException {
    private final boolean unavailable;

    KuboException(String message, boolean unavailable, Throwable cause) {
      super(message, cause);
      this.unavailable = unavailable;
    }

    public boolean unavailable() {
      return unavailable;
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Vertx vertx;
  private final WebClient client;
  private final URI api;
  private final long timeoutMillis;
  private final int retries;

  public KuboClient(Vertx vertx, URI api, long timeoutMillis, int retries) {
    this.vertx = vertx;
    this.api = api;
    this.timeoutMillis = timeoutMillis;
    this.retries = retries;
    this.client = WebClient.create(vertx, new WebClientOptions()
        .setKeepAlive(true)
        .setConnectTimeout((int) Math.min(timeoutMillis, 5_000))
        .setUserAgent("mnemo"));
  }

  public URI api() {
    return api;
  }

  /** {@code block/put}: stores bytes as a block of {@code codec}, sha2-256; returns the node's CID. */
  public Future<Cid> blockPut(byte[] data, String codec) {
    return call("block/put", Map.of("cid-codec", codec, "mhtype", "sha2-256"), multipart(data), r -> parseCid(json(r).path("Key").asText()));
  }

  /** {@code block/get}: the block's bytes, or empty when the node does not have it. */
  public Future<Optional<byte[]>> blockGet(Cid cid) {
    return call("block/get", Map.of("arg", cid.toString(), "offline", "true"), null, r -> Optional.of(r.body() == null ? new byte[0] : r.body().getBytes()))
        .recover(e -> isNotFound(e) ? Future.succeededFuture(Optional.empty()) : Future.failedFuture(e));
  }

  /** {@code block/stat}: whether the node has the block (without fetching it from the network). */
  public Future<Boolean> blockExists(Cid cid) {
    return call("block/stat", Map.of("arg", cid.toString(), "offline", "true"), null, r -> true)
        .recover(e -> isNotFound(e) ? Future.succeededFuture(false) : Future.failedFuture(e));
  }

  public Future<Void> blockRm(Cid cid) {
    return call("block/rm", Map.of("arg", cid.toString(), "force", "true"), null, r -> (Void) null)
        .recover(e -> isNotFound(e) ? Future.succeededFuture() : Future.failedFuture(e));
  }

  /** {@code pin/add} of one block, not recursive: Mnemo pins every block it stores itself. */
  public Future<Void> pinAdd(Cid cid) {
    return call("pin/add", Map.of("arg", cid.toString(), "recursive", "false"), null, r -> (Void) null);
  }

  public Future<Void> pinRm(Cid cid) {
    return call("pin/rm", Map.of("arg", cid.toString(), "recursive", "false"), null, r -> (Void) null)
        .recover(e -> isNotPinned(e) ? Future.succeededFuture() : Future.failedFuture(e));
  }

  /** {@code pin/ls?type=direct}: the CIDs pinned directly (the blocks Mnemo stored). */
  public Future<Set<Cid>> pinLsDirect() {
    return call("pin/ls", Map.of("type", "direct"), null, r -> {
      Set<Cid> cids = new HashSet<>();
      JsonNode keys = json(r).path("Keys");
      for (Iterator<String> it = keys.fieldNames(); it.hasNext(); ) {
        cids.add(parseCid(it.next()));
      }
      return cids;
    });
  }

  /** {@code dag/get}: the node's JSON rendering of a DAG-CBOR block. */
  public Future<JsonNode> dagGet(Cid cid) {
    return call("dag/get", Map.of("arg", cid.toString()), null, KuboClient::json);
  }

  /** {@code dag/import}: imports a CAR file. */
  public Future<Void> dagImport(byte[] car) {
    return call("dag/import", Map.of("pin-roots", "false"), multipart(car), r -> (Void) null);
  }

  /** {@code dag/export}: the DAG under {@code root} as CAR v1. */
  public Future<byte[]> dagExport(Cid root) {
    return call("dag/export", Map.of("arg", root.toString()), null, r -> r.body() == null ? new byte[0] : r.body().getBytes());
  }

  /** {@code id}: the node's peer id (a liveness check). */
  public Future<String> id() {
    return call("id", Map.of(), null, r -> json(r).path("ID").asText());
  }

  private record Multipart(String contentType, Buffer body) {}

  private static Multipart multipart(byte[] data) {
    String boundary = "mnemo-" + UUID.randomUUID();
    Buffer body = Buffer.buffer(data.length + 256)
        .appendString("--" + boundary + "\r\n")
        .appendString("Content-Disposition: form-data; name=\"file\"; filename=\"block\"\r\n")
        .appendString("Content-Type: application/octet-stream\r\n\r\n")
        .appendBytes(data)
        .appendString("\r\n--" + boundary + "--\r\n");
    return new Multipart("multipart/form-data; boundary=" + boundary, body);
  }

  private <T> Future<T> call(String path, Map<String, String> params, Multipart body, Function<HttpResponse<Buffer>, T> parse) {
    Promise<T> promise = Promise.promise();
    attempt(path, params, body, parse, 0, promise);
    return promise.future();
  }

  private <T> void attempt(String path, Map<String, String> params, Multipart body, Function<HttpResponse<Buffer>, T> parse,
      int attempt, Promise<T> promise) {
    HttpRequest<Buffer> request = client.postAbs(api.toString().replaceAll("/$", "") + "/api/v0/" + path).timeout(timeoutMillis);
    params.forEach(request::addQueryParam);
    Future<HttpResponse<Buffer>> sent;
    if (body != null) {
      request.putHeader("Content-Type", body.contentType());
      sent = request.sendBuffer(body.body());
    } else {
      sent = request.send();
    }
    sent.onComplete(ar -> {
      KuboException failure;
      if (ar.succeeded() && ar.result().statusCode() == 200) {
        try {
          promise.complete(parse.apply(ar.result()));
        } catch (RuntimeException e) {
          promise.fail(new KuboException(path + ": unexpected answer: " + e.getMessage(), false, e));
        }
        return;
      } else if (ar.succeeded()) {
        String message = errorMessage(ar.result());
        boolean retriable = ar.result().statusCode() >= 500 && !isNotFoundMessage(message) && !isNotPinnedMessage(message);
        failure = new KuboException(path + " answered " + ar.result().statusCode() + ": " + message, false, null);
        if (!retriable) {
          promise.fail(failure);
          return;
        }
      } else {
        failure = new KuboException("IPFS node at " + api + " unreachable (" + path + "): " + ar.cause().getMessage(), true, ar.cause());
      }
      if (attempt >= retries) {
        promise.fail(failure);
        return;
      }
      long backoff = 100L << attempt;
      vertx.setTimer(backoff, id -> attempt(path, params, body, parse, attempt + 1, promise));
    });
  }

  private static String errorMessage(HttpResponse<Buffer> response) {
    try {
      return JSON.readTree(response.body().getBytes()).path("Message").asText(response.bodyAsString());
    } catch (Exception e) {
      return response.body() == null ? "" : response.bodyAsString();
    }
  }

  private static boolean isNotFound(Throwable e) {
    return e instanceof KuboException k && !k.unavailable() && isNotFoundMessage(k.getMessage());
  }

  private static boolean isNotFoundMessage(String message) {
    String m = message.toLowerCase();
    return m.contains("not found") || m.contains("could not find") || m.contains("not exist") || m.contains("no such");
  }

  private static boolean isNotPinned(Throwable e) {
    return e instanceof KuboException k && !k.unavailable() && isNotPinnedMessage(k.getMessage());
  }

  private static boolean isNotPinnedMessage(String message) {
    return message.toLowerCase().contains("not pinned");
  }

  private static JsonNode json(HttpResponse<Buffer> response) {
    try {
      return JSON.readTree(response.body().getBytes());
    } catch (Exception e) {
      throw new IllegalStateException("not JSON: " + e.getMessage(), e);
    }
  }

  private static Cid parseCid(String text) {
    try {
      return Cid.parse(text);
    } catch (InvalidFormatException e) {
      throw new IllegalStateException("the IPFS node returned a malformed CID '" + text + "'", e);
    }
  }

  @Override
  public void close() {
    client.close();
  }
}
