package dev.mnemo.sync;

import java.io.IOException;
import java.util.List;

/**
 * Who else is in the cluster, and a way to gossip to them: the SPI at the edge of the sync
 * module. The implementation is SWIM (ScaleCube), seeded by addresses in config.
 */
public interface Membership extends AutoCloseable {

  /** Receives gossip and membership changes. Called on the implementation's threads: do not block. */
  interface Listener {
    void onGossip(byte[] payload);

    default void onPeerJoined(Peer peer) {}

    default void onPeerLeft(Peer peer) {}
  }

  void start(Listener listener) throws IOException;

  /** The peers currently considered alive, not including this node. */
  List<Peer> peers();

  /**
   * Every peer this node knows of with its state: the live ones, and those that left or became
   * unreachable in the last {@link #DEPARTED_KEPT_MILLIS} (until they come back).
   */
  List<PeerStatus> members();

  /** How long a departed peer stays listed by {@link #members()}. */
  long DEPARTED_KEPT_MILLIS = 10 * 60_000;

  /**
   * Members ignored because what they advertise is unusable or unauthenticated (a bad HTTP
   * address, metadata that does not verify): nothing is pulled from them.
   */
  default long refusedMembers() {
    return 0;
  }

  /** This node's member id and the address it gossips on. */
  String localId();

  String localAddress();

  /** Spreads a payload to every member by gossip (at-most-once per member, best effort). */
  void gossip(byte[] payload);

  @Override
  void close();
}
