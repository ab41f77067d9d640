package dev.mnemo.store.car;

import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.block.Block;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.cid.Varint;
import dev.mnemo.store.codec.DagCbor;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;

/**
 * Reads CAR v1 one block at a time. Every block is checked against its CID as it is read, and
 * every length against a limit before anything is allocated, so a hostile file costs at most one
 * block's worth of memory before it is refused with an {@link InvalidFormatException} naming the
 * section at fault.
 */
public final class CarReader {
  static final String FORMAT = "CAR";
  /** Larger than any block IPFS moves (Kubo refuses blocks over 2 MiB by default). */
  public static final int MAX_SECTION = 4 << 20;
  private static final int MAX_HEADER = 1 << 20;

  private final Counting in;
  private final List<Cid> roots;
  private long section;
  private long dataOffset = -1;

  public CarReader(InputStream in) throws IOException {
    this.in = new Counting(in);
    long length = Varint.read(this.in, FORMAT);
    if (length <= 0) {
      throw new InvalidFormatException(FORMAT, length < 0 ? "empty file" : "empty header");
    }
    if (length > MAX_HEADER) {
      throw new InvalidFormatException(FORMAT, "header of " + length + " bytes exceeds " + MAX_HEADER);
    }
    Map<String, Object> header;
    try {
      header = DagCbor.decodeMap(readFully((int) length, "header"));
    } catch (InvalidFormatException e) {
      throw new InvalidFormatException(FORMAT, "bad header: " + e.getMessage(), e);
    }
    if (!Long.valueOf(1).equals(header.get("version"))) {
      throw new InvalidFormatException(FORMAT, "unsupported version " + header.get("version") + " (CAR v1 only)");
    }
    if (!(header.get("roots") instanceof List<?> list) || !list.stream().allMatch(Cid.class::isInstance)) {
      throw new InvalidFormatException(FORMAT, "header roots must be a list of links");
    }
    this.roots = list.stream().map(Cid.class::cast).toList();
  }

  public List<Cid> roots() {
    return roots;
  }

  /** Where, in the bytes read so far, the data of the block {@link #next} last returned starts. */
  public long dataOffset() {
    return dataOffset;
  }

  /** The next block, hash-verified, or null at the end of the file. */
  public Block next() throws IOException {
    long length = Varint.read(in, FORMAT);
    if (length < 0) {
      return null;
    }
    section++;
    if (length == 0 || length > MAX_SECTION) {
      throw new InvalidFormatException(FORMAT, "section " + section + " has length " + length
          + " (allowed 1-" + MAX_SECTION + ")");
    }
    byte[] bytes = readFully((int) length, "section " + section);
    Cid.Read read;
    try {
      read = Cid.read(bytes, 0, FORMAT);
    } catch (InvalidFormatException e) {
      throw new InvalidFormatException(FORMAT, "section " + section + " has a bad CID: " + e.getMessage(), e);
    }
    byte[] data = java.util.Arrays.copyOfRange(bytes, read.next(), bytes.length);
    dataOffset = in.count - data.length;
    Cid cid = read.cid();
    if (!cid.multihash().isVerifiable()) {
      throw new InvalidFormatException(FORMAT, "section " + section + ": block " + cid + " uses a hash this node cannot verify");
    }
    if (!cid.matches(data)) {
      throw new InvalidFormatException(FORMAT, "section " + section + ": block " + cid + " does not hash to its CID");
    }
    return new Block(cid, data);
  }

  /** Counts the bytes read, for {@link #dataOffset}. */
  private static final class Counting extends java.io.FilterInputStream {
    long count;

    Counting(InputStream in) {
      super(in);
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b >= 0) {
        count++;
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = super.read(b, off, len);
      if (n > 0) {
        count += n;
      }
      return n;
    }

    @Override
    public long skip(long n) throws IOException {
      long skipped = super.skip(n);
      count += skipped;
      return skipped;
    }
  }

  private byte[] readFully(int length, String what) throws IOException {
    byte[] bytes = in.readNBytes(length);
    if (bytes.length != length) {
      throw new InvalidFormatException(FORMAT, what + " truncated: wanted " + length + " bytes, got " + bytes.length);
    }
    return bytes;
  }
}
