package dev.mnemo.index;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.log.Appended;
import dev.mnemo.store.model.Embedding;
import dev.mnemo.store.model.Memory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each memory is indexed with the one written before it (in its entry, or its parent entry), so
 * an answer that only makes sense after the question is found by the question's words; the
 * context goes when its memory is forgotten, and a rebuild finds the same contexts.
 */
class ConversationContextTest {
  @TempDir Path dir;

  private static final float[] CONTEXT = {0, 0, 0, 1};

  /** Embeds every context text to one fixed vector, so a search for it finds exactly the memories with a context vector. */
  private static final ContextEmbedder EMBEDDER = new ContextEmbedder() {
    @Override
    public String model() {
      return "test";
    }

    @Override
    public List<float[]> embed(List<String> texts) {
      List<float[]> out = new ArrayList<>();
      texts.forEach(t -> out.add(CONTEXT.clone()));
      return out;
    }
  };

  @Test
  void anEmbedderThatFailsLeavesMemoriesIndexedWithTheirKeywordContext() throws Exception {
    try (MnemoStore store = MnemoStore.open(dir.resolve("data"));
         LuceneMemoryIndex index = LuceneMemoryIndex.open(dir.resolve("index"), IndexConfig.defaults(4))) {
      LogIndexer indexer = new LogIndexer(store.log(), index, 60_000);
      indexer.useContextEmbedder(new ContextEmbedder() {
        @Override
        public String model() {
          return "test";
        }

        @Override
        public List<float[]> embed(List<String> texts) {
          throw new IllegalStateException("the model failed to load");
        }
      });
      Appended written = store.log().append("alice", List.of(
          memory("Melanie: did you enjoy the pottery workshop?", 1, new float[] {1, 0, 0, 0}),
          memory("Caroline: yes, it was wonderful", 2, new float[] {0, 1, 0, 0})));
      indexer.awaitApplied(written.position());
      indexer.awaitVisible();
      assertThat(index.size()).isEqualTo(2);
      RecallQuery pottery = new RecallQuery("alice", "pottery", null, 5, RecallMode.KEYWORD, null, 0,
          RecallQuery.DEFAULT_HALF_LIFE, 0, new Fusion(0.5, 1.0, 0));
      assertThat(index.recall(pottery).hits()).hasSize(2);
      indexer.close();
    }
  }

  private static Memory memory(String text, long ts, float[] own) {
    return new Memory("alice", text, Map.of(), List.of(), ts, new Embedding("test", own), null);
  }

  @Test
  void anAnswerIsFoundByTheQuestionBeforeItAndLosesThatWhenTheQuestionIsForgotten() throws Exception {
    try (MnemoStore store = MnemoStore.open(dir.resolve("data"));
         LuceneMemoryIndex index = LuceneMemoryIndex.open(dir.resolve("index"), IndexConfig.defaults(4))) {
      LogIndexer indexer = new LogIndexer(store.log(), index, 60_000);
      indexer.useContextEmbedder(EMBEDDER);
      Appended first = store.log().append("alice", List.of(
          memory("Melanie: did you enjoy the pottery workshop?", 1, new float[] {1, 0, 0, 0}),
          memory("Caroline: yes, it was wonderful", 2, new float[] {0, 1, 0, 0})));
      // A second entry: its first memory's context is the last memory of its parent entry.
      Appended second = store.log().append("alice", List.of(memory("Caroline: and then we went hiking", 3, new float[] {0, 0, 1, 0.2f})));
      indexer.awaitApplied(second.position());
      indexer.awaitVisible();
      Cid question = first.memories().get(0);
      Cid answer = first.memories().get(1);
      Cid hiking = second.memories().get(0);

      assertThat(index.contextDependents("alice", List.of(question))).containsExactly(answer);
      assertThat(index.contextDependents("alice", List.of(answer))).containsExactly(hiking);
      // Keyword recall by the context alone: "pottery" is only in the question, found with its answer.
      RecallQuery pottery = new RecallQuery("alice", "pottery", null, 5, RecallMode.KEYWORD, null, 0,
          RecallQuery.DEFAULT_HALF_LIFE, 0, new Fusion(0.5, 1.0, 0));
      assertThat(index.recall(pottery).hits()).extracting(RecallHit::cid).containsExactlyInAnyOrder(question, answer);
      // Vector recall by the context alone: the two memories with a predecessor have a context
      // vector; the first memory counts its own vector there, which is far from the query.
      RecallQuery byContext = new RecallQuery("alice", null, CONTEXT, 5, RecallMode.VECTOR, null, 0,
          RecallQuery.DEFAULT_HALF_LIFE, 0, new Fusion(0.5, 1.0, 0));
      List<RecallHit> hits = index.recall(byContext).hits();
      assertThat(hits.subList(0, 2)).extracting(RecallHit::cid).containsExactlyInAnyOrder(answer, hiking);
      // With no context weight, only the memory's own words count.
      RecallQuery own = new RecallQuery("alice", "pottery", null, 5, RecallMode.KEYWORD, null, 0,
          RecallQuery.DEFAULT_HALF_LIFE, 0, new Fusion(0.5, 0.0, 0));
      assertThat(index.recall(own).hits()).extracting(RecallHit::cid).containsExactly(question);

      Appended forgot = store.log().forget("alice", List.of(question));
      indexer.awaitApplied(forgot.position());
      indexer.awaitVisible();
      assertThat(index.recall(pottery).hits()).as("a forgotten memory's words leave its successor").isEmpty();
      assertThat(index.contextDependents("alice", List.of(question))).isEmpty();
      assertThat(index.contextDependents("alice", List.of(answer))).containsExactly(hiking);

      // A rebuild from the log finds the same contexts.
      indexer.rebuild(null);
      indexer.awaitVisible();
      assertThat(index.recall(pottery).hits()).isEmpty();
      assertThat(index.contextDependents("alice", List.of(answer))).containsExactly(hiking);
      assertThat(index.recall(byContext).hits().get(0).cid()).isEqualTo(hiking);
      indexer.close();
    }
  }
}
