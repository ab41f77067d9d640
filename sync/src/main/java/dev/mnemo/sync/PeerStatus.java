package dev.mnemo.sync;

/**
 * A peer as the operator view shows it: alive, or gone and how. Peers that left or became
 * unreachable are kept for a while after (see {@link Membership#members()}), so an operator sees a
 * node that disappeared instead of a shorter list.
 *
 * @param since epoch milliseconds when the peer entered this state
 */
public record PeerStatus(Peer peer, State state, long since) {
  public enum State {
    /** A live member. */
    ALIVE,
    /** Announced that it is shutting down. */
    LEAVING,
    /** Shut down cleanly. */
    LEFT,
    /** Removed by failure detection: it stopped answering (crash, partition, hung process). */
    UNREACHABLE;

    public String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }
}
