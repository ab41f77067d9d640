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

  /** This node's member id and the address it gossips on. */
  String localId();

  String localAddress();

  /** Spreads a payload to every member by gossip (at-most-once per member, best effort). */
  void gossip(byte[] payload);

  @Override
  void close();
}
