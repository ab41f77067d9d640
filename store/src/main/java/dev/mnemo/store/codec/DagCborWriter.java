package dev.mnemo.store.codec;

import dev.mnemo.store.cid.Cid;
import java.math.BigInteger;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** Canonical DAG-CBOR encoder into a growable buffer. */
final class DagCborWriter {
  private static final BigInteger TWO_64 = BigInteger.ONE.shiftLeft(64);

  private byte[] buf = new byte[256];
  private int pos;

  byte[] toByteArray() {
    return Arrays.copyOf(buf, pos);
  }

  void write(Object value) {
    switch (value) {
      case null -> put(0xF6);
      case Boolean b -> put(b ? 0xF5 : 0xF4);
      case Long l -> writeLong(l);
      case Integer i -> writeLong(i);
      case Short s -> writeLong(s);
      case Byte b -> writeLong(b);
      case BigInteger big -> writeBigInteger(big);
      case Double d -> writeDouble(d);
      case Float f -> writeDouble(f.doubleValue());
      case String s -> writeBytes(3, DagCbor.utf8(s));
      case byte[] bytes -> writeBytes(2, bytes);
      case Cid cid -> writeLink(cid);
      case List<?> list -> {
        writeHead(4, list.size());
        for (Object item : list) {
          write(item);
        }
      }
      case Map<?, ?> map -> writeMap(map);
      default -> throw new IllegalArgumentException("not an IPLD value: " + value.getClass().getName());
    }
  }

  private void writeLong(long v) {
    if (v >= 0) {
      writeHead(0, v);
    } else {
      writeHead(1, -1 - v);
    }
  }

  private void writeBigInteger(BigInteger v) {
    if (v.bitLength() < 64) {
      writeLong(v.longValueExact());
      return;
    }
    boolean negative = v.signum() < 0;
    BigInteger magnitude = negative ? v.negate().subtract(BigInteger.ONE) : v;
    if (magnitude.compareTo(TWO_64) >= 0) {
      throw new IllegalArgumentException("integer out of the 64-bit CBOR range: " + v);
    }
    put((negative ? 1 : 0) << 5 | 27);
    putLong(magnitude.longValue());
  }

  private void writeDouble(double d) {
    if (Double.isNaN(d) || Double.isInfinite(d)) {
      throw new IllegalArgumentException("DAG-CBOR has no NaN or Infinity");
    }
    put(0xFB);
    putLong(Double.doubleToRawLongBits(d));
  }

  private void writeLink(Cid cid) {
    put(0xD8);
    put(42);
    byte[] raw = cid.toBytes();
    // Tag 42 holds the binary CID behind the identity multibase prefix 0x00.
    writeHead(2, raw.length + 1);
    put(0);
    putBytes(raw);
  }

  private void writeMap(Map<?, ?> map) {
    byte[][] keys = new byte[map.size()][];
    Object[] values = new Object[map.size()];
    Integer[] order = new Integer[map.size()];
    int i = 0;
    for (Map.Entry<?, ?> e : map.entrySet()) {
      if (!(e.getKey() instanceof String key)) {
        throw new IllegalArgumentException("DAG-CBOR map keys must be strings, found " + DagCbor.kind(e.getKey()));
      }
      keys[i] = DagCbor.utf8(key);
      values[i] = e.getValue();
      order[i] = i;
      i++;
    }
    Arrays.sort(order, (a, b) -> DagCbor.KEY_ORDER.compare(keys[a], keys[b]));
    writeHead(5, keys.length);
    for (int k = 0; k < order.length; k++) {
      if (k > 0 && Arrays.equals(keys[order[k]], keys[order[k - 1]])) {
        throw new IllegalArgumentException("duplicate map key");
      }
      writeBytes(3, keys[order[k]]);
      write(values[order[k]]);
    }
  }

  private void writeBytes(int major, byte[] bytes) {
    writeHead(major, bytes.length);
    putBytes(bytes);
  }

  /** Major type and argument in the shortest form CBOR allows. */
  private void writeHead(int major, long arg) {
    int m = major << 5;
    if (arg < 24) {
      put(m | (int) arg);
    } else if (arg < 0x100) {
      put(m | 24);
      put((int) arg);
    } else if (arg < 0x10000) {
      put(m | 25);
      put((int) (arg >>> 8));
      put((int) arg);
    } else if (arg < 0x1_0000_0000L) {
      put(m | 26);
      putInt((int) arg);
    } else {
      put(m | 27);
      putLong(arg);
    }
  }

  private void ensure(int n) {
    if (pos + n > buf.length) {
      buf = Arrays.copyOf(buf, Math.max(buf.length * 2, pos + n));
    }
  }

  private void put(int b) {
    ensure(1);
    buf[pos++] = (byte) b;
  }

  private void putInt(int v) {
    ensure(4);
    buf[pos++] = (byte) (v >>> 24);
    buf[pos++] = (byte) (v >>> 16);
    buf[pos++] = (byte) (v >>> 8);
    buf[pos++] = (byte) v;
  }

  private void putLong(long v) {
    putInt((int) (v >>> 32));
    putInt((int) v);
  }

  private void putBytes(byte[] bytes) {
    ensure(bytes.length);
    System.arraycopy(bytes, 0, buf, pos, bytes.length);
    pos += bytes.length;
  }
}
