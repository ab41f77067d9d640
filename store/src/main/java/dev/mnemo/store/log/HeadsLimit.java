package dev.mnemo.store.log;

/**
 * What one apply of entries from outside may do to a namespace's heads: add at most
 * {@code maxAdded} to the count it had before (an import's bound), and, when it adds any, leave at
 * most {@code maxTotal} (a replicated batch's bound: a pull comes in several batches, so only a
 * bound on the total holds across them). {@link Integer#MAX_VALUE} leaves a side unbounded.
 */
public record HeadsLimit(int maxAdded, int maxTotal) {
  public static final HeadsLimit NONE = new HeadsLimit(Integer.MAX_VALUE, Integer.MAX_VALUE);

  public HeadsLimit {
    if (maxAdded < 1 || maxTotal < 1) {
      throw new IllegalArgumentException("head limits must be positive");
    }
  }

  public static HeadsLimit added(int maxAdded) {
    return new HeadsLimit(maxAdded, Integer.MAX_VALUE);
  }

  public static HeadsLimit total(int maxTotal) {
    return new HeadsLimit(Integer.MAX_VALUE, maxTotal);
  }

  /** Refuses {@code before} heads becoming {@code after} in {@code ns} if this limit does not allow it. */
  void check(String ns, int before, int after) throws TooManyHeadsException {
    if (after - before > maxAdded) {
      throw new TooManyHeadsException(ns, after - before, maxAdded, "the batch would add " + (after - before)
          + " heads to namespace " + ns + "; at most " + maxAdded + " may come in at once");
    }
    if (after > before && after > maxTotal) {
      throw new TooManyHeadsException(ns, after, maxTotal, "the batch would leave namespace " + ns + " with " + after
          + " heads; at most " + maxTotal + " are taken in from a peer");
    }
  }
}
