package dev.mnemo.node;

import dev.mnemo.store.cid.Cid;
import java.util.List;
import java.util.Map;

/** A memory as an agent sends it: optional vector (else the node embeds), time and previous version. */
public record NewMemory(String text, Map<String, Object> metadata, List<String> tags, float[] vector, Long ts, Cid prev) {}
