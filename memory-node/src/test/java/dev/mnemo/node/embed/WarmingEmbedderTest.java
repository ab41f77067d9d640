package dev.mnemo.node.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * The warm-up on its own thread, with a model that loads when the test says so: a text call made
 * while it warms waits and then gets the model's vector, the warm-up itself ran the model once,
 * and a load that fails makes text calls fail with the cause instead of hanging.
 */
class WarmingEmbedderTest {

  /** A model that records what it embedded and can be closed. */
  private static class Recording implements Embedder {
    final List<String> passages = Collections.synchronizedList(new ArrayList<>());
    final AtomicBoolean closed = new AtomicBoolean();

    @Override
    public String model() {
      return "recording";
    }

    @Override
    public int dimension() {
      return 2;
    }

    @Override
    public List<float[]> embedPassages(List<String> texts) {
      passages.addAll(texts);
      return texts.stream().map(t -> new float[] {1, t.length()}).toList();
    }

    @Override
    public float[] embedQuery(String text) {
      return new float[] {0, text.length()};
    }

    @Override
    public void close() {
      closed.set(true);
    }
  }

  @Test
  void aTextCallDuringTheWarmUpWaitsForIt() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    Recording model = new Recording();
    WarmingEmbedder warming = new WarmingEmbedder("recording", 2, () -> {
      await(release);
      return model;
    });
    assertThat(warming.readiness()).isEqualTo(Embedder.Readiness.WARMING);
    assertThat(warming.model()).isEqualTo("recording");
    assertThat(warming.dimension()).isEqualTo(2);
    assertThat(warming.warmMillis()).isEqualTo(-1);

    CompletableFuture<float[]> query = CompletableFuture.supplyAsync(() -> warming.embedQuery("abc"));
    Thread.sleep(100);
    assertThat(query).as("a query before the model is loaded waits").isNotDone();

    release.countDown();
    assertThat(query.get(5, TimeUnit.SECONDS)).containsExactly(0, 3);
    assertThat(warming.whenReady().get(5, TimeUnit.SECONDS)).isGreaterThanOrEqualTo(90L);
    assertThat(warming.readiness()).isEqualTo(Embedder.Readiness.READY);
    assertThat(model.passages).as("the warm-up ran the model once").containsExactly(WarmingEmbedder.WARM_UP_TEXT);
    assertThat(warming.embedPassages(List.of("hello"))).singleElement().satisfies(v -> assertThat(v).containsExactly(1, 5));
  }

  @Test
  void aFailedLoadFailsTextCallsWithItsCause() throws Exception {
    WarmingEmbedder warming = new WarmingEmbedder("broken", 2, () -> {
      throw new IllegalStateException("cannot load ONNX Runtime's native library");
    });
    assertThatThrownBy(() -> warming.whenReady().get(5, TimeUnit.SECONDS)).hasRootCauseMessage("cannot load ONNX Runtime's native library");
    assertThat(warming.readiness()).isEqualTo(Embedder.Readiness.FAILED);
    assertThatThrownBy(() -> warming.embedQuery("a question"))
        .isInstanceOf(EmbedderFailedException.class)
        .hasMessageContaining("broken")
        .hasMessageContaining("cannot load ONNX Runtime's native library");
    assertThatThrownBy(() -> warming.embedPassages(List.of("a memory"))).isInstanceOf(EmbedderFailedException.class);
  }

  @Test
  void aWarmUpThatFailsOnItsFirstRunClosesTheModel() throws Exception {
    Recording model = new Recording() {
      @Override
      public List<float[]> embedPassages(List<String> texts) {
        throw new IllegalStateException("first run failed");
      }
    };
    WarmingEmbedder warming = new WarmingEmbedder("recording", 2, () -> model);
    assertThatThrownBy(() -> warming.whenReady().get(5, TimeUnit.SECONDS)).hasRootCauseMessage("first run failed");
    assertThat(model.closed).isTrue();
    assertThat(warming.readiness()).isEqualTo(Embedder.Readiness.FAILED);
  }

  @Test
  void closingDuringTheWarmUpClosesTheModelWhenItHasLoaded() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    Recording model = new Recording();
    WarmingEmbedder warming = new WarmingEmbedder("recording", 2, () -> {
      await(release);
      return model;
    });
    warming.close();
    assertThat(model.closed).isFalse();
    assertThatThrownBy(() -> warming.embedQuery("late")).isInstanceOf(IllegalStateException.class);

    release.countDown();
    warming.whenReady().get(5, TimeUnit.SECONDS);
    // The close runs as another stage of the same completion, in no set order with whenReady's.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (!model.closed.get() && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(model.closed).as("closed on the warm-up thread once loaded").isTrue();
  }

  @Test
  void theNodeStackWarmsTheRealModel() throws Exception {
    Embedder warming = Embedders.warming(Embedders.DEFAULT, 0);
    try {
      assertThat(warming).isInstanceOf(WarmingEmbedder.class);
      long millis = ((WarmingEmbedder) warming).whenReady().get(60, TimeUnit.SECONDS);
      assertThat(millis).isPositive();
      assertThat(warming.readiness()).isEqualTo(Embedder.Readiness.READY);
      try (Embedder cold = Embedders.create(Embedders.DEFAULT, 0)) {
        assertThat(warming.embedQuery("what does Bob drink?")).isEqualTo(cold.embedQuery("what does Bob drink?"));
      }
    } finally {
      warming.close();
    }
    assertThat(Embedders.warming(Embedders.NONE, 384).readiness()).isEqualTo(Embedder.Readiness.NONE);
    assertThatThrownBy(() -> Embedders.warming("no-such-model", 0)).isInstanceOf(IllegalArgumentException.class);
  }

  private static void await(CountDownLatch latch) {
    try {
      if (!latch.await(10, TimeUnit.SECONDS)) {
        throw new IllegalStateException("the test never released the load");
      }
    } catch (InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }
}
