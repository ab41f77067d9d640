package dev.mnemo.node;

import dev.mnemo.index.RecallHit;
import dev.mnemo.store.model.Memory;

/**
 * A recall hit joined with its memory, and the earliest time an invalidate ends the memory's
 * validity at (null if none has).
 */
public record Recalled(RecallHit hit, Memory memory, Long invalidatedAt) {
  public Recalled(RecallHit hit, Memory memory) {
    this(hit, memory, null);
  }
}
