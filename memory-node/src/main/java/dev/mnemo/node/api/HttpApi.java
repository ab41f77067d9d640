package dev.mnemo.node.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mnemo.node.Caller;
import dev.mnemo.node.Forgotten;
import dev.mnemo.node.Invalidated;
import dev.mnemo.node.InvalidCursorException;
import dev.mnemo.node.InvalidRequestException;
import dev.mnemo.node.ListedPage;
import dev.mnemo.node.MemoryService;
import dev.mnemo.node.MemoryVersion;
import dev.mnemo.node.NotFoundException;
import dev.mnemo.node.RecallRequest;
import dev.mnemo.node.RecallResult;
import dev.mnemo.node.RememberRequest;
import dev.mnemo.node.Remembered;
import dev.mnemo.node.UnknownPrevException;
import dev.mnemo.node.embed.EmbedderFailedException;
import dev.mnemo.node.embed.EmbedderUnavailableException;
import dev.mnemo.node.metrics.Metrics;
import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.acl.NamespaceExistsException;
import dev.mnemo.store.acl.UnauthorizedException;
import dev.mnemo.store.block.BlockStoreUnavailableException;
import dev.mnemo.store.block.CorruptBlockException;
import dev.mnemo.store.car.NamespaceCar;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.log.RejectedEntryException;
import dev.mnemo.store.log.TooManyHeadsException;
import dev.mnemo.store.model.Memory;
import dev.mnemo.store.model.Namespace;
import dev.mnemo.store.identity.DidKey;
import dev.mnemo.sync.MalformedSyncRequestException;
import dev.mnemo.sync.PeerAuth;
import dev.mnemo.sync.SyncEndpoint;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.io.ByteArrayOutputStream;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Supplier;

/**
 * The HTTP recall API (README "API"). Handlers parse and validate a request once ({@link Requests}),
 * call the {@link MemoryService} (or the {@link SyncEndpoint}, for peers) on a worker thread, and
 * shape the result ({@link Responses}); every failure reaches the one failure handler, which
 * decides the status and error body a client sees.
 */
public final class HttpApi {
  private static final System.Logger LOG = System.getLogger(HttpApi.class.getName());
  private static final String JSON = "application/json";
  private static final String CAR = "application/vnd.ipld.car";
  private static final String DAG_CBOR = "application/vnd.ipld.dag-cbor";

  /**
   * The routing context key under which an authenticating handler placed before the routes leaves
   * the request's {@link Caller}.
   */
  public static final String CALLER = "mnemo.caller";

  /** A finished response. */
  record Reply(int status, String contentType, Buffer body) {}

  /** The search pool's answer to a recall: the reply, or the request whose text must be embedded first. */
  private record RecallStep(Reply reply, RecallRequest toEmbed) {}

  private final Vertx vertx;
  private final MemoryService service;
  private final SyncEndpoint sync;
  private final Caller unauthenticated;
  private final Requests requests;
  private final Responses responses;
  private final Limits limits;
  private final Metrics metrics;
  private final java.util.function.Function<NamespacesPage, ObjectNode> nodeInfo;
  /** Ends the sync back-off from the peer with the did given (DELETE /v1/node/peers/{did}/backoff). */
  private ClearBackoff clearBackoff = did -> {
    throw new NotFoundException("this node does not replicate");
  };

  /** The node's half of DELETE /v1/node/peers/{did}/backoff. */
  public interface ClearBackoff {
    ObjectNode clear(String did) throws Exception;
  }
  /**
   * Searches run here, one per core: a search is CPU-bound, and on the general worker pool
   * (tens of threads) sixteen concurrent searches time-sliced two cores, so every one of them
   * took as long as the slowest. Queued in order, each waits its turn and then runs at full speed.
   */
  private final WorkerExecutor searches;

  /**
   * @param unauthenticated the caller of a request no handler has named one for ({@link #CALLER}):
   *     the node itself while the API does not authenticate
   */
  public HttpApi(Vertx vertx, MemoryService service, SyncEndpoint sync, Caller unauthenticated, Limits limits,
      Metrics metrics, java.util.function.Function<NamespacesPage, ObjectNode> nodeInfo) {
    this.vertx = vertx;
    this.searches = vertx.createSharedWorkerExecutor("mnemo-search", Runtime.getRuntime().availableProcessors());
    this.service = service;
    this.sync = sync;
    this.unauthenticated = unauthenticated;
    this.limits = limits;
    this.metrics = metrics;
    this.requests = new Requests(limits, service.dimension());
    this.responses = new Responses(requests.mapper());
    this.nodeInfo = nodeInfo;
  }

