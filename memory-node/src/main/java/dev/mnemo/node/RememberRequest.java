package dev.mnemo.node;

import java.util.List;

/** Memories to remember in one namespace, all or nothing, in one log entry. */
public record RememberRequest(String ns, List<NewMemory> memories) {
  public RememberRequest {
    memories = List.copyOf(memories);
  }
}
