package dev.mnemo.node.ipfs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mnemo.store.block.Block;
import dev.mnemo.store.block.BlockStoreUnavailableException;
import dev.mnemo.store.block.CorruptBlockException;
import dev.mnemo.store.cid.Cid;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link KuboBlockStore} against a real IPFS node (js-ipfs from {@code tools/ipfs-node}), checked
 * through an independent RPC client ({@link IpfsRpc}): what Mnemo stores is what the IPFS node
 * holds, under the same CIDs, pinned, kept by its garbage collector, unpinned and removed on
 * delete (but never out from under another pin), refused when the node hands back other bytes, and
 * reported as unavailable, quickly, when the node is down or hung.
 */
class KuboBlockStoreTest {
  private static final String NS = "kubo-test";
  /** The per-call timeout the store is configured with; a hung node must be reported within about this. */
  private static final long TIMEOUT_MS = 1_500;
  private static final int RETRIES = 2;

  private static IpfsNode ipfs;
  private static IpfsRpc rpc;
  private static Vertx vertx;
  private static KuboBlockStore store;

  private final List<LogRecord> warnings = new CopyOnWriteArrayList<>();
  private final Logger storeLogger = Logger.getLogger(KuboBlockStore.class.getName());
  private final Handler capture = new Handler() {
    @Override
    public void publish(LogRecord record) {
      warnings.add(record);
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  };

  @BeforeAll
  static void startIpfs() {
    ipfs = IpfsNode.start();
    rpc = new IpfsRpc(ipfs.api());
    vertx = Vertx.vertx();
    store = new KuboBlockStore(new KuboClient(vertx, ipfs.api(), TIMEOUT_MS, RETRIES), TIMEOUT_MS, RETRIES);
  }

  @AfterAll
  static void stopIpfs() throws Exception {
    if (store != null) {
      store.close();
    }
    if (vertx != null) {
      vertx.close().toCompletionStage().toCompletableFuture().get();
    }
    if (ipfs != null) {
      ipfs.close();
    }
  }

  @BeforeEach
  void captureWarnings() {
    storeLogger.addHandler(capture);
  }

  @AfterEach
  void releaseWarnings() {
    storeLogger.removeHandler(capture);
    // A test that stopped or paused the node brings it back for the next one.
    if (!ipfs.isRunning()) {
      ipfs.restart();
    }
    ipfs.resume();
  }

  @Test
  void putGetHasDeleteAndListRoundTrip() throws IOException {
    Block memory = TestBlocks.memoryBlock(NS, "round trip", 1);
    Block entry = TestBlocks.entryBlock(NS, List.of(memory.cid()), List.of(), 1);
    Block never = TestBlocks.memoryBlock(NS, "never stored", 2);

    assertThat(store.has(memory.cid())).isFalse();
    assertThat(store.get(memory.cid())).isEmpty();
    store.putAll(List.of(memory, entry));

    for (Block block : List.of(memory, entry)) {
      assertThat(store.has(block.cid())).as("has %s", block).isTrue();
      assertThat(store.get(block.cid())).as("get %s", block).hasValueSatisfying(data -> assertThat(data).isEqualTo(block.data()));
      assertThat(rpc.block(block.cid().toString())).as("the IPFS node's own copy").isEqualTo(block.data());
    }
    assertThat(listed()).contains(memory.cid(), entry.cid()).doesNotContain(never.cid());
    assertThat(store.has(never.cid())).isFalse();
    assertThat(store.get(never.cid())).isEmpty();

    // Putting the same block again is harmless.
    store.put(memory);
    assertThat(store.get(memory.cid())).isPresent();

    store.delete(memory.cid());
    assertThat(store.has(memory.cid())).isFalse();
    assertThat(store.get(memory.cid())).isEmpty();
    assertThat(listed()).doesNotContain(memory.cid()).contains(entry.cid());
    // Deleting what is not there is not an error.
    store.delete(memory.cid());
    store.delete(never.cid());
    assertThat(store.get(entry.cid())).isPresent();
  }

  @Test
  void theIpfsNodeComputesMnemosCidsForMemoriesAndLogEntries() throws IOException {
    Block first = TestBlocks.memoryBlock(NS, "Alice moved to Lisbon in 2021.", 10);
    Block second = Block.dagCbor(TestBlocks.memory(NS, "Alice moved to Porto in 2024.", 11, first.cid()).encode());
    Block root = TestBlocks.entryBlock(NS, List.of(first.cid()), List.of(), 1);
    Block child = TestBlocks.entryBlock(NS, List.of(second.cid()), List.of(root.cid()), 2);

    for (Block block : List.of(first, second, root, child)) {
      assertThat(block.cid().toString()).startsWith("bafyrei");
      // Straight to the node, the way any IPFS tool would store the bytes: the node's CID is Mnemo's.
      JsonNode put = rpc.upload("block/put", block.data(), "cid-codec", "dag-cbor", "mhtype", "sha2-256").ok().json();
      assertThat(put.path("Key").asText()).as("block/put of %s", block).isEqualTo(block.cid().toString());
      assertThat(put.path("Size").asInt()).isEqualTo(block.data().length);
      JsonNode stat = rpc.call("block/stat", "arg", block.cid().toString()).ok().json();
      assertThat(stat.path("Key").asText()).as("block/stat of %s", block).isEqualTo(block.cid().toString());
      assertThat(stat.path("Size").asInt()).isEqualTo(block.data().length);
    }
    // And through the store, which compares the node's answer with its own CID before pinning.
    store.putAll(List.of(first, second, root, child));
    for (Block block : List.of(first, second, root, child)) {
      assertThat(rpc.pins()).containsEntry(block.cid().toString(), "direct");
    }
  }

  @Test
  void storedBlocksArePinnedDirectlyAndSurviveGarbageCollection() throws IOException {
    Block kept = TestBlocks.memoryBlock(NS, "kept through gc", 20);
    Block keptEntry = TestBlocks.entryBlock(NS, List.of(kept.cid()), List.of(), 1);
    store.putAll(List.of(kept, keptEntry));
    assertThat(rpc.pins()).containsEntry(kept.cid().toString(), "direct").containsEntry(keptEntry.cid().toString(), "direct");

    // A control block put without a pin: the garbage collection below must remove it, or it proves nothing.
    Block unpinned = TestBlocks.memoryBlock(NS, "not pinned", 21);
    rpc.upload("block/put", unpinned.data(), "cid-codec", "dag-cbor", "mhtype", "sha2-256").ok();
    assertThat(rpc.hasBlock(unpinned.cid().toString())).isTrue();

    rpc.call("repo/gc").ok();

    assertThat(rpc.hasBlock(unpinned.cid().toString())).as("the unpinned control block after repo/gc").isFalse();
    assertThat(store.get(kept.cid())).hasValueSatisfying(data -> assertThat(data).isEqualTo(kept.data()));
    assertThat(store.get(keptEntry.cid())).hasValueSatisfying(data -> assertThat(data).isEqualTo(keptEntry.data()));
  }

  @Test
  void deleteUnpinsAndRemovesTheBlock() throws IOException {
    Block block = TestBlocks.memoryBlock(NS, "to be forgotten", 30);
    store.put(block);
    assertThat(rpc.pins()).containsKey(block.cid().toString());

    store.delete(block.cid());

    assertThat(rpc.pins()).doesNotContainKey(block.cid().toString());
    assertThat(rpc.hasBlock(block.cid().toString())).as("block/stat after delete").isFalse();
    assertThat(rpc.call("block/get", "arg", block.cid().toString()).status()).isNotEqualTo(200);
    assertThat(warnings).isEmpty();
  }

  @Test
  void aBlockAnotherPinHoldsIsUnpinnedButKeptWithAWarning() throws IOException {
    // An operator pinned a DAG (a log entry, recursively) that links a memory Mnemo stored.
    Block memory = TestBlocks.memoryBlock(NS, "held by an operator's pin", 40);
    Block entry = TestBlocks.entryBlock(NS, List.of(memory.cid()), List.of(), 1);
    store.put(memory);
    rpc.upload("block/put", entry.data(), "cid-codec", "dag-cbor", "mhtype", "sha2-256").ok();
    rpc.call("pin/add", "arg", entry.cid().toString()).ok();

    store.delete(memory.cid());

    assertThat(rpc.pins()).as("Mnemo's direct pin is gone, the operator's holds the block")
        .containsEntry(memory.cid().toString(), "indirect").containsEntry(entry.cid().toString(), "recursive");
    assertThat(store.get(memory.cid())).as("still on the IPFS node").isPresent();
    assertThat(messages()).anySatisfy(m -> assertThat(m).contains(memory.cid().toString()).contains("another pin holds it"));

    // The operator pinned the memory itself, recursively (which replaces Mnemo's direct pin).
    Block pinnedItself = TestBlocks.memoryBlock(NS, "pinned by an operator itself", 41);
    store.put(pinnedItself);
    rpc.call("pin/add", "arg", pinnedItself.cid().toString()).ok();
    warnings.clear();

    store.delete(pinnedItself.cid());

    assertThat(rpc.pins()).containsEntry(pinnedItself.cid().toString(), "recursive");
    assertThat(store.get(pinnedItself.cid())).isPresent();
    assertThat(messages()).anySatisfy(m -> assertThat(m).contains(pinnedItself.cid().toString()));
    rpc.call("pin/rm", "arg", entry.cid().toString()).ok();
    rpc.call("pin/rm", "arg", pinnedItself.cid().toString()).ok();
  }

  @Test
  void bytesTheIpfsNodeReturnsForAnotherCidAreRefused() throws IOException {
    Block block = TestBlocks.memoryBlock(NS, "the original text", 50);
    store.put(block);
    byte[] forged = TestBlocks.memory(NS, "a forged text!!!!", 50, null).encode();
    assertThat(forged).hasSameSizeAs(block.data());
    // js-ipfs keeps each block in a file of its flatfs blockstore and does not check it on read.
    Path file = ipfs.blockFile(block.cid());
    assertThat(file).exists().hasBinaryContent(block.data());
    Files.write(file, forged);
    assertThat(rpc.block(block.cid().toString())).as("the IPFS node serves the altered file as is").isEqualTo(forged);

    assertThatThrownBy(() -> store.get(block.cid()))
        .isInstanceOfSatisfying(CorruptBlockException.class, e -> assertThat(e.cid()).isEqualTo(block.cid()))
        .hasMessageContaining(block.cid().toString());

    store.delete(block.cid());
    assertThat(rpc.hasBlock(block.cid().toString())).isFalse();
  }

  @Test
  void aBatchOfThousandsOfBlocksIsStoredAndPinned() throws IOException {
    List<Block> blocks = new ArrayList<>();
    for (int i = 0; i < 2_000; i++) {
      blocks.add(TestBlocks.memoryBlock(NS, "batch memory " + i, 100_000 + i));
    }
    long start = System.nanoTime();
    store.putAll(blocks);
    long millis = (System.nanoTime() - start) / 1_000_000;
    System.out.printf("KuboBlockStoreTest: putAll of %d blocks in %d ms%n", blocks.size(), millis);

    Set<String> direct = new HashSet<>();
    rpc.call("pin/ls", "type", "direct").ok().json().path("Keys").fieldNames().forEachRemaining(direct::add);
    assertThat(direct).containsAll(blocks.stream().map(b -> b.cid().toString()).toList());
    Set<Cid> listed = listed();
    assertThat(listed).containsAll(blocks.stream().map(Block::cid).toList());
    for (int i = 0; i < blocks.size(); i += 250) {
      Block block = blocks.get(i);
      assertThat(rpc.block(block.cid().toString())).isEqualTo(block.data());
    }
  }

  @Test
  void aBatchWithABlockThatDoesNotMatchItsCidSendsNothing() throws IOException {
    Block good = TestBlocks.memoryBlock(NS, "good", 60);
    Block other = TestBlocks.memoryBlock(NS, "other", 61);
    Block bad = new Block(other.cid(), good.data());

    assertThatThrownBy(() -> store.putAll(List.of(good, bad))).isInstanceOf(IllegalArgumentException.class);

    assertThat(rpc.hasBlock(good.cid().toString())).isFalse();
    assertThat(rpc.pins()).doesNotContainKeys(good.cid().toString(), other.cid().toString());
  }

  @Test
  void aStoppedIpfsNodeIsReportedUnavailableQuickly() throws IOException {
    Block stored = TestBlocks.memoryBlock(NS, "stored before the stop", 70);
    Block next = TestBlocks.memoryBlock(NS, "written while stopped", 71);
    store.put(stored);
    ipfs.stop();

    for (StoreCall call : calls(stored, next)) {
      long start = System.nanoTime();
      assertThatThrownBy(() -> call.action().run()).as(call.name())
          .isInstanceOfSatisfying(BlockStoreUnavailableException.class, e -> assertThat(e.retryAfterSeconds()).isPositive());
      long millis = (System.nanoTime() - start) / 1_000_000;
      // Connection refused, retried twice with 100 and 200 ms backoff: well under the call timeout.
      assertThat(millis).as("%s against a stopped node took %d ms", call.name(), millis).isLessThan(TIMEOUT_MS);
    }

    ipfs.restart();
    store.put(next);
    assertThat(store.get(next.cid())).isPresent();
    assertThat(store.get(stored.cid())).isPresent();
    assertThat(rpc.pins()).containsEntry(next.cid().toString(), "direct");
  }

  @Test
  void aHungIpfsNodeIsReportedUnavailableWithinTheTimeout() throws IOException {
    Block stored = TestBlocks.memoryBlock(NS, "stored before the pause", 80);
    Block next = TestBlocks.memoryBlock(NS, "written while paused", 81);
    store.put(stored);
    ipfs.pause();

    for (StoreCall call : calls(stored, next)) {
      long start = System.nanoTime();
      assertThatThrownBy(() -> call.action().run()).as(call.name()).isInstanceOf(BlockStoreUnavailableException.class);
      long millis = (System.nanoTime() - start) / 1_000_000;
      assertThat(millis).as("%s against a paused node took %d ms", call.name(), millis)
          .isGreaterThanOrEqualTo(TIMEOUT_MS - 100).isLessThan(TIMEOUT_MS + 1_000);
    }

    ipfs.resume();
    store.put(next);
    assertThat(store.get(next.cid())).isPresent();
    assertThat(store.get(stored.cid())).isPresent();
  }

  // ---- helpers ----

  private interface IoAction {
    void run() throws IOException;
  }

  private record StoreCall(String name, IoAction action) {}

  /** Every store call, on a block it has ({@code stored}) or would store ({@code next}). */
  private static List<StoreCall> calls(Block stored, Block next) {
    return List.of(
        new StoreCall("put", () -> store.put(next)),
        new StoreCall("putAll", () -> store.putAll(List.of(next, TestBlocks.entryBlock(NS, List.of(next.cid()), List.of(), 1)))),
        new StoreCall("get", () -> store.get(stored.cid())),
        new StoreCall("has", () -> store.has(stored.cid())),
        new StoreCall("delete", () -> store.delete(stored.cid())),
        new StoreCall("forEachCid", () -> store.forEachCid(cid -> {})));
  }

  private static Set<Cid> listed() throws IOException {
    Set<Cid> cids = new HashSet<>();
    store.forEachCid(cids::add);
    return cids;
  }

  private List<String> messages() {
    return warnings.stream().map(LogRecord::getMessage).toList();
  }
}
