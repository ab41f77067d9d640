package dev.mnemo.sync;

import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.codec.DagCbor;
import dev.mnemo.store.identity.AgentKey;
import dev.mnemo.store.identity.DidKey;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Message after a write, sent to each peer that may replicate the namespace: "namespace
 * {@code ns} has these heads", signed by the announcing node. DAG-CBOR
 * {@code {v: 2, type: "heads", ns, heads, did, sig}}; {@code sig} is the node key's Ed25519
 * signature of {@code "mnemo heads announcement\n"} followed by the DAG-CBOR of the map without
 * {@code sig}. It names no address: the receiver pulls from the member whose verified card carries
 * {@code did}, so no message can send a node's requests anywhere else.
 */
public record HeadsAnnouncement(String ns, List<Cid> heads, DidKey did) {
  static final long VERSION = 2;
  private static final String FORMAT = "heads announcement";
  private static final byte[] CONTEXT = "mnemo heads announcement\n".getBytes(StandardCharsets.UTF_8);
  /** The most heads an entry may name, so the most an honest node has. */
  static final int MAX_HEADS = 1024;

  public HeadsAnnouncement {
    heads = List.copyOf(new TreeSet<>(heads));
  }

  /** Signed by {@code key}, whose did this announcement must carry. */
  public byte[] encode(AgentKey key) {
    if (!key.did().equals(did)) {
      throw new IllegalArgumentException("an announcement by " + did + " cannot be signed by " + key.did());
    }
    Map<String, Object> map = unsigned();
    map.put("sig", key.sign(signedBytes(DagCbor.encode(map))));
    return DagCbor.encode(map);
  }

  private Map<String, Object> unsigned() {
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("v", VERSION);
    map.put("type", "heads");
    map.put("ns", ns);
    map.put("heads", heads);
    map.put("did", did.toString());
    return map;
  }

  /** The announcement in {@code bytes}, its signature verified; throws when unreadable or forged. */
  public static HeadsAnnouncement decode(byte[] bytes) throws InvalidFormatException {
    Map<String, Object> map = DagCbor.decodeMap(bytes);
    if (!Long.valueOf(VERSION).equals(map.get("v")) || !"heads".equals(map.get("type"))) {
      throw new InvalidFormatException(FORMAT, "unsupported version or type: " + map.get("v") + "/" + map.get("type"));
    }
    if (!(map.get("ns") instanceof String ns) || !(map.get("did") instanceof String didText)
        || !(map.get("sig") instanceof byte[] sig) || !(map.get("heads") instanceof List<?> list)
        || !list.stream().allMatch(Cid.class::isInstance) || list.size() > MAX_HEADS || map.size() != 6) {
      throw new InvalidFormatException(FORMAT, "needs exactly ns, did, sig and a list of at most " + MAX_HEADS + " head links");
    }
    HeadsAnnouncement announcement = new HeadsAnnouncement(ns, list.stream().map(Cid.class::cast).toList(), DidKey.parse(didText));
    if (!announcement.heads().equals(list)) {
      // Sorted and unique as encoded, or the signed bytes are not the ones checked below.
      throw new InvalidFormatException(FORMAT, "heads must be sorted and unique");
    }
    if (!announcement.did().verify(signedBytes(DagCbor.encode(announcement.unsigned())), sig)) {
      throw new InvalidFormatException(FORMAT, "signature does not verify for " + didText);
    }
    return announcement;
  }

  private static byte[] signedBytes(byte[] cbor) {
    byte[] out = Arrays.copyOf(CONTEXT, CONTEXT.length + cbor.length);
    System.arraycopy(cbor, 0, out, CONTEXT.length, cbor.length);
    return out;
  }
}
