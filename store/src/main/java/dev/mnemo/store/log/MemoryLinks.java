package dev.mnemo.store.log;

import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.cid.Multihash;
import dev.mnemo.store.codec.DagCbor;
import dev.mnemo.store.model.Memory;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the live set says about links between memories, kept beside it by the log writer in the
 * {@code links} family so that two questions are point lookups: which live memories name a memory
 * as their {@code prev} (its successors: it is superseded while it has one), and which live memory
 * has the same content as a new one (text, metadata, tags and prev, not ts or vector: idempotent
 * remember). Both are functions of the live set alone, so every replica holding the same entries
 * answers alike, whatever order the entries came in.
 *
 * <p>Layout (every value starts with {@link #VERSION}; a CID list is count(4), then len(2)-prefixed
 * CIDs):
 * <ul>
 *   <li>{@code 's' ns 0x00 prev-CID} → CID list: the live memories of the namespace whose prev it is.
 *   <li>{@code 'c' ns 0x00 content-key(32)} → CID list: the live memories with that content.
 *   <li>{@code 'm' ns 0x00 memory-CID} → content-key(32), prev (len-prefixed, len 0 for none): what a
 *       live memory was linked under, to unlink it once its block is gone (forget erases it).
 *   <li>{@code 'u' position(8)} → CID list: the memories whose successors the entry applied at that
 *       position changed, so the recall index, reaching that position, re-reads whether they are
 *       superseded.
 * </ul>
 */
final class MemoryLinks {
  static final byte VERSION = 1;
  private static final byte SUCCESSORS = 's';
  private static final byte CONTENT = 'c';
  private static final byte MEMORY = 'm';
  private static final byte CHANGED = 'u';
  /** Version of the content key's derivation (its hashed map's {@code v}). */
  private static final long CONTENT_KEY_VERSION = 1;

  private MemoryLinks() {}

  /** What a memory is linked under while live: the hash of its content, and its prev. */
  record Link(byte[] contentKey, Cid prev) {
    static Link of(Memory memory) {
      return new Link(MemoryLinks.contentKey(memory), memory.prev());
    }
  }

  /**
   * SHA-256 of the DAG-CBOR map {@code {v, text, metadata, tags, prev?}}: equal for two memories
   * that say the same thing in the same namespace, whatever their ts and vector.
   */
  static byte[] contentKey(Memory memory) {
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("v", CONTENT_KEY_VERSION);
    map.put("text", memory.text());
    map.put("metadata", memory.metadata());
    map.put("tags", memory.tags());
    if (memory.prev() != null) {
      map.put("prev", memory.prev());
    }
    // The same words with another validity window are another fact; absent for memories without
    // one, so their keys stay as they were.
    if (memory.validFrom() != null) {
      map.put("validFrom", memory.validFrom());
    }
    if (memory.validTo() != null) {
      map.put("validTo", memory.validTo());
    }
    byte[] encoded = DagCbor.encode(map);
    return Multihash.sha256Digest(encoded, 0, encoded.length);
  }

  static byte[] successorsKey(String ns, Cid prev) {
    return typed(SUCCESSORS, LogKeys.nsKey(ns, prev));
  }

  static byte[] contentKeyKey(String ns, byte[] contentKey) {
    return typed(CONTENT, LogKeys.nsKey(ns, contentKey));
  }

  static byte[] memoryKey(String ns, Cid memory) {
    return typed(MEMORY, LogKeys.nsKey(ns, memory));
  }

  static byte[] changedKey(long position) {
    return typed(CHANGED, LogKeys.position(position));
  }

  private static byte[] typed(byte type, byte[] rest) {
    byte[] key = new byte[rest.length + 1];
    key[0] = type;
    System.arraycopy(rest, 0, key, 1, rest.length);
    return key;
  }

  /** The CIDs of a list record; empty for none. */
  static List<Cid> cids(byte[] value) throws IOException {
    if (value == null) {
      return List.of();
    }
    ByteBuffer buf = versioned(value, "link list");
    List<Cid> out = new ArrayList<>();
    for (int n = buf.getInt(); n > 0; n--) {
      out.add(LogKeys.getCid(buf));
    }
    return out;
  }

  /** A list record of {@code cids}, or null (delete the record) when there are none. */
  static byte[] cidsValue(List<Cid> cids) {
    if (cids.isEmpty()) {
      return null;
    }
    int size = 1 + 4;
    for (Cid cid : cids) {
      size += 2 + cid.toBytes().length;
    }
    ByteBuffer buf = ByteBuffer.allocate(size).put(VERSION).putInt(cids.size());
    cids.forEach(cid -> LogKeys.putCid(buf, cid));
    return buf.array();
  }

  static byte[] memoryValue(Link link) {
    byte[] prev = link.prev() == null ? new byte[0] : link.prev().toBytes();
    return ByteBuffer.allocate(1 + 32 + 2 + prev.length).put(VERSION).put(link.contentKey())
        .putShort((short) prev.length).put(prev).array();
  }

  static Link link(byte[] memoryValue) throws IOException {
    ByteBuffer buf = versioned(memoryValue, "memory link");
    byte[] key = new byte[32];
    buf.get(key);
    Cid prev = null;
    if (buf.getShort(buf.position()) > 0) {
      prev = LogKeys.getCid(buf);
    }
    return new Link(key, prev);
  }

  private static ByteBuffer versioned(byte[] value, String what) throws IOException {
    if (value.length == 0 || value[0] != VERSION) {
      throw new IOException("storage corruption detected: " + what + " record of unknown version "
          + (value.length == 0 ? "(empty)" : Byte.toString(value[0])));
    }
    return ByteBuffer.wrap(value, 1, value.length - 1);
  }

  // ---- staging: called by the log writer as memories enter and leave the live set ----

  /** Links a memory that became live at {@code position}. */
  static void becameLive(Staging s, String ns, Cid memory, long position, Link link) {
    s.links.put(new Staging.Key(memoryKey(ns, memory)), memoryValue(link));
    addTo(s, contentKeyKey(ns, link.contentKey()), memory);
    if (link.prev() != null) {
      addTo(s, successorsKey(ns, link.prev()), memory);
      addTo(s, changedKey(position), link.prev());
    }
  }

  /** Unlinks a memory that left the live set at {@code position} (forgotten, or made void). */
  static void leftLive(Staging s, String ns, Cid memory, long position) {
    byte[] key = memoryKey(ns, memory);
    byte[] value = s.link(key);
    if (value == null) {
      return;
    }
    Link link = unchecked(() -> link(value));
    s.links.put(new Staging.Key(key), null);
    removeFrom(s, contentKeyKey(ns, link.contentKey()), memory);
    if (link.prev() != null) {
      removeFrom(s, successorsKey(ns, link.prev()), memory);
      addTo(s, changedKey(position), link.prev());
    }
  }

  /** The live memories of the namespace with this content, as staged. */
  static List<Cid> withContent(Staging s, String ns, byte[] contentKey) {
    return unchecked(() -> cids(s.link(contentKeyKey(ns, contentKey))));
  }

  private static void addTo(Staging s, byte[] key, Cid cid) {
    List<Cid> list = new ArrayList<>(unchecked(() -> cids(s.link(key))));
    if (!list.contains(cid)) {
      list.add(cid);
      s.links.put(new Staging.Key(key), cidsValue(list));
    }
  }

  private static void removeFrom(Staging s, byte[] key, Cid cid) {
    List<Cid> list = new ArrayList<>(unchecked(() -> cids(s.link(key))));
    if (list.remove(cid)) {
      s.links.put(new Staging.Key(key), cidsValue(list));
    }
  }

  private interface Read<T> {
    T get() throws IOException;
  }

  private static <T> T unchecked(Read<T> read) {
    try {
      return read.get();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** A content key as a map key. */
  record ContentKey(byte[] bytes) {
    @Override
    public boolean equals(Object o) {
      return o instanceof ContentKey k && Arrays.equals(k.bytes, bytes);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(bytes);
    }
  }
}
