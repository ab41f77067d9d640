package dev.mnemo.sync;

import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.codec.DagCbor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Gossip message after a write: "namespace {@code ns} has these heads; fetch blocks from
 * {@code http}". DAG-CBOR {@code {v: 1, type: "heads", ns, heads, http}}.
 */
public record HeadsAnnouncement(String ns, List<Cid> heads, String http) {
  static final long VERSION = 1;
  private static final String FORMAT = "heads announcement";

  public HeadsAnnouncement {
    heads = List.copyOf(new TreeSet<>(heads));
  }

  public byte[] encode() {
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("v", VERSION);
    map.put("type", "heads");
    map.put("ns", ns);
    map.put("heads", heads);
    map.put("http", http);
    return DagCbor.encode(map);
  }

  public static HeadsAnnouncement decode(byte[] bytes) throws InvalidFormatException {
    Map<String, Object> map = DagCbor.decodeMap(bytes);
    if (!Long.valueOf(VERSION).equals(map.get("v")) || !"heads".equals(map.get("type"))) {
      throw new InvalidFormatException(FORMAT, "unsupported version or type: " + map.get("v") + "/" + map.get("type"));
    }
    if (!(map.get("ns") instanceof String ns) || !(map.get("http") instanceof String http)
        || !(map.get("heads") instanceof List<?> list) || !list.stream().allMatch(Cid.class::isInstance)
        || list.size() > 1024) {
      throw new InvalidFormatException(FORMAT, "needs ns, http and a list of at most 1024 head links");
    }
    return new HeadsAnnouncement(ns, list.stream().map(Cid.class::cast).toList(), http);
  }
}
