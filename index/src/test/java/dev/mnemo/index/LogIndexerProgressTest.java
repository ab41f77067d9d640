package dev.mnemo.index;

import static dev.mnemo.index.LogIndexerTest.batch;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mnemo.store.MnemoStore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A rebuild tells its progress in memories, as they reach the index: one log entry of many
 * memories (a batch remember, an import) once showed nothing until the whole page of entries was
 * indexed, and then a count of entries.
 */
class LogIndexerProgressTest {
  @TempDir Path dir;

  @Test
  void aRebuildReportsMemoriesInBatchesWithinOneEntry() throws Exception {
    int memories = 5 * LogIndexer.PROGRESS_BATCH + 7;
    try (MnemoStore store = MnemoStore.open(dir.resolve("store"));
         LuceneMemoryIndex index = LuceneMemoryIndex.open(dir.resolve("index"), IndexConfig.defaults(8))) {
      store.log().append("alice", batch(new Random(1), 0, memories));
      store.log().append("alice", batch(new Random(2), 1, 3));
      List<long[]> updates = new ArrayList<>();
      try (LogIndexer indexer = new LogIndexer(store.log(), index, 60_000)) {
        indexer.rebuild((indexed, entries, entriesTotal) -> updates.add(new long[] {indexed, entries, entriesTotal}));
      }
      assertThat(updates.stream().mapToLong(u -> u[0]).toArray())
          .as("every %d memories, then the page's last ones", LogIndexer.PROGRESS_BATCH)
          .containsExactly(100, 200, 300, 400, 500, memories + 3, memories + 3);
      long[] last = updates.get(updates.size() - 1);
      assertThat(last[1]).isEqualTo(last[2]).isEqualTo(store.log().lastPosition());
      assertThat(index.size()).isEqualTo(memories + 3);
    }
  }
}
