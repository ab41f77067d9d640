package dev.mnemo.store.cid;

import dev.mnemo.store.InvalidFormatException;
import java.io.ByteArrayOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * A self-describing hash: function code, then digest. Any function code parses; only sha2-256
 * (and identity) can be computed and so verified.
 */
public record Multihash(long code, byte[] digest) {
  /** Digests longer than this are refused: no hash function multiformats lists needs more. */
  public static final int MAX_DIGEST = 128;

  public Multihash {
    digest = digest.clone();
  }

  public static Multihash sha256(byte[] data) {
    return new Multihash(Multicodec.SHA2_256, sha256Digest(data, 0, data.length));
  }

  public static byte[] sha256Digest(byte[] data, int offset, int length) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      md.update(data, offset, length);
      return md.digest();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  /** True when this multihash can be recomputed here (sha2-256 or identity). */
  public boolean isVerifiable() {
    return code == Multicodec.SHA2_256 || code == Multicodec.IDENTITY;
  }

  /** Whether {@code data} hashes to this multihash. Unverifiable functions never match. */
  public boolean matches(byte[] data) {
    if (code == Multicodec.SHA2_256) {
      return MessageDigest.isEqual(digest, sha256Digest(data, 0, data.length));
    }
    if (code == Multicodec.IDENTITY) {
      return Arrays.equals(digest, data);
    }
    return false;
  }

  public byte[] digest() {
    return digest.clone();
  }

  public int encodedLength() {
    return Varint.size(code) + Varint.size(digest.length) + digest.length;
  }

  void writeTo(ByteArrayOutputStream out) {
    Varint.write(code, out);
    Varint.write(digest.length, out);
    out.writeBytes(digest);
  }

  /** A parsed multihash and the offset just past it. */
  record Decoded(Multihash multihash, int next) {}

  static Decoded read(byte[] bytes, int offset) throws InvalidFormatException {
    Varint.Decoded code = Varint.read(bytes, offset, "multihash");
    Varint.Decoded length = Varint.read(bytes, code.next(), "multihash");
    if (length.value() > MAX_DIGEST) {
      throw new InvalidFormatException("multihash", "digest length " + length.value() + " exceeds " + MAX_DIGEST);
    }
    int start = length.next();
    int end = start + (int) length.value();
    if (end > bytes.length) {
      throw new InvalidFormatException("multihash", "digest truncated: wants " + length.value() + " bytes, has " + (bytes.length - start));
    }
    if (code.value() == Multicodec.SHA2_256 && length.value() != 32) {
      throw new InvalidFormatException("multihash", "sha2-256 digest must be 32 bytes, is " + length.value());
    }
    return new Decoded(new Multihash(code.value(), Arrays.copyOfRange(bytes, start, end)), end);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Multihash m && m.code == code && Arrays.equals(m.digest, digest);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(code) * 31 + Arrays.hashCode(digest);
  }

  @Override
  public String toString() {
    return Multicodec.name(code) + ":" + HexFormat.of().formatHex(digest);
  }
}
