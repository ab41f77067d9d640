package dev.mnemo.sync;

import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.identity.DidKey;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * The operator's list of nodes trusted to replicate every namespace (config {@code
 * replicationPeers}): node did:keys, or {@code *} for every node that authenticates with any key,
 * which is for closed clusters only (anyone who can reach the gossip port then gets every
 * namespace).
 *
 * @param nodes the node did:keys listed
 * @param everyNode whether {@code *} was listed
 */
public record PeerAllowlist(Set<DidKey> nodes, boolean everyNode) implements ReplicationPolicy {
  public static final String EVERY_NODE = "*";
  public static final PeerAllowlist NONE = new PeerAllowlist(Set.of(), false);

  public PeerAllowlist {
    nodes = Set.copyOf(nodes);
  }

  /** The allowlist of config entries: did:key strings, or {@code *}. */
  public static PeerAllowlist parse(Collection<String> entries) throws InvalidFormatException {
    Set<DidKey> nodes = new LinkedHashSet<>();
    boolean everyNode = false;
    for (String entry : entries) {
      if (entry.equals(EVERY_NODE)) {
        everyNode = true;
      } else {
        nodes.add(DidKey.parse(entry));
      }
    }
    return new PeerAllowlist(nodes, everyNode);
  }

  @Override
  public boolean mayReplicate(DidKey peer, String ns) {
    return everyNode || nodes.contains(peer);
  }

  @Override
  public boolean mayReplicateAll(DidKey peer) {
    return mayReplicate(peer, null);
  }
}
