package dev.mnemo.store.log;

import dev.mnemo.store.cid.Cid;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Writes the log writer has decided on but not yet committed, layered over what is committed.
 * Each request stages into a child; a request that fails validation drops its child, so one bad
 * request never leaves half its writes in the group's batch. Only the writer thread uses it.
 */
final class Staging {
  /** A byte-array map key. */
  record Key(byte[] bytes) {
    @Override
    public boolean equals(Object o) {
      return o instanceof Key k && Arrays.equals(k.bytes, bytes);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(bytes);
    }
  }

  /** Lookups of committed state for what no staging layer has touched. */
  interface Committed {
    Set<Cid> heads(String ns);

    long clock(String ns);

    Long entryPosition(Cid entry);

    byte[] state(byte[] nsCidKey);
  }

  private final Staging parent;
  private final Committed committed;
  long nextPosition;
  final Map<String, Set<Cid>> heads = new HashMap<>();
  final Map<String, Long> clocks = new HashMap<>();
  final Map<Cid, Long> entries = new LinkedHashMap<>();
  final Map<Key, byte[]> states = new HashMap<>();
  /** Listing key → memory CID bytes, or null to delete. */
  final Map<Key, byte[]> listings = new LinkedHashMap<>();
  /** Block CID → bytes, or null to delete. */
  final Map<Cid, byte[]> blocks = new LinkedHashMap<>();

  private Staging(Staging parent, Committed committed, long nextPosition) {
    this.parent = parent;
    this.committed = committed;
    this.nextPosition = nextPosition;
  }

  static Staging root(Committed committed, long nextPosition) {
    return new Staging(null, committed, nextPosition);
  }

  Staging child() {
    return new Staging(this, committed, nextPosition);
  }

  Set<Cid> heads(String ns) {
    Set<Cid> set = heads.get(ns);
    if (set != null) {
      return set;
    }
    return parent != null ? parent.heads(ns) : committed.heads(ns);
  }

  long clock(String ns) {
    Long clock = clocks.get(ns);
    if (clock != null) {
      return clock;
    }
    return parent != null ? parent.clock(ns) : committed.clock(ns);
  }

  Long entryPosition(Cid entry) {
    Long position = entries.get(entry);
    if (position != null) {
      return position;
    }
    return parent != null ? parent.entryPosition(entry) : committed.entryPosition(entry);
  }

  /** A block staged in this layer or one above it, or null: what a commit has not written yet. */
  byte[] stagedBlock(Cid cid) {
    byte[] block = blocks.get(cid);
    if (block != null || parent == null) {
      return block;
    }
    return parent.stagedBlock(cid);
  }

  byte[] state(byte[] nsCidKey) {
    byte[] state = states.get(new Key(nsCidKey));
    if (state != null) {
      return state;
    }
    return parent != null ? parent.state(nsCidKey) : committed.state(nsCidKey);
  }

  /** Folds this child's writes into its parent. */
  void mergeIntoParent() {
    parent.nextPosition = nextPosition;
    parent.heads.putAll(heads);
    parent.clocks.putAll(clocks);
    parent.entries.putAll(entries);
    parent.states.putAll(states);
    parent.listings.putAll(listings);
    parent.blocks.putAll(blocks);
  }

  boolean isEmpty() {
    return entries.isEmpty();
  }
}
