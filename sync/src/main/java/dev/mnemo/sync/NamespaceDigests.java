package dev.mnemo.sync;

import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.identity.DidKey;
import dev.mnemo.store.log.NamespaceLog;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The hash tree anti-entropy compares (digest protocol v2, README "Anti-entropy digest"): every
 * namespace a node holds, as a leaf hash of its sorted heads, in one of 65,536 buckets chosen by
 * its name's hash; a tree of fan-out 16 and depth 4 over the buckets, each node the XOR of the
 * leaf hashes under it and their count. Two nodes that hold the same heads have the same tree; a
 * peer that differs in one namespace differs in one path of it, which the asker walks down
 * ({@link Reconciliation}) instead of fetching every namespace's heads.
 *
 * <p>Kept up to date rather than computed per request: built once, on first use, in one pass over
 * the heads; then only the namespaces whose heads a commit changed are hashed again (the log
 * tells which, {@link NamespaceLog#onHeadsChanged}), when the tree is next read. XOR makes that an
 * update of one bucket, not a rebuild.
 *
 * <p>Each peer sees the tree of the namespaces it may replicate, no other ({@link #view}): a peer
 * the policy trusts with every namespace reads the tree kept here; any other gets one summed from
 * the cached leaf hashes of its namespaces alone (no hashing, no reads), kept until heads change.
 * Counts and digests then say nothing of the namespaces it may not replicate.
 */
public final class NamespaceDigests {
  /** Children of a tree node. */
  static final int FANOUT = 16;
  /** Levels below the root; the last is the buckets. */
  static final int DEPTH = 4;
  static final int BUCKETS = 1 << (4 * DEPTH);
  /** Bytes of a leaf hash or a node digest: 128 bits, so two different sets never collide by chance. */
  static final int DIGEST_BYTES = 16;
  /** Per-peer trees kept for peers that replicate by namespace grants. */
  private static final int FILTERED_VIEWS = 16;
  private static final byte[] LEAF_CONTEXT = "mnemo namespace heads v2\n".getBytes(StandardCharsets.US_ASCII);

  private final NamespaceLog log;
  /** Set once the first build starts: from then on, every changed namespace is noted here. */
  private volatile boolean tracking;
  private final Set<String> dirty = ConcurrentHashMap.newKeySet();

  // Guarded by this.
  private boolean built;
  private final Map<String, Leaf> leaves = new HashMap<>();
  /** Leaves by bucket, then name: the key is the bucket as a char, then the name. */
  private final TreeMap<String, Leaf> byBucket = new TreeMap<>();
  private Tree all;
  private long generation;
  /** The whole tree as of {@link #generation}, for peers that may replicate everything. */
  private Filtered allSnapshot;
  private final Map<DidKey, Filtered> filtered = new LinkedHashMap<>(FILTERED_VIEWS, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<DidKey, Filtered> eldest) {
      return size() > FILTERED_VIEWS;
    }
  };

  record Leaf(String ns, int bucket, long hi, long lo) {}

  /** Per-bucket XORs and counts. */
  private static final class Tree {
    final long[] hi = new long[BUCKETS];
    final long[] lo = new long[BUCKETS];
    final int[] count = new int[BUCKETS];

    void toggle(Leaf leaf, int sign) {
      hi[leaf.bucket] ^= leaf.hi;
      lo[leaf.bucket] ^= leaf.lo;
      count[leaf.bucket] += sign;
    }
  }

  private record Filtered(long generation, Tree tree) {}

  public NamespaceDigests(NamespaceLog log) {
    this.log = log;
    log.onHeadsChanged(ns -> {
      if (tracking) {
        dirty.add(ns);
      }
    });
  }

  /** A subtree's aggregate: how many namespaces are under it and the XOR of their leaf hashes. */
  record Node(long count, long hi, long lo) {
    static final Node EMPTY = new Node(0, 0, 0);

    byte[] digest() {
      return count == 0 ? new byte[0] : ByteBuffer.allocate(DIGEST_BYTES).putLong(hi).putLong(lo).array();
    }

    static Node of(long count, byte[] digest) {
      if (count == 0) {
        return EMPTY;
      }
      ByteBuffer buf = ByteBuffer.wrap(digest);
      return new Node(count, buf.getLong(), buf.getLong());
    }
  }

  /**
   * The tree as {@code peer} may see it: over the namespaces {@code policy} lets it replicate.
   * A snapshot of the moment; reads of it never block the writer.
   */
  public View view(ReplicationPolicy policy, DidKey peer) {
    synchronized (this) {
      refresh();
      if (policy.mayReplicateAll(peer)) {
        // One copy a generation, shared by every view of it: a comparison asks for several.
        if (allSnapshot == null || allSnapshot.generation != generation) {
          allSnapshot = new Filtered(generation, copyOf(all));
        }
        return new View(allSnapshot.tree, null, null);
      }
      Filtered f = filtered.get(peer);
      if (f == null || f.generation != generation) {
        Tree tree = new Tree();
        for (Leaf leaf : leaves.values()) {
          if (policy.mayReplicate(peer, leaf.ns)) {
            tree.toggle(leaf, 1);
          }
        }
        f = new Filtered(generation, tree);
        filtered.put(peer, f);
      }
      return new View(f.tree, policy, peer);
    }
  }

  /**
   * A copy, so that a reader walks a fixed tree while commits go on (1.3 MB, copied in well under
   * a millisecond, once a generation; the per-peer trees are replaced, never changed, and need no copy).
   */
  private static Tree copyOf(Tree tree) {
    Tree copy = new Tree();
    System.arraycopy(tree.hi, 0, copy.hi, 0, BUCKETS);
    System.arraycopy(tree.lo, 0, copy.lo, 0, BUCKETS);
    System.arraycopy(tree.count, 0, copy.count, 0, BUCKETS);
    return copy;
  }

  /** What one peer may see of the tree. */
  public final class View {
    private final Tree tree;
    /** Null when the peer may replicate every namespace. */
    private final ReplicationPolicy policy;
    private final DidKey peer;

    private View(Tree tree, ReplicationPolicy policy, DidKey peer) {
      this.tree = tree;
      this.policy = policy;
      this.peer = peer;
    }

    /** Node {@code index} of {@code level} (0: the root; {@link #DEPTH}: a bucket). */
    Node node(int level, int index) {
      int span = 1 << (4 * (DEPTH - level));
      long count = 0;
      long hi = 0;
      long lo = 0;
      for (int b = index * span, end = b + span; b < end; b++) {
        count += tree.count[b];
        hi ^= tree.hi[b];
        lo ^= tree.lo[b];
      }
      return count == 0 ? Node.EMPTY : new Node(count, hi, lo);
    }

    /** The {@link #FANOUT} children of node {@code index} of {@code level}, which must be above the buckets. */
    List<Node> children(int level, int index) {
      List<Node> out = new ArrayList<>(FANOUT);
      for (int k = 0; k < FANOUT; k++) {
        out.add(node(level + 1, index * FANOUT + k));
      }
      return out;
    }

    /**
     * The namespaces under the given nodes of {@code level} and their current heads: whole nodes,
     * in the order given, while they fit in {@code max} namespaces (the first {@code max} of the
     * first node, if that alone is more); {@code complete} says whether every node fit.
     */
    DigestExchange.Namespaces namespaces(int level, Collection<Integer> indices, int max) {
      Map<String, List<Cid>> out = new TreeMap<>();
      boolean complete = true;
      for (int index : indices) {
        List<String> names = names(level, index);
        if (out.size() + names.size() > max) {
          complete = false;
          if (!out.isEmpty()) {
            break;
          }
          names = names.subList(0, max);
        }
        for (String ns : names) {
          out.put(ns, List.copyOf(log.heads(ns)));
        }
      }
      return new DigestExchange.Namespaces(out, complete);
    }

    private List<String> names(int level, int index) {
      int span = 1 << (4 * (DEPTH - level));
      List<String> names = new ArrayList<>();
      synchronized (NamespaceDigests.this) {
        String from = String.valueOf((char) (index * span));
        int end = (index + 1) * span;
        Map<String, Leaf> range = end >= BUCKETS ? byBucket.tailMap(from, true) : byBucket.subMap(from, true, String.valueOf((char) end), false);
        for (Leaf leaf : range.values()) {
          if (policy == null || policy.mayReplicate(peer, leaf.ns)) {
            names.add(leaf.ns);
          }
        }
      }
      return names;
    }
  }

  /** Builds the tree on first use; then hashes again the namespaces changed since the last read. */
  private void refresh() {
    if (!built) {
      // Also after a build that failed part-way: its leaves must not be subtracted from a new tree.
      leaves.clear();
      byBucket.clear();
      all = new Tree();
      tracking = true;
      log.forEachNamespaceHeads(this::put);
      built = true;
    }
    if (dirty.isEmpty()) {
      return;
    }
    for (String ns : List.copyOf(dirty)) {
      dirty.remove(ns);
      put(ns, log.heads(ns));
    }
  }

  private void put(String ns, Collection<Cid> heads) {
    Leaf old = leaves.get(ns);
    Leaf leaf = heads.isEmpty() ? null : leaf(ns, heads);
    if (old != null && old.equals(leaf)) {
      return;
    }
    generation++;
    if (old != null) {
      all.toggle(old, -1);
      leaves.remove(ns);
      byBucket.remove(key(old));
    }
    if (leaf != null) {
      all.toggle(leaf, 1);
      leaves.put(ns, leaf);
      byBucket.put(key(leaf), leaf);
    }
  }

  private static String key(Leaf leaf) {
    return (char) leaf.bucket + leaf.ns;
  }

  /**
   * The leaf of {@code ns}: its bucket, the first 16 bits of SHA-256 of its name; its hash, the
   * first 128 bits of SHA-256 of {@code "mnemo namespace heads v2\n"}, the name, a zero byte, and
   * each head's binary CID (in unsigned byte order) after its length as two bytes.
   */
  /** The bucket of {@code ns}: the first 16 bits of SHA-256 of its name. */
  static int bucket(String ns) {
    return bucket(sha256().digest(ns.getBytes(StandardCharsets.UTF_8)));
  }

  private static int bucket(byte[] nameHash) {
    return ((nameHash[0] & 0xff) << 8) | (nameHash[1] & 0xff);
  }

  static Leaf leaf(String ns, Collection<Cid> heads) {
    MessageDigest sha = sha256();
    byte[] name = ns.getBytes(StandardCharsets.UTF_8);
    int bucket = bucket(sha.digest(name));
    List<byte[]> cids = new ArrayList<>(heads.size());
    for (Cid head : heads) {
      cids.add(head.toBytes());
    }
    cids.sort(Arrays::compareUnsigned);
    sha.update(LEAF_CONTEXT);
    sha.update(name);
    sha.update((byte) 0);
    for (byte[] cid : cids) {
      sha.update((byte) (cid.length >> 8));
      sha.update((byte) cid.length);
      sha.update(cid);
    }
    ByteBuffer hash = ByteBuffer.wrap(sha.digest());
    return new Leaf(ns, bucket, hash.getLong(), hash.getLong());
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }
}
