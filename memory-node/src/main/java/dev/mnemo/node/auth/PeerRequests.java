package dev.mnemo.node.auth;

import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;

/**
 * The hook for node-to-node calls ({@code /v1/sync/*}, {@code /v1/blocks/*}): a request on those
 * routes that carries no bearer token but a node signature is handed here instead of being
 * answered 401. The implementation (the sync module's signed requests) verifies the signature,
 * puts the peer's did on the context under {@link Authenticator#PEER} and calls {@code
 * ctx.next()}, or answers the refusal itself.
 */
public interface PeerRequests {
  /** Whether {@code request} claims to be a signed node request (carries the signature headers). */
  boolean isSigned(HttpServerRequest request);

  /** Verifies the request; then {@code ctx.next()}, or an error answer. Runs on the event loop. */
  void verify(RoutingContext ctx);

  /** No node requests: node-to-node routes need a token like every other. */
  PeerRequests NONE = new PeerRequests() {
    @Override
    public boolean isSigned(HttpServerRequest request) {
      return false;
    }

    @Override
    public void verify(RoutingContext ctx) {
      throw new IllegalStateException("no request is signed");
    }
  };

  /**
   * Node-to-node routes stay open to unauthenticated callers, as they were before tokens, until
   * peers sign their requests: replication would stop otherwise. Serves blocks and heads to
   * anyone who can reach the port; replace it with the signed-request check.
   */
  PeerRequests UNVERIFIED = new PeerRequests() {
    @Override
    public boolean isSigned(HttpServerRequest request) {
      return true;
    }

    @Override
    public void verify(RoutingContext ctx) {
      ctx.next();
    }
  };
}
