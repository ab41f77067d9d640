package dev.mnemo.store.car;

import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.block.Block;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.log.MemoryState;
import dev.mnemo.store.log.NamespaceLog;
import dev.mnemo.store.log.PositionedEntry;
import dev.mnemo.store.model.Op;
import dev.mnemo.store.block.CorruptBlockException;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

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

  /** An import is read from a file and held in a log batch until all is verified; this bounds that. */
  public static final long MAX_IMPORT_BYTES = 1L << 30;

  private NamespaceCar() {}

  /**
   * An export that could not be made whole: forgets kept landing while it ran, round after round,
   * or an entry lists a memory whose block this node lacks with no forget for it yet (a pull from
   * a peer part-way through).
   */
  public static final class ChangedDuringExportException extends IOException {
    public ChangedDuringExportException(String ns, int rounds) {
      super("namespace " + ns + " could not be exported whole after " + rounds + " rounds: memories its entries"
          + " add were forgotten meanwhile, or are still awaited from a peer");
    }
  }

  /** Rounds of catching up with forgets that commit while an export runs, before it gives up. */
  static final int EXPORT_ROUNDS = 20;

  /**
   * Writes the namespace as of its heads now (the CAR's roots): those entries and everything before
   * them, and every memory they add that none of them forgets. A memory forgotten while the export
   * runs, by an entry it does not hold yet, is not written; the entries that lead to that forget
   * are added after the others, so that the CAR never lists a memory with neither its block nor
   * its forget, which no other node could import.
   */
  public static Exported export(NamespaceLog log, String ns, OutputStream out) throws IOException {
    List<Cid> heads = new ArrayList<>(log.heads(ns));
    CarWriter car = new CarWriter(out, heads);
    Set<Cid> written = new HashSet<>();
    Set<Cid> forgotten = new HashSet<>();
    long[] counts = new long[2];
    Collection<Cid> from = heads;
    // Memories an entry written adds, neither written nor forgotten by an entry written: each
    // must meet its forget among the entries of a later round.
    Set<Cid> unresolved = new HashSet<>();
    for (int round = 1; ; round++) {
      List<PositionedEntry> entries = newEntries(log, ns, from, written, forgotten);
      for (PositionedEntry positioned : entries) {
        car.write(new Block(positioned.cid(), log.blocks().get(positioned.cid()).orElseThrow()));
        counts[0]++;
        if (positioned.entry().op() == Op.ADD && !log.isVoid(positioned.cid())) {
          // A void add's memories are not exported: an importer applies the entry without them.
          writeMemories(log, ns, positioned.entry().refs(), forgotten, car, counts, unresolved);
        }
      }
      unresolved.removeAll(forgotten);
      if (unresolved.isEmpty()) {
        return new Exported(heads, counts[0], counts[1]);
      }
      // A round with no new entries will not find the forgets either: the memories are awaited
      // from a peer (a pull part-way through), or were forgotten by nothing this log holds.
      if (round == EXPORT_ROUNDS || (round > 1 && entries.isEmpty())) {
        throw new ChangedDuringExportException(ns, round);
      }
      from = log.heads(ns);
    }
  }

  /**
   * The entries behind {@code from} not written yet, in walk order; marks them written and adds
   * what their forgets name to {@code forgotten}. The walk stops at entries already written.
   */
  private static List<PositionedEntry> newEntries(NamespaceLog log, String ns, Collection<Cid> from, Set<Cid> written,
      Set<Cid> forgotten) throws IOException {
    List<PositionedEntry> entries = new ArrayList<>();
    log.walk(ns, from, positioned -> {
      if (!written.add(positioned.cid())) {
        return false;
      }
      entries.add(positioned);
      if (positioned.entry().op() == Op.FORGET) {
        forgotten.addAll(positioned.entry().refs());
      }
      return true;
    });
    return entries;
  }

  private static void writeMemories(NamespaceLog log, String ns, List<Cid> refs, Set<Cid> forgotten, CarWriter car,
      long[] counts, Set<Cid> unresolved) throws IOException {
    for (Cid ref : refs) {
      if (forgotten.contains(ref)) {
        continue;
      }
      MemoryState state = log.state(ns, ref);
      if (state == MemoryState.VOID) {
        // Added by entries a revoke won over: export never returns such a memory.
        continue;
      }
      if (state != MemoryState.LIVE) {
        unresolved.add(ref);
        continue;
      }
      Optional<byte[]> memory = log.blocks().get(ref);
      if (memory.isPresent()) {
        car.write(new Block(ref, memory.get()));
        counts[1]++;
      } else if (log.state(ns, ref) != MemoryState.LIVE) {
        unresolved.add(ref); // forgotten between the state check and the read
      }
    }
  }

  public static Imported importCar(NamespaceLog log, InputStream in) throws IOException {
    return importCar(log, in, null);
  }

  /**
   * Imports a CAR read from a stream whose entries must all belong to {@code expectedNs} (any
   * namespace when null): spilled to a temporary file first (see {@link #importCar(NamespaceLog,
   * Path, String)}), deleted after.
   */
  public static Imported importCar(NamespaceLog log, InputStream in, String expectedNs) throws IOException {
    Path spill = Files.createTempFile("mnemo-import-", ".car");
    try {
      try (OutputStream out = Files.newOutputStream(spill)) {
        in.transferTo(out);
      }
      return importCar(log, spill, expectedNs);
    } finally {
      Files.deleteIfExists(spill);
    }
  }

  /**
   * Imports the CAR file {@code car}, whose entries must all belong to {@code expectedNs} (any
   * namespace when null). The file is read block by block, each hash-checked as it is read; the
   * entries are kept to order and check them, but a memory's bytes are not: the log reads them
   * back from the file, checked again, when it writes the batch. So the heap holds the entries and
   * an index of where each block is, not the file; all of it is applied, or nothing.
   */
  public static Imported importCar(NamespaceLog log, Path car, String expectedNs) throws IOException {
    try (FileChannel file = FileChannel.open(car, StandardOpenOption.READ);
        InputStream in = new BufferedInputStream(Channels.newInputStream(file), 1 << 16)) {
      CarReader reader = new CarReader(in);
      // CID → offset << 24 | length: blocks are at most CarReader.MAX_SECTION (4 MiB < 2^24) long.
      Map<Cid, Long> where = new HashMap<>();
      int[] blocks = new int[1];
      long[] bytes = new long[1];
      NamespaceLog.BlockSource source = () -> {
        Block block = reader.next();
        if (block == null) {
          return null;
        }
        bytes[0] += block.data().length;
        if (bytes[0] > MAX_IMPORT_BYTES) {
          throw new InvalidFormatException(CarReader.FORMAT, "import larger than " + MAX_IMPORT_BYTES + " bytes");
        }
        blocks[0]++;
        where.put(block.cid(), reader.dataOffset() << 24 | block.data().length);
        return block;
      };
      NamespaceLog.SpilledBlocks spilled = cid -> {
        Long at = where.get(cid);
        if (at == null) {
          throw new IllegalStateException("block " + cid + " was not read from " + car);
        }
        ByteBuffer data = ByteBuffer.allocate((int) (at & 0xFF_FFFF));
        long offset = at >>> 24;
        while (data.hasRemaining()) {
          if (file.read(data, offset + data.position()) < 0) {
            throw new CorruptBlockException(cid, "the import file " + car + " was cut short while it was imported");
          }
        }
        if (!cid.matches(data.array())) {
          throw new CorruptBlockException(cid, "the import file " + car + " changed while it was imported");
        }
        return data.array();
      };
      int applied = log.applyStreamed(source, spilled, expectedNs);
      return new Imported(reader.roots(), blocks[0], applied);
    }
  }
}
