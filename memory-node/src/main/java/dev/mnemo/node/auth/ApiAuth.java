package dev.mnemo.node.auth;

import dev.mnemo.node.Caller;
import dev.mnemo.node.metrics.Metrics;
import dev.mnemo.store.identity.AgentKey;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.CorsHandler;
import java.io.IOException;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;

/**
 * The API's front checks, in the order a request meets them: the {@code Host} check, CORS (only
 * when origins are configured), authentication, and the admin-only routes. {@link #mount} puts
 * them ahead of every route already on a router, so the API's own routes need no change.
 */
public final class ApiAuth {
  private static final System.Logger LOG = System.getLogger(ApiAuth.class.getName());
  /** Ahead of every route registered without an explicit order (those count up from 0). */
  private static final int HOST_CHECK_ORDER = -40;
  private static final int CORS_ORDER = -30;
  private static final int AUTHENTICATE_ORDER = -20;
  private static final int ADMIN_ONLY_ORDER = -10;

  private final Vertx vertx;
  private final AgentRegistry registry;
  private final AuthConfig config;
  private final Set<String> servedHosts;
  private final PeerRequests peers;
  private final Metrics metrics;

  /**
   * @param servedHosts the names the node serves besides {@code localhost} and IP literals: its
   *     bind host, its advertised HTTP host ({@code allowedHosts} are added here)
   */
  public ApiAuth(Vertx vertx, AgentRegistry registry, AuthConfig config, Set<String> servedHosts, PeerRequests peers,
      Metrics metrics) {
    this.vertx = vertx;
    this.registry = registry;
    this.config = config;
    Set<String> hosts = new LinkedHashSet<>(servedHosts);
    hosts.addAll(config.allowedHosts());
    this.servedHosts = hosts;
    this.peers = peers;
    this.metrics = metrics;
  }

  /**
   * Opens {@code DATA/agents.cbor} and, on a first start, creates the owner agent and its token
   * file; logs where that is. With authentication off, warns (at every start).
   */
  public static AgentRegistry openRegistry(java.nio.file.Path dataDir, AuthConfig config) throws IOException {
    AgentRegistry registry = AgentRegistry.open(dataDir);
    Optional<IssuedToken> created = registry.createOwnerIfAbsent(
        config.ownerKeyFile() == null ? null : AgentKeyFile.read(config.ownerKeyFile()));
    created.ifPresent(owner -> LOG.log(System.Logger.Level.INFO, "created the owner agent " + owner.agent().did()
        + "; its API token is in " + registry.ownerTokenFile().toAbsolutePath().normalize()));
    if (!config.enabled()) {
      Authenticator.warnInsecure();
    }
    return registry;
  }

  /**
   * The caller of a request that reaches the API without one: an agent of a key made for the
   * purpose and thrown away, which holds no grant and administers nothing. With authentication
   * on, only {@code /health} and node requests (which carry their peer instead) get that far.
   */
  public static Caller nobody() {
    return new HostedAgent("nobody", AgentKey.generate(), 0, false).caller();
  }

  public void mount(Router router) {
    router.route().order(HOST_CHECK_ORDER).handler(new HostCheck(servedHosts));
    if (!config.corsOrigins().isEmpty()) {
      CorsHandler cors = CorsHandler.create()
          .addOrigins(config.corsOrigins())
          .allowedHeaders(Set.of("Authorization", "Content-Type"))
          .allowedMethods(Set.of(HttpMethod.GET, HttpMethod.POST, HttpMethod.PUT, HttpMethod.DELETE));
      Set<String> origins = Set.copyOf(config.corsOrigins());
      // Other origins get no CORS headers, so their pages cannot read the answers. Vert.x's handler
      // would fail them instead, which the API's failure handler does not know as a client error.
      router.route().order(CORS_ORDER).handler(ctx -> {
        if (origins.contains(ctx.request().getHeader("Origin"))) {
          cors.handle(ctx);
        } else {
          ctx.next();
        }
      });
    }
    HostedAgent insecure = config.enabled() ? null : registry.agent(AgentRegistry.OWNER)
        .orElseGet(() -> registry.agents().stream().filter(HostedAgent::admin).findFirst()
            .orElseThrow(() -> new IllegalStateException("no admin agent to act as with authentication off")));
    router.route().order(AUTHENTICATE_ORDER).handler(new Authenticator(registry, new FailureLimiter(config.failuresPerMinute()),
        peers, insecure, metrics));
    router.route("/v1/node").order(ADMIN_ONLY_ORDER).handler(AdminApi::requireAdmin);
    router.route("/v1/node/*").order(ADMIN_ONLY_ORDER).handler(AdminApi::requireAdmin);
    router.route("/metrics").order(ADMIN_ONLY_ORDER + 1).handler(AdminApi::requireAdmin);
    new AdminApi(vertx, registry).mount(router);
  }
}
