package dev.mnemo.sync;

import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.codec.DagCbor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A batch block request, {@code POST /v1/sync/blocks} with DAG-CBOR {@code {v: 1, cids: [...]}};
 * the answer is a CAR v1 stream of the blocks the peer has (missing ones are left out).
 */
public record BlockRequest(List<Cid> cids) {
  static final long VERSION = 1;
  /** One request asks for at most this many blocks, bounding the response a peer builds. */
  public static final int MAX_CIDS = 1_000;
  private static final String FORMAT = "block request";

  public BlockRequest {
    if (cids.isEmpty() || cids.size() > MAX_CIDS) {
      throw new IllegalArgumentException("a block request names 1-" + MAX_CIDS + " CIDs");
    }
    cids = List.copyOf(cids);
  }

  public byte[] encode() {
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("v", VERSION);
    map.put("cids", cids);
    return DagCbor.encode(map);
  }

  public static BlockRequest decode(byte[] bytes) throws InvalidFormatException {
    Map<String, Object> map = DagCbor.decodeMap(bytes);
    if (!Long.valueOf(VERSION).equals(map.get("v")) || !(map.get("cids") instanceof List<?> list)
        || !list.stream().allMatch(Cid.class::isInstance) || list.isEmpty() || list.size() > MAX_CIDS) {
      throw new InvalidFormatException(FORMAT, "needs v: 1 and 1-" + MAX_CIDS + " links in cids");
    }
    return new BlockRequest(list.stream().map(Cid.class::cast).toList());
  }
}