  public HttpApi onClearBackoff(ClearBackoff clear) {
    this.clearBackoff = clear;
    return this;
  }

  public Requests requests() {
    return requests;
  }

  public Router router() {
    Router router = Router.router(vertx);
    BodyHandler jsonBody = BodyHandler.create(false).setBodyLimit(limits.maxBodyBytes());
    BodyBudget budget = new BodyBudget(vertx, limits.maxBufferedBodyBytes(), limits.maxBodyBytes());

    // Content types are checked before a body handler runs: it would otherwise try to decode a
    // form body (and fail with a 500 past its 1 KiB field limit) before any handler could refuse it.
    router.post("/v1/namespaces/:ns/memories").handler(requireType(JSON)).handler(budget).handler(jsonBody).handler(ctx -> json(ctx, "remember", this::remember));
    router.get("/v1/namespaces/:ns/memories").handler(ctx -> json(ctx, "list", this::list));
    router.post("/v1/namespaces/:ns/recall").handler(requireType(JSON)).handler(budget).handler(jsonBody).handler(this::recall);
    router.delete("/v1/namespaces/:ns/memories/:cid").handler(ctx -> json(ctx, "forget", this::forget));
    router.post("/v1/namespaces/:ns/memories/:cid/invalidate").handler(requireTypeOfAnyBody(JSON)).handler(budget).handler(jsonBody)
        .handler(ctx -> json(ctx, "invalidate", this::invalidate));
    router.get("/v1/namespaces/:ns/export").handler(ctx -> blocking(ctx, "export", () -> export(ctx)));
    router.post("/v1/namespaces/:ns/import").handler(requireType(CAR, "application/octet-stream")).handler(this::importCar);
    router.put("/v1/namespaces/:ns").handler(ctx -> json(ctx, "create", this::create));
    router.post("/v1/namespaces/:ns/grants").handler(requireType(JSON)).handler(budget).handler(jsonBody).handler(ctx -> json(ctx, "grant", this::grant));
    router.post("/v1/namespaces/:ns/revocations").handler(requireType(JSON)).handler(budget).handler(jsonBody).handler(ctx -> json(ctx, "revoke", this::revoke));
    router.get("/v1/namespaces/:ns/acl").handler(ctx -> json(ctx, "acl", this::acl));
    router.get("/v1/whoami").handler(ctx -> json(ctx, "whoami", this::whoami));
    router.get("/v1/memories/:cid").handler(ctx -> json(ctx, "get", this::get));
    router.get("/v1/memories/:cid/history").handler(ctx -> json(ctx, "history", this::history));
    router.get("/v1/blocks/:cid").handler(ctx -> blocking(ctx, "block", () -> block(ctx)));
    router.get("/v1/sync/heads").handler(ctx -> blocking(ctx, "sync_heads",
        () -> new Reply(200, DAG_CBOR, Buffer.buffer(sync.heads(peer(ctx))))));
    router.post("/v1/sync/digest").handler(requireType(DAG_CBOR)).handler(budget).handler(jsonBody).handler(ctx -> blocking(ctx, "sync_digest",
        () -> new Reply(200, DAG_CBOR, Buffer.buffer(sync.digest(peer(ctx), bytes(ctx))))));
    router.post("/v1/sync/blocks").handler(requireType(DAG_CBOR)).handler(budget).handler(jsonBody).handler(ctx -> blocking(ctx, "sync_blocks", () -> syncBlocks(ctx)));
    router.post("/v1/sync/entries").handler(requireType(DAG_CBOR)).handler(budget).handler(jsonBody).handler(ctx -> blocking(ctx, "sync_entries", () -> syncEntries(ctx)));
    router.get("/v1/node").handler(ctx -> json(ctx, "node",
        c -> nodeInfo.apply(NamespacesPage.parse(c.queryParams().get("cursor"), c.queryParams().get("limit")))));
    router.delete("/v1/node/peers/:did/backoff").handler(ctx -> json(ctx, "node_backoff", c -> clearBackoff.clear(c.pathParam("did"))));
    // Alive even while the model warms up: everything but text works; "embedder" says when text does.
    router.get("/health").handler(ctx -> send(ctx, new Reply(200, JSON,
        Buffer.buffer("{\"status\":\"ok\",\"embedder\":\"" + service.embedderReadiness().label() + "\"}"))));
    // On a worker: the gauges read the log's position and the index's searcher.
    router.get("/metrics").handler(ctx -> blocking(ctx, "metrics", () -> new Reply(200, "text/plain; version=0.0.4; charset=utf-8",
        Buffer.buffer(metrics.render()))));

    router.route().failureHandler(this::failure);
    // An undecodable URI (a bad %-escape) fails in the router before any route matches.
    router.errorHandler(400, ctx -> sendError(ctx, 400, "bad_request", "malformed request URI: " + ctx.request().uri()));
    router.errorHandler(404, ctx -> sendError(ctx, 404, "not_found", "no such endpoint: " + ctx.request().method() + " " + ctx.request().path()));
    router.errorHandler(405, ctx -> {
      // A 405 names the methods the resource takes (RFC 9110).
      ctx.response().putHeader("Allow", allowedMethods(router, ctx.request().path()));
      sendError(ctx, 405, "method_not_allowed", ctx.request().method() + " is not allowed on " + ctx.request().path());
    });
    return router;
  }

