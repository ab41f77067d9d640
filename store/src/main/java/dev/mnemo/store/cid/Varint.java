package dev.mnemo.store.cid;

import dev.mnemo.store.InvalidFormatException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;

/** Unsigned LEB128 varints as multiformats use them: at most 9 bytes, minimal encoding only. */
public final class Varint {
  /** multiformats caps varints at 9 bytes (63 bits). */
  public static final int MAX_BYTES = 9;

  private Varint() {}

  public static void write(long value, ByteArrayOutputStream out) {
    if (value < 0) {
      throw new IllegalArgumentException("varint must be non-negative: " + value);
    }
    while ((value & ~0x7FL) != 0) {
      out.write((int) ((value & 0x7F) | 0x80));
      value >>>= 7;
    }
    out.write((int) value);
  }

  public static int size(long value) {
    int n = 1;
    while ((value & ~0x7FL) != 0) {
      value >>>= 7;
      n++;
    }
    return n;
  }

  /** A decoded varint and the offset just past it. */
  public record Decoded(long value, int next) {}

  public static Decoded read(byte[] bytes, int offset, String format) throws InvalidFormatException {
    long value = 0;
    for (int i = 0; i < MAX_BYTES; i++) {
      if (offset + i >= bytes.length) {
        throw new InvalidFormatException(format, "truncated varint at byte " + offset);
      }
      int b = bytes[offset + i] & 0xFF;
      value |= (long) (b & 0x7F) << (7 * i);
      if ((b & 0x80) == 0) {
        if (b == 0 && i > 0) {
          throw new InvalidFormatException(format, "non-minimal varint at byte " + offset);
        }
        return new Decoded(value, offset + i + 1);
      }
    }
    throw new InvalidFormatException(format, "varint longer than " + MAX_BYTES + " bytes at byte " + offset);
  }

  /**
   * Reads a varint from a stream. Returns -1 on a clean end of stream before the first byte, so
   * that readers of length-prefixed sections (CAR) can tell "no more sections" from truncation.
   */
  public static long read(InputStream in, String format) throws IOException {
    long value = 0;
    for (int i = 0; i < MAX_BYTES; i++) {
      int b = in.read();
      if (b < 0) {
        if (i == 0) {
          return -1;
        }
        throw new InvalidFormatException(format, "truncated varint");
      }
      value |= (long) (b & 0x7F) << (7 * i);
      if ((b & 0x80) == 0) {
        if (b == 0 && i > 0) {
          throw new InvalidFormatException(format, "non-minimal varint");
        }
        return value;
      }
    }
    throw new InvalidFormatException(format, "varint longer than " + MAX_BYTES + " bytes");
  }
}
