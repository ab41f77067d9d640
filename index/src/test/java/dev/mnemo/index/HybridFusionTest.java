package dev.mnemo.index;

import static dev.mnemo.index.LuceneMemoryIndexTest.memory;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HybridFusionTest {
  @TempDir Path dir;

  @Test
  void hybridWeighsHowSureEachSignalIsNotJustItsRanks() throws Exception {
    // "tea" is BM25's best match but far from the query vector; "espresso" matches fewer words
    // and is the vector's clear best. Reciprocal rank fusion ties them (each is first in one list
    // and second in the other) and the tie goes to the older document, tea; the weighted sum of
    // scaled scores lets the confident vector (weight 0.75 here) win, with scores in [0, 1].
    try (LuceneMemoryIndex index = LuceneMemoryIndex.open(dir, IndexConfig.defaults(4))) {
      IndexedMemory tea = memory("alice", "green tea every morning, tea tea", new float[] {0, 1, 0, 0}, Map.of(), List.of(), 1, 1);
      IndexedMemory espresso = memory("alice", "espresso every morning", new float[] {1, 0, 0, 0}, Map.of(), List.of(), 2, 2);
      IndexedMemory car = memory("alice", "the car needs tires", new float[] {0, 0, 1, 0}, Map.of(), List.of(), 3, 3);
      index.add(List.of(tea, espresso, car));
      index.refresh();
      var hits = index.recall(new RecallQuery("alice", "tea every morning", new float[] {1, 0.1f, 0, 0}, 3,
          RecallMode.HYBRID, null, 0, RecallQuery.DEFAULT_HALF_LIFE, 0, new Fusion(0.25, 0, 0))).hits();
      assertThat(hits).extracting(RecallHit::cid).startsWith(espresso.cid(), tea.cid());
      assertThat(hits).allSatisfy(h -> assertThat(h.score()).isBetween(0.0, 1.0));
      assertThat(hits.get(0).score()).isGreaterThan(0.75);
    }
  }
}
