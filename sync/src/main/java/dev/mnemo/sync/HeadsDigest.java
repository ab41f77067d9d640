package dev.mnemo.sync;

import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.codec.DagCbor;
import dev.mnemo.store.identity.DidKey;
import dev.mnemo.store.log.NamespaceLog;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Anti-entropy digest v1: every namespace a node holds and its heads. DAG-CBOR
 * {@code {v: 1, namespaces: {ns: [heads]}}}, served at {@code GET /v1/sync/heads}. Nodes now compare
 * by digest protocol v2 ({@link NamespaceDigests}, {@link Reconciliation}), which stays small when
 * little differs; this one is still served to, and asked of, nodes older than v2.
 */
public record HeadsDigest(Map<String, List<Cid>> namespaces) {
  static final long VERSION = 1;
  private static final String FORMAT = "heads digest";

  /** Every namespace: for this node's own views and tests, never for a peer (see the overload). */
  public static HeadsDigest of(NamespaceLog log) {
    return of(log, (peer, ns) -> true, null);
  }

  /**
   * The digest for {@code peer}: only the namespaces it may replicate, so that a peer without the
   * right learns neither the heads nor the name of a namespace.
   */
  public static HeadsDigest of(NamespaceLog log, ReplicationPolicy policy, DidKey peer) {
    Map<String, List<Cid>> namespaces = new TreeMap<>();
    for (String ns : log.namespaces()) {
      if (policy.mayReplicate(peer, ns)) {
        namespaces.put(ns, List.copyOf(log.heads(ns)));
      }
    }
    return new HeadsDigest(namespaces);
  }

  public byte[] encode() {
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("v", VERSION);
    map.put("namespaces", new TreeMap<>(namespaces));
    return DagCbor.encode(map);
  }

  public static HeadsDigest decode(byte[] bytes) throws InvalidFormatException {
    Map<String, Object> map = DagCbor.decodeMap(bytes);
    if (!Long.valueOf(VERSION).equals(map.get("v")) || !(map.get("namespaces") instanceof Map<?, ?> raw)) {
      throw new InvalidFormatException(FORMAT, "unsupported version or missing namespaces");
    }
    Map<String, List<Cid>> namespaces = new TreeMap<>();
    for (Map.Entry<?, ?> e : raw.entrySet()) {
      if (!(e.getValue() instanceof List<?> list) || !list.stream().allMatch(Cid.class::isInstance)) {
        throw new InvalidFormatException(FORMAT, "heads of " + e.getKey() + " must be a list of links");
      }
      namespaces.put((String) e.getKey(), list.stream().map(Cid.class::cast).toList());
    }
    return new HeadsDigest(namespaces);
  }
}