  private static String allowedMethods(Router router, String path) {
    java.util.Set<String> methods = new java.util.TreeSet<>();
    for (io.vertx.ext.web.Route route : router.getRoutes()) {
      String pattern = route.getPath();
      if (pattern != null && route.methods() != null
          && path.matches(pattern.replaceAll(":[A-Za-z]+", "[^/]+"))) {
        route.methods().forEach(m -> methods.add(m.name()));
      }
    }
    return String.join(", ", methods);
  }

  /**
   * A request Netty could not decode, before any route: a request line or headers over the
   * decoder's limits (414, 431), a version other than HTTP/1.0 or 1.1 (505, marked by
   * {@link HttpVersionGuard}) or a malformed request (400). The default handler answered those
   * with an empty body; this one answers in the API's error shape. The connection closes after:
   * the decoder may be lost in the rest of the bytes.
   */
  public void invalidRequest(io.vertx.core.http.HttpServerRequest request) {
    Throwable cause = request.decoderResult().cause();
    int status = 400;
    String code = "bad_request";
    String message = "malformed HTTP request";
    if (cause instanceof HttpVersionGuard.UnsupportedVersionException version) {
      status = version.isHttp() ? 505 : 400;
      code = version.isHttp() ? "http_version_not_supported" : "bad_request";
      message = (version.isHttp() ? "HTTP version " : "not an HTTP request line: protocol ") + printable(version.version())
          + "; this node speaks HTTP/1.1 (and HTTP/1.0)";
    } else if (cause instanceof HttpVersionGuard.HostHeaderException host) {
      message = host.getMessage();
    } else if (cause instanceof IllegalArgumentException malformed && malformed.getMessage() != null) {
      // Netty's reason names the part that is wrong ("invalid version format: HTTP/1.X").
      message = "malformed HTTP request: " + printable(malformed.getMessage());
    } else if (cause instanceof io.netty.handler.codec.http.TooLongHttpLineException) {
      status = 414;
      code = "uri_too_long";
      message = "the request line is longer than " + io.vertx.core.http.HttpServerOptions.DEFAULT_MAX_INITIAL_LINE_LENGTH + " bytes";
    } else if (cause instanceof io.netty.handler.codec.http.TooLongHttpHeaderException) {
      status = 431;
      code = "headers_too_large";
      message = "the request headers are larger than " + io.vertx.core.http.HttpServerOptions.DEFAULT_MAX_HEADER_SIZE + " bytes";
    }
    count("invalid", status);
    request.response().setStatusCode(status).putHeader("Content-Type", JSON).putHeader("Connection", "close")
        .end(errorBody(code, message)).onComplete(done -> request.connection().close());
  }

  /** At most 100 characters of {@code text}, control characters replaced: it is echoed from a client's bytes. */
  private static String printable(String text) {
    String cut = text.length() > 100 ? text.substring(0, 100) + "..." : text;
    return cut.replaceAll("\\p{Cntrl}", "?");
  }

  /** A JSON endpoint: the work runs on a worker and returns the response object (status 200). */
  private interface JsonWork {
    Object run(RoutingContext ctx) throws Exception;
  }

  private void json(RoutingContext ctx, String route, JsonWork work) {
    blocking(ctx, route, () -> {
      Object result = work.run(ctx);
      if (result instanceof Reply reply) {
        return reply;
      }
      return new Reply(200, JSON, Buffer.buffer(requests.mapper().writeValueAsBytes(result)));
    });
  }

  private void blocking(RoutingContext ctx, String route, Callable<Reply> work) {
    respond(ctx, route, System.nanoTime(), vertx.executeBlocking(work, false));
  }

