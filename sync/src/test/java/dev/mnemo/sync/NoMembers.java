package dev.mnemo.sync;

import java.util.List;

/**
 * The membership SPI with no one in it, for tests that start pulls by hand and never gossip; tests
 * that script members override what they need.
 */
class NoMembers implements Membership {
  @Override
  public void start(Listener listener) {}

  @Override
  public List<Peer> peers() {
    return List.of();
  }

  @Override
  public List<PeerStatus> members() {
    return List.of();
  }

  @Override
  public String localId() {
    return "test";
  }

  @Override
  public String localAddress() {
    return "127.0.0.1:0";
  }

  @Override
  public void send(Peer peer, byte[] payload) {}

  @Override
  public void close() {}
}
