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

  private LogKeys() {}

  static byte[] nsPrefix(String ns) {
    byte[] name = ns.getBytes(StandardCharsets.US_ASCII);
    return Arrays.copyOf(name, name.length + 1);
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

  static byte[] forgottenState() {
    return new byte[] {FORGOTTEN};
  }

  static byte[] clockKey(String ns) {
    return ("clock/" + ns).getBytes(StandardCharsets.US_ASCII);
  }
}
