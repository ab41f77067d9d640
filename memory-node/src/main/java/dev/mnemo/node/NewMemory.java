package dev.mnemo.node;

import dev.mnemo.store.cid.Cid;
import java.util.List;
import java.util.Map;

/**
 * A memory as an agent sends it: optional vector (else the node embeds), time and previous version.
 * {@code embedContext} is the metadata the node embeds the text with; null for the node's default.
 */
public record NewMemory(String text, Map<String, Object> metadata, List<String> tags, float[] vector, Long ts, Cid prev,
    EmbedContext embedContext) {

  /** A memory embedded with the node's default context. */
  public NewMemory(String text, Map<String, Object> metadata, List<String> tags, float[] vector, Long ts, Cid prev) {
    this(text, metadata, tags, vector, ts, prev, null);
  }
}
