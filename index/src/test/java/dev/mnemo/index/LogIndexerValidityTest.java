package dev.mnemo.index;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.acl.Ability;
import dev.mnemo.store.block.Block;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.identity.AgentKey;
import dev.mnemo.store.identity.Author;
import dev.mnemo.store.log.NamespaceLog;
import dev.mnemo.store.model.Embedding;
import dev.mnemo.store.model.LogEntry;
import dev.mnemo.store.model.Memory;
import dev.mnemo.store.model.Op;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Invalidates reach recall through the indexer: in place for a memory already indexed, at its add
 * for one whose invalidate came first, and again after a rebuild from the log (mnemo reindex).
 */
class LogIndexerValidityTest {
  private static final String NS = "alice";
  private static final AgentKey OWNER = AgentKey.generate();
  private static final AgentKey WRITER = AgentKey.generate();

  @TempDir Path dir;

  @Test
  void invalidatesReachRecallInAnyOrderAndSurviveARebuild() throws Exception {
    try (MnemoStore store = MnemoStore.open(dir.resolve("store"));
         LuceneMemoryIndex index = LuceneMemoryIndex.open(dir.resolve("index"), IndexConfig.defaults(4))) {
      NamespaceLog log = store.log();
      LogIndexer indexer = new LogIndexer(log, index, 60_000);

      // The owner invalidates a memory the writer added concurrently; this node hears of the invalidate first.
      Block root = block(LogEntry.signed(Author.of(OWNER), NS, Op.CREATE, List.of(), List.of(), 1, null, null));
      Block grant = block(LogEntry.signed(Author.of(OWNER), NS, Op.GRANT, List.of(), List.of(root.cid()), 2, WRITER.did(),
          Set.of(Ability.REMEMBER)));
      Memory rome = memory("Bob lives in Rome", new float[] {1, 0, 0, 0}, null);
      Block romeBlock = Block.dagCbor(rome.encode());
      Block add = block(LogEntry.signed(WRITER, NS, Op.ADD, List.of(romeBlock.cid()), List.of(grant.cid()), 3));
      Block early = block(LogEntry.signed(Author.of(OWNER), NS, Op.INVALIDATE, List.of(romeBlock.cid()),
          List.of(grant.cid()), 3, null, null, 2_000L));
      log.applyBlocks(List.of(root, grant, early));
      indexer.catchUp(null);
      log.applyBlocks(List.of(add, romeBlock));
      indexer.catchUp(null);
      assertThat(validAt(index, 1_999)).containsExactly(romeBlock.cid());
      assertThat(validAt(index, 2_000)).isEmpty();

      // A memory indexed first, then invalidated here: updated in place.
      Memory paris = memory("Bob lives in Paris", new float[] {0.9f, 0.1f, 0, 0}, 10_000L);
      Cid parisCid = log.append(Author.of(OWNER), NS, List.of(paris)).memories().get(0);
      indexer.catchUp(null);
      assertThat(validAt(index, 5_000)).containsExactly(parisCid);
      log.invalidate(Author.of(OWNER), NS, List.of(parisCid), 5_000);
      indexer.catchUp(null);
      assertThat(validAt(index, 4_999)).containsExactly(parisCid);
      assertThat(validAt(index, 5_000)).isEmpty();
      assertThat(index.size()).as("invalidated, not forgotten").isEqualTo(2);

      indexer.rebuild(null);
      assertThat(validAt(index, 1_999)).containsExactlyInAnyOrder(romeBlock.cid(), parisCid);
      assertThat(validAt(index, 2_000)).containsExactly(parisCid);
      assertThat(validAt(index, 5_000)).isEmpty();
      indexer.close();
    }
  }

  private static List<Cid> validAt(MemoryIndex index, long t) throws IOException {
    RecallFilter filter = new RecallFilter(Map.of(), Map.of(), List.of(), null, null, t);
    return index.recall(new RecallQuery(NS, "Bob lives", new float[] {1, 0, 0, 0}, 10, RecallMode.HYBRID, filter, 0,
        RecallQuery.DEFAULT_HALF_LIFE, System.currentTimeMillis())).hits().stream().map(RecallHit::cid).toList();
  }

  private static Memory memory(String text, float[] vector, Long validTo) {
    return new Memory(NS, text, Map.of(), List.of(), 1, new Embedding("test", vector), null, null, validTo);
  }

  private static Block block(LogEntry entry) {
    return Block.dagCbor(entry.encode());
  }
}
