package dev.mnemo.store.model;

import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.codec.DagCbor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * One memory: a short text with metadata, as an agent remembered it. Its DAG-CBOR block is
 * {@code {v, ns, text, metadata, tags, ts, embedding?, prev?, validFrom?, validTo?}}; absent
 * optionals are left out, never written as null, so the same memory always has the same CID.
 *
 * <p>{@code metadata} maps keys to strings, 64-bit integers, finite doubles or booleans (the
 * values filters compare). {@code tags} are a set, kept sorted by code point ({@link #TAG_ORDER}:
 * the order of their UTF-8 bytes, in which DAG-CBOR sorts map keys of one length, and the order
 * Go, Rust and JavaScript get from a byte or code point comparison). Blocks written before that
 * sorted tags by UTF-16 code unit ({@code String.compareTo}); the two differ only when a tag set
 * mixes characters above U+FFFF with ones from U+E000 to U+FFFF. Such a block is still read and
 * keeps its bytes and CID (its tags come back in code point order; re-encoding it would give the
 * new order's bytes, but a memory's CID is always that of the block it was read from). No version
 * bump: one would change the CID of every memory with tags, and a block in code point order was
 * already valid DAG-CBOR that other IPLD tools write. {@code ts} is Unix epoch millis,
 * when the memory was recorded. {@code prev} links the memory this one updates.
 *
 * <p>{@code validFrom} and {@code validTo} (epoch millis, either may be absent for an open end,
 * {@code validFrom < validTo}) say when the fact holds in the world: from {@code validFrom}
 * inclusive to {@code validTo} exclusive. A block is written in the oldest version that has its
 * fields: version 2 only when it has a validity bound, so every other memory keeps the bytes and
 * CID it had, and a node that reads only version 1 still reads it.
 */
public record Memory(
    String ns, String text, Map<String, Object> metadata, List<String> tags, long ts,
    Embedding embedding, Cid prev, Long validFrom, Long validTo) {

  /** The newest version this build reads (and writes, for a memory with a validity bound). */
  public static final long VERSION = 2;
  /** The oldest version this build reads; what a memory without validity bounds is written as. */
  public static final long VERSION_START = 1;
  static final String FORMAT = "memory block";
  private static final Set<String> FIELDS = Set.of("v", "ns", "text", "metadata", "tags", "ts", "embedding", "prev",
      "validFrom", "validTo");
  private static final Set<String> EMBEDDING_FIELDS = Set.of("model", "dim", "vec");

  /**
   * Tags' order: by code point, which is the order of their UTF-8 bytes. {@code String.compareTo}
   * compares UTF-16 code units, which puts U+1F600 (a surrogate pair, D83D DE00) before U+FFFD.
   */
  public static final Comparator<String> TAG_ORDER = Memory::compareCodePoints;

  public Memory {
    Namespace.requireValid(ns);
    if (text == null) {
      throw new IllegalArgumentException("text is required");
    }
    metadata = normalizeMetadata(metadata);
    tags = normalizeTags(tags);
    if (validFrom != null && validTo != null && validFrom >= validTo) {
      throw new IllegalArgumentException("validFrom (" + validFrom + ") must be before validTo (" + validTo + ")");
    }
  }

  /** A memory without validity bounds: it holds at every time. */
  public Memory(String ns, String text, Map<String, Object> metadata, List<String> tags, long ts, Embedding embedding,
      Cid prev) {
    this(ns, text, metadata, tags, ts, embedding, prev, null, null);
  }

  public Memory(String ns, String text, long ts) {
    this(ns, text, Map.of(), List.of(), ts, null, null);
  }

  /** The block version this memory is written in: the oldest that has its fields. */
  public long version() {
    return validFrom == null && validTo == null ? VERSION_START : VERSION;
  }

  /** Whether the fact holds at {@code time}: validFrom <= time < validTo, a missing bound open. */
  public boolean validAt(long time) {
    return (validFrom == null || validFrom <= time) && (validTo == null || time < validTo);
  }

  private static Map<String, Object> normalizeMetadata(Map<String, Object> metadata) {
    if (metadata == null || metadata.isEmpty()) {
      return Map.of();
    }
    Map<String, Object> sorted = new TreeMap<>();
    for (Map.Entry<String, Object> e : metadata.entrySet()) {
      String key = e.getKey();
      if (key == null || key.isEmpty()) {
        throw new IllegalArgumentException("metadata keys must be non-empty strings");
      }
      sorted.put(key, normalizeValue(key, e.getValue()));
    }
    return Collections.unmodifiableMap(sorted);
  }

  private static Object normalizeValue(String key, Object value) {
    return switch (value) {
      case String s -> s;
      case Boolean b -> b;
      case Long l -> l;
      case Integer i -> (long) i;
      case Short s -> (long) s;
      case Double d when Double.isFinite(d) -> d;
      case Float f when Float.isFinite(f) -> (double) f;
      case null -> throw new IllegalArgumentException("metadata '" + key + "' is null");
      default -> throw new IllegalArgumentException(
          "metadata '" + key + "' must be a string, finite number or boolean, not " + DagCbor.kind(value));
    };
  }

  private static List<String> normalizeTags(List<String> tags) {
    if (tags == null || tags.isEmpty()) {
      return List.of();
    }
    TreeSet<String> set = new TreeSet<>(TAG_ORDER);
    for (String tag : tags) {
      if (tag == null || tag.isEmpty()) {
        throw new IllegalArgumentException("tags must be non-empty strings");
      }
      set.add(tag);
    }
    return List.copyOf(set);
  }

  private static int compareCodePoints(String a, String b) {
    int n = Math.min(a.length(), b.length());
    for (int i = 0; i < n; i++) {
      char x = a.charAt(i);
      char y = b.charAt(i);
      if (x != y) {
        // The first differing code units; where either is a surrogate, the whole code points
        // differ there too (the units before are equal, so both start a code point here).
        if (Character.isSurrogate(x) || Character.isSurrogate(y)) {
          return Integer.compare(a.codePointAt(i), b.codePointAt(i));
        }
        return Character.compare(x, y);
      }
    }
    return Integer.compare(a.length(), b.length());
  }

  /** Whether {@code tags} are strictly increasing, so sorted and unique, in {@code order}. */
  private static boolean strictlyIncreasing(List<String> tags, Comparator<String> order) {
    for (int i = 1; i < tags.size(); i++) {
      if (order.compare(tags.get(i - 1), tags.get(i)) >= 0) {
        return false;
      }
    }
    return true;
  }

  public Memory withEmbedding(Embedding e) {
    return new Memory(ns, text, metadata, tags, ts, e, prev, validFrom, validTo);
  }

  public Map<String, Object> toIpld() {
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("v", version());
    map.put("ns", ns);
    map.put("text", text);
    map.put("metadata", metadata);
    map.put("tags", tags);
    map.put("ts", ts);
    if (embedding != null) {
      map.put("embedding", embedding.toIpld());
    }
    if (prev != null) {
      map.put("prev", prev);
    }
    if (validFrom != null) {
      map.put("validFrom", validFrom);
    }
    if (validTo != null) {
      map.put("validTo", validTo);
    }
    return map;
  }

  public byte[] encode() {
    return DagCbor.encode(toIpld());
  }

  public static Memory decode(byte[] block) throws InvalidFormatException {
    Map<String, Object> map;
    try {
      map = DagCbor.decodeMap(block);
    } catch (InvalidFormatException e) {
      throw new InvalidFormatException(FORMAT, e.getMessage(), e);
    }
    IpldFields fields = new IpldFields(FORMAT, map, FIELDS);
    long version = fields.integer("v");
    if (version < VERSION_START || version > VERSION) {
      throw fields.invalid("unsupported version " + version + " (this node reads " + VERSION_START + "-" + VERSION + ")");
    }
    List<String> tags = fields.listOf("tags", String.class, "string");
    Embedding embedding = null;
    if (fields.has("embedding")) {
      embedding = Embedding.fromIpld(new IpldFields(FORMAT, fields.map("embedding"), EMBEDDING_FIELDS));
    }
    Cid prev = fields.has("prev") ? fields.link("prev") : null;
    Long validFrom = fields.has("validFrom") ? fields.integer("validFrom") : null;
    Long validTo = fields.has("validTo") ? fields.integer("validTo") : null;
    try {
      Memory memory = new Memory(fields.string("ns"), fields.string("text"), fields.map("metadata"),
          new ArrayList<>(tags), fields.integer("ts"), embedding, prev, validFrom, validTo);
      // Code point order, or the UTF-16 order of the blocks written before it (see the class doc).
      if (!strictlyIncreasing(tags, TAG_ORDER) && !strictlyIncreasing(tags, Comparator.naturalOrder())) {
        throw fields.invalid("tags must be sorted by code point and unique");
      }
      if (memory.version() != version) {
        // One memory, one encoding: the version follows from the fields, so its CID does too.
        throw fields.invalid("a memory " + (version == VERSION_START ? "of version 1 has no validity bounds"
            : "without validity bounds is version 1, not " + version));
      }
      return memory;
    } catch (IllegalArgumentException e) {
      throw fields.invalid(e.getMessage());
    }
  }
}
