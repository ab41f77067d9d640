package dev.mnemo.store.car;

import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.block.Block;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.log.MemoryState;
import dev.mnemo.store.log.NamespaceLog;
import dev.mnemo.store.log.PositionedEntry;
import dev.mnemo.store.model.Op;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Namespaces to and from CAR v1, so any IPFS tool can read, pin or move them. An export's roots
 * are the namespace's heads; it holds every entry and every live memory. An import verifies every
 * block and signature and applies all of it or nothing.
 */
public final class NamespaceCar {
  /** What an export wrote. */
  public record Exported(List<Cid> roots, long entries, long memories) {}

  /** What an import did. */
  public record Imported(List<Cid> roots, int blocks, int entriesApplied) {}

  /** An import holds its blocks in memory until all are verified; this bounds that. */
  public static final long MAX_IMPORT_BYTES = 1L << 30;

  private NamespaceCar() {}

  public static Exported export(NamespaceLog log, String ns, OutputStream out) throws IOException {
    List<Cid> heads = new ArrayList<>(log.heads(ns));
    CarWriter car = new CarWriter(out, heads);
    long[] counts = new long[2];
    IOException[] failure = new IOException[1];
    log.walk(ns, positioned -> {
      try {
        writeEntry(log, ns, positioned, car, counts);
        return true;
      } catch (IOException e) {
        failure[0] = e;
        return false;
      }
    });
    if (failure[0] != null) {
      throw failure[0];
    }
    return new Exported(heads, counts[0], counts[1]);
  }

  private static void writeEntry(NamespaceLog log, String ns, PositionedEntry positioned, CarWriter car, long[] counts)
      throws IOException {
    byte[] entryBytes = log.blocks().get(positioned.cid()).orElseThrow();
    car.write(new Block(positioned.cid(), entryBytes));
    counts[0]++;
    if (positioned.entry().op() != Op.ADD) {
      return;
    }
    for (Cid ref : positioned.entry().refs()) {
      if (log.state(ns, ref) != MemoryState.LIVE) {
        continue;
      }
      Optional<byte[]> memory = log.blocks().get(ref);
      if (memory.isPresent()) {
        car.write(new Block(ref, memory.get()));
        counts[1]++;
      }
    }
  }

  public static Imported importCar(NamespaceLog log, InputStream in) throws IOException {
    return importCar(log, in, null);
  }

  /** Imports a CAR whose entries must all belong to {@code expectedNs} (any namespace when null). */
  public static Imported importCar(NamespaceLog log, InputStream in, String expectedNs) throws IOException {
    CarReader reader = new CarReader(in);
    List<Block> blocks = new ArrayList<>();
    long bytes = 0;
    for (Block block = reader.next(); block != null; block = reader.next()) {
      bytes += block.data().length;
      if (bytes > MAX_IMPORT_BYTES) {
        throw new InvalidFormatException(CarReader.FORMAT, "import larger than " + MAX_IMPORT_BYTES + " bytes");
      }
      blocks.add(block);
    }
    int applied = log.applyBlocks(blocks, expectedNs);
    return new Imported(reader.roots(), blocks.size(), applied);
  }
}