  private void respond(RoutingContext ctx, String route, long start, Future<Reply> future) {
    future.onComplete(ar -> {
      double seconds = (System.nanoTime() - start) / 1e9;
      metrics.observeSeconds("mnemo_http_request_duration_seconds", "HTTP request latency by route", "route=\"" + route + "\"", seconds);
      if (ar.succeeded()) {
        send(ctx, ar.result());
        count(route, ar.result().status());
      } else {
        ctx.put("route", route);
        ctx.fail(ar.cause());
      }
    });
  }

  private void count(String route, int status) {
    metrics.count("mnemo_http_requests_total", "HTTP requests by route and status",
        "route=\"" + route + "\",status=\"" + status + "\"", 1);
  }

  // ---- endpoints (worker threads) ----

  private Object remember(RoutingContext ctx) throws Exception {
    String ns = namespace(ctx);
    ObjectNode body = requests.parseObject(bytes(ctx));
    boolean batch = body.has("memories");
    Remembered remembered = service.remember(caller(ctx), new RememberRequest(ns, requests.memories(body), requests.dedup(body)));
    List<Cid> cids = remembered.cids();
    long folded = remembered.deduplicated().stream().filter(d -> d).count();
    metrics.count("mnemo_memories_remembered_total", "Memories durably remembered", "", cids.size() - folded);
    if (folded > 0) {
      metrics.count("mnemo_memories_deduplicated_total", "Memories answered with a live memory they duplicate", "", folded);
    }
    ObjectNode out = responses.object();
    if (batch) {
      out.set("cids", responses.strings(cids));
      var flags = out.putArray("deduplicated");
      remembered.deduplicated().forEach(flags::add);
    } else {
      out.put("cid", cids.get(0).toString());
      out.put("deduplicated", remembered.deduplicated().get(0));
    }
    out.put("embedMs", millis(remembered.embedMillis()));
    // 201 when the call stored a memory; 200 when it only answered live ones it duplicated.
    return new Reply(remembered.storedAny() ? 201 : 200, JSON, Buffer.buffer(requests.mapper().writeValueAsBytes(out)));
  }

  /**
   * A query that brings its vector (or needs none) is parsed, searched and answered in one task on
   * the search pool: each hand-off between threads costs tens of microseconds, a good part of a
   * sub-millisecond recall. A query whose text must be embedded is embedded on the general worker
   * pool, because it waits there for the batching embedder, which must see many queries at once to
   * batch them, and then searched on the search pool. Either way the body is parsed once.
   */
  private void recall(RoutingContext ctx) {
    long start = System.nanoTime();
    Caller caller = caller(ctx);
    Future<RecallStep> searched = searches.executeBlocking(() -> {
      RecallRequest request = requests.recall(namespace(ctx), requests.parseObject(bytes(ctx)));
      return request.needsEmbedding() ? new RecallStep(null, request) : new RecallStep(recallReply(service.recall(caller, request), 0), null);
    }, false);
    respond(ctx, "recall", start, searched.compose(step -> step.reply() != null ? Future.succeededFuture(step.reply())
        : embedThenRecall(caller, step.toEmbed())));
  }

  private Future<Reply> embedThenRecall(Caller caller, RecallRequest request) {
    // Timed here, where the query's embedding is its own step: waiting for the batcher (and for
    // the warm-up, right after a start) is part of what a client waits for.
    long start = System.nanoTime();
    return vertx.executeBlocking(() -> service.embedQuery(caller, request), false)
        .compose(embedded -> {
          double embedMillis = (System.nanoTime() - start) / 1e6;
          return searches.executeBlocking(() -> recallReply(service.recall(caller, embedded), embedMillis), false);
        });
  }

  /** {@code tookMs} is the index search alone; {@code embedMs} the query's embedding (0 if none was needed). */
  private Reply recallReply(RecallResult result, double embedMillis) throws Exception {
    ObjectNode out = responses.object();
    ArrayNode array = out.putArray("results");
    result.results().forEach(r -> array.add(responses.recalled(r)));
    out.put("tookMs", millis(result.tookMillis()));
    out.put("embedMs", millis(embedMillis));
    return new Reply(200, JSON, Buffer.buffer(requests.mapper().writeValueAsBytes(out)));
  }

  private static double millis(double millis) {
    return Math.round(millis * 1000) / 1000.0;
  }

