package dev.mnemo.node.auth;

import dev.mnemo.node.Caller;
import dev.mnemo.node.api.HttpApi;
import dev.mnemo.node.metrics.Metrics;
import dev.mnemo.store.identity.DidKey;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.SocketAddress;
import io.vertx.ext.web.RoutingContext;
import java.util.Optional;

/**
 * Runs before every route except {@code /health}: finds the agent an {@code Authorization: Bearer
 * TOKEN} header acts as and puts it on the context as the API's {@link Caller} ({@link
 * HttpApi#CALLER}), or answers 401 {@code
 * unauthorized} with {@code WWW-Authenticate: Bearer}. A source address that has failed too often
 * is answered 429 {@code too_many_requests} with {@code Retry-After}, before its token is looked at.
 * Node-to-node routes ({@code /v1/sync/*}, {@code /v1/blocks/*}) also take node requests, through
 * {@link PeerRequests}.
 */
public final class Authenticator implements Handler<RoutingContext> {
  /** Context key of the {@link DidKey} of the peer node a signed node request comes from. */
  public static final String PEER = "mnemo.peer";
  private static final System.Logger LOG = System.getLogger(Authenticator.class.getName());

  private final AgentRegistry registry;
  private final FailureLimiter limiter;
  private final PeerRequests peers;
  private final Caller insecureCaller;
  private final Metrics metrics;

  /**
   * @param insecureCaller null to authenticate; else every request acts as this agent (the owner,
   *     with authentication turned off for development)
   */
  Authenticator(AgentRegistry registry, FailureLimiter limiter, PeerRequests peers, HostedAgent insecureCaller, Metrics metrics) {
    this.registry = registry;
    this.limiter = limiter;
    this.peers = peers;
    this.insecureCaller = insecureCaller == null ? null : insecureCaller.caller();
    this.metrics = metrics;
  }

  /** Who the request acts as; empty on {@code /health} and for node-to-node requests. */
  public static Optional<Caller> caller(RoutingContext ctx) {
    return Optional.ofNullable(ctx.get(HttpApi.CALLER));
  }

  /** The peer node a signed node request comes from, once verified. */
  public static Optional<DidKey> peer(RoutingContext ctx) {
    return Optional.ofNullable(ctx.get(PEER));
  }

  /** Routes peers call, which take a signed node request instead of a token ({@link PeerRequests}). */
  public static boolean isNodeRoute(String path) {
    return path.startsWith("/v1/sync/") || path.startsWith("/v1/blocks/");
  }

  @Override
  public void handle(RoutingContext ctx) {
    HttpServerRequest request = ctx.request();
    // The path the routes match, not the raw one: "/v1/sync/../namespaces/x/memories" is a write
    // route, and deciding on the raw path would take it for a node route.
    String path;
    try {
      path = ctx.normalizedPath();
    } catch (IllegalArgumentException badEscape) {
      // No route could match it either; answered as the router answers it.
      ErrorReplies.error(ctx, 400, "bad_request", "malformed request URI: " + request.uri());
      return;
    }
    if ("/health".equals(path)) {
      ctx.next();
      return;
    }
    if (insecureCaller != null) {
      ctx.put(HttpApi.CALLER, insecureCaller);
      ctx.next();
      return;
    }
    if (isNodeRoute(path) && peers.isSigned(ctx)) {
      peers.verify(ctx);
      return;
    }
    String authorization = request.getHeader("Authorization");
    if (authorization == null) {
      refuse(ctx, "this call needs an API token: send Authorization: Bearer TOKEN");
      return;
    }
    String address = sourceAddress(request);
    long retryAfter = limiter.retryAfterSeconds(address);
    if (retryAfter > 0) {
      ctx.response().putHeader("Retry-After", Long.toString(retryAfter));
      count(429);
      ErrorReplies.error(ctx, 429, "too_many_requests", "too many failed authentications from " + address
          + "; retry in " + retryAfter + " s");
      return;
    }
    Optional<HostedAgent> agent = bearer(authorization).flatMap(registry::authenticate);
    if (agent.isEmpty()) {
      limiter.failed(address);
      refuse(ctx, bearer(authorization).isEmpty() ? "the Authorization header must be Bearer TOKEN"
          : "the token is not valid (unknown, revoked or malformed)");
      return;
    }
    ctx.put(HttpApi.CALLER, agent.get().caller());
    ctx.next();
  }

  /** The token of a {@code Bearer} credential (RFC 6750; the scheme is case-insensitive). */
  static Optional<String> bearer(String authorization) {
    String value = authorization.strip();
    if (value.length() < 7 || !value.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return Optional.empty();
    }
    String token = value.substring(7).strip();
    return token.isEmpty() || token.indexOf(' ') >= 0 ? Optional.empty() : Optional.of(token);
  }

  private void refuse(RoutingContext ctx, String message) {
    count(401);
    ctx.response().putHeader("WWW-Authenticate", "Bearer realm=\"mnemo\"");
    ErrorReplies.error(ctx, 401, "unauthorized", message);
  }

  private void count(int status) {
    if (metrics != null) {
      metrics.count("mnemo_http_requests_total", "HTTP requests by route and status", "route=\"auth\",status=\"" + status + "\"", 1);
    }
  }

  private static String sourceAddress(HttpServerRequest request) {
    SocketAddress remote = request.remoteAddress();
    if (remote == null) {
      return "unknown";
    }
    String host = remote.hostAddress();
    return host != null ? host : remote.toString();
  }

  static void warnInsecure() {
    LOG.log(System.Logger.Level.WARNING, "AUTHENTICATION IS OFF (--insecure-no-auth / auth: false): every caller that"
        + " reaches this node's port acts as its owner, and can read, write and forget every namespace. Development only.");
  }
}
