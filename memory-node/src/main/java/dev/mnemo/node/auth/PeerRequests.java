package dev.mnemo.node.auth;

import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;

/**
 * The hook for node-to-node calls ({@code /v1/sync/*}, see {@link Authenticator#isNodeRoute}): a
 * request on those routes that {@link #isSigned} claims is a node's goes to {@link #verify}
 * instead of the bearer-token check.
 *
 * <p>Peers sign their requests over the body too (the sync module's {@code PeerAuth}), which is
 * read only after this hook runs, so the sync endpoint verifies them, where the body is:
 * {@link #signedBy} lets such requests through to it. {@code GET /v1/blocks/{cid}} is not a node
 * route: peers fetch blocks with {@code POST /v1/sync/blocks}, and agents and IPFS tools need a
 * token like any other read.
 */
public interface PeerRequests {
  /** Whether {@code request} is to be handled as a node's request rather than an agent's. */
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
   * Requests whose {@code Authorization} uses the node scheme ({@code scheme}, e.g. {@code
   * MnemoNode}) go on to the sync endpoint, which verifies the signature with the body and
   * answers 401 itself when it fails. Requests without one need a bearer token.
   */
  static PeerRequests signedBy(String scheme) {
    return new PeerRequests() {
      @Override
      public boolean isSigned(HttpServerRequest request) {
        String authorization = request.getHeader("Authorization");
        return authorization != null && authorization.regionMatches(true, 0, scheme + " ", 0, scheme.length() + 1);
      }

      @Override
      public void verify(RoutingContext ctx) {
        ctx.next();
      }
    };
  }

  /**
   * Until the sync endpoint verifies peers' signatures, node-to-node routes stay open to requests
   * without a bearer token, as they were before tokens: replication would stop otherwise. Serves
   * every namespace's heads and blocks to anyone who can reach the port; replace it with
   * {@link #signedBy} once the endpoint verifies.
   */
  PeerRequests UNVERIFIED = new PeerRequests() {
    @Override
    public boolean isSigned(HttpServerRequest request) {
      String authorization = request.getHeader("Authorization");
      return authorization == null || !authorization.regionMatches(true, 0, "Bearer", 0, 6);
    }

    @Override
    public void verify(RoutingContext ctx) {
      ctx.next();
    }
  };
}
