package dev.mnemo.store.log;

import dev.mnemo.store.cid.Cid;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Key encodings of the log's column families. Namespace names never contain 0x00 (see
 * {@link dev.mnemo.store.model.Namespace}), so {@code ns 0x00} is an unambiguous prefix.
 */
final class LogKeys {
  static final byte ADDED = 1;
  static final byte FORGOTTEN = 2;
  /** Stored, but added only by void entries: not live, and the block stays for peers that need it. */
  static final byte VOIDED = 3;

  /**
   * Records of the {@code acl} family, by their first byte. Every value starts with
   * {@link #ACL_RECORD_VERSION}.
   * <ul>
   *   <li>{@code 'n' ns 0x00 position(8)} → version, entry CID bytes (len-prefixed), frontier: the
   *       namespace's access-control entries (roots, grants, revokes) in apply order.
   *   <li>{@code 'f' entry-CID} → version, frontier: an entry's inclusive ACL frontier (itself, for a
   *       grant or revoke; else the maximal grants and revokes in its past). Absent: empty.
   *   <li>{@code 'a' ns 0x00 author(32) position(8)} → version, clock(8), CID (len-prefixed), then the
   *       positions of later revokes found concurrent with it: the adds of non-owners not void.
   *   <li>{@code 'd' ns 0x00 memory-CID position(8)} → version, ref index(4), entry CID (len-prefixed):
   *       a later add of a memory already live, in a namespace with grants: should the add that
   *       made it live become void, this one keeps it live.
   *   <li>{@code 'x' entry-CID} → version: an add that is void (stored, served, makes nothing live).
   *   <li>{@code 'v' position(8)} → version, count(4), memory CIDs (len-prefixed): the memories
   *       that the entry applied at that position made void (the index drops them there).
   *   <li>{@code 'i' ns 0x00 memory-CID} → version, at(8): the earliest {@code at} of the
   *       invalidate entries that name the memory, whatever its state (an invalidate may come
   *       before the add it is about). Not access control, but a small record of the same
   *       per-entry bookkeeping, staged and committed with it; the minimum makes it convergent.
   * </ul>
   * A frontier is count(4) then apply positions (8 each).
   */
  static final byte ACL_RECORD_VERSION = 1;
  static final byte ACL_NODE = 'n';
  static final byte ACL_FRONTIER = 'f';
  static final byte ACL_AUTHOR = 'a';
  static final byte ACL_VOIDED = 'v';
  static final byte ACL_ALSO_ADDED = 'd';
  static final byte ACL_VOID_ENTRY = 'x';
  static final byte INVALIDATED = 'i';

  private LogKeys() {}

  static byte[] nsPrefix(String ns) {
    byte[] name = ns.getBytes(StandardCharsets.US_ASCII);
    return Arrays.copyOf(name, name.length + 1);
  }

  /** The end of the namespace in {@code key} that starts at {@code from}: the index of its 0x00 (or the key's length). */
  static int nsEnd(byte[] key, int from) {
    int zero = from;
    while (zero < key.length && key[zero] != 0) {
      zero++;
    }
    return zero;
  }

  /** The namespace in {@code key} that starts at {@code from} and ends at its 0x00. */
  static String nsOf(byte[] key, int from) {
    return new String(key, from, nsEnd(key, from) - from, StandardCharsets.US_ASCII);
  }

  /** The first key after every {@code ns 0x00 ...} key: where a walk of one key a namespace seeks next. */
  static byte[] afterNs(String ns) {
    byte[] next = nsPrefix(ns);
    next[next.length - 1] = 1;
    return next;
  }

  static byte[] nsKey(String ns, byte[] suffix) {
    byte[] prefix = nsPrefix(ns);
    byte[] key = Arrays.copyOf(prefix, prefix.length + suffix.length);
    System.arraycopy(suffix, 0, key, prefix.length, suffix.length);
    return key;
  }

  static byte[] nsKey(String ns, Cid cid) {
    return nsKey(ns, cid.toBytes());
  }

