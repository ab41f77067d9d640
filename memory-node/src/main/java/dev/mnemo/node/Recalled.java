package dev.mnemo.node;

import dev.mnemo.index.RecallHit;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.model.Memory;
import java.util.List;

/**
 * A recall hit joined with its memory; {@code supersededBy}, for a recall that includes superseded
 * memories, the live memories that name it as prev (empty: current), else null.
 */
public record Recalled(RecallHit hit, Memory memory, List<Cid> supersededBy) {
  public Recalled(RecallHit hit, Memory memory) {
    this(hit, memory, null);
  }
}
