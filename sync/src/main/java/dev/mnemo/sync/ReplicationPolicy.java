package dev.mnemo.sync;

import dev.mnemo.store.identity.DidKey;

/**
 * Which nodes may replicate which namespaces: a node serves a namespace's heads and blocks, and
 * sends announcements of it, only to peers this allows. A peer is known by its node key, as a
 * signed request ({@link PeerAuth}) or a verified member card proves it.
 *
 * <p>A node combines the operator's {@link PeerAllowlist} with the namespace's own {@code replicate}
 * grants with {@link #or}.
 */
@FunctionalInterface
public interface ReplicationPolicy {
  boolean mayReplicate(DidKey peer, String ns);

  /**
   * Whether {@code peer} may replicate every namespace, whatever its name or grants: then the
   * anti-entropy digest it is served is the node's whole one, kept up to date, rather than one
   * summed for it alone ({@link NamespaceDigests}). False unless known for sure.
   */
  default boolean mayReplicateAll(DidKey peer) {
    return false;
  }

  /** Allows no one. */
  ReplicationPolicy NOBODY = (peer, ns) -> false;

  /** Allows what this policy or {@code other} allows. */
  default ReplicationPolicy or(ReplicationPolicy other) {
    ReplicationPolicy first = this;
    return new ReplicationPolicy() {
      @Override
      public boolean mayReplicate(DidKey peer, String ns) {
        return first.mayReplicate(peer, ns) || other.mayReplicate(peer, ns);
      }

      @Override
      public boolean mayReplicateAll(DidKey peer) {
        return first.mayReplicateAll(peer) || other.mayReplicateAll(peer);
      }
    };
  }
}