  private Object list(RoutingContext ctx) throws Exception {
    String ns = namespace(ctx);
    ListedPage page = service.list(caller(ctx), requests.list(ns, ctx.queryParams().get("cursor"), ctx.queryParams().get("limit")));
    ObjectNode out = responses.object();
    ArrayNode array = out.putArray("memories");
    page.memories().forEach(v -> array.add(responses.memory(v.cid(), v.memory(), v.invalidatedAt())));
    if (page.next() != null) {
      out.put("next", page.next());
    } else {
      out.putNull("next");
    }
    return out;
  }

  private Object get(RoutingContext ctx) throws Exception {
    Cid cid = Requests.cid(ctx.pathParam("cid"));
    MemoryVersion found = service.version(caller(ctx), cid).orElseThrow(() -> new NotFoundException("no memory " + cid));
    return responses.memory(cid, found.memory(), found.invalidatedAt());
  }

  private Object history(RoutingContext ctx) throws Exception {
    Cid cid = Requests.cid(ctx.pathParam("cid"));
    ObjectNode out = responses.object();
    ArrayNode array = out.putArray("history");
    for (MemoryVersion v : service.history(caller(ctx), cid, 1_000)) {
      if (v.memory() == null) {
        ObjectNode gone = responses.object();
        gone.put("cid", v.cid().toString());
        gone.put("forgotten", true);
        array.add(gone);
      } else {
        array.add(responses.memory(v.cid(), v.memory(), v.invalidatedAt()));
      }
    }
    return out;
  }

  private Object forget(RoutingContext ctx) throws Exception {
    String ns = namespace(ctx);
    Cid cid = Requests.cid(ctx.pathParam("cid"));
    Forgotten forgotten = service.forget(caller(ctx), ns, cid);
    metrics.count("mnemo_memories_forgotten_total", "Memories forgotten", "", 1);
    ObjectNode out = responses.object();
    out.put("cid", forgotten.memory().toString());
    out.put("forgotten", true);
    out.put("entry", forgotten.entry().toString());
    return out;
  }

  private Object invalidate(RoutingContext ctx) throws Exception {
    String ns = namespace(ctx);
    Cid cid = Requests.cid(ctx.pathParam("cid"));
    Long at = requests.invalidation(bytes(ctx));
    Invalidated invalidated = service.invalidate(caller(ctx), ns, cid, at);
    metrics.count("mnemo_memories_invalidated_total", "Memories whose validity an invalidate ended", "", 1);
    ObjectNode out = responses.object();
    out.put("cid", invalidated.memory().toString());
    out.put("invalidatedAt", invalidated.invalidatedAt());
    out.put("entry", invalidated.entry().toString());
    return out;
  }

  private Reply export(RoutingContext ctx) throws Exception {
    return new Reply(200, CAR + "; version=1", Buffer.buffer(service.export(caller(ctx), namespace(ctx))));
  }

