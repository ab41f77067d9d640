package dev.mnemo.index;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.log.Appended;
import dev.mnemo.store.model.Embedding;
import dev.mnemo.store.model.Memory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The indexer over a real store and a real Lucene index: read-your-writes, and merging when writes pause. */
class LogIndexerTest {
  @TempDir Path dir;

  @Test
  void writesPausedMergeTheIndexIntoOneSegmentAndRecallStillFindsEverything() throws Exception {
    try (MnemoStore store = MnemoStore.open(dir.resolve("data"));
         LuceneMemoryIndex index = LuceneMemoryIndex.open(dir.resolve("index"), IndexConfig.defaults(8))) {
      LogIndexer indexer = new LogIndexer(store.log(), index, 60_000, 0, 300);
      Random random = new Random(7);
      List<float[]> vectors = new ArrayList<>();
      List<Appended> batches = new ArrayList<>();
      // One batch at a time, each visible before the next: one small segment each.
      for (int b = 0; b < 6; b++) {
        List<Memory> memories = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
          float[] v = new float[8];
          for (int d = 0; d < v.length; d++) {
            v[d] = (float) random.nextGaussian();
          }
          vectors.add(v);
          memories.add(new Memory("alice", "memory " + b + "-" + i, Map.of(), List.of(), 1000L * (b * 50 + i),
              new Embedding("test", v), null));
        }
        Appended appended = store.log().append("alice", memories);
        indexer.awaitApplied(appended.position());
        batches.add(appended);
      }
      assertThat(index.segmentCount()).as("segments while writing").isGreaterThan(1);

      long deadline = System.nanoTime() + 20_000_000_000L;
      while (index.segmentCount() > 1 && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertThat(index.segmentCount()).as("segments after writes paused").isEqualTo(1);
      assertThat(index.size()).isEqualTo(300);
      for (int b = 0; b < batches.size(); b++) {
        float[] v = vectors.get(b * 50 + 7);
        List<RecallHit> hits = index.recall(RecallQuery.of("alice", null, v, 1, RecallMode.VECTOR)).hits();
        assertThat(hits).extracting(RecallHit::cid).containsExactly(batches.get(b).memories().get(7));
      }
      assertThat(index.optimize()).as("optimizing one segment again").isFalse();
      indexer.close();
    }
  }
}
