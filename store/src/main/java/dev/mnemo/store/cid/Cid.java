package dev.mnemo.store.cid;

import dev.mnemo.store.InvalidFormatException;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;

/**
 * A content identifier. Mnemo mints CIDv1 with sha2-256 over dag-cbor or raw blocks and prints
 * them in base32 ({@code bafyrei…}); it parses any CIDv1 in a common multibase and CIDv0
 * ({@code Qm…}), since peers and IPFS tools may send those.
 *
 * <p>Equality is by binary form, so a CID parsed from base58 equals the same CID minted here.
 */
public final class Cid implements Comparable<Cid> {
  private static final int MAX_BINARY = 256;

  private final int version;
  private final long codec;
  private final Multihash multihash;
  private final byte[] bytes;

  private Cid(int version, long codec, Multihash multihash) {
    this.version = version;
    this.codec = codec;
    this.multihash = multihash;
    this.bytes = encode(version, codec, multihash);
  }

  /** The CIDv1 (sha2-256) of a block with the given codec. */
  public static Cid of(long codec, byte[] block) {
    return new Cid(1, codec, Multihash.sha256(block));
  }

  public static Cid dagCbor(byte[] block) {
    return of(Multicodec.DAG_CBOR, block);
  }

  public static Cid v1(long codec, Multihash multihash) {
    return new Cid(1, codec, multihash);
  }

  /** Parses a CID from its text form: CIDv1 in a multibase, or a base58btc CIDv0. */
  public static Cid parse(String text) throws InvalidFormatException {
    if (text == null || text.isEmpty()) {
      throw new InvalidFormatException("CID", "empty string");
    }
    if (text.length() > 2 * MAX_BINARY) {
      throw new InvalidFormatException("CID", "too long (" + text.length() + " characters)");
    }
    if (text.length() == 46 && text.startsWith("Qm")) {
      try {
        return fromBytes(Multibase.decodeBase58(text), "CID");
      } catch (InvalidFormatException e) {
        throw e.format().equals("CID") ? e : new InvalidFormatException("CID", "'" + text + "' is not a CIDv0: " + e.getMessage(), e);
      }
    }
    byte[] raw;
    try {
      raw = Multibase.decode(text);
    } catch (InvalidFormatException e) {
      throw new InvalidFormatException("CID", "'" + abbreviate(text) + "' is not a CID: " + e.getMessage(), e);
    }
    if (raw.length > 0 && raw[0] == 0x12) {
      throw new InvalidFormatException("CID", "a CIDv0 must be written in plain base58btc, not multibase");
    }
    return fromBytes(raw, "CID");
  }

  /** Parses a CID from its binary form (CIDv1, or a bare sha2-256 multihash for CIDv0). */
  public static Cid fromBytes(byte[] raw) throws InvalidFormatException {
    return fromBytes(raw, "CID");
  }

  private static Cid fromBytes(byte[] raw, String format) throws InvalidFormatException {
    Read read = read(raw, 0, format);
    if (read.next() != raw.length) {
      throw new InvalidFormatException(format, (raw.length - read.next()) + " trailing bytes after CID");
    }
    return read.cid();
  }

  /** A CID read from the middle of a byte array and the offset just past it. */
  public record Read(Cid cid, int next) {}

  /** Reads one binary CID starting at {@code offset}, as CAR sections embed them. */
  public static Read read(byte[] raw, int offset, String format) throws InvalidFormatException {
    if (raw.length - offset < 2) {
      throw new InvalidFormatException(format, "CID too short");
    }
    if (raw[offset] == 0x12 && raw[offset + 1] == 0x20) {
      Multihash.Decoded mh = Multihash.read(raw, offset);
      return new Read(new Cid(0, Multicodec.DAG_PB, mh.multihash()), mh.next());
    }
    Varint.Decoded version = Varint.read(raw, offset, format);
    if (version.value() != 1) {
      throw new InvalidFormatException(format, "unsupported CID version " + version.value());
    }
    Varint.Decoded codec = Varint.read(raw, version.next(), format);
    Multihash.Decoded mh;
    try {
      mh = Multihash.read(raw, codec.next());
    } catch (InvalidFormatException e) {
      throw new InvalidFormatException(format, "bad multihash in CID: " + e.getMessage(), e);
    }
    return new Read(new Cid(1, codec.value(), mh.multihash()), mh.next());
  }

  private static byte[] encode(int version, long codec, Multihash mh) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(4 + mh.encodedLength());
    if (version == 1) {
      Varint.write(1, out);
      Varint.write(codec, out);
    }
    mh.writeTo(out);
    return out.toByteArray();
  }

  private static String abbreviate(String s) {
    return s.length() <= 80 ? s : s.substring(0, 77) + "...";
  }

  public int version() {
    return version;
  }

  public long codec() {
    return codec;
  }

  public Multihash multihash() {
    return multihash;
  }

  /** The binary form (a copy). */
  public byte[] toBytes() {
    return bytes.clone();
  }

  public int binaryLength() {
    return bytes.length;
  }

  /** Whether {@code block} hashes to this CID. */
  public boolean matches(byte[] block) {
    return multihash.matches(block);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Cid c && Arrays.equals(c.bytes, bytes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(bytes);
  }

  /** Orders CIDs by their binary form, the order DAG-CBOR lists of links are written in. */
  @Override
  public int compareTo(Cid o) {
    return Arrays.compareUnsigned(bytes, o.bytes);
  }

  /** CIDv1 in base32 ({@code b…}); CIDv0 in plain base58btc ({@code Qm…}). */
  @Override
  public String toString() {
    return version == 0 ? Multibase.base58(bytes) : Multibase.encodeBase32(bytes);
  }
}
