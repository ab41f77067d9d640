package dev.mnemo.sync;

import java.util.List;

/**
 * Sync settings (README "Configuration").
 *
 * @param gossipHost the address gossip listens on (the node's HTTP host unless configured
 *     otherwise); never every interface unless told so
 * @param gossipPort TCP port for SWIM gossip
 * @param seeds gossip addresses HOST:PORT of nodes to join through
 * @param namespaces namespaces this node replicates; {@code ["*"]} for all
 * @param advertiseGossip HOST:PORT other members should use to reach this node's gossip port, when
 *     it differs from the bound one (NAT, a proxy); null to use the bound address
 * @param antiEntropyMillis how often to compare heads with a random live peer
 */
public record SyncConfig(String gossipHost, int gossipPort, List<String> seeds, List<String> namespaces, String advertiseGossip,
    long antiEntropyMillis, int gossipIntervalMillis, int pingIntervalMillis, int membershipSyncMillis) {

  /** Where gossip listens when nothing else is said: this machine only. */
  public static final String DEFAULT_GOSSIP_HOST = "127.0.0.1";

  public SyncConfig {
    gossipHost = gossipHost == null || gossipHost.isBlank() ? DEFAULT_GOSSIP_HOST : gossipHost;
    seeds = List.copyOf(seeds);
    namespaces = namespaces == null || namespaces.isEmpty() ? List.of(Peer.ALL) : List.copyOf(namespaces);
  }

  public static SyncConfig defaults(int gossipPort, List<String> seeds) {
    return new SyncConfig(DEFAULT_GOSSIP_HOST, gossipPort, seeds, List.of(Peer.ALL), null, 2_000, 100, 500, 5_000);
  }

  public boolean replicates(String ns) {
    return namespaces.contains(Peer.ALL) || namespaces.contains(ns);
  }
}
