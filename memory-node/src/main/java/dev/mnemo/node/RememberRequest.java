package dev.mnemo.node;

import java.util.List;

/**
 * Memories to remember in one namespace, all or nothing, in one log entry; {@code dedup} says
 * whether each folds into a live memory it duplicates (null: {@link Dedup#EXACT} for a memory
 * without its own ts, {@link Dedup#NONE} for one with).
 */
public record RememberRequest(String ns, List<NewMemory> memories, Dedup dedup) {
  public RememberRequest {
    memories = List.copyOf(memories);
  }

  public RememberRequest(String ns, List<NewMemory> memories) {
    this(ns, memories, null);
  }

  /** How a remembered memory is folded into a live memory of its namespace that it duplicates. */
  public enum Dedup {
    /** Never: always a memory of its own (unless its CID is one's already). */
    NONE,
    /** Into a live memory with the same text, metadata, tags and prev. */
    EXACT,
    /**
     * As {@link #EXACT}, and also into a live memory with the same metadata, tags and prev whose
     * vector's cosine with this one's is at least {@link MemoryService#nearDuplicateCosine} (0.985 for E5, 0.97 for BGE).
     */
    NEAR;

    public String wire() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }

    public static Dedup parse(String wire) {
      for (Dedup d : values()) {
        if (d.wire().equals(wire)) {
          return d;
        }
      }
      throw new IllegalArgumentException("dedup must be \"exact\", \"near\" or \"none\"");
    }
  }
}
