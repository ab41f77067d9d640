package dev.mnemo.sync;

import java.util.List;

/**
 * Sync settings (README "Configuration").
 *
 * @param gossipPort TCP port for SWIM gossip
 * @param seeds gossip addresses HOST:PORT of nodes to join through
 * @param namespaces namespaces this node replicates; {@code ["*"]} for all
 * @param advertiseGossip HOST:PORT other members should use to reach this node's gossip port, when
 *     it differs from the bound one (NAT, a proxy); null to use the bound address
 * @param antiEntropyMillis how often to compare heads with a random live peer
 */
public record SyncConfig(int gossipPort, List<String> seeds, List<String> namespaces, String advertiseGossip,
    long antiEntropyMillis, int gossipIntervalMillis, int pingIntervalMillis, int membershipSyncMillis) {

  public SyncConfig {
    seeds = List.copyOf(seeds);
    namespaces = namespaces == null || namespaces.isEmpty() ? List.of(Peer.ALL) : List.copyOf(namespaces);
  }

  public static SyncConfig defaults(int gossipPort, List<String> seeds) {
    return new SyncConfig(gossipPort, seeds, List.of(Peer.ALL), null, 2_000, 100, 500, 5_000);
  }

  public boolean replicates(String ns) {
    return namespaces.contains(Peer.ALL) || namespaces.contains(ns);
  }
}
