package dev.mnemo.node.embed;

import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.bgesmallenv15q.BgeSmallEnV15QuantizedEmbeddingModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;

/**
 * Rough figures for choosing a model and a batch size, not a test: sentences a second for each
 * model at batch sizes 1, 8 and 32, with 16 callers sending one text each (through {@link
 * BatchingEmbedder}, then straight to the model), and the median latency of one query. For
 * reference, the same for langchain4j's stock BGE class, whose ONNX session uses every core for
 * every run. Each figure is the median of three rounds, with the range, because other processes
 * share the machine; the load average is printed before and after.
 *
 * <p>Run: {@code java --enable-native-access=ALL-UNNAMED -cp <test classpath>
 * dev.mnemo.node.embed.EmbedderThroughput}.
 */
public final class EmbedderThroughput {
  private static final int TEXTS = 128;
  private static final int ROUNDS = 3;
  private static final int CALLERS = 16;

  private EmbedderThroughput() {}

  public static void main(String[] args) throws Exception {
    System.out.printf("cores %d, load %s%n", Runtime.getRuntime().availableProcessors(), load());
    List<String> texts = memories(TEXTS, new Random(42));
    System.out.printf(
        "%d memory-like texts of %.0f characters on average%n",
        TEXTS, texts.stream().mapToInt(String::length).average().orElse(0));
    for (OnnxEmbedder.Model model : OnnxEmbedder.Model.values()) {
      try (OnnxEmbedder embedder = new OnnxEmbedder(model)) {
        warm(embedder, texts);
        for (int batch : new int[] {1, 8, 32}) {
          int b = batch;
          report(
              model.configName(),
              "batch " + b,
              rounds(texts, chunk -> embedder.embedPassages(chunk), b));
        }
        BatchingEmbedder batcher =
            new BatchingEmbedder(embedder); // not closed: it closes the model
        report(
            model.configName(), CALLERS + " callers x 1 text, batcher", concurrent(batcher, texts));
        System.out.printf(
            "  (mean batch %.1f texts over %d model calls)%n",
            (double) batcher.textsEmbedded() / batcher.modelCalls(), batcher.modelCalls());
        report(
            model.configName(), CALLERS + " callers x 1 text, direct", concurrent(embedder, texts));
        System.out.printf(
            "%-18s %-30s p50 %.1f ms%n",
            model.configName(), "single query", p50(embedder::embedQuery, texts));
      }
    }
    EmbeddingModel stock =
        new BgeSmallEnV15QuantizedEmbeddingModel(Executors.newFixedThreadPool(2, daemon()));
    Consumer<List<String>> stockCall =
        chunk -> stock.embedAll(chunk.stream().map(TextSegment::from).toList());
    stockCall.accept(texts.subList(0, 32));
    for (int batch : new int[] {1, 8, 32}) {
      report("stock langchain4j", "bge, batch " + batch, rounds(texts, stockCall, batch));
    }
    System.out.printf(
        "%-18s %-30s p50 %.1f ms%n",
        "stock langchain4j", "bge, single query", p50(t -> stock.embed(t), texts));
    System.out.printf("load %s%n", load());
  }

  /** Sentences a second over ROUNDS rounds of all texts in chunks of batch: sorted. */
  private static double[] rounds(List<String> texts, Consumer<List<String>> call, int batch) {
    double[] rates = new double[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
      long start = System.nanoTime();
      for (int from = 0; from < texts.size(); from += batch) {
        call.accept(texts.subList(from, Math.min(texts.size(), from + batch)));
      }
      rates[r] = texts.size() / ((System.nanoTime() - start) / 1e9);
    }
    Arrays.sort(rates);
    return rates;
  }

  /** CALLERS threads each embedding one text at a time. */
  private static double[] concurrent(Embedder embedder, List<String> texts) throws Exception {
    ExecutorService callers = Executors.newFixedThreadPool(CALLERS, daemon());
    double[] rates = new double[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
      CountDownLatch done = new CountDownLatch(CALLERS);
      long start = System.nanoTime();
      for (int c = 0; c < CALLERS; c++) {
        int caller = c;
        callers.execute(
            () -> {
              for (int i = caller; i < texts.size(); i += CALLERS) {
                embedder.embedPassages(List.of(texts.get(i)));
              }
              done.countDown();
            });
      }
      done.await();
      rates[r] = texts.size() / ((System.nanoTime() - start) / 1e9);
    }
    callers.shutdown();
    Arrays.sort(rates);
    return rates;
  }

  private static double p50(Consumer<String> query, List<String> texts) {
    int n = 101;
    long[] nanos = new long[n];
    for (int i = 0; i < n; i++) {
      String text =
          "what do we know about " + texts.get(i % texts.size()).split(" ")[0] + " " + i + "?";
      long start = System.nanoTime();
      query.accept(text);
      nanos[i] = System.nanoTime() - start;
    }
    Arrays.sort(nanos);
    return nanos[n / 2] / 1e6;
  }

  private static void warm(Embedder embedder, List<String> texts) {
    embedder.embedPassages(texts.subList(0, 32));
    for (int i = 0; i < 8; i++) {
      embedder.embedQuery(texts.get(i));
    }
  }

  private static void report(String model, String what, double[] rates) {
    System.out.printf(
        "%-18s %-30s %6.1f sentences/s (%.1f-%.1f)%n",
        model, what, rates[ROUNDS / 2], rates[0], rates[ROUNDS - 1]);
  }

  /** Texts shaped like agent memories: a subject, a fact, sometimes a reason; 8-30 words. */
  static List<String> memories(int n, Random random) {
    String[] subjects = {
      "Bob",
      "Alice",
      "The staging cluster",
      "Our biggest customer",
      "The mobile team",
      "Grace",
      "The nightly backup"
    };
    String[] facts = {
      "prefers green tea to coffee in the morning",
      "asked for the quarterly report to be split by region",
      "needs new tires before the first snow",
      "moved the weekly sync to Thursdays at ten",
      "is allergic to peanuts and avoids the canteen on curry days",
      "runs Postgres 16 with two read replicas",
      "wants answers as short bullet points with links to sources",
      "failed twice last week because the disk filled up"
    };
    String[] reasons = {
      "",
      "",
      " because the old setup kept timing out under load",
      " after a long discussion in the planning meeting",
      " so that the on-call engineer is not paged at night"
    };
    List<String> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(
          subjects[random.nextInt(subjects.length)]
              + " "
              + facts[random.nextInt(facts.length)]
              + reasons[random.nextInt(reasons.length)]
              + " (note "
              + i
              + ").");
    }
    return out;
  }

  private static String load() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim();
    } catch (IOException e) {
      return "unknown";
    }
  }

  private static java.util.concurrent.ThreadFactory daemon() {
    return r -> Thread.ofPlatform().daemon(true).unstarted(r);
  }
}
