package dev.mnemo.store.car;

import dev.mnemo.store.block.Block;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.cid.Varint;
import dev.mnemo.store.codec.DagCbor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes CAR v1: a varint-prefixed DAG-CBOR header {@code {roots, version: 1}}, then one section
 * per block, {@code varint(len(cid) + len(data)) cid data}. The stream is the caller's to close.
 */
public final class CarWriter {
  private final OutputStream out;
  private long blocks;

  public CarWriter(OutputStream out, List<Cid> roots) throws IOException {
    this.out = out;
    Map<String, Object> header = new LinkedHashMap<>();
    header.put("roots", List.copyOf(roots));
    header.put("version", 1L);
    writeSection(DagCbor.encode(header), null);
  }

  public void write(Block block) throws IOException {
    writeSection(block.cid().toBytes(), block.data());
    blocks++;
  }

  public long blocksWritten() {
    return blocks;
  }

  private void writeSection(byte[] first, byte[] second) throws IOException {
    long length = first.length + (second == null ? 0 : second.length);
    ByteArrayOutputStream prefix = new ByteArrayOutputStream(10);
    Varint.write(length, prefix);
    out.write(prefix.toByteArray());
    out.write(first);
    if (second != null) {
      out.write(second);
    }
  }
}
