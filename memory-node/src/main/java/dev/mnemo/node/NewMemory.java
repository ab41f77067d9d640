package dev.mnemo.node;

import dev.mnemo.store.cid.Cid;
import java.util.List;
import java.util.Map;

/**
 * A memory as an agent sends it: optional vector (else the node embeds), time, previous version,
 * and when the fact holds ({@code validFrom} inclusive, {@code validTo} exclusive; null for open).
 * {@code embedContext} is the metadata the node embeds the text with; null for the node's default.
 */
public record NewMemory(String text, Map<String, Object> metadata, List<String> tags, float[] vector, Long ts, Cid prev,
    Long validFrom, Long validTo, EmbedContext embedContext) {
  /** A memory whose fact holds at every time, embedded with the node's default context. */
  public NewMemory(String text, Map<String, Object> metadata, List<String> tags, float[] vector, Long ts, Cid prev) {
    this(text, metadata, tags, vector, ts, prev, null, null, null);
  }

  public NewMemory(String text, Map<String, Object> metadata, List<String> tags, float[] vector, Long ts, Cid prev,
      Long validFrom, Long validTo) {
    this(text, metadata, tags, vector, ts, prev, validFrom, validTo, null);
  }

  public NewMemory(String text, Map<String, Object> metadata, List<String> tags, float[] vector, Long ts, Cid prev,
      EmbedContext embedContext) {
    this(text, metadata, tags, vector, ts, prev, null, null, embedContext);
  }
}
