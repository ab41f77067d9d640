package dev.mnemo.node;

import dev.mnemo.index.RecallHit;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.model.Memory;
import java.util.List;

/**
 * A recall hit joined with its memory; the earliest time an invalidate ends the memory's validity
 * at (null if none has); and {@code supersededBy}, for a recall that includes superseded memories,
 * the live memories that name it as prev (empty: current), else null.
 */
public record Recalled(RecallHit hit, Memory memory, Long invalidatedAt, List<Cid> supersededBy) {
  public Recalled(RecallHit hit, Memory memory) {
    this(hit, memory, null, null);
  }
}