  static boolean hasPrefix(byte[] key, byte[] prefix) {
    return key.length >= prefix.length && Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length);
  }

  static byte[] suffix(byte[] key, byte[] prefix) {
    return Arrays.copyOfRange(key, prefix.length, key.length);
  }

  static byte[] position(long position) {
    return ByteBuffer.allocate(8).putLong(position).array();
  }

  static long position(byte[] bytes) {
    return ByteBuffer.wrap(bytes).getLong();
  }

  /** A memory's place in its namespace's listing: entry position, then index within the entry. */
  static byte[] listing(long position, int index) {
    return ByteBuffer.allocate(12).putLong(position).putInt(index).array();
  }

  static byte[] addedState(byte[] listing) {
    byte[] state = new byte[1 + listing.length];
    state[0] = ADDED;
    System.arraycopy(listing, 0, state, 1, listing.length);
    return state;
  }

  /** The position of the entry that added a memory, from its added state (state byte, then its listing). */
  static long addedPosition(byte[] addedState) {
    return ByteBuffer.wrap(addedState, 1, Long.BYTES).getLong();
  }

  static byte[] voidedState() {
    return new byte[] {VOIDED};
  }

  static byte[] aclNodePrefix(String ns) {
    return typed(ACL_NODE, nsPrefix(ns));
  }

  static byte[] aclNodeKey(String ns, long position) {
    return typed(ACL_NODE, nsKey(ns, position(position)));
  }

  static byte[] frontierKey(Cid entry) {
    return typed(ACL_FRONTIER, entry.toBytes());
  }

  static byte[] authorPrefix(String ns, byte[] authorRaw) {
    return typed(ACL_AUTHOR, nsKey(ns, authorRaw));
  }

  static byte[] authorKey(String ns, byte[] authorRaw, long position) {
    byte[] prefix = authorPrefix(ns, authorRaw);
    byte[] key = Arrays.copyOf(prefix, prefix.length + 8);
    System.arraycopy(position(position), 0, key, prefix.length, 8);
    return key;
  }

  static byte[] alsoAddedPrefix(String ns, Cid memory) {
    return typed(ACL_ALSO_ADDED, nsKey(ns, memory));
  }

  static byte[] alsoAddedKey(String ns, Cid memory, long position) {
    byte[] prefix = alsoAddedPrefix(ns, memory);
    byte[] key = Arrays.copyOf(prefix, prefix.length + 8);
    System.arraycopy(position(position), 0, key, prefix.length, 8);
    return key;
  }

  static byte[] voidEntryKey(Cid entry) {
    return typed(ACL_VOID_ENTRY, entry.toBytes());
  }

  static byte[] invalidatedKey(String ns, Cid memory) {
    return invalidatedKey(ns, memory.toBytes());
  }

  static byte[] invalidatedKey(String ns, byte[] memory) {
    return typed(INVALIDATED, nsKey(ns, memory));
  }

  static byte[] invalidatedValue(long at) {
    return ByteBuffer.allocate(1 + 8).put(ACL_RECORD_VERSION).putLong(at).array();
  }

  static long invalidatedAt(byte[] value) throws java.io.IOException {
    return versioned(value, "invalidated").getLong();
  }

  static byte[] voidedKey(long position) {
    return typed(ACL_VOIDED, position(position));
  }

  private static byte[] typed(byte type, byte[] rest) {
    byte[] key = new byte[rest.length + 1];
    key[0] = type;
    System.arraycopy(rest, 0, key, 1, rest.length);
    return key;
  }

  static byte[] frontierValue(long[] frontier) {
    ByteBuffer buf = ByteBuffer.allocate(1 + 4 + 8 * frontier.length).put(ACL_RECORD_VERSION).putInt(frontier.length);
    for (long p : frontier) {
      buf.putLong(p);
    }
    return buf.array();
  }

  static long[] readFrontier(ByteBuffer buf) {
    long[] out = new long[buf.getInt()];
    for (int i = 0; i < out.length; i++) {
      out[i] = buf.getLong();
    }
    return out;
  }

  static ByteBuffer versioned(byte[] value, String what) throws java.io.IOException {
    if (value.length == 0 || value[0] != ACL_RECORD_VERSION) {
      throw new java.io.IOException("storage corruption detected: " + what + " record of unknown version "
          + (value.length == 0 ? "(empty)" : Byte.toString(value[0])));
    }
    return ByteBuffer.wrap(value, 1, value.length - 1);
  }

  static void putCid(ByteBuffer buf, Cid cid) {
    byte[] bytes = cid.toBytes();
    buf.putShort((short) bytes.length).put(bytes);
  }

  static Cid getCid(ByteBuffer buf) throws java.io.IOException {
    byte[] bytes = new byte[buf.getShort()];
    buf.get(bytes);
    try {
      return Cid.fromBytes(bytes);
    } catch (dev.mnemo.store.InvalidFormatException e) {
      throw new java.io.IOException("storage corruption detected: " + e.getMessage(), e);
    }
  }

  static byte[] forgottenState() {
    return new byte[] {FORGOTTEN};
  }

  static byte[] clockKey(String ns) {
    return ("clock/" + ns).getBytes(StandardCharsets.US_ASCII);
  }
}
