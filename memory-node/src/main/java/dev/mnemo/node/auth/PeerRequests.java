package dev.mnemo.node.auth;

import io.vertx.ext.web.RoutingContext;
import java.util.function.Predicate;

/**
 * The hook for node-to-node calls ({@code /v1/sync/*}, {@code /v1/blocks/*}, see {@link
 * Authenticator#isNodeRoute}): a request on those routes that {@link #isSigned} takes for a node's
 * goes to {@link #verify} instead of the bearer-token check.
 *
 * <p>Peers sign over the body too (the sync module's {@code PeerAuth}), and the body is read only
 * after this hook runs, so the API's node routes verify the signature themselves ({@link
 * #checkedByRoutes}). The predicate must be the very one those routes use to tell a node's
 * request from an agent's: a request this hook passed on as a node's that a route then served as
 * an agent's would be served with no agent at all.
 */
public interface PeerRequests {
  /** Whether the request is to be handled as a node's request rather than an agent's. */
  boolean isSigned(RoutingContext ctx);

  /** Verifies the request; then {@code ctx.next()}, or an error answer. Runs on the event loop. */
  void verify(RoutingContext ctx);

  /** No node requests: node-to-node routes need a token like every other. */
  PeerRequests NONE = new PeerRequests() {
    @Override
    public boolean isSigned(RoutingContext ctx) {
      return false;
    }

    @Override
    public void verify(RoutingContext ctx) {
      throw new IllegalStateException("no request is signed");
    }
  };

  /**
   * Requests {@code isPeerRequest} takes for a node's go on to the routes, which verify them
   * with their body and answer 401 when they do not verify; all others need a bearer token.
   */
  static PeerRequests checkedByRoutes(Predicate<RoutingContext> isPeerRequest) {
    return new PeerRequests() {
      @Override
      public boolean isSigned(RoutingContext ctx) {
        return isPeerRequest.test(ctx);
      }

      @Override
      public void verify(RoutingContext ctx) {
        ctx.next();
      }
    };
  }
}
