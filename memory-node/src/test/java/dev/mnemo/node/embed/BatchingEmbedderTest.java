package dev.mnemo.node.embed;

import static dev.mnemo.node.embed.TestModels.cosine;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class BatchingEmbedderTest {
  private static final String[] SUBJECTS = {"Bob", "Alice", "The team", "Our cat", "The server"};
  private static final String[] VERBS = {"prefers", "forgot", "asked about", "needs"};
  private static final String[] OBJECTS = {
    "green tea", "the quarterly report", "new tires", "a quiet desk"
  };

  /** What one caller asked for and what it got back. */
  private record Call(
      List<String> passages, String query, List<float[]> passageVectors, float[] queryVector) {}

  @Test
  void sixteenConcurrentCallersEachGetTheirOwnVectorsInOrder() throws Exception {
    long seed = System.nanoTime();
    Random random = new Random(seed);
    OnnxEmbedder model = TestModels.bge();
    BatchingEmbedder batcher = new BatchingEmbedder(model, 32); // not closed: the model is shared
    int callers = 16;
    List<List<String>> passages = new ArrayList<>();
    List<String> queries = new ArrayList<>();
    for (int c = 0; c < callers; c++) {
      List<String> texts = new ArrayList<>();
      int n = 1 + random.nextInt(6);
      for (int i = 0; i < n; i++) {
        texts.add(sentence(random) + " (caller " + c + ", text " + i + ")");
      }
      passages.add(texts);
      queries.add(
          "what did caller " + c + " say about " + OBJECTS[random.nextInt(OBJECTS.length)] + "?");
    }

    ExecutorService workers = Executors.newFixedThreadPool(callers);
    CountDownLatch start = new CountDownLatch(1);
    List<Future<Call>> futures = new ArrayList<>();
    for (int c = 0; c < callers; c++) {
      int caller = c;
      futures.add(
          workers.submit(
              () -> {
                start.await();
                List<float[]> p = batcher.embedPassages(passages.get(caller));
                float[] q = batcher.embedQuery(queries.get(caller));
                return new Call(passages.get(caller), queries.get(caller), p, q);
              }));
    }
    start.countDown();
    List<Call> calls = new ArrayList<>();
    for (Future<Call> future : futures) {
      calls.add(future.get(60, TimeUnit.SECONDS));
    }
    workers.shutdown();

    for (Call call : calls) {
      List<float[]> expected = model.embedPassages(call.passages());
      assertThat(call.passageVectors()).as("seed %d", seed).hasSameSizeAs(expected);
      for (int i = 0; i < expected.size(); i++) {
        assertThat(cosine(call.passageVectors().get(i), expected.get(i)))
            .as("seed %d, %s", seed, call.passages().get(i))
            .isGreaterThan(0.9999);
      }
      assertThat(cosine(call.queryVector(), model.embedQuery(call.query())))
          .as("seed %d, %s", seed, call.query())
          .isGreaterThan(0.9999);
    }
    long requests = 2L * callers;
    assertThat(batcher.modelCalls())
        .as("seed %d: requests were coalesced", seed)
        .isLessThan(requests);
    long texts = passages.stream().mapToLong(List::size).sum() + callers;
    assertThat(batcher.textsEmbedded()).isEqualTo(texts);
  }

  @Test
  void aRequestLargerThanABatchIsSplitAndReassembledInOrder() {
    OnnxEmbedder model = TestModels.miniLm();
    BatchingEmbedder batcher = new BatchingEmbedder(model, 8);
    List<String> texts = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      texts.add("memory number " + i + " is about " + OBJECTS[i % OBJECTS.length]);
    }
    List<float[]> vectors = batcher.embedPassages(texts);
    List<float[]> expected = model.embedPassages(texts);
    assertThat(vectors).hasSize(30);
    for (int i = 0; i < 30; i++) {
      assertThat(vectors.get(i)).as("text %d", i).isEqualTo(expected.get(i));
    }
    assertThat(batcher.modelCalls()).isEqualTo(4); // 8 + 8 + 8 + 6
    assertThat(batcher.embedPassages(List.of())).isEmpty();
  }

  @Test
  void aFailingTextFailsOnlyItsCaller() throws Exception {
    // The real model behind a gate that refuses one text, as an endpoint might refuse one input.
    Embedder refusing =
        new Embedder() {
          @Override
          public String model() {
            return TestModels.miniLm().model();
          }

          @Override
          public int dimension() {
            return 384;
          }

          @Override
          public List<float[]> embedPassages(List<String> texts) {
            if (texts.contains("refused")) {
              throw new IllegalArgumentException("refused by the model");
            }
            return TestModels.miniLm().embedPassages(texts);
          }

          @Override
          public float[] embedQuery(String text) {
            return TestModels.miniLm().embedQuery(text);
          }
        };
    BatchingEmbedder batcher = new BatchingEmbedder(refusing);
    ExecutorService workers = Executors.newFixedThreadPool(8);
    CountDownLatch start = new CountDownLatch(1);
    List<Future<List<float[]>>> futures = new ArrayList<>();
    for (int c = 0; c < 8; c++) {
      String text = c == 3 ? "refused" : "caller " + c + " likes tea";
      futures.add(
          workers.submit(
              () -> {
                start.await();
                return batcher.embedPassages(List.of(text));
              }));
    }
    start.countDown();
    for (int c = 0; c < 8; c++) {
      if (c == 3) {
        Future<List<float[]>> failed = futures.get(c);
        assertThatThrownBy(() -> failed.get(30, TimeUnit.SECONDS))
            .cause()
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessage("refused by the model");
      } else {
        assertThat(futures.get(c).get(30, TimeUnit.SECONDS)).hasSize(1);
      }
    }
    workers.shutdown();
    batcher.close();
  }

  @Test
  void blankTextsAreRefusedBeforeQueueing() {
    BatchingEmbedder batcher = new BatchingEmbedder(TestModels.miniLm());
    assertThatThrownBy(() -> batcher.embedPassages(List.of("ok", " ")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("text 1 is blank");
    assertThatThrownBy(() -> batcher.embedQuery(null)).isInstanceOf(IllegalArgumentException.class);
    assertThat(batcher.modelCalls()).isZero();
  }

  @Test
  void closeFinishesQueuedRequestsThenRefusesAndClosesTheModel() throws Exception {
    OnnxEmbedder model = new OnnxEmbedder(OnnxEmbedder.Model.ALL_MINILM_L6_V2, false, 2);
    BatchingEmbedder batcher = new BatchingEmbedder(model, 4);
    ExecutorService workers = Executors.newFixedThreadPool(8);
    CountDownLatch submitted = new CountDownLatch(8);
    List<Future<List<float[]>>> futures = new ArrayList<>();
    for (int c = 0; c < 8; c++) {
      int caller = c;
      futures.add(
          workers.submit(
              () -> {
                submitted.countDown();
                return batcher.embedPassages(
                    List.of("caller " + caller + " a", "caller " + caller + " b"));
              }));
    }
    submitted.await();
    while (batcher.modelCalls() == 0) {
      Thread.sleep(1); // close with work done and, most likely, some still queued
    }
    batcher.close();
    batcher.close();

    int answered = 0;
    for (Future<List<float[]>> future : futures) {
      try {
        assertThat(future.get(30, TimeUnit.SECONDS)).hasSize(2);
        answered++;
      } catch (java.util.concurrent.ExecutionException e) {
        // Submitted after close began: refused, never left hanging.
        assertThat(e.getCause())
            .isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("closed");
      }
    }
    workers.shutdown();
    assertThat(answered).as("callers answered before close").isPositive();
    assertThatThrownBy(() -> batcher.embedQuery("later"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed");
    assertThatThrownBy(() -> model.embedQuery("later")).isInstanceOf(IllegalStateException.class);
    assertThat(batcher.running()).isFalse();
  }

  private static String sentence(Random random) {
    return SUBJECTS[random.nextInt(SUBJECTS.length)]
        + " "
        + VERBS[random.nextInt(VERBS.length)]
        + " "
        + OBJECTS[random.nextInt(OBJECTS.length)];
  }
}
