package dev.mnemo.index;

import static dev.mnemo.index.LuceneMemoryIndexTest.memory;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NamespaceStatisticsTest {
  @TempDir Path dir;

  @Test
  void keywordScoresOfANamespaceDoNotMoveWhenAnotherNamespaceIsWritten() throws Exception {
    try (LuceneMemoryIndex index = LuceneMemoryIndex.open(dir, IndexConfig.defaults(4))) {
      index.add(List.of(
          memory("alice", "hiking trip to the lake with the dog", new float[] {1, 0, 0, 0}, Map.of(), List.of(), 1, 1),
          memory("alice", "the dog learned a new trick", new float[] {1, 0, 0, 0}, Map.of(), List.of(), 2, 2),
          memory("alice", "booked a trip to Lisbon", new float[] {1, 0, 0, 0}, Map.of(), List.of(), 3, 3)));
      index.refresh();
      RecallQuery q = RecallQuery.of("alice", "dog trip", null, 3, RecallMode.KEYWORD);
      List<RecallHit> before = index.recall(q).hits();

      // Another namespace full of "trip" (which would make it a common, low-weight word) and of
      // long memories (which would move the average length BM25 normalizes by).
      List<IndexedMemory> bob = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        bob.add(memory("bob", "trip trip report number " + i + " with a great many more words in it than alice writes",
            new float[] {0, 1, 0, 0}, Map.of(), List.of(), 10 + i, 10 + i));
      }
      index.add(bob);
      index.refresh();
      List<RecallHit> after = index.recall(q).hits();

      assertThat(after).extracting(RecallHit::cid).containsExactlyElementsOf(before.stream().map(RecallHit::cid).toList());
      assertThat(after).extracting(RecallHit::keyword)
          .containsExactlyElementsOf(before.stream().map(RecallHit::keyword).toList());
      assertThat(index.recall(RecallQuery.of("bob", "trip", null, 3, RecallMode.KEYWORD)).hits()).hasSize(3);
    }
  }
}
