package dev.mnemo.node.ipfs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.cid.Cid;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.PoolOptions;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * A small non-blocking client for the few Kubo RPC calls Mnemo needs ({@code /api/v0/block/*},
 * {@code pin/*}, {@code dag/*}, {@code id}), on Vert.x's web client. The Java client the IPFS
 * project publishes is not on Maven Central and blocks its caller, hence this one.
 *
 * <p>Every call has a timeout, after which it fails without a retry. Failures to connect and 5xx
 * answers that are not "not found" are retried a bounded number of times with backoff; then the
 * future fails with {@link KuboException} whose {@code unavailable()} says whether the node could
 * not be reached, timed out, or answered 502/503/504 (a proxy or IPFS Cluster in front of a node
 * that is down: 503 territory), or answered with an error.
 *
 * <p>Checked against Kubo's documented RPC and against a real js-ipfs 0.18 node
 * ({@code tools/ipfs-node}); the calls and parameters used here behave the same on both.
 * {@code offline=true} is a global option in Kubo (never fetch from the network) and is ignored
 * by js-ipfs, which runs offline anyway.
 */
public final class KuboClient implements AutoCloseable {
  /** A failed call; {@code unavailable} when the node was unreachable or timed out. */
  public static final class KuboException extends RuntimeException {
    private final boolean unavailable;
    private final int status;

    KuboException(String message, boolean unavailable, Throwable cause) {
      this(message, unavailable, -1, cause);
    }

    KuboException(String message, boolean unavailable, int status, Throwable cause) {
      super(message, cause);
      this.unavailable = unavailable;
      this.status = status;
    }

    public boolean unavailable() {
      return unavailable;
    }

    /** The HTTP status the node answered, or -1 when there was no (usable) answer. */
    public int status() {
      return status;
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Connections kept to the node; also the number of calls in flight at once (more wait in the pool's queue). */
  public static final int MAX_CONNECTIONS = 16;

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
        .setUserAgent("mnemo"), new PoolOptions().setHttp1MaxSize(MAX_CONNECTIONS));
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

  /** What {@link #blockRm} did. */
  public enum Removed {
    /** The node removed the block. */
    REMOVED,
    /** The node did not have the block. */
    ABSENT,
    /** The node kept the block because a pin (not Mnemo's direct one, which is removed first) still holds it. */
    KEPT_PINNED
  }

  /**
   * {@code block/rm} without {@code force}. Kubo's {@code force} only ignores missing blocks, but
   * js-ipfs' also removes pinned blocks, which would break other pins' DAGs; without it both refuse
   * pinned blocks the same way. The answer is HTTP 200 with one JSON line per block, whose
   * {@code Error} says why a block was not removed; a missing block counts as removed.
   */
  public Future<Removed> blockRm(Cid cid) {
    return call("block/rm", Map.of("arg", cid.toString()), null, KuboClient::removed)
        .recover(e -> isNotFound(e) ? Future.succeededFuture(Removed.ABSENT) : Future.failedFuture(e));
  }

  private static Removed removed(HttpResponse<Buffer> response) {
    String body = response.body() == null ? "" : response.body().toString(StandardCharsets.UTF_8);
    Removed result = Removed.REMOVED;
    for (String line : body.split("\n")) {
      if (line.isBlank()) {
        continue;
      }
      JsonNode node;
      try {
        node = JSON.readTree(line);
      } catch (Exception e) {
        throw new IllegalStateException("not JSON: " + line, e);
      }
      String error = node.path("Error").asText("");
      if (error.isEmpty()) {
        continue;
      }
      if (isNotFoundMessage(error)) {
        result = Removed.ABSENT;
      } else if (error.toLowerCase().contains("pinned")) {
        result = Removed.KEPT_PINNED;
      } else {
        throw new IllegalStateException(error);
      }
    }
    return result;
  }

  /** {@code pin/add} of one block, not recursive: Mnemo pins every block it stores itself. */
  public Future<Void> pinAdd(Cid cid) {
    return call("pin/add", Map.of("arg", cid.toString(), "recursive", "false"), null, r -> (Void) null);
  }

  /**
   * {@code pin/rm} of Mnemo's direct pin. Succeeds when the block is not pinned, and when it is
   * pinned recursively: pinning a directly pinned block recursively (an operator's
   * {@code ipfs pin add}) turns the one pin into a recursive one, which is not Mnemo's to remove.
   */
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
    // An idle timeout (no answer within timeoutMillis), not timeout(): that one also bounds the wait
    // for a pooled connection, and Vert.x 5.0's timer for that wait can fire after the request got
    // its connection ("Promise already completed" logged as an unhandled error during big batches).
    // A call waiting for a connection waits for one of the MAX_CONNECTIONS calls in flight, each of
    // which ends within the timeout; KuboBlockStore bounds its caller's whole wait.
    HttpRequest<Buffer> request = client.postAbs(api.toString().replaceAll("/$", "") + "/api/v0/" + path).idleTimeout(timeoutMillis);
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
        int status = ar.result().statusCode();
        boolean retriable = status >= 500 && !isNotFoundMessage(message) && !isNotPinnedMessage(message);
        // 502/503/504: a proxy (or IPFS Cluster) in front of a node that is down or overloaded.
        boolean unavailable = status == 502 || status == 503 || status == 504;
        failure = new KuboException(path + " answered " + status + ": " + message, unavailable, status, null);
        if (!retriable) {
          promise.fail(failure);
          return;
        }
      } else if (ar.cause() instanceof TimeoutException) {
        // Not retried: a node that did not answer in time is hung or overloaded, and each retry
        // would add a whole timeout to the caller's wait, so a write would answer 503 only after
        // (retries + 1) timeouts instead of one. Refused connections and 5xx come back at once.
        promise.fail(new KuboException("IPFS node at " + api + " did not answer " + path + " within " + timeoutMillis + " ms",
            true, ar.cause()));
        return;
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

  /**
   * The node answered that it does not have the block. Both Kubo and js-ipfs say so with a 500 (or
   * a 4xx) and a message; an HTTP 404 means the API path itself is wrong (not an IPFS RPC API, or
   * the wrong base URL), which must not pass for "no such block".
   */
  private static boolean isNotFound(Throwable e) {
    return e instanceof KuboException k && !k.unavailable() && k.status() != 404 && k.status() != -1
        && isNotFoundMessage(k.getMessage());
  }

  private static boolean isNotFoundMessage(String message) {
    String m = message.toLowerCase();
    return m.contains("not found") || m.contains("could not find") || m.contains("not exist") || m.contains("no such");
  }

  private static boolean isNotPinned(Throwable e) {
    return e instanceof KuboException k && !k.unavailable() && k.status() != 404 && k.status() != -1
        && isNotPinnedMessage(k.getMessage());
  }

  private static boolean isNotPinnedMessage(String message) {
    String m = message.toLowerCase();
    return m.contains("not pinned") || m.contains("pinned recursively");
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
