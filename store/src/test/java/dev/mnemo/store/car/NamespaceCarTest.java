package dev.mnemo.store.car;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.block.Block;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.cid.Multicodec;
import dev.mnemo.store.cid.Multihash;
import dev.mnemo.store.cid.Varint;
import dev.mnemo.store.codec.DagCbor;
import dev.mnemo.store.identity.AgentKey;
import dev.mnemo.store.log.Appended;
import dev.mnemo.store.log.MemoryPage;
import dev.mnemo.store.log.MemoryState;
import dev.mnemo.store.log.NamespaceLog;
import dev.mnemo.store.log.RejectedEntryException;
import dev.mnemo.store.model.LogEntry;
import dev.mnemo.store.model.Memory;
import dev.mnemo.store.model.Op;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NamespaceCarTest {
  private static final String NS = "alice";

  @TempDir Path dir;
  private final List<MnemoStore> opened = new ArrayList<>();

  @AfterEach
  void closeStores() throws IOException {
    for (MnemoStore store : opened) {
      store.close();
    }
  }

  // ---- export and import round trips ----

  @Test
  void exportThenImportReproducesTheNamespace() throws Exception {
    MnemoStore a = store("a");
    List<Cid> written = writeHistory(a.log(), "first", 4);
    List<Cid> forgotten = List.of(written.get(1), written.get(5), written.get(6));
    a.log().forget(NS, List.of(written.get(1)));
    a.log().append(NS, List.of(memory(NS, "after forget")));
    a.log().forget(NS, List.of(written.get(5), written.get(6)));
    a.log().append("bob", List.of(memory("bob", "another namespace")));
    Snapshot before = Snapshot.of(a);

    ByteArrayOutputStream out = new ByteArrayOutputStream();
    NamespaceCar.Exported exported = NamespaceCar.export(a.log(), NS, out);
    byte[] car = out.toByteArray();

    CarReader reader = new CarReader(new ByteArrayInputStream(car));
    assertThat(reader.roots()).containsExactlyElementsOf(a.log().heads(NS));
    assertThat(exported.roots()).containsExactlyElementsOf(a.log().heads(NS));
    List<Block> blocks = new ArrayList<>();
    for (Block block = reader.next(); block != null; block = reader.next()) {
      assertThat(block.isIntact()).as("block %s", block.cid()).isTrue();
      assertThat(block.cid()).isEqualTo(Cid.dagCbor(block.data()));
      blocks.add(block);
    }
    Set<Cid> cids = cidsOf(blocks);
    assertThat(cids).hasSameSizeAs(blocks);
    assertThat(cids).containsAll(before.entries).containsAll(before.live).doesNotContainAnyElementsOf(forgotten);
    assertThat(cids).hasSize(before.entries.size() + before.live.size());
    assertThat(exported.entries()).isEqualTo(before.entries.size());
    assertThat(exported.memories()).isEqualTo(before.live.size());

    MnemoStore b = store("b");
    NamespaceCar.Imported imported = importCar(b.log(), car);
    assertThat(imported.roots()).containsExactlyElementsOf(a.log().heads(NS));
    assertThat(imported.blocks()).isEqualTo(blocks.size());
    assertThat(imported.entriesApplied()).isEqualTo(before.entries.size());

    Snapshot copy = Snapshot.of(b);
    assertThat(copy.heads).isEqualTo(before.heads);
    assertThat(copy.clock).isEqualTo(before.clock);
    assertThat(copy.entries).isEqualTo(before.entries);
    // One writer makes a chain, so the importer applies it in the order it was written.
    assertThat(copy.live).containsExactlyElementsOf(before.live);
    assertThat(copy.memories).isEqualTo(before.memories);
    for (Cid gone : forgotten) {
      assertThat(b.log().state(NS, gone)).isEqualTo(MemoryState.FORGOTTEN);
      assertThat(b.log().memory(gone)).isEmpty();
    }
    assertThat(b.log().namespaces()).containsExactly(NS);
    assertThat(b.log().heads("bob")).isEmpty();
    for (Cid entry : before.entries) {
      assertThat(b.log().entry(entry)).isEqualTo(a.log().entry(entry));
    }

    NamespaceCar.Imported again = importCar(b.log(), car);
    assertThat(again.entriesApplied()).isZero();
    assertThat(Snapshot.of(b)).isEqualTo(copy);
  }

  /**
   * An import from a file keeps no memory's bytes in the heap (issue 22: three concurrent 200 MiB
   * imports filled a 512 MiB heap): the log reads each memory back from the file, once, when it
   * writes the batch, and what it stores is what the file holds. Memories whose bytes the spill
   * cannot give back fail the whole import, with nothing stored.
   */
  @Test
  void aStreamedImportReadsEachMemoryBackFromItsSpillOnceAndStoresAllOrNothing() throws Exception {
    MnemoStore a = store("a");
    writeHistory(a.log(), "streamed", 3);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    NamespaceCar.export(a.log(), NS, out);
    List<Block> blocks = new ArrayList<>();
    CarReader reader = new CarReader(new ByteArrayInputStream(out.toByteArray()));
    for (Block block = reader.next(); block != null; block = reader.next()) {
      blocks.add(block);
    }
    Map<Cid, byte[]> file = new LinkedHashMap<>();
    blocks.forEach(b -> file.put(b.cid(), b.data()));
    Set<Cid> memories = new HashSet<>(Snapshot.of(a).live);

    // A spill that fails: nothing of the import is stored.
    MnemoStore failed = store("failed");
    java.util.Iterator<Block> first = blocks.iterator();
    assertThatThrownBy(() -> failed.log().applyStreamed(() -> first.hasNext() ? first.next() : null,
        cid -> {
          throw new IOException("the spill file is gone");
        }, NS)).hasMessageContaining("the spill file is gone");
    assertThat(failed.log().heads(NS)).isEmpty();
    assertThat(failed.log().lastPosition()).isZero();

    MnemoStore b = store("b");
    Map<Cid, Integer> reads = new java.util.concurrent.ConcurrentHashMap<>();
    java.util.Iterator<Block> it = blocks.iterator();
    int applied = b.log().applyStreamed(() -> it.hasNext() ? it.next() : null, cid -> {
      reads.merge(cid, 1, Integer::sum);
      return file.get(cid);
    }, NS);
    assertThat(applied).isEqualTo(Snapshot.of(a).entries.size());
    // Read back from the spill: every memory, once; no entry (entries are kept, decoded, to order them).
    assertThat(reads.keySet()).isEqualTo(memories);
    assertThat(reads.values()).containsOnly(1);
    assertThat(Snapshot.of(b)).isEqualTo(Snapshot.of(a));
  }

  /**
   * A forget that commits while an export writes: the export once skipped the forgotten memory,
   * whose forget entry it did not hold, and wrote a CAR no other node could import. Now it adds
   * the entries up to that forget, and the CAR imports whole.
   */
  @Test
  void aForgetCommittedDuringAnExportIsCarriedWithItNotLeftDangling() throws Exception {
    MnemoStore a = store("a");
    List<Cid> written = writeHistory(a.log(), "first", 3);
    Cid victim = written.get(written.size() - 1);
    List<Cid> headsBefore = List.copyOf(a.log().heads(NS));
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    java.io.OutputStream forgetsOnFirstWrite = new java.io.FilterOutputStream(sink) {
      private boolean forgot;

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        if (!forgot) {
          forgot = true;
          try {
            a.log().forget(NS, List.of(victim));
          } catch (dev.mnemo.store.log.MemoryNotFoundException e) {
            throw new AssertionError(e);
          }
        }
        out.write(b, off, len);
      }
    };
    NamespaceCar.Exported exported = NamespaceCar.export(a.log(), NS, forgetsOnFirstWrite);
    assertThat(exported.roots()).as("the heads when the export began").containsExactlyElementsOf(headsBefore);
    assertThat(exported.entries()).isEqualTo(4);

    Set<Cid> cids = new HashSet<>();
    CarReader reader = new CarReader(new ByteArrayInputStream(sink.toByteArray()));
    for (Block block = reader.next(); block != null; block = reader.next()) {
      cids.add(block.cid());
    }
    assertThat(cids).as("the forgotten text is not carried out").doesNotContain(victim);
    MnemoStore b = store("b");
    importCar(b.log(), sink.toByteArray());
    assertThat(b.log().heads(NS)).isEqualTo(a.log().heads(NS));
    assertThat(b.log().state(NS, victim)).isEqualTo(MemoryState.FORGOTTEN);
    assertThat(b.log().state(NS, written.get(0))).isEqualTo(MemoryState.LIVE);
  }

  /**
   * A pull part-way through: an entry is stored whose memory is awaited with the forget of a later
   * batch. The export once returned a CAR listing that memory with neither its block nor its
   * forget; now it says it cannot be made whole yet.
   */
  @Test
  void anExportOfANamespaceAwaitingAForgetFromAPeerSaysSoRatherThanDangle() throws Exception {
    MnemoStore a = store("a");
    List<Cid> written = writeHistory(a.log(), "first", 1);
    Cid entry = a.log().heads(NS).iterator().next();
    MnemoStore b = store("b");
    List<Block> batch = new ArrayList<>();
    batch.add(new Block(entry, a.log().blocks().get(entry).orElseThrow()));
    for (Cid memory : written.subList(1, written.size())) {
      batch.add(new Block(memory, a.log().blocks().get(memory).orElseThrow()));
    }
    assertThat(b.log().applyBlocks(batch, NS, Set.of(written.get(0)))).isEqualTo(1);
    assertThat(b.log().state(NS, written.get(0))).isEqualTo(MemoryState.UNKNOWN);

    assertThatThrownBy(() -> export(b.log(), NS)).isInstanceOf(NamespaceCar.ChangedDuringExportException.class);
  }

  @Test
  void importOnTopOfAnEarlierImportAppliesOnlyWhatIsNew() throws Exception {
    MnemoStore a = store("a");
    List<Cid> early = writeHistory(a.log(), "early", 3);
    MnemoStore b = store("b");
    byte[] first = export(a.log(), NS);
    assertThat(importCar(b.log(), first).entriesApplied()).isEqualTo(3);
    Snapshot earlier = Snapshot.of(b);

    List<Cid> late = writeHistory(a.log(), "late", 2);
    Cid forgottenEarly = early.get(0);
    Cid forgottenLate = late.get(2);
    a.log().forget(NS, List.of(forgottenEarly, forgottenLate));
    Snapshot now = Snapshot.of(a);
    assertThat(b.blocks().has(forgottenEarly)).isTrue();

    NamespaceCar.Imported imported = importCar(b.log(), export(a.log(), NS));
    assertThat(imported.entriesApplied()).isEqualTo(now.entries.size() - earlier.entries.size()).isEqualTo(3);
    Snapshot copy = Snapshot.of(b);
    assertThat(copy.heads).isEqualTo(now.heads);
    assertThat(copy.clock).isEqualTo(now.clock);
    assertThat(copy.entries).isEqualTo(now.entries);
    assertThat(copy.live).containsExactlyElementsOf(now.live);
    assertThat(copy.memories).isEqualTo(now.memories);
    assertThat(b.log().state(NS, forgottenEarly)).isEqualTo(MemoryState.FORGOTTEN);
    assertThat(b.log().state(NS, forgottenLate)).isEqualTo(MemoryState.FORGOTTEN);
    assertThat(b.blocks().has(forgottenEarly)).as("a forget deletes the memory block").isFalse();
    assertThat(b.blocks().has(forgottenLate)).isFalse();
    // Blocks: every entry plus every live memory, nothing else.
    assertThat(copy.blockCount).isEqualTo(now.entries.size() + now.live.size());

    // Re-importing the older export changes nothing: it holds only entries B already applied.
    assertThat(importCar(b.log(), first).entriesApplied()).isZero();
    assertThat(Snapshot.of(b)).isEqualTo(copy);
  }

  // ---- corrupt and forged input ----

  @Test
  void aTamperedMemoryBlockRejectsTheWholeImport() throws Exception {
    assertTamperedBlockIsRejected(false);
  }

  @Test
  void aTamperedEntryBlockRejectsTheWholeImport() throws Exception {
    assertTamperedBlockIsRejected(true);
  }

  private void assertTamperedBlockIsRejected(boolean entry) throws Exception {
    MnemoStore a = store("a");
    writeHistory(a.log(), "m", 2);
    MnemoStore partial = store("partial");
    importCar(partial.log(), export(a.log(), NS));
    writeHistory(a.log(), "n", 2);
    byte[] car = export(a.log(), NS);

    Block victim = blocksOf(car).stream()
        .filter(block -> isEntry(block) == entry)
        .filter(block -> !partial.log().position(block.cid()).isPresent() && !hasBlock(partial, block.cid()))
        .findFirst().orElseThrow();
    byte[] section = concat(victim.cid().toBytes(), victim.data());
    int at = indexOf(car, section);
    assertThat(at).isPositive();
    byte[] tampered = car.clone();
    tampered[at + victim.cid().binaryLength() + victim.data().length / 2] ^= 0x01;

    MnemoStore fresh = store("fresh");
    assertThatThrownBy(() -> importCar(fresh.log(), tampered))
        .isInstanceOf(InvalidFormatException.class)
        .hasMessageContaining("section")
        .hasMessageContaining(victim.cid().toString());
    assertThat(fresh.log().lastPosition()).isZero();
    assertThat(fresh.log().heads(NS)).isEmpty();
    assertThat(fresh.log().namespaces()).isEmpty();
    assertThat(blockCount(fresh)).isZero();

    Snapshot before = Snapshot.of(partial);
    assertThatThrownBy(() -> importCar(partial.log(), tampered)).isInstanceOf(InvalidFormatException.class);
    assertThat(Snapshot.of(partial)).isEqualTo(before);

    // The untouched CAR imports: the failure above was the flipped byte, nothing else.
    assertThat(importCar(fresh.log(), car).entriesApplied()).isEqualTo(4);
  }

  @Test
  void anEntryWhoseAuthorWasSwappedIsRejected() throws Exception {
    MnemoStore a = store("a");
    writeHistory(a.log(), "m", 2);
    List<Block> blocks = blocksOf(export(a.log(), NS));
    Cid head = a.log().heads(NS).iterator().next();
    LogEntry genuine = a.log().entry(head).orElseThrow();
    AgentKey other = AgentKey.generate();
    LogEntry forged = new LogEntry(genuine.ns(), genuine.op(), genuine.refs(), genuine.parents(), genuine.clock(),
        other.did(), genuine.sig());

    assertForgeryRejected(blocks, head, forged);
  }

  @Test
  void anEntryAlteredAfterSigningIsRejected() throws Exception {
    MnemoStore a = store("a");
    writeHistory(a.log(), "m", 2);
    List<Block> blocks = blocksOf(export(a.log(), NS));
    Cid head = a.log().heads(NS).iterator().next();
    LogEntry genuine = a.log().entry(head).orElseThrow();
    assertThat(genuine.refs()).hasSizeGreaterThan(1);

    assertForgeryRejected(blocks, head, new LogEntry(genuine.ns(), genuine.op(), genuine.refs(), genuine.parents(),
        genuine.clock() + 7, genuine.author(), genuine.sig()));
    assertForgeryRejected(blocks, head, new LogEntry(genuine.ns(), genuine.op(), genuine.refs().subList(1, 2),
        genuine.parents(), genuine.clock(), genuine.author(), genuine.sig()));
    assertForgeryRejected(blocks, head, new LogEntry(genuine.ns(), Op.FORGET, genuine.refs(), genuine.parents(),
        genuine.clock(), genuine.author(), genuine.sig()));
  }

  private void assertForgeryRejected(List<Block> genuineBlocks, Cid genuine, LogEntry forged) throws Exception {
    Block forgedBlock = Block.dagCbor(forged.encode());
    assertThat(forgedBlock.isIntact()).isTrue();
    assertThat(forged.hasValidSignature()).isFalse();
    List<Block> blocks = new ArrayList<>();
    for (Block block : genuineBlocks) {
      blocks.add(block.cid().equals(genuine) ? forgedBlock : block);
    }
    MnemoStore target = store("target-" + opened.size());
    assertThatThrownBy(() -> importCar(target.log(), car(List.of(forgedBlock.cid()), blocks)))
        .isInstanceOf(RejectedEntryException.class)
        .hasMessageContaining(forgedBlock.cid().toString())
        .hasMessageContaining("signature")
        .satisfies(e -> assertThat(((RejectedEntryException) e).cid()).isEqualTo(forgedBlock.cid()));
    assertNothingStored(target);
  }

  @Test
  void anEntryAddingAMemoryOfAnotherNamespaceIsRejected() throws Exception {
    AgentKey key = AgentKey.generate();
    Block good = memoryBlock(NS, "fine");
    LogEntry first = LogEntry.signed(key, NS, Op.ADD, List.of(good.cid()), List.of(), 1);
    Block firstBlock = Block.dagCbor(first.encode());
    Block foreign = memoryBlock("bob", "not alice's");
    LogEntry second = LogEntry.signed(key, NS, Op.ADD, List.of(foreign.cid()), List.of(firstBlock.cid()), 2);
    Block secondBlock = Block.dagCbor(second.encode());

    MnemoStore target = store("target");
    byte[] bad = car(List.of(secondBlock.cid()), List.of(firstBlock, good, secondBlock, foreign));
    assertThatThrownBy(() -> importCar(target.log(), bad))
        .isInstanceOf(RejectedEntryException.class)
        .hasMessageContaining(secondBlock.cid().toString())
        .hasMessageContaining("bob");
    assertNothingStored(target);

    // A forget in alice naming bob's memory is refused the same way when the block comes along.
    LogEntry forget = LogEntry.signed(key, NS, Op.FORGET, List.of(foreign.cid()), List.of(firstBlock.cid()), 2);
    Block forgetBlock = Block.dagCbor(forget.encode());
    assertThatThrownBy(() -> importCar(target.log(),
        car(List.of(forgetBlock.cid()), List.of(firstBlock, good, forgetBlock, foreign))))
        .isInstanceOf(RejectedEntryException.class);
    assertNothingStored(target);

    // Control: without the foreign entry the same CAR imports.
    assertThat(importCar(target.log(), car(List.of(firstBlock.cid()), List.of(firstBlock, good))).entriesApplied())
        .isEqualTo(1);
    assertThat(target.log().list(NS, null, 10).memories()).containsExactly(good.cid());
  }

  @Test
  void anEntryWhoseParentIsNowhereIsRejected() throws Exception {
    AgentKey key = AgentKey.generate();
    Block memory = memoryBlock(NS, "one");
    Block firstBlock = Block.dagCbor(LogEntry.signed(key, NS, Op.ADD, List.of(memory.cid()), List.of(), 1).encode());
    Cid phantom = Block.dagCbor(DagCbor.encode(Map.of("never", "written"))).cid();
    Block memory2 = memoryBlock(NS, "two");
    Block orphan = Block.dagCbor(LogEntry.signed(key, NS, Op.ADD, List.of(memory2.cid()),
        List.of(firstBlock.cid(), phantom), 2).encode());

    MnemoStore target = store("target");
    byte[] bad = car(List.of(orphan.cid()), List.of(orphan, memory2, firstBlock, memory));
    assertThatThrownBy(() -> importCar(target.log(), bad))
        .isInstanceOf(RejectedEntryException.class)
        .hasMessageContaining(orphan.cid().toString())
        .hasMessageContaining(phantom.toString());
    assertNothingStored(target);

    // With the first entry already stored, the orphan is still refused and nothing changes.
    assertThat(importCar(target.log(), car(List.of(firstBlock.cid()), List.of(firstBlock, memory))).entriesApplied())
        .isEqualTo(1);
    Snapshot before = Snapshot.of(target);
    assertThatThrownBy(() -> importCar(target.log(), car(List.of(orphan.cid()), List.of(orphan, memory2))))
        .isInstanceOf(RejectedEntryException.class)
        .hasMessageContaining(phantom.toString());
    assertThat(Snapshot.of(target)).isEqualTo(before);
    assertThat(hasBlock(target, memory2.cid())).isFalse();
  }

  @Test
  void anAddWhoseMemoryIsMissingAndNotForgottenIsRejected() throws Exception {
    AgentKey key = AgentKey.generate();
    Block present = memoryBlock(NS, "present");
    Block missing = memoryBlock(NS, "missing");
    Block add = Block.dagCbor(LogEntry.signed(key, NS, Op.ADD, List.of(present.cid(), missing.cid()), List.of(), 1)
        .encode());

    MnemoStore target = store("target");
    assertThatThrownBy(() -> importCar(target.log(), car(List.of(add.cid()), List.of(add, present))))
        .isInstanceOf(RejectedEntryException.class)
        .hasMessageContaining(add.cid().toString())
        .hasMessageContaining(missing.cid().toString());
    assertNothingStored(target);

    // Forgotten later in the same namespace: the block is legitimately gone, and the import applies.
    Block forget = Block.dagCbor(LogEntry.signed(key, NS, Op.FORGET, List.of(missing.cid()), List.of(add.cid()), 2)
        .encode());
    assertThat(importCar(target.log(), car(List.of(forget.cid()), List.of(forget, add, present))).entriesApplied())
        .isEqualTo(2);
    assertThat(target.log().state(NS, missing.cid())).isEqualTo(MemoryState.FORGOTTEN);
    assertThat(target.log().list(NS, null, 10).memories()).containsExactly(present.cid());
  }

  /**
   * A forget in namespace bob says nothing about alice's copy of a CID, so it must not excuse an
   * alice add whose memory block is missing: a node holding the block would make the memory live
   * in alice, this one would mark it forgotten, and the same entries would give two states.
   */
  @Test
  void aForgetInAnotherNamespaceDoesNotExcuseAMissingMemory() throws Exception {
    AgentKey key = AgentKey.generate();
    Block missing = memoryBlock(NS, "missing");
    Block add = Block.dagCbor(LogEntry.signed(key, NS, Op.ADD, List.of(missing.cid()), List.of(), 1).encode());
    Block bobRoot = Block.dagCbor(LogEntry.signed(dev.mnemo.store.identity.Author.of(key), "bob", Op.CREATE, List.of(),
        List.of(), 1, null, null).encode());
    Block bobForget = Block.dagCbor(LogEntry.signed(key, "bob", Op.FORGET, List.of(missing.cid()), List.of(bobRoot.cid()), 2)
        .encode());

    MnemoStore target = store("target");
    assertThatThrownBy(() -> importCar(target.log(), car(List.of(add.cid()), List.of(add, bobRoot, bobForget))))
        .isInstanceOf(RejectedEntryException.class)
        .hasMessageContaining(missing.cid().toString());
    assertNothingStored(target);
  }

  // ---- CarReader on bad input ----

  @Test
  void carReaderRefusesMalformedHeaders() throws Exception {
    Cid root = Block.dagCbor(DagCbor.encode(Map.of("k", "v"))).cid();
    assertInvalid(new byte[0], "empty");
    assertInvalid(new byte[] {0}, "empty header");
    assertInvalid(repeat((byte) 0xFF, 10), "varint");
    assertInvalid(concat(varint((1 << 20) + 1), new byte[16]), "exceeds");
    assertInvalid(concat(varint(1L << 62), new byte[16]), "exceeds");
    byte[] good = headerBytes(List.of(root), 1L);
    assertInvalid(Arrays.copyOf(good, good.length - 3), "truncated");
    assertInvalid(concat(varint(3), new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF}), "header");
    // Not canonical DAG-CBOR: a one-byte integer written in two bytes.
    assertInvalid(concat(varint(2), new byte[] {0x18, 0x01}), "header");
    assertInvalid(concat(varint(1), new byte[] {0x01}), "header");
    assertInvalid(headerOf(DagCbor.encode(List.of(root))), "header");
    assertInvalid(headerBytes(List.of(root), 2L), "version");
    assertInvalid(headerBytes(List.of(root), "1"), "version");
    Map<String, Object> noVersion = new LinkedHashMap<>();
    noVersion.put("roots", List.of(root));
    assertInvalid(headerOf(DagCbor.encode(noVersion)), "version");
    Map<String, Object> textRoots = new LinkedHashMap<>();
    textRoots.put("roots", List.of(root.toString()));
    textRoots.put("version", 1L);
    assertInvalid(headerOf(DagCbor.encode(textRoots)), "roots");
    Map<String, Object> rootNotList = new LinkedHashMap<>();
    rootNotList.put("roots", root);
    rootNotList.put("version", 1L);
    assertInvalid(headerOf(DagCbor.encode(rootNotList)), "roots");
    Map<String, Object> noRoots = Map.of("version", 1L);
    assertInvalid(headerOf(DagCbor.encode(noRoots)), "roots");
  }

  @Test
  void carReaderRefusesMalformedSections() throws Exception {
    Cid root = Block.dagCbor(DagCbor.encode(Map.of("k", "v"))).cid();
    byte[] header = headerBytes(List.of(root), 1L);
    Block block = Block.dagCbor(DagCbor.encode(Map.of("k", "v")));
    byte[] goodSection = sectionOf(block.cid().toBytes(), block.data());

    assertInvalid(concat(header, new byte[] {0}), "section 1 has length 0");
    assertInvalid(concat(header, goodSection, new byte[] {0}), "section 2 has length 0");
    assertInvalid(concat(header, varint(CarReader.MAX_SECTION + 1)), "section 1 has length");
    assertInvalid(concat(header, varint(1L << 62)), "section 1 has length");
    assertInvalid(concat(header, varint(100), new byte[40]), "truncated");
    assertInvalid(concat(header, goodSection, new byte[] {(byte) 0x80}), "varint");
    assertInvalid(concat(header, sectionOf(new byte[] {0x02, 0x71, 0x12, 0x20}, new byte[40])), "bad CID");
    assertInvalid(concat(header, sectionOf(new byte[] {0x01}, new byte[0])), "bad CID");
    assertInvalid(concat(header, sectionOf(Arrays.copyOf(block.cid().toBytes(), 20), new byte[0])), "bad CID");

    byte[] sha3 = concat(new byte[] {0x01, 0x71, 0x16, 0x20}, new byte[32]);
    assertInvalid(concat(header, goodSection, sectionOf(sha3, block.data())), "section 2");
    assertInvalid(concat(header, sectionOf(sha3, block.data())), "cannot verify");

    byte[] wrong = block.data().clone();
    wrong[wrong.length - 1] ^= 1;
    assertInvalid(concat(header, sectionOf(block.cid().toBytes(), wrong)), "does not hash");

    // Control: the same framing with honest contents reads, including an identity-hashed block.
    Cid identity = Cid.v1(Multicodec.RAW, new Multihash(Multicodec.IDENTITY, "inline".getBytes(StandardCharsets.UTF_8)));
    CarReader reader = new CarReader(new ByteArrayInputStream(
        concat(header, goodSection, sectionOf(identity.toBytes(), "inline".getBytes(StandardCharsets.UTF_8)))));
    assertThat(reader.next()).isEqualTo(block);
    assertThat(reader.next().cid()).isEqualTo(identity);
    assertThat(reader.next()).isNull();
  }

  @Test
  void carReaderChecksLengthsBeforeReadingOrAllocating() throws Exception {
    Cid root = Block.dagCbor(DagCbor.encode(Map.of("k", "v"))).cid();
    byte[] header = headerBytes(List.of(root), 1L);

    byte[] oversizedSection = concat(header, varint(CarReader.MAX_SECTION + 1));
    CountingZeros in = new CountingZeros(oversizedSection);
    CarReader reader = new CarReader(in);
    assertThatThrownBy(reader::next).isInstanceOf(InvalidFormatException.class);
    assertThat(in.consumed).as("bytes read past the length prefix").isEqualTo(oversizedSection.length);

    byte[] oversizedHeader = varint((1 << 20) + 1);
    CountingZeros headerIn = new CountingZeros(oversizedHeader);
    assertThatThrownBy(() -> new CarReader(headerIn)).isInstanceOf(InvalidFormatException.class);
    assertThat(headerIn.consumed).isEqualTo(oversizedHeader.length);
  }

  /**
   * DAG-CBOR heads with a 64-bit length whose top bit is set. The reader's overrun checks compare
   * the length as a signed long, so these slip past them into a collection constructor.
   */
  @Test
  void carReaderRefusesAHeaderDeclaringAnImpossiblyLongMapOrList() {
    byte[] hugeMap = {(byte) 0xBB, (byte) 0x98, 0x43, 0x65, (byte) 0xA2, (byte) 0xA6, 0x25, (byte) 0xCF, (byte) 0x86};
    assertInvalid(headerOf(hugeMap), "header");
    byte[] hugeList = {(byte) 0x9B, (byte) 0x80, 0, 0, 0, (byte) 0x80, 0, 0, 0};
    assertInvalid(headerOf(hugeList), "header");
    // Same trick inside a well-formed header map: roots declared as a list of 2^63 + 1 links.
    byte[] rootsHuge = concat(new byte[] {(byte) 0xA2, 0x65}, ascii("roots"),
        new byte[] {(byte) 0x9B, (byte) 0x80, 0, 0, 0, 0, 0, 0, 0x01, 0x67}, ascii("version"), new byte[] {0x01});
    assertInvalid(headerOf(rootsHuge), "header");
  }

  @Test
  void carReaderThrowsOnlyInvalidFormatOnRandomInput() throws Exception {
    long seed = Long.getLong("mnemo.test.seed", System.nanoTime());
    Random random = new Random(seed);
    MnemoStore a = store("a");
    writeHistory(a.log(), "fuzz", 3);
    a.log().forget(NS, List.of(a.log().list(NS, null, 1).memories().get(0)));
    byte[] valid = export(a.log(), NS);
    assertThat(drain(valid)).isEqualTo(blocksOf(valid).size());
    long headerBody = Varint.read(new ByteArrayInputStream(valid), "test");
    byte[] header = Arrays.copyOf(valid, (int) headerBody + Varint.size(headerBody));

    for (int i = 0; i < 20_000; i++) {
      byte[] input;
      switch (i % 5) {
        case 0 -> input = randomBytes(random, 300);
        // A plausible header length over random bytes reaches the header's DAG-CBOR decoder.
        case 1 -> {
          byte[] body = randomBytes(random, 40);
          input = concat(varint(body.length), body, randomBytes(random, 20));
        }
        // A valid header followed by garbage reaches the section parser.
        case 2 -> input = concat(header, randomBytes(random, 300));
        default -> input = mutate(valid, random);
      }
      try {
        drain(input);
      } catch (InvalidFormatException expected) {
        // the one permitted failure
      } catch (Throwable t) {
        throw new AssertionError(String.format("seed %d, iteration %d: %s on input %s", seed, i, t,
            Arrays.toString(input)), t);
      }
    }
  }

  /** Blocks that hash correctly but hold anything: an import fails with an IOException and stores none of it. */
  @Test
  void importOfWellHashedGarbageFailsOnlyWithAnIOException() throws Exception {
    long seed = Long.getLong("mnemo.test.seed", System.nanoTime());
    Random random = new Random(seed);
    MnemoStore a = store("a");
    writeHistory(a.log(), "src", 2);
    List<Block> genuine = blocksOf(export(a.log(), NS));
    MnemoStore target = store("target");

    List<byte[]> fixed = List.of(
        new byte[] {(byte) 0xFF},
        DagCbor.encode(List.of(1L, 2L)),
        DagCbor.encode(Map.of("op", "add")),
        DagCbor.encode(Map.of("v", 1L)),
        new byte[] {(byte) 0xBB, (byte) 0x98, 0x43, 0x65, (byte) 0xA2, (byte) 0xA6, 0x25, (byte) 0xCF, (byte) 0x86},
        new byte[] {(byte) 0x9B, (byte) 0x80, 0, 0, 0, (byte) 0x80, 0, 0, 0});
    for (int i = 0; i < 600 + fixed.size(); i++) {
      byte[] data;
      if (i < fixed.size()) {
        data = fixed.get(i);
      } else {
        Block victim = genuine.get(random.nextInt(genuine.size()));
        data = mutate(victim.data(), random);
      }
      Block garbage = Block.dagCbor(data);
      if (genuine.contains(garbage)) {
        continue;
      }
      List<Block> blocks = new ArrayList<>(genuine);
      blocks.add(random.nextInt(blocks.size() + 1), garbage);
      byte[] car = car(List.of(garbage.cid()), blocks);
      long before = target.log().lastPosition();
      try {
        importCar(target.log(), car);
        // Only a block the log may ignore can pass: a well-formed memory that no entry names.
        assertThat(Memory.decode(garbage.data())).isNotNull();
        assertThat(hasBlock(target, garbage.cid())).as("seed %d, iteration %d", seed, i).isFalse();
      } catch (IOException expected) {
        assertThat(target.log().lastPosition()).as("seed %d, iteration %d", seed, i).isEqualTo(before);
      } catch (Throwable t) {
        throw new AssertionError(String.format("seed %d, iteration %d: %s on block %s", seed, i, t,
            Arrays.toString(data)), t);
      }
    }
    Set<Cid> stored = new HashSet<>();
    target.blocks().forEachCid(stored::add);
    assertThat(stored).as("seed %d: nothing but the genuine blocks is ever stored", seed)
        .isSubsetOf(cidsOf(genuine));
  }

  // ---- CarWriter ----

  @Test
  void carWriterOutputReadsBackBlockForBlock() throws Exception {
    Block cbor = Block.dagCbor(DagCbor.encode(Map.of("hello", "world")));
    byte[] rawData = "raw bytes".getBytes(StandardCharsets.UTF_8);
    Block raw = new Block(Cid.of(Multicodec.RAW, rawData), rawData);
    byte[] inline = "inline".getBytes(StandardCharsets.UTF_8);
    Block identity = new Block(Cid.v1(Multicodec.RAW, new Multihash(Multicodec.IDENTITY, inline)), inline);
    byte[] pbData = {0x0a, 0x02, 0x08, 0x01};
    Block v0 = new Block(Cid.fromBytes(concat(new byte[] {0x12, 0x20}, sha256(pbData))), pbData);
    assertThat(v0.cid().version()).isZero();
    List<Block> blocks = List.of(cbor, raw, identity, v0);

    for (List<Cid> roots : List.of(List.<Cid>of(), List.of(cbor.cid()), List.of(v0.cid(), raw.cid(), cbor.cid()))) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      CarWriter writer = new CarWriter(out, roots);
      for (Block block : blocks) {
        writer.write(block);
      }
      assertThat(writer.blocksWritten()).isEqualTo(blocks.size());
      CarReader reader = new CarReader(new ByteArrayInputStream(out.toByteArray()));
      assertThat(reader.roots()).containsExactlyElementsOf(roots);
      List<Block> read = new ArrayList<>();
      for (Block block = reader.next(); block != null; block = reader.next()) {
        read.add(block);
      }
      assertThat(read).containsExactlyElementsOf(blocks);
      assertThat(reader.next()).isNull();
    }
  }

  @Test
  void carWriterStartsWithTheCanonicalCarV1Header() throws Exception {
    byte[] data = "{\"known\":\"root\"}".getBytes(StandardCharsets.UTF_8);
    Cid root = Cid.dagCbor(data);
    // CIDv1, dag-cbor (0x71), sha2-256 (0x12), 32-byte digest, built by hand.
    byte[] cid = concat(new byte[] {0x01, 0x71, 0x12, 0x20}, sha256(data));
    assertThat(root.toBytes()).isEqualTo(cid);
    byte[] body = concat(
        new byte[] {(byte) 0xA2},                                  // map(2)
        new byte[] {0x65}, ascii("roots"),                          // text(5) "roots"
        new byte[] {(byte) 0x81},                                  // array(1)
        new byte[] {(byte) 0xD8, 0x2A},                            // tag(42)
        new byte[] {0x58, 0x25, 0x00}, cid,                         // bytes(37): 0x00 multibase prefix + CID
        new byte[] {0x67}, ascii("version"),                        // text(7) "version"
        new byte[] {0x01});                                        // 1
    assertThat(body).hasSize(58);
    byte[] expected = concat(new byte[] {0x3A}, body);

    ByteArrayOutputStream out = new ByteArrayOutputStream();
    CarWriter writer = new CarWriter(out, List.of(root));
    assertThat(out.toByteArray()).isEqualTo(expected);
    writer.write(new Block(root, data));
    byte[] section = concat(new byte[] {(byte) (cid.length + data.length)}, cid, data);
    assertThat(out.toByteArray()).isEqualTo(concat(expected, section));

    ByteArrayOutputStream empty = new ByteArrayOutputStream();
    new CarWriter(empty, List.of());
    assertThat(empty.toByteArray()).isEqualTo(concat(new byte[] {0x11, (byte) 0xA2, 0x65}, ascii("roots"),
        new byte[] {(byte) 0x80, 0x67}, ascii("version"), new byte[] {0x01}));
  }

  // ---- helpers ----

  private MnemoStore store(String name) throws IOException {
    MnemoStore store = MnemoStore.open(dir.resolve(name));
    opened.add(store);
    return store;
  }

  static Memory memory(String ns, String text) {
    return new Memory(ns, text, Map.of("source", "car-test", "length", (long) text.length()), List.of("t"),
        1_700_000_000_000L, null, null);
  }

  static Block memoryBlock(String ns, String text) {
    return Block.dagCbor(memory(ns, text).encode());
  }

  /** Appends {@code batches} batches of 2-4 memories to {@link #NS}; returns their CIDs in order. */
  private static List<Cid> writeHistory(NamespaceLog log, String prefix, int batches) throws IOException {
    List<Cid> cids = new ArrayList<>();
    for (int b = 0; b < batches; b++) {
      List<Memory> batch = new ArrayList<>();
      for (int i = 0; i < 2 + b % 3; i++) {
        batch.add(memory(NS, prefix + " " + b + "." + i));
      }
      Appended appended = log.append(NS, batch);
      cids.addAll(appended.memories());
    }
    return cids;
  }

  static byte[] export(NamespaceLog log, String ns) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    NamespaceCar.export(log, ns, out);
    return out.toByteArray();
  }

  static NamespaceCar.Imported importCar(NamespaceLog log, byte[] car) throws IOException {
    return NamespaceCar.importCar(log, new ByteArrayInputStream(car));
  }

  static List<Block> blocksOf(byte[] car) throws IOException {
    CarReader reader = new CarReader(new ByteArrayInputStream(car));
    List<Block> blocks = new ArrayList<>();
    for (Block block = reader.next(); block != null; block = reader.next()) {
      blocks.add(block);
    }
    return blocks;
  }

  static byte[] car(List<Cid> roots, Collection<Block> blocks) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    CarWriter writer = new CarWriter(out, roots);
    for (Block block : blocks) {
      writer.write(block);
    }
    return out.toByteArray();
  }

  private static int drain(byte[] car) throws IOException {
    CarReader reader = new CarReader(new ByteArrayInputStream(car));
    reader.roots();
    int n = 0;
    while (reader.next() != null) {
      n++;
    }
    return n;
  }

  private static boolean isEntry(Block block) {
    try {
      return DagCbor.decodeMap(block.data()).containsKey("op");
    } catch (InvalidFormatException e) {
      throw new AssertionError(e);
    }
  }

  private static Set<Cid> cidsOf(Collection<Block> blocks) {
    Set<Cid> cids = new HashSet<>();
    blocks.forEach(block -> cids.add(block.cid()));
    return cids;
  }

  static long blockCount(MnemoStore store) throws IOException {
    long[] count = {0};
    store.blocks().forEachCid(cid -> count[0]++);
    return count[0];
  }

  private static boolean hasBlock(MnemoStore store, Cid cid) {
    try {
      return store.blocks().has(cid);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  private static void assertNothingStored(MnemoStore store) throws IOException {
    assertThat(store.log().lastPosition()).isZero();
    assertThat(store.log().heads(NS)).isEmpty();
    assertThat(store.log().namespaces()).isEmpty();
    assertThat(blockCount(store)).isZero();
  }

  private static void assertInvalid(byte[] car, String messagePart) {
    assertThatThrownBy(() -> drain(car))
        .as("input %s", Arrays.toString(car))
        .isInstanceOf(InvalidFormatException.class)
        .hasMessageContaining(messagePart);
  }

  /** One random structural damage: flip, overwrite, truncate, insert, delete or duplicate. */
  private static byte[] mutate(byte[] valid, Random random) {
    byte[] out = valid.clone();
    int edits = 1 + random.nextInt(3);
    for (int e = 0; e < edits && out.length > 0; e++) {
      int at = random.nextInt(out.length);
      switch (random.nextInt(6)) {
        case 0 -> out[at] ^= (byte) (1 << random.nextInt(8));
        case 1 -> out[at] = (byte) random.nextInt(256);
        case 2 -> out = Arrays.copyOf(out, at);
        case 3 -> {
          byte[] insert = new byte[1 + random.nextInt(8)];
          random.nextBytes(insert);
          out = concat(Arrays.copyOf(out, at), insert, Arrays.copyOfRange(out, at, out.length));
        }
        case 4 -> out = concat(Arrays.copyOf(out, at), Arrays.copyOfRange(out, Math.min(out.length, at + 1 + random.nextInt(8)), out.length));
        default -> out = concat(out, Arrays.copyOfRange(out, at, Math.min(out.length, at + 1 + random.nextInt(64))));
      }
    }
    return out;
  }

  private static byte[] headerBytes(List<Cid> roots, Object version) {
    Map<String, Object> header = new LinkedHashMap<>();
    header.put("roots", roots);
    header.put("version", version);
    return headerOf(DagCbor.encode(header));
  }

  private static byte[] headerOf(byte[] cbor) {
    return concat(varint(cbor.length), cbor);
  }

  private static byte[] sectionOf(byte[] cid, byte[] data) {
    return concat(varint(cid.length + data.length), cid, data);
  }

  private static byte[] varint(long value) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Varint.write(value, out);
    return out.toByteArray();
  }

  private static byte[] randomBytes(Random random, int maxLength) {
    byte[] bytes = new byte[random.nextInt(maxLength + 1)];
    random.nextBytes(bytes);
    return bytes;
  }

  private static byte[] repeat(byte b, int n) {
    byte[] out = new byte[n];
    Arrays.fill(out, b);
    return out;
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  private static byte[] sha256(byte[] data) throws Exception {
    return MessageDigest.getInstance("SHA-256").digest(data);
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  /** A prefix, then zeros forever; counts what the reader consumed. */
  private static final class CountingZeros extends InputStream {
    private final byte[] prefix;
    long consumed;

    CountingZeros(byte[] prefix) {
      this.prefix = prefix;
    }

    @Override
    public int read() {
      int b = consumed < prefix.length ? prefix[(int) consumed] & 0xFF : 0;
      consumed++;
      return b;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) {
      for (int i = 0; i < length; i++) {
        buffer[offset + i] = (byte) read();
      }
      return length;
    }
  }

  /** What a namespace looks like from outside: everything an import must reproduce. */
  record Snapshot(Set<Cid> heads, long clock, Set<Cid> entries, List<Cid> live, Map<Cid, Memory> memories,
      long lastPosition, long blockCount) {
    static Snapshot of(MnemoStore store) throws IOException {
      NamespaceLog log = store.log();
      Set<Cid> entries = new TreeSet<>();
      log.walk(NS, positioned -> {
        entries.add(positioned.cid());
        return true;
      });
      List<Cid> live = new ArrayList<>();
      String cursor = null;
      do {
        MemoryPage page = log.list(NS, cursor, 3);
        live.addAll(page.memories());
        cursor = page.next();
      } while (cursor != null);
      Map<Cid, Memory> memories = new LinkedHashMap<>();
      for (Cid cid : live) {
        memories.put(cid, log.memory(cid).orElseThrow(() -> new AssertionError("live memory without block " + cid)));
      }
      return new Snapshot(log.heads(NS), log.clock(NS), entries, live, memories, log.lastPosition(),
          NamespaceCarTest.blockCount(store));
    }
  }
}
