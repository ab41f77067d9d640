package dev.mnemo.store.log;

import dev.mnemo.store.cid.Cid;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
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

    AclGraph graph(String ns);

    /** A committed record of the {@code acl} family, or null. */
    byte[] aclRecord(byte[] key);

    /** A committed record of the {@code links} family, or null. */
    byte[] linkRecord(byte[] key);

    /** The links of a stored memory, read from its block (for one no request brought). */
    MemoryLinks.Link storedLink(Cid memory);
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
  /** Block CID → bytes, or null to delete, or {@link #SPILLED}: bytes to read from {@link #spilled} when written. */
  final Map<Cid, byte[]> blocks = new LinkedHashMap<>();
  /**
   * Where the blocks staged as {@link #SPILLED} are: an import's memories stay in its spill file
   * until the batch is written, so that a 200 MiB CAR never sits in the heap whole.
   */
  final Map<Cid, NamespaceLog.SpilledBlocks> spilled = new HashMap<>();
  /** Namespaces whose access-control entries changed: their new graphs. */
  final Map<String, AclGraph> graphs = new HashMap<>();
  /** Records of the {@code acl} family (see LogKeys), or null to delete. */
  final Map<Key, byte[]> acl = new LinkedHashMap<>();
  /** Memories that became void: cached copies must go once the batch commits. */
  final List<Cid> voided = new ArrayList<>();
  /** Adds that a revoke staged here made void. */
  final Set<Cid> voidedEntries = new java.util.HashSet<>();
  /** Records of the {@code links} family (see MemoryLinks), or null to delete. */
  final Map<Key, byte[]> links = new HashMap<>();
  /** The links of memories the staged requests brought, computed on their callers' threads. */
  final Map<Cid, MemoryLinks.Link> broughtLinks = new HashMap<>();

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

  /** Marks a staged block whose bytes are read from {@link #spilled} (compared by identity). */
  static final byte[] SPILLED = new byte[0];

  /** Stages a block brought in a spill file: its bytes are read when the batch is written. */
  void stageSpilled(Cid cid, NamespaceLog.SpilledBlocks from) {
    blocks.put(cid, SPILLED);
    spilled.put(cid, from);
  }

  /** The bytes of a block staged as {@link #SPILLED} in this layer or one above it, read from its spill. */
  byte[] readSpilled(Cid cid) {
    for (Staging layer = this; layer != null; layer = layer.parent) {
      NamespaceLog.SpilledBlocks from = layer.spilled.get(cid);
      if (from != null) {
        try {
          return from.read(cid);
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }
    }
    throw new IllegalStateException("block " + cid + " is staged as spilled, with no spill to read it from");
  }

  /** A block staged in this layer or one above it, or null: what a commit has not written yet. */
  byte[] stagedBlock(Cid cid) {
    for (Staging layer = this; layer != null; layer = layer.parent) {
      byte[] block = layer.blocks.get(cid);
      if (block == SPILLED) {
        return readSpilled(cid);
      }
      if (block != null) {
        return block;
      }
    }
    return null;
  }

  byte[] state(byte[] nsCidKey) {
    byte[] state = states.get(new Key(nsCidKey));
    if (state != null) {
      return state;
    }
    return parent != null ? parent.state(nsCidKey) : committed.state(nsCidKey);
  }

  AclGraph graph(String ns) {
    AclGraph graph = graphs.get(ns);
    if (graph != null) {
      return graph;
    }
    return parent != null ? parent.graph(ns) : committed.graph(ns);
  }

  byte[] aclRecord(byte[] key) {
    Key k = new Key(key);
    if (acl.containsKey(k)) {
      return acl.get(k);
    }
    return parent != null ? parent.aclRecord(key) : committed.aclRecord(key);
  }

  byte[] link(byte[] key) {
    Key k = new Key(key);
    if (links.containsKey(k)) {
      return links.get(k);
    }
    return parent != null ? parent.link(key) : committed.linkRecord(key);
  }

  /** The links of a memory becoming live: as its request brought them, else read from its block. */
  MemoryLinks.Link linkOf(Cid memory) {
    for (Staging layer = this; layer != null; layer = layer.parent) {
      MemoryLinks.Link link = layer.broughtLinks.get(memory);
      if (link != null) {
        return link;
      }
    }
    byte[] staged = stagedBlock(memory);
    if (staged != null) {
      try {
        return MemoryLinks.Link.of(dev.mnemo.store.model.Memory.decode(staged));
      } catch (dev.mnemo.store.InvalidFormatException e) {
        throw new IllegalStateException("a staged memory block does not decode: " + e.getMessage(), e);
      }
    }
    return committed.storedLink(memory);
  }

  /** Applies the staged {@code acl} records under {@code prefix}, outermost layer first, onto committed ones. */
  void overlayAcl(byte[] prefix, Map<Key, byte[]> into) {
    if (parent != null) {
      parent.overlayAcl(prefix, into);
    }
    for (Map.Entry<Key, byte[]> e : acl.entrySet()) {
      if (LogKeys.hasPrefix(e.getKey().bytes(), prefix)) {
        if (e.getValue() == null) {
          into.remove(e.getKey());
        } else {
          into.put(e.getKey(), e.getValue());
        }
      }
    }
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
    parent.spilled.putAll(spilled);
    parent.graphs.putAll(graphs);
    parent.acl.putAll(acl);
    parent.voided.addAll(voided);
    parent.voidedEntries.addAll(voidedEntries);
    parent.links.putAll(links);
    parent.broughtLinks.putAll(broughtLinks);
  }

  boolean isEmpty() {
    return entries.isEmpty();
  }
}
