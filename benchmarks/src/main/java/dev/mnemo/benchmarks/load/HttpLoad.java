package dev.mnemo.benchmarks.load;

import dev.mnemo.benchmarks.data.Corpus;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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
 *          [--docs 100000] [--max-requests N] [--warmup-seconds 5] [--vectors json|base64]
 *          [--token TOKEN | --token-file DATA/owner.token]
 * </pre>
 *
 * {@code remember} sends batches of corpus documents with their vectors; {@code recall} sends
 * held-out queries with their vectors (vector mode); the {@code -text} variants send text only,
 * so the node embeds. {@code --vectors base64} sends vectors in the API's compact form (base64 of
 * little-endian float32) instead of JSON arrays of numbers. Recall scenarios first run an
 * unrecorded warm-up (5 s by default). Bounded by --seconds and --max-requests; loopback only.
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
    // A node's API token: --token, or the file --token-file names (DATA/owner.token).
    String token = opts.containsKey("token-file")
        ? java.nio.file.Files.readString(java.nio.file.Path.of(opts.get("token-file"))).strip()
        : opts.get("token");
    long maxRequests = Long.parseLong(opts.getOrDefault("max-requests", Long.toString(Long.MAX_VALUE)));

    Corpus corpus = Corpus.read(Corpus.defaultPath(), docs);
    Bodies bodies = new Bodies(corpus, scenario, batch, k, opts.getOrDefault("vectors", "json").equals("base64"));
    String path = scenario.startsWith("remember") ? "/v1/namespaces/" + ns + "/memories" : "/v1/namespaces/" + ns + "/recall";
    URI uri = URI.create(url + path);
    int expected = scenario.startsWith("remember") ? 201 : 200;
    int perRequest = scenario.startsWith("remember") ? batch : 1;
    long requestLimit = Math.min(maxRequests, scenario.startsWith("remember") ? bodies.size() : Long.MAX_VALUE);

    int warmupSeconds = Integer.parseInt(opts.getOrDefault("warmup-seconds", scenario.startsWith("remember") ? "0" : "5"));
    if (warmupSeconds > 0) {
      // Not recorded: lets the JIT compile both this tool and the node before anything is measured.
      run(uri, token, bodies, expected, connections, 0, System.nanoTime() + TimeUnit.SECONDS.toNanos(warmupSeconds),
          Long.MAX_VALUE, new Recorder(3), new AtomicLong());
    }
    Recorder recorder = new Recorder(3);
    AtomicLong errors = new AtomicLong();
    long start = System.nanoTime();
    run(uri, token, bodies, expected, connections, rate, start + TimeUnit.SECONDS.toNanos(seconds), requestLimit, recorder, errors);
    double elapsed = (System.nanoTime() - start) / 1e9;
    Histogram h = recorder.getIntervalHistogram();
    long done = h.getTotalCount();
    System.out.printf(Locale.ROOT, "%n| scenario | loop | connections | requests | errors | req/s | items/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms |%n");
    System.out.printf(Locale.ROOT, "|---|---|---|---|---|---|---|---|---|---|---|---|%n");
    System.out.printf(Locale.ROOT, "| %s | %s | %d | %d | %d | %.0f | %.0f | %.2f | %.2f | %.2f | %.2f | %.2f |%n",
        scenario + (opts.getOrDefault("vectors", "json").equals("base64") && !scenario.endsWith("-text") ? " (base64 vectors)" : ""),
        rate > 0 ? "open " + (long) rate + "/s" : "closed", connections, done, errors.get(), done / elapsed,
        done * perRequest / elapsed, ms(h, 50), ms(h, 90), ms(h, 99), ms(h, 99.9), h.getMaxValue() / 1000.0);
  }

  private static double ms(Histogram h, double percentile) {
    return h.getValueAtPercentile(percentile) / 1000.0;
  }

  /**
   * Sends requests from {@code connections} threads, each on its own keep-alive connection, until
   * the deadline or the request limit. Closed loop when {@code rate <= 0}: a thread sends its next
   * request when the last one answers. Open loop otherwise: request n is due at start + n / rate,
   * the next free thread sends it, and its latency counts from when it was due, so time spent
   * queued behind a slow server is measured rather than omitted.
   */
  private static void run(URI uri, String token, Bodies bodies, int expected, int connections, double rate, long deadline,
      long requestLimit, Recorder recorder, AtomicLong errors) throws InterruptedException {
    AtomicLong next = new AtomicLong();
    long start = System.nanoTime();
    long interval = rate > 0 ? (long) (1e9 / rate) : 0;
    List<Thread> threads = new ArrayList<>();
    for (int c = 0; c < connections; c++) {
      threads.add(Thread.ofPlatform().start(() -> {
        try (RawHttpConnection connection = new RawHttpConnection(uri, token)) {
          long n;
          while ((n = next.getAndIncrement()) < requestLimit) {
            long due = rate > 0 ? start + n * interval : System.nanoTime();
            if (due > deadline || System.nanoTime() > deadline) {
              return;
            }
            long wait = due - System.nanoTime();
            if (wait > 0) {
              java.util.concurrent.locks.LockSupport.parkNanos(wait);
            }
            send(connection, bodies.get(n), expected, errors);
            recorder.recordValue(Math.max(1, (System.nanoTime() - due) / 1000));
          }
        }
      }));
    }
    for (Thread t : threads) {
      t.join();
    }
  }

  private static void send(RawHttpConnection connection, byte[] body, int expected, AtomicLong errors) {
    try {
      int status = connection.post(body);
      if (status != expected && errors.incrementAndGet() <= 3) {
        byte[] response = connection.lastBody();
        System.err.println("HTTP " + status + ": " + new String(response, 0, Math.min(300, response.length), java.nio.charset.StandardCharsets.UTF_8));
      }
    } catch (Exception e) {
      connection.close();
      if (errors.incrementAndGet() <= 3) {
        System.err.println("request failed: " + e);
      }
    }
  }

  /** Request bodies, built up front so the load tool's own JSON work is not measured. */
  private static final class Bodies {
    private final List<byte[]> bodies = new ArrayList<>();

    private final boolean base64;

    Bodies(Corpus corpus, String scenario, int batch, int k, boolean base64) {
      this.base64 = base64;
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

    private void vector(StringBuilder sb, float[] v) {
      if (base64) {
        java.nio.ByteBuffer bytes = java.nio.ByteBuffer.allocate(v.length * Float.BYTES).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(v);
        sb.append('"').append(java.util.Base64.getEncoder().encodeToString(bytes.array())).append('"');
        return;
      }
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
