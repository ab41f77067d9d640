package dev.mnemo.node.metrics;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * A small Prometheus registry: labelled counters, request-duration histograms and gauges read at
 * scrape time, rendered in the text exposition format (version 0.0.4). Small on purpose: the node
 * needs a handful of series, not a metrics framework.
 */
public final class Metrics {
  private static final double[] BUCKETS_SECONDS = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};

  private final Map<String, Counter> counters = new ConcurrentHashMap<>();
  private final Map<String, Histogram> histograms = new ConcurrentHashMap<>();
  private final Map<String, Gauge> gauges = new ConcurrentHashMap<>();

  private record Counter(String name, String help, Map<String, LongAdder> byLabels) {}

  private record Gauge(String name, String help, LongSupplier value) {}

  private static final class Histogram {
    final String name;
    final String help;
    final Map<String, long[]> byLabels = new ConcurrentHashMap<>();
    final Map<String, double[]> sums = new ConcurrentHashMap<>();

    Histogram(String name, String help) {
      this.name = name;
      this.help = help;
    }

    synchronized void observe(String labels, double seconds) {
      long[] counts = byLabels.computeIfAbsent(labels, k -> new long[BUCKETS_SECONDS.length + 1]);
      for (int i = 0; i < BUCKETS_SECONDS.length; i++) {
        if (seconds <= BUCKETS_SECONDS[i]) {
          counts[i]++;
        }
      }
      counts[BUCKETS_SECONDS.length]++;
      sums.computeIfAbsent(labels, k -> new double[1])[0] += seconds;
    }
  }

  /** Adds {@code amount} to a counter; {@code labels} is the rendered label set, e.g. {@code route="recall"}. */
  public void count(String name, String help, String labels, long amount) {
    counters.computeIfAbsent(name, n -> new Counter(n, help, new ConcurrentHashMap<>()))
        .byLabels().computeIfAbsent(labels, l -> new LongAdder()).add(amount);
  }

  public void observeSeconds(String name, String help, String labels, double seconds) {
    histograms.computeIfAbsent(name, n -> new Histogram(n, help)).observe(labels, seconds);
  }

  public void gauge(String name, String help, LongSupplier value) {
    gauges.put(name, new Gauge(name, help, value));
  }

  public String render() {
    StringBuilder out = new StringBuilder();
    for (Counter c : new TreeMap<>(counters).values()) {
      out.append("# HELP ").append(c.name()).append(' ').append(c.help()).append('\n');
      out.append("# TYPE ").append(c.name()).append(" counter\n");
      new TreeMap<>(c.byLabels()).forEach((labels, v) -> out.append(c.name()).append(braces(labels)).append(' ').append(v.sum()).append('\n'));
    }
    for (Histogram h : new TreeMap<>(histograms).values()) {
      out.append("# HELP ").append(h.name).append(' ').append(h.help).append('\n');
      out.append("# TYPE ").append(h.name).append(" histogram\n");
      synchronized (h) {
        for (Map.Entry<String, long[]> e : new TreeMap<>(h.byLabels).entrySet()) {
          String labels = e.getKey();
          String sep = labels.isEmpty() ? "" : labels + ",";
          long[] counts = e.getValue();
          for (int i = 0; i < BUCKETS_SECONDS.length; i++) {
            out.append(h.name).append("_bucket{").append(sep).append("le=\"").append(BUCKETS_SECONDS[i]).append("\"} ").append(counts[i]).append('\n');
          }
          out.append(h.name).append("_bucket{").append(sep).append("le=\"+Inf\"} ").append(counts[BUCKETS_SECONDS.length]).append('\n');
          out.append(h.name).append("_sum").append(braces(labels)).append(' ').append(h.sums.get(labels)[0]).append('\n');
          out.append(h.name).append("_count").append(braces(labels)).append(' ').append(counts[BUCKETS_SECONDS.length]).append('\n');
        }
      }
    }
    for (Gauge g : new TreeMap<>(gauges).values()) {
      out.append("# HELP ").append(g.name()).append(' ').append(g.help()).append('\n');
      out.append("# TYPE ").append(g.name()).append(" gauge\n");
      out.append(g.name()).append(' ').append(g.value().getAsLong()).append('\n');
    }
    return out.toString();
  }

  private static String braces(String labels) {
    return labels.isEmpty() ? "" : "{" + labels + "}";
  }
}
