package dev.mnemo.benchmarks.load;

import dev.mnemo.benchmarks.data.Corpus;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Recorder;
import org.HdrHistogram.Histogram;

/**
 * HTTP load against a running node, on real corpus data. Closed loop (N connections, each sending
 * its next request when the last one answers) or open loop (a fixed arrival rate; latency counted
 * from when a request was due, so a stalled server cannot hide its queue).
 *
 * <pre>
 * HttpLoad --url http://127.0.0.1:7700 --scenario recall|recall-text|remember|remember-text
 *          [--connections 16] [--seconds 30] [--rate R] [--batch 100] [--k 10] [--ns bench]
 *          [--docs 100000] [--max-requests N]
 * </pre>
 *
 * {@code remember} sends batches of corpus documents with their vectors; {@code recall} sends
 * held-out queries with their vectors (vector mode); the {@code -text} variants send text only,
 * so the node embeds. Bounded by --seconds and --max-requests; loopback only.
 */
public final class HttpLoad {
  public static void main(String[] args) throws Exception {
    Map<String, String> opts = parse(args);
    String url = opts.getOrDefault("url", "http://127.0.0.1:7700");
    URI target = URI.create(url);
    if (!List.of("127.0.0.1", "localhost", "[::1]").contains(target.getHost())) {
      throw new IllegalArgumentException("load goes to loopback only, not " + target.getHost());
    }
    String scenario = opts.getOrDefault("scenario", "recall");
    int connections = Integer.parseInt(opts.getOrDefault("connections", "16"));
    int seconds = Integer.parseInt(opts.getOrDefault("seconds", "30"));
    double rate = Double.parseDouble(opts.getOrDefault("rate", "0"));
    int batch = Integer.parseInt(opts.getOrDefault("batch", "100"));
    int k = Integer.parseInt(opts.getOrDefault("k", "10"));
    String ns = opts.getOrDefault("ns", "bench");
    int docs = Integer.parseInt(opts.getOrDefault("docs", "100000"));
    long maxRequests = Long.parseLong(opts.getOrDefault("max-requests", Long.toString(Long.MAX_VALUE)));

    Corpus corpus = Corpus.read(Corpus.defaultPath(), docs);
    Bodies bodies = new Bodies(corpus, scenario, batch, k);
    String path = scenario.startsWith("remember") ? "/v1/namespaces/" + ns + "/memories" : "/v1/namespaces/" + ns + "/recall";
    URI uri = URI.create(url + path);
    int expected = scenario.startsWith("remember") ? 201 : 200;
    int perRequest = scenario.startsWith("remember") ? batch : 1;
    long requestLimit = Math.min(maxRequests, scenario.startsWith("remember") ? bodies.size() : Long.MAX_VALUE);

    Recorder recorder = new Recorder(3);
    AtomicLong sent = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    long start = System.nanoTime();

    if (rate <= 0) {
      List<Thread> threads = new ArrayList<>();
      for (int c = 0; c < connections; c++) {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
        threads.add(Thread.ofPlatform().start(() -> {
          long n;
          while (System.nanoTime() < deadline && (n = sent.getAndIncrement()) < requestLimit) {
            long t0 = System.nanoTime();
            send(client, uri, bodies.get(n), expected, errors);
            recorder.recordValue(Math.max(1, (System.nanoTime() - t0) / 1000));
          }
        }));
      }
      for (Thread t : threads) {
        t.join();
      }
    } else {
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
      Semaphore inFlight = new Semaphore(connections);
      long interval = (long) (1e9 / rate);
      try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
        for (long n = 0; n < requestLimit; n++) {
          long due = start + n * interval;
          if (due > deadline) {
            break;
          }
          long wait = due - System.nanoTime();
          if (wait > 0) {
            TimeUnit.NANOSECONDS.sleep(wait);
          }
          long index = n;
          sent.incrementAndGet();
          pool.submit(() -> {
            inFlight.acquireUninterruptibly();
            try {
              send(client, uri, bodies.get(index), expected, errors);
            } finally {
              inFlight.release();
            }
            recorder.recordValue(Math.max(1, (System.nanoTime() - due) / 1000));
          });
        }
      }
    }
    double elapsed = (System.nanoTime() - start) / 1e9;
    Histogram h = recorder.getIntervalHistogram();
    long done = h.getTotalCount();
    System.out.printf(Locale.ROOT, "%n| scenario | loop | connections | requests | errors | req/s | items/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms |%n");
    System.out.printf(Locale.ROOT, "|---|---|---|---|---|---|---|---|---|---|---|---|%n");
    System.out.printf(Locale.ROOT, "| %s | %s | %d | %d | %d | %.0f | %.0f | %.2f | %.2f | %.2f | %.2f | %.2f |%n",
        scenario, rate > 0 ? "open " + (long) rate + "/s" : "closed", connections, done, errors.get(), done / elapsed,
        done * perRequest / elapsed, ms(h, 50), ms(h, 90), ms(h, 99), ms(h, 99.9), h.getMaxValue() / 1000.0);
  }

  private static double ms(Histogram h, double percentile) {
    return h.getValueAtPercentile(percentile) / 1000.0;
  }

  private static void send(HttpClient client, URI uri, byte[] body, int expected, AtomicLong errors) {
    try {
      HttpResponse<byte[]> response = client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60))
          .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
          HttpResponse.BodyHandlers.ofByteArray());
      if (response.statusCode() != expected) {
        if (errors.incrementAndGet() <= 3) {
          System.err.println("HTTP " + response.statusCode() + ": " + new String(response.body(), 0, Math.min(300, response.body().length)));
        }
      }
    } catch (Exception e) {
      if (errors.incrementAndGet() <= 3) {
        System.err.println("request failed: " + e);
      }
    }
  }

  /** Request bodies, built up front so the load tool's own JSON work is not measured. */
  private static final class Bodies {
    private final List<byte[]> bodies = new ArrayList<>();

    Bodies(Corpus corpus, String scenario, int batch, int k) {
      switch (scenario) {
        case "recall", "recall-text" -> {
          for (int q = 0; q < corpus.queryTexts().size(); q++) {
            StringBuilder sb = new StringBuilder("{\"k\":").append(k);
            if (scenario.equals("recall")) {
              sb.append(",\"vector\":");
              vector(sb, corpus.queryVectors()[q]);
            } else {
              sb.append(",\"query\":");
              string(sb, corpus.queryTexts().get(q));
            }
            bodies.add(sb.append('}').toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
          }
        }
        case "remember", "remember-text" -> {
          for (int from = 0; from + batch <= corpus.docTexts().size(); from += batch) {
            StringBuilder sb = new StringBuilder("{\"memories\":[");
            for (int i = from; i < from + batch; i++) {
              sb.append(i > from ? "," : "").append("{\"text\":");
              string(sb, corpus.docTexts().get(i));
              sb.append(",\"metadata\":{\"n\":").append(i % 100).append('}');
              if (scenario.equals("remember")) {
                sb.append(",\"vector\":");
                vector(sb, corpus.docVectors()[i]);
              }
              sb.append('}');
            }
            bodies.add(sb.append("]}").toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
          }
        }
        default -> throw new IllegalArgumentException("unknown scenario " + scenario);
      }
    }

    byte[] get(long n) {
      return bodies.get((int) (n % bodies.size()));
    }

    int size() {
      return bodies.size();
    }

    private static void vector(StringBuilder sb, float[] v) {
      sb.append('[');
      for (int i = 0; i < v.length; i++) {
        sb.append(i > 0 ? "," : "").append(v[i]);
      }
      sb.append(']');
    }

    private static void string(StringBuilder sb, String s) {
      sb.append('"');
      for (char c : s.toCharArray()) {
        switch (c) {
          case '"' -> sb.append("\\\"");
          case '\\' -> sb.append("\\\\");
          default -> {
            if (c < 0x20) {
              sb.append(String.format("\\u%04x", (int) c));
            } else {
              sb.append(c);
            }
          }
        }
      }
      sb.append('"');
    }
  }

  private static Map<String, String> parse(String[] args) {
    Map<String, String> opts = new HashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      if (!args[i].startsWith("--")) {
        throw new IllegalArgumentException("expected --option value, got " + args[i]);
      }
      opts.put(args[i].substring(2), args[i + 1]);
    }
    return opts;
  }
}
