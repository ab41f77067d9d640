package dev.mnemo.sync;

import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.codec.DagCbor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The messages of digest protocol v2, {@code POST /v1/sync/digest} (README "Anti-entropy
 * digest"). Each is DAG-CBOR with {@code v: 2}; the tree's shape (fan-out 16, depth 4, 16-byte
 * digests) belongs to the version.
 *
 * <ul>
 *   <li>request {@code {v: 2, want: "children" | "namespaces", level, nodes: [index]}}: the
 *       children of these nodes of {@code level} (0-3), or the namespaces under them (level 0-4);
 *   <li>children reply {@code {v: 2, children: [[count, digest]]}}: {@value NamespaceDigests#FANOUT}
 *       per node asked, in order; an empty subtree is {@code [0, h'']};
 *   <li>namespaces reply {@code {v: 2, namespaces: {ns: [heads]}, complete}}: whole nodes, in the
 *       order asked, up to {@link #MAX_NAMESPACES}; {@code complete} is false if some were left out.
 * </ul>
 */
final class DigestExchange {
  static final long VERSION = 2;
  private static final String FORMAT = "digest exchange";
  /** Nodes one request may name: a reply of children is then at most some 350 KB. */
  static final int MAX_NODES = 1_024;
  /** Namespaces one reply lists: some 0.5 MB with a head or two each. */
  static final int MAX_NAMESPACES = 4_096;

  private DigestExchange() {}

  enum Want {
    CHILDREN("children"),
    NAMESPACES("namespaces");

    final String wire;

    Want(String wire) {
      this.wire = wire;
    }
  }

  record Request(Want want, int level, List<Integer> nodes) {
    Request {
      nodes = List.copyOf(nodes);
      int maxLevel = want == Want.CHILDREN ? NamespaceDigests.DEPTH - 1 : NamespaceDigests.DEPTH;
      if (level < 0 || level > maxLevel) {
        throw new IllegalArgumentException("level must be 0-" + maxLevel + " for " + want.wire);
      }
      if (nodes.isEmpty() || nodes.size() > MAX_NODES) {
        throw new IllegalArgumentException("a request names 1-" + MAX_NODES + " nodes");
      }
      // Distinct, so that one request costs at most one pass over the buckets whatever it names.
      if (new java.util.HashSet<>(nodes).size() != nodes.size()) {
        throw new IllegalArgumentException("a request names each node once");
      }
      long width = 1L << (4 * level);
      for (int node : nodes) {
        if (node < 0 || node >= width) {
          throw new IllegalArgumentException("node " + node + " is not on level " + level);
        }
      }
    }

    byte[] encode() {
      Map<String, Object> map = new LinkedHashMap<>();
      map.put("v", VERSION);
      map.put("want", want.wire);
      map.put("level", (long) level);
      map.put("nodes", nodes.stream().map(Integer::longValue).toList());
      return DagCbor.encode(map);
    }

    static Request decode(byte[] bytes) throws InvalidFormatException {
      Map<String, Object> map = DagCbor.decodeMap(bytes);
      if (!Long.valueOf(VERSION).equals(map.get("v"))) {
        throw new InvalidFormatException(FORMAT, "unsupported version " + map.get("v") + " (this node speaks " + VERSION + ")");
      }
      Want want = null;
      for (Want w : Want.values()) {
        if (w.wire.equals(map.get("want"))) {
          want = w;
        }
      }
      if (want == null || !(map.get("level") instanceof Long level) || !(map.get("nodes") instanceof List<?> list)
          || !list.stream().allMatch(Long.class::isInstance) || map.size() != 4) {
        throw new InvalidFormatException(FORMAT, "needs exactly v, want (children or namespaces), level and a list of node indices");
      }
      List<Integer> nodes = new ArrayList<>(list.size());
      for (Object o : list) {
        long n = (Long) o;
        nodes.add(n < 0 || n > Integer.MAX_VALUE ? -1 : (int) n);
      }
      try {
        return new Request(want, level > Integer.MAX_VALUE || level < 0 ? -1 : level.intValue(), nodes);
      } catch (IllegalArgumentException e) {
        throw new InvalidFormatException(FORMAT, e.getMessage());
      }
    }
  }

  static byte[] encodeChildren(List<NamespaceDigests.Node> children) {
    List<Object> list = new ArrayList<>(children.size());
    for (NamespaceDigests.Node child : children) {
      list.add(List.of(child.count(), child.digest()));
    }
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("v", VERSION);
    map.put("children", list);
    return DagCbor.encode(map);
  }

  /** The children in a reply to a request for {@code nodes} nodes' children. */
  static List<NamespaceDigests.Node> decodeChildren(byte[] bytes, int nodes) throws InvalidFormatException {
    Map<String, Object> map = DagCbor.decodeMap(bytes);
    if (!Long.valueOf(VERSION).equals(map.get("v")) || !(map.get("children") instanceof List<?> list)
        || list.size() != nodes * NamespaceDigests.FANOUT) {
      throw new InvalidFormatException(FORMAT, "a children reply needs v " + VERSION + " and " + NamespaceDigests.FANOUT
          + " children per node asked");
    }
    List<NamespaceDigests.Node> out = new ArrayList<>(list.size());
    for (Object o : list) {
      if (!(o instanceof List<?> pair) || pair.size() != 2 || !(pair.get(0) instanceof Long count) || count < 0
          || !(pair.get(1) instanceof byte[] digest) || digest.length != (count == 0 ? 0 : NamespaceDigests.DIGEST_BYTES)) {
        throw new InvalidFormatException(FORMAT, "a child is [count, digest of " + NamespaceDigests.DIGEST_BYTES + " bytes]");
      }
      out.add(NamespaceDigests.Node.of(count, digest));
    }
    return out;
  }

  record Namespaces(Map<String, List<Cid>> heads, boolean complete) {}

  static byte[] encodeNamespaces(Map<String, List<Cid>> heads, boolean complete) {
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("v", VERSION);
    map.put("namespaces", new TreeMap<>(heads));
    map.put("complete", complete);
    return DagCbor.encode(map);
  }

  static Namespaces decodeNamespaces(byte[] bytes) throws InvalidFormatException {
    Map<String, Object> map = DagCbor.decodeMap(bytes);
    if (!Long.valueOf(VERSION).equals(map.get("v")) || !(map.get("namespaces") instanceof Map<?, ?> raw)
        || !(map.get("complete") instanceof Boolean complete)) {
      throw new InvalidFormatException(FORMAT, "a namespaces reply needs v " + VERSION + ", namespaces and complete");
    }
    if (raw.size() > MAX_NAMESPACES) {
      throw new InvalidFormatException(FORMAT, "more than " + MAX_NAMESPACES + " namespaces in one reply");
    }
    Map<String, List<Cid>> heads = new TreeMap<>();
    for (Map.Entry<?, ?> e : raw.entrySet()) {
      if (!(e.getValue() instanceof List<?> list) || !list.stream().allMatch(Cid.class::isInstance)) {
        throw new InvalidFormatException(FORMAT, "heads of " + e.getKey() + " must be a list of links");
      }
      heads.put((String) e.getKey(), list.stream().map(Cid.class::cast).toList());
    }
    return new Namespaces(heads, complete);
  }
}
