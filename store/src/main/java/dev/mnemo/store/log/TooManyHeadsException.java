package dev.mnemo.store.log;

/**
 * Entries from outside that would leave a namespace with more heads than a node takes in at
 * once: a CAR of thousands of separate roots, or a peer that serves such a fan. Each head is a
 * parent the next local write must list, so an unbounded fan makes every later entry of the
 * namespace large. Nothing of the batch was stored.
 */
public final class TooManyHeadsException extends RejectedEntryException {
  private final String ns;
  private final int heads;
  private final int limit;

  TooManyHeadsException(String ns, int heads, int limit, String message) {
    super(null, message);
    this.ns = ns;
    this.heads = heads;
    this.limit = limit;
  }

  public String ns() {
    return ns;
  }

  /** The heads the batch would have added (an import's bound) or left (a replication's bound). */
  public int heads() {
    return heads;
  }

  public int limit() {
    return limit;
  }
}
