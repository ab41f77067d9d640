package dev.mnemo.sync;

import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.codec.DagCbor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A walk request, {@code POST /v1/sync/entries} with DAG-CBOR {@code {v: 1, cids, have, depth}}:
 * the log entries named in {@code cids} and their ancestors down to {@code depth} levels below
 * them, breadth first, not going past the asker's heads ({@code have}, whose ancestors it holds).
 * The answer is a CAR v1 of at most {@link #MAX_BLOCKS} entries (and {@link #MAX_BYTES}, once the
 * named ones are in), blocks the peer lacks or may not serve left out.
 *
 * <p>Why: a pull that walked back one level of parents per request took one round trip per level,
 * and a node catching up on 25 s of writes from two writers walked hundreds of levels (19 s on a
 * loaded machine, most of the convergence time of a fault run). The asker doubles {@code depth}
 * from 0 as the walk goes deeper, so a pull one entry behind asks for exactly that entry, and a
 * deep one takes a few round trips.
 */
public record EntriesRequest(List<Cid> cids, List<Cid> have, int depth) {
  static final long VERSION = 1;
  /** Entries in one answer at most, as {@link BlockRequest#MAX_CIDS}. */
  public static final int MAX_BLOCKS = BlockRequest.MAX_CIDS;
  /** Past the named entries, ancestors stop being added once the answer is this large. */
  public static final int MAX_BYTES = 8 << 20;
  /** The deepest walk one request may ask for. */
  public static final int MAX_DEPTH = 256;
  private static final String FORMAT = "entries request";

  public EntriesRequest {
    if (cids.isEmpty() || cids.size() > BlockRequest.MAX_CIDS || have.size() > BlockRequest.MAX_CIDS || depth < 0
        || depth > MAX_DEPTH) {
      throw new IllegalArgumentException("an entries request names 1-" + BlockRequest.MAX_CIDS + " CIDs, at most "
          + BlockRequest.MAX_CIDS + " heads it has, and a depth of 0-" + MAX_DEPTH);
    }
    cids = List.copyOf(cids);
    have = List.copyOf(have);
  }

  public byte[] encode() {
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("v", VERSION);
    map.put("cids", cids);
    map.put("have", have);
    map.put("depth", (long) depth);
    return DagCbor.encode(map);
  }

  public static EntriesRequest decode(byte[] bytes) throws InvalidFormatException {
    Map<String, Object> map = DagCbor.decodeMap(bytes);
    if (!Long.valueOf(VERSION).equals(map.get("v")) || !(map.get("cids") instanceof List<?> cids)
        || !(map.get("have") instanceof List<?> have) || !(map.get("depth") instanceof Long depth)
        || !cids.stream().allMatch(Cid.class::isInstance) || !have.stream().allMatch(Cid.class::isInstance)
        || cids.isEmpty() || cids.size() > BlockRequest.MAX_CIDS || have.size() > BlockRequest.MAX_CIDS
        || depth < 0 || depth > MAX_DEPTH) {
      throw new InvalidFormatException(FORMAT, "needs v: 1, 1-" + BlockRequest.MAX_CIDS + " links in cids, at most "
          + BlockRequest.MAX_CIDS + " in have, and a depth of 0-" + MAX_DEPTH);
    }
    return new EntriesRequest(cids.stream().map(Cid.class::cast).toList(), have.stream().map(Cid.class::cast).toList(),
        depth.intValue());
  }
}
