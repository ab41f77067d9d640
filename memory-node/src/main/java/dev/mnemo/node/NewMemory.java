package dev.mnemo.node;

import dev.mnemo.store.cid.Cid;
import java.util.List;
import java.util.Map;

/**
 * A memory as an agent sends it: optional vector (else the node embeds), time, previous version,
 * and when the fact holds ({@code validFrom} inclusive, {@code validTo} exclusive; null for open).
 */
public record NewMemory(String text, Map<String, Object> metadata, List<String> tags, float[] vector, Long ts, Cid prev,
    Long validFrom, Long validTo) {
  /** A memory whose fact holds at every time. */
  public NewMemory(String text, Map<String, Object> metadata, List<String> tags, float[] vector, Long ts, Cid prev) {
    this(text, metadata, tags, vector, ts, prev, null, null);
  }
}
