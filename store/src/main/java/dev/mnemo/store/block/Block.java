package dev.mnemo.store.block;

import dev.mnemo.store.cid.Cid;
import java.util.Arrays;

/** A block: bytes and the CID they hash to. Construct with {@link #of} to compute the CID. */
public record Block(Cid cid, byte[] data) {
  public Block {
    if (cid == null || data == null) {
      throw new IllegalArgumentException("a block needs a CID and data");
    }
  }

  /** A DAG-CBOR block of {@code data}, CID computed here. */
  public static Block dagCbor(byte[] data) {
    return new Block(Cid.dagCbor(data), data);
  }

  /** Whether the data hashes to the CID. */
  public boolean isIntact() {
    return cid.matches(data);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Block b && b.cid.equals(cid) && Arrays.equals(b.data, data);
  }

  @Override
  public int hashCode() {
    return cid.hashCode();
  }

  @Override
  public String toString() {
    return "Block[" + cid + ", " + data.length + " bytes]";
  }
}