  /**
   * An import streams its body to a spill file in the data directory (see {@link SpillUpload})
   * and imports it from there on a worker, block by block; the file goes on every path. At most
   * {@link Limits#maxConcurrentImports} run at once, each holding its entries and the log batch:
   * one more is answered 503 at once, its body read and thrown away (see SpillUpload#discard).
   * The route's requireType has checked the media type. A body over the limit closes the
   * connection as soon as the limit is passed (or at once, when its Content-Length says so).
   */
  private void importCar(RoutingContext ctx) {
    long start = System.nanoTime();
    ctx.put("route", "import");
    String ns;
    try {
      ns = namespace(ctx);
    } catch (ApiException e) {
      closeAfterReply(ctx);
      ctx.fail(e);
      return;
    }
    if (BodyBudget.declaredLength(ctx.request()) > limits.maxImportBytes()) {
      closeAfterReply(ctx);
      ctx.fail(ApiException.tooLarge(limits.maxImportBytes()));
      return;
    }
    if (importsRunning.incrementAndGet() > limits.maxConcurrentImports()) {
      importsRunning.decrementAndGet();
      SpillUpload.discard(ctx.request(), limits.maxImportBytes());
      ctx.response().putHeader("Retry-After", Integer.toString(IMPORT_RETRY_AFTER_SECONDS));
      ctx.fail(new ApiException(503, "busy", "this node runs " + limits.maxConcurrentImports()
          + " imports at once already; retry in " + IMPORT_RETRY_AFTER_SECONDS + " s"));
      return;
    }
    Caller caller = caller(ctx);
    SpillUpload upload = new SpillUpload(ctx.request(), limits.maxImportBytes(), limits.idleTimeoutMillis());
    Future<Reply> reply = vertx.executeBlocking(() -> {
      service.checkImport(caller, ns);
      return java.nio.file.Files.createTempFile(service.importSpillDir(), "import-", ".car",
          java.nio.file.attribute.PosixFilePermissions.asFileAttribute(java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
    }, false).compose(spill -> upload.into(vertx, spill)
        .compose(received -> vertx.executeBlocking(() -> importReply(service.importCar(caller, ns, spill)), false))
        .eventually(() -> vertx.executeBlocking(() -> java.nio.file.Files.deleteIfExists(spill), false)))
        .andThen(ar -> {
          importsRunning.decrementAndGet();
          if (ar.failed()) {
            upload.fail(ar.cause());
            if (ar.cause() instanceof ApiException api && (api.status() == 413 || api.status() == 408)) {
              closeAfterReply(ctx); // past the limit, or stalled: not another byte is read
            } else {
              SpillUpload.discard(ctx.request(), limits.maxImportBytes());
            }
          }
        });
    respond(ctx, "import", start, reply);
  }

  /** Imports that hold a slot now: streaming their body, or being applied. */
  private final java.util.concurrent.atomic.AtomicInteger importsRunning = new java.util.concurrent.atomic.AtomicInteger();
  private static final int IMPORT_RETRY_AFTER_SECONDS = 5;
  private static final String CLOSE_AFTER_REPLY = "mnemo.closeAfterReply";

  /** The connection closes once the reply is sent: the request's body was not read, and will not be. */
  static void closeAfterReply(RoutingContext ctx) {
    ctx.put(CLOSE_AFTER_REPLY, true);
  }

  private Reply importReply(NamespaceCar.Imported imported) throws JsonProcessingException {
    ObjectNode out = responses.object();
    out.set("roots", responses.strings(imported.roots()));
    out.put("blocks", imported.blocks());
    out.put("entriesApplied", imported.entriesApplied());
    return new Reply(200, JSON, Buffer.buffer(requests.mapper().writeValueAsBytes(out)));
  }

  private Reply create(RoutingContext ctx) throws Exception {
    String ns = namespace(ctx);
    String length = ctx.request().getHeader("Content-Length");
    if (ctx.request().getHeader("Transfer-Encoding") != null || (length != null && !length.strip().equals("0"))) {
      // Nothing in a body could take effect (the caller becomes the owner), so one is a client's mistake.
      throw ApiException.unprocessable("validation_failed", "PUT /v1/namespaces/{ns} takes no body");
    }
    Caller caller = caller(ctx);
    Cid entry = service.create(caller, ns);
    ObjectNode out = responses.object();
    out.put("ns", ns);
    out.put("owner", caller.agent().toString());
    out.put("entry", entry.toString());
    return new Reply(201, JSON, Buffer.buffer(requests.mapper().writeValueAsBytes(out)));
  }

  private Reply grant(RoutingContext ctx) throws Exception {
    String ns = namespace(ctx);
    Requests.AclChange change = requests.aclChange(requests.parseObject(bytes(ctx)));
    Cid entry = service.grant(caller(ctx), ns, change.to(), change.can());
    return new Reply(201, JSON, Buffer.buffer(requests.mapper().writeValueAsBytes(responses.entry(entry))));
  }

  private Object revoke(RoutingContext ctx) throws Exception {
    String ns = namespace(ctx);
    Requests.AclChange change = requests.aclChange(requests.parseObject(bytes(ctx)));
    return responses.entry(service.revoke(caller(ctx), ns, change.to(), change.can()));
  }

  private Object acl(RoutingContext ctx) throws Exception {
    return responses.acl(service.acl(caller(ctx), namespace(ctx)));
  }

  private Object whoami(RoutingContext ctx) {
    Caller caller = caller(ctx);
    ObjectNode out = responses.object();
    out.put("did", caller.agent().toString());
    if (caller.name() != null) {
      out.put("name", caller.name());
    } else {
      out.putNull("name");
    }
    out.put("admin", caller.admin());
    return out;
  }

  private Reply syncBlocks(RoutingContext ctx) throws Exception {
    ByteArrayOutputStream car = new ByteArrayOutputStream();
    sync.blocks(peer(ctx), bytes(ctx), car);
    return new Reply(200, CAR + "; version=1", Buffer.buffer(car.toByteArray()));
  }

  private Reply syncEntries(RoutingContext ctx) throws Exception {
    ByteArrayOutputStream car = new ByteArrayOutputStream();
    sync.entries(peer(ctx), bytes(ctx), car);
    return new Reply(200, CAR + "; version=1", Buffer.buffer(car.toByteArray()));
  }

  /** A raw block: for a peer (a signed node request), or for an agent that may read its namespace. */
  private Reply block(RoutingContext ctx) throws Exception {
    Cid cid = Requests.cid(ctx.pathParam("cid"));
    Optional<byte[]> data = isPeerRequest(ctx)
        ? sync.block(peer(ctx), cid).map(dev.mnemo.store.block.Block::data)
        : service.block(caller(ctx), cid);
    return new Reply(200, "application/vnd.ipld.raw", Buffer.buffer(data.orElseThrow(() -> new NotFoundException("no block " + cid))));
  }

  /** Whether the request is signed by a node ({@link PeerAuth}) rather than an agent's bearer token. */
  public static boolean isPeerRequest(RoutingContext ctx) {
    String authorization = ctx.request().getHeader("Authorization");
    return authorization != null && authorization.startsWith(PeerAuth.SCHEME + " ");
  }

  /** The node that signed this request; a request that does not authenticate fails with 401. */
  private DidKey peer(RoutingContext ctx) throws PeerAuth.RejectedException {
    return sync.authenticate(ctx.request().getHeader("Authorization"), ctx.request().method().name(), ctx.request().uri(), bytes(ctx));
  }

  // ---- helpers ----

  private Caller caller(RoutingContext ctx) {
    Caller caller = ctx.get(CALLER);
    return caller != null ? caller : unauthenticated;
  }

  private static String namespace(RoutingContext ctx) {
    String ns = ctx.pathParam("ns");
    if (!Namespace.isValid(ns)) {
      throw ApiException.badRequest("invalid_namespace",
          "namespace names are 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit");
    }
    return ns;
  }

  /**
   * Refuses (415) a request whose Content-Type starts with none of {@code types}. A platform
   * handler, because Vert.x runs those before body handlers, which is the point.
   */
  private static io.vertx.ext.web.handler.PlatformHandler requireType(String... types) {
    return new io.vertx.ext.web.handler.PlatformHandler() {
      @Override
      public void handle(RoutingContext ctx) {
        // The media type alone, without its parameters (charset=...): "application/jsonx" is not JSON.
        String type = String.valueOf(ctx.request().getHeader("Content-Type")).split(";", 2)[0].trim().toLowerCase(java.util.Locale.ROOT);
        for (String accepted : types) {
          if (type.equals(accepted)) {
            ctx.next();
            return;
          }
        }
        ctx.fail(new ApiException(415, "unsupported_media_type", "send the body as " + String.join(" or ", types)));
      }
    };
  }

  /** As {@link #requireType}, for a route whose body is optional: a request without one passes. */
  private static io.vertx.ext.web.handler.PlatformHandler requireTypeOfAnyBody(String... types) {
    io.vertx.ext.web.handler.PlatformHandler typed = requireType(types);
    return new io.vertx.ext.web.handler.PlatformHandler() {
      @Override
      public void handle(RoutingContext ctx) {
        String length = ctx.request().getHeader("Content-Length");
        boolean bodiless = ctx.request().getHeader("Transfer-Encoding") == null
            && (length == null || length.strip().equals("0"));
        if (bodiless && ctx.request().getHeader("Content-Type") == null) {
          ctx.next();
        } else {
          typed.handle(ctx);
        }
      }
    };
  }

  private static byte[] bytes(RoutingContext ctx) {
    Buffer body = ctx.body() == null ? null : ctx.body().buffer();
    return body == null ? new byte[0] : body.getBytes();
  }

  private void send(RoutingContext ctx, Reply reply) {
    if (ctx.response().ended() || ctx.response().closed()) {
      return;
    }
    Future<Void> sent = ctx.response().setStatusCode(reply.status()).putHeader("Content-Type", reply.contentType()).end(reply.body());
    if (Boolean.TRUE.equals(ctx.get(CLOSE_AFTER_REPLY))) {
      // HTTP/1.1 only (h2c and ALPN are off): the connection is this request's alone.
      sent.onComplete(v -> ctx.request().connection().close());
    }
  }

  private void failure(RoutingContext ctx) {
    Throwable failure = ctx.failure();
    dev.mnemo.node.OutOfMemoryHalt.haltIfOutOfMemory(failure);
    String route = ctx.get("route", "unrouted");
    int status;
    String code;
    String message;
    switch (failure) {
      case null -> {
        status = ctx.statusCode() > 0 ? ctx.statusCode() : 500;
        code = switch (status) {
          case 413 -> "too_large";
          case 400 -> "bad_request";
          // A request the router matched no route for, such as CONNECT host:443 or OPTIONS *.
          case 404 -> "not_found";
          default -> "error";
        };
        // The body handler fails before the route is known: tell the import's limit by its path.
        String path = ctx.request().path();
        long limit = path != null && path.endsWith("/import") ? limits.maxImportBytes() : limits.maxBodyBytes();
        message = status == 413 ? ApiException.tooLarge(limit).getMessage()
            : status == 404 ? "no such endpoint: " + ctx.request().method() + " " + printable(ctx.request().uri())
            : "request failed";
      }
      case io.vertx.core.http.HttpClosedException closed -> {
        // The client went away mid-request: no one to answer, and not the node's failure.
        count(route, 499);
        return;
      }
      case ApiException api -> {
        status = api.status();
        code = api.code();
        message = api.getMessage();
      }
      case NotFoundException missing -> {
        status = 404;
        code = "not_found";
        message = missing.getMessage();
      }
      case UnauthorizedException denied -> {
        status = 403;
        code = "forbidden";
        message = denied.getMessage();
      }
      case NamespaceExistsException exists -> {
        status = 409;
        code = "namespace_exists";
        message = exists.getMessage();
      }
      case UnknownPrevException prev -> {
        status = 422;
        code = "unknown_prev";
        message = prev.getMessage();
      }
      case InvalidCursorException cursor -> {
        status = 400;
        code = "invalid_cursor";
        message = cursor.getMessage();
      }
      case InvalidRequestException invalid -> {
        status = 422;
        code = "validation_failed";
        message = invalid.getMessage();
      }
      case EmbedderUnavailableException none -> {
        status = 422;
        code = "no_embedder";
        message = none.getMessage();
      }
      case EmbedderFailedException failed -> {
        status = 503;
        code = "embedder_failed";
        message = failed.getMessage() + "; calls with vectors work";
      }
      case PeerAuth.RejectedException unsigned -> {
        status = 401;
        code = "unauthorized";
        message = "node-to-node calls need a signed request (" + PeerAuth.SCHEME + "): " + unsigned.getMessage();
      }
      case MalformedSyncRequestException malformed -> {
        status = 400;
        code = "invalid_block_request";
        message = malformed.getMessage();
      }
      case TooManyHeadsException heads -> {
        status = 422;
        code = "too_many_heads";
        message = heads.getMessage() + " (the node's " + (route.equals("import") ? "importMaxNewHeads" : "syncMaxHeads")
            + " is " + heads.limit() + "; import fewer separate roots at a time, or merge them first)";
      }
      case RejectedEntryException rejected -> {
        status = 422;
        code = "rejected_block";
        message = rejected.getMessage();
      }
      // An import's CAR is the client's bytes; anywhere else a format that does not decode is the node's own data.
      case InvalidFormatException format when route.equals("import") -> {
        status = 422;
        code = "invalid_" + format.format().toLowerCase().replace(' ', '_').replace(':', '_');
        message = format.getMessage();
      }
      case NamespaceCar.ChangedDuringExportException changed -> {
        status = 503;
        code = "unavailable";
        message = changed.getMessage() + "; retry when forgets pause";
      }
      case BlockStoreUnavailableException unavailable -> {
        status = 503;
        code = "unavailable";
        message = unavailable.getMessage() + "; retry in " + unavailable.retryAfterSeconds() + " s";
        ctx.response().putHeader("Retry-After", Long.toString(unavailable.retryAfterSeconds()));
      }
      case CorruptBlockException corrupt -> {
        status = 500;
        code = "corrupt_block";
        message = corrupt.getMessage();
        LOG.log(System.Logger.Level.ERROR, "corrupt block detected: " + corrupt.getMessage());
      }
      default -> {
        if (ctx.statusCode() == 413) {
          status = 413;
          code = "too_large";
          message = "the request body exceeds the limit for this endpoint";
        } else {
          status = 500;
          code = "internal";
          message = "internal error; see the node log";
          LOG.log(System.Logger.Level.ERROR, "request " + ctx.request().method() + " " + ctx.request().path() + " failed", failure);
        }
      }
    }
    count(route, status);
    sendError(ctx, status, code, message);
  }

  private void sendError(RoutingContext ctx, int status, String code, String message) {
    send(ctx, new Reply(status, JSON, errorBody(code, message)));
  }

  /** {@code {"error": {"code", "message"}}}, the API's error shape. */
  private Buffer errorBody(String code, String message) {
    try {
      return Buffer.buffer(requests.mapper().writeValueAsBytes(responses.error(code, message)));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("an error object of two strings did not serialize", e);
    }
  }
}
