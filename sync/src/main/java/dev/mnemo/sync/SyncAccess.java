package dev.mnemo.sync;

import dev.mnemo.store.block.Block;
import dev.mnemo.store.identity.DidKey;
import dev.mnemo.store.log.NamespaceLog;
import dev.mnemo.store.model.Namespace;

/**
 * What the server half of the sync protocol may give a peer: it authenticates each request
 * ({@link PeerAuth}) and answers with only what the peer may replicate ({@link ReplicationPolicy}).
 * A peer without the right gets no head and no block of the namespace, and cannot tell a
 * namespace it may not replicate from one that does not exist.
 *
 * <p>For {@code GET /v1/sync/heads}: {@code digestFor(authenticate(header, "GET", target, body))}.
 * For {@code POST /v1/sync/blocks}: authenticate, then leave out of the CAR every block for which
 * {@link #mayServe} is false, as if this node lacked it.
 */
public final class SyncAccess {
  private final NamespaceLog log;
  private final ReplicationPolicy policy;
  private final PeerAuth auth;
  private final NamespaceDigests digests;

  public SyncAccess(NamespaceLog log, ReplicationPolicy policy, PeerAuth auth) {
    this.log = log;
    this.policy = policy;
    this.auth = auth;
    this.digests = new NamespaceDigests(log);
  }

  /**
   * The node that signed this request to this node (see {@link PeerAuth#verify}); a request that
   * does not authenticate gets 401 with the exception's message.
   */
  public DidKey authenticate(String authorization, String method, String pathAndQuery, byte[] body)
      throws PeerAuth.RejectedException {
    return auth.verify(authorization, method, pathAndQuery, body);
  }

  public HeadsDigest digestFor(DidKey peer) {
    return HeadsDigest.of(log, policy, peer);
  }

  /**
   * The digest tree (protocol v2) as {@code peer} may see it: over the namespaces it may
   * replicate only.
   */
  NamespaceDigests.View treeFor(DidKey peer) {
    return digests.view(policy, peer);
  }

  /** The node's digest tree, kept up to date as heads change: for its own anti-entropy too. */
  public NamespaceDigests digests() {
    return digests;
  }

  /**
   * Whether {@code block} (as read from the block store) may go to {@code peer}: a log entry or a
   * memory of a namespace the peer may replicate. Anything else (a block of no namespace) is not
   * served to peers.
   */
  public boolean mayServe(DidKey peer, Block block) {
    return Namespace.ofBlock(block.data()).map(ns -> policy.mayReplicate(peer, ns)).orElse(false);
  }

  public ReplicationPolicy policy() {
    return policy;
  }

  NamespaceLog log() {
    return log;
  }
}
