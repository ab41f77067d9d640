package dev.mnemo.index;

import java.util.List;
import java.util.Map;

/**
 * Conditions every result must meet, applied inside the search (pre-filtered kNN), never after
 * it: metadata equality ({@code String}, {@code Number} or {@code Boolean} values), metadata
 * numeric ranges, tags (all must be present), a time window on {@code ts} ({@code after}
 * inclusive, {@code before} exclusive, epoch millis; null for open), and {@code validAt}: only
 * memories whose fact holds at that time (validFrom <= validAt < validTo, the end being the
 * memory's own validTo or its earliest invalidate, whichever is sooner; a missing bound is open).
 */
public record RecallFilter(Map<String, Object> metadata, Map<String, NumericRange> ranges, List<String> tags,
    Long after, Long before, Long validAt) {
  public static final RecallFilter NONE = new RecallFilter(Map.of(), Map.of(), List.of(), null, null, null);

  public RecallFilter {
    metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
    ranges = ranges == null ? Map.of() : Map.copyOf(ranges);
    tags = tags == null ? List.of() : List.copyOf(tags);
  }

  /** A filter without {@code validAt}. */
  public RecallFilter(Map<String, Object> metadata, Map<String, NumericRange> ranges, List<String> tags, Long after,
      Long before) {
    this(metadata, ranges, tags, after, before, null);
  }

  /** An inclusive numeric range; a null bound is open. */
  public record NumericRange(Double gte, Double lte) {
    public NumericRange {
      if (gte == null && lte == null) {
        throw new IllegalArgumentException("a range needs gte or lte");
      }
    }
  }
}
