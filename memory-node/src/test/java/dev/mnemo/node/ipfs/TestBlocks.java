package dev.mnemo.node.ipfs;

import dev.mnemo.node.TestVectors;
import dev.mnemo.store.block.Block;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.identity.AgentKey;
import dev.mnemo.store.model.Embedding;
import dev.mnemo.store.model.LogEntry;
import dev.mnemo.store.model.Memory;
import dev.mnemo.store.model.Op;
import java.util.List;
import java.util.Map;

/**
 * Real Mnemo blocks for the IPFS tests, built with the store's own model classes: memory blocks
 * (text, metadata, tags, a 384-dim client embedding, optionally {@code prev}) and signed log
 * entries, all DAG-CBOR. The same seed always gives the same block.
 */
final class TestBlocks {
  static final AgentKey KEY = AgentKey.fromSeed(new byte[32]);

  private TestBlocks() {}

  /** A memory as a node would store it for a client that sent {@code TestVectors.random(seed)}. */
  static Memory memory(String ns, String text, long seed, Cid prev) {
    return new Memory(ns, text, Map.of("seed", seed, "kind", "test"), List.of("ipfs", "t" + (seed % 7)),
        1_700_000_000_000L + seed, new Embedding("client", TestVectors.random(seed)), prev);
  }

  static Block memoryBlock(String ns, String text, long seed) {
    return Block.dagCbor(memory(ns, text, seed, null).encode());
  }

  /**
   * A memory block of about {@code bytes} bytes (the 384-dim vector alone is 1,536): the text is
   * padded to reach it.
   */
  static Block memoryBlockOfSize(String ns, long seed, int bytes) {
    String text = "memory " + seed + " ";
    Block block = memoryBlock(ns, text, seed);
    int missing = bytes - block.data().length;
    if (missing <= 0) {
      return block;
    }
    return memoryBlock(ns, text + "x".repeat(missing), seed);
  }

  /** A signed add entry of {@code ns} referencing {@code refs}, with {@code parents}. */
  static Block entryBlock(String ns, List<Cid> refs, List<Cid> parents, long clock) {
    return Block.dagCbor(LogEntry.signed(KEY, ns, Op.ADD, refs, parents, clock).encode());
  }
}
