package dev.mnemo.sync;

import java.io.IOException;
import java.util.List;

/**
 * Who else is in the cluster (each peer authenticated by its node key), and a way to message them: the SPI at the edge of the sync
 * module. The implementation is SWIM (ScaleCube), seeded by addresses in config.
 */
public interface Membership extends AutoCloseable {

  /** Receives messages and membership changes. Called on the implementation's threads: do not block. */
  interface Listener {
    /** A message a member sent this node; authenticate what it says before acting on it. */
    void onMessage(byte[] payload);

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

  /**
   * Sends a payload to one peer, and to no one else (best effort, never blocks): what a node
   * announces about a namespace goes only to peers that may replicate it.
   */
  void send(Peer peer, byte[] payload);

  @Override
  void close();
}
