package dev.mnemo.store.codec;

import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.cid.Cid;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Strict DAG-CBOR decoder: refuses anything a canonical encoder would not have written. */
final class DagCborReader {
  private static final String FORMAT = "DAG-CBOR";

  private final byte[] in;
  private int pos;

  DagCborReader(byte[] in) {
    this.in = in;
  }

  Object readWhole() throws InvalidFormatException {
    if (in.length == 0) {
      throw error("empty input");
    }
    Object value = read(0);
    if (pos != in.length) {
      throw error((in.length - pos) + " trailing bytes after the value");
    }
    return value;
  }

  private Object read(int depth) throws InvalidFormatException {
    if (depth > DagCbor.MAX_DEPTH) {
      throw error("nesting deeper than " + DagCbor.MAX_DEPTH);
    }
    int start = pos;
    int initial = u8();
    int major = initial >>> 5;
    int info = initial & 31;
    if (major == 7) {
      return readSimple(info, start);
    }
    if (info == 31) {
      throw error("indefinite-length item at byte " + start);
    }
    long arg = readArgument(info, start);
    return switch (major) {
      case 0 -> arg >= 0 ? (Object) arg : new BigInteger(Long.toUnsignedString(arg));
      case 1 -> arg >= 0 ? (Object) (-1 - arg) : BigInteger.valueOf(-1).subtract(new BigInteger(Long.toUnsignedString(arg)));
      case 2 -> bytes(arg, start);
      case 3 -> string(bytes(arg, start), start);
      case 4 -> readList(arg, depth, start);
      case 5 -> readMap(arg, depth, start);
      case 6 -> readTag(arg, depth, start);
      default -> throw new IllegalStateException("unreachable major type " + major);
    };
  }

  private Object readSimple(int info, int start) throws InvalidFormatException {
    return switch (info) {
      case 20 -> Boolean.FALSE;
      case 21 -> Boolean.TRUE;
      case 22 -> null;
      case 23 -> throw error("undefined is not in the IPLD data model (byte " + start + ")");
      case 25, 26 -> throw error("floats must be 64-bit in DAG-CBOR (byte " + start + ")");
      case 27 -> {
        double d = Double.longBitsToDouble(readLong());
        if (Double.isNaN(d) || Double.isInfinite(d)) {
          throw error("NaN and Infinity are not allowed (byte " + start + ")");
        }
        yield d;
      }
      case 31 -> throw error("unexpected break code at byte " + start);
      default -> throw error("unsupported simple value " + info + " at byte " + start);
    };
  }

  /** Reads the argument of a head, refusing any form longer than needed. */
  private long readArgument(int info, int start) throws InvalidFormatException {
    if (info < 24) {
      return info;
    }
    long value;
    long min;
    switch (info) {
      case 24 -> {
        value = u8();
        min = 24;
      }
      case 25 -> {
        value = (u8() << 8) | u8();
        min = 0x100;
      }
      case 26 -> {
        value = ((long) u8() << 24) | (u8() << 16) | (u8() << 8) | u8();
        min = 0x10000;
      }
      case 27 -> {
        value = readLong();
        if (Long.compareUnsigned(value, 0x1_0000_0000L) < 0) {
          throw error("non-canonical (too long) integer or length at byte " + start);
        }
        return value;
      }
      default -> throw error("reserved additional information " + info + " at byte " + start);
    }
    if (value < min) {
      throw error("non-canonical (too long) integer or length at byte " + start);
    }
    return value;
  }

  private List<Object> readList(long length, int depth, int start) throws InvalidFormatException {
    // Every item takes at least one byte, so a length past the input is a lie, not an allocation.
    if (length < 0 || length > in.length - pos) {
      throw error("list of " + Long.toUnsignedString(length) + " items overruns the input at byte " + start);
    }
    List<Object> list = new ArrayList<>((int) length);
    for (long i = 0; i < length; i++) {
      list.add(read(depth + 1));
    }
    return list;
  }

  private Map<String, Object> readMap(long length, int depth, int start) throws InvalidFormatException {
    if (length < 0 || length > (in.length - pos) / 2) {
      throw error("map of " + Long.toUnsignedString(length) + " entries overruns the input at byte " + start);
    }
    Map<String, Object> map = new LinkedHashMap<>((int) (length * 4 / 3) + 1);
    byte[] previous = null;
    for (long i = 0; i < length; i++) {
      int keyStart = pos;
      int head = u8();
      if (head >>> 5 != 3) {
        throw error("map keys must be strings (byte " + keyStart + ")");
      }
      if ((head & 31) == 31) {
        throw error("indefinite-length item at byte " + keyStart);
      }
      byte[] keyBytes = bytes(readArgument(head & 31, keyStart), keyStart);
      String key = string(keyBytes, keyStart);
      if (previous != null) {
        int order = DagCbor.KEY_ORDER.compare(previous, keyBytes);
        if (order == 0) {
          throw error("duplicate map key \"" + key + "\" at byte " + keyStart);
        }
        if (order > 0) {
          throw error("map keys not in canonical order at \"" + key + "\" (byte " + keyStart + ")");
        }
      }
      previous = keyBytes;
      map.put(key, read(depth + 1));
    }
    return map;
  }

  private Cid readTag(long tag, int depth, int start) throws InvalidFormatException {
    if (tag != 42) {
      throw error("tag " + Long.toUnsignedString(tag) + " is not allowed; only 42 (link) is (byte " + start + ")");
    }
    int inner = pos;
    Object content = read(depth + 1);
    if (!(content instanceof byte[] raw)) {
      throw error("tag 42 must wrap a byte string (byte " + inner + ")");
    }
    if (raw.length == 0 || raw[0] != 0) {
      throw error("tag 42 bytes must start with the identity multibase prefix 0x00 (byte " + inner + ")");
    }
    try {
      return Cid.fromBytes(Arrays.copyOfRange(raw, 1, raw.length));
    } catch (InvalidFormatException e) {
      throw new InvalidFormatException(FORMAT, "bad link at byte " + inner + ": " + e.getMessage(), e);
    }
  }

  private byte[] bytes(long length, int start) throws InvalidFormatException {
    if (length < 0 || length > in.length - pos) {
      throw error("byte or text string of " + Long.toUnsignedString(length) + " bytes overruns the input at byte " + start);
    }
    byte[] out = Arrays.copyOfRange(in, pos, pos + (int) length);
    pos += (int) length;
    return out;
  }

  private String string(byte[] utf8, int start) throws InvalidFormatException {
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(utf8))
          .toString();
    } catch (CharacterCodingException e) {
      throw error("text string is not valid UTF-8 (byte " + start + ")");
    }
  }

  private int u8() throws InvalidFormatException {
    if (pos >= in.length) {
      throw error("unexpected end of input at byte " + pos);
    }
    return in[pos++] & 0xFF;
  }

  private long readLong() throws InvalidFormatException {
    long hi = ((long) u8() << 24) | (u8() << 16) | (u8() << 8) | u8();
    long lo = ((long) u8() << 24) | (u8() << 16) | (u8() << 8) | u8();
    return (hi << 32) | lo;
  }

  private InvalidFormatException error(String message) {
    return new InvalidFormatException(FORMAT, message);
  }
}
