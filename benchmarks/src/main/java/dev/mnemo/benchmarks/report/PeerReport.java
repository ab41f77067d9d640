package dev.mnemo.benchmarks.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Turns the JSON-lines results of one comparison run (every {@code peers-*.jsonl} in a directory:
 * the peers' and Mnemo's, one record per measurement; one-off measurements kept beside them under
 * other names, such as a system measured alone, stay out of the tables, schema in benchmarks/peers/README.md) into
 * {@code REPORT.md} with Markdown tables and PNG plots beside it: ingest; vector search compared at
 * equal recall@10 (for each target, the fastest setting of each system that reaches it); the whole
 * QPS-recall sweep; keyword and hybrid; QPS against recall@10 per corpus size; latency against
 * corpus size.
 *
 * <p>Usage: {@code PeerReport <results dir>}
 */
public final class PeerReport {
  private static final double[] RECALL_TARGETS = {0.90, 0.95};
  private static final ObjectMapper JSON = new ObjectMapper();

  private final List<JsonNode> records;
  private final Path dir;
  private final StringBuilder md = new StringBuilder();

  private PeerReport(Path dir, List<JsonNode> records) {
    this.dir = dir;
    this.records = records;
  }

  public static void main(String[] args) throws IOException {
    if (args.length != 1) {
      System.err.println("usage: PeerReport <results dir>");
      System.exit(2);
    }
    Path dir = Path.of(args[0]);
    PeerReport report = new PeerReport(dir, read(dir));
    Path out = report.write();
    System.out.println("wrote " + out);
  }

  static List<JsonNode> read(Path dir) throws IOException {
    List<JsonNode> records = new ArrayList<>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path file : files.filter(PeerReport::isRunResult).sorted().toList()) {
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
          if (!line.isBlank()) {
            records.add(JSON.readTree(line));
          }
        }
      }
    }
    return records;
  }

  private static boolean isRunResult(Path file) {
    String name = file.getFileName().toString();
    return name.startsWith("peers-") && name.endsWith(".jsonl");
  }

  private Path write() throws IOException {
    md.append("# Mnemo and its peers: ").append(dir.getFileName()).append("\n\n");
    machine().ifPresent(m -> md.append("Machine: ").append(m).append("\n\n"));
    versions();
    datasets();
    ingest();
    for (double target : RECALL_TARGETS) {
      equalRecall(target);
    }
    keywordAndHybrid();
    plots();
    sweep();
    Path out = dir.resolve("REPORT.md");
    Files.writeString(out, md.toString(), StandardCharsets.UTF_8);
    return out;
  }

  private Optional<String> machine() {
    return records.stream().map(r -> r.path("machine")).filter(m -> !m.isMissingNode()).findFirst()
        .map(m -> {
          List<String> parts = new ArrayList<>();
          // The load average differs from record to record; it stays in the records.
          m.fields().forEachRemaining(e -> {
            if (e.getValue().isValueNode()) {
              parts.add(e.getKey() + " " + e.getValue().asText());
            }
          });
          return String.join(", ", parts);
        });
  }

  private void versions() {
    Map<String, String> versions = new TreeMap<>();
    for (JsonNode r : records) {
      versions.putIfAbsent(r.path("system").asText(), r.path("version").asText("") + componentList(r.path("components")));
    }
    md.append("| system | version |\n| --- | --- |\n");
    versions.forEach((system, version) -> md.append("| ").append(system).append(" | ").append(version).append(" |\n"));
    md.append('\n');
  }

  /** Which corpus each size was cut from: sizes may differ (WordNet has too few sentences for 1M). */
  private void datasets() {
    Map<Long, Set<String>> datasets = new TreeMap<>();
    for (JsonNode r : records) {
      datasets.computeIfAbsent(r.path("size").asLong(), size -> new TreeSet<>()).add(r.path("dataset").asText());
    }
    md.append("| size | dataset |\n| ---: | --- |\n");
    datasets.forEach((size, names) -> md.append(String.format(Locale.ROOT, "| %,d | %s |\n", size, String.join(", ", names))));
    md.append('\n');
  }

  private static String componentList(JsonNode components) {
    if (!components.isObject() || components.isEmpty()) {
      return "";
    }
    List<String> parts = new ArrayList<>();
    components.fields().forEachRemaining(e -> parts.add(e.getKey() + " " + e.getValue().asText()));
    return " (" + String.join(", ", parts) + ")";
  }

  private void ingest() {
    md.append("## Ingest\n\n");
    md.append("memories/s counts to the point where the last memory can be recalled; acknowledged/s, where\n"
        + "a system acknowledges writes before they are indexed, to the last acknowledgement.\n\n");
    md.append("| size | system | memories/s | acknowledged/s | batch | durability | index build s | disk bytes/memory | peak RSS MB |\n");
    md.append("| ---: | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |\n");
    records.stream().filter(r -> r.path("phase").asText().equals("ingest"))
        .sorted(Comparator.comparingLong((JsonNode r) -> r.path("size").asLong()).thenComparing(r -> r.path("system").asText()))
        .forEach(r -> md.append(String.format(Locale.ROOT, "| %,d | %s | %,.0f | %s | %s | %s | %.1f | %,.0f | %,.0f |%n",
            r.path("size").asLong(), r.path("system").asText(), r.path("memoriesPerSec").asDouble(),
            r.has("acknowledgedPerSec") ? String.format(Locale.ROOT, "%,.0f", r.path("acknowledgedPerSec").asDouble()) : "—",
            r.path("batchSize").asText("—"), shortDurability(r.path("durability").asText("")),
            r.path("buildSeconds").asDouble(), r.path("diskBytesPerMemory").asDouble(),
            r.path("peakRssBytes").asDouble() / 1e6)));
    md.append('\n');
  }

  private static String shortDurability(String text) {
    String first = text.split("[.;:]", 2)[0];
    return first.length() > 60 ? first.substring(0, 57) + "…" : first;
  }

  /** Per size and client count: each system's fastest vector setting with recall@10 at least {@code target}. */
  private void equalRecall(double target) {
    md.append(String.format(Locale.ROOT, "## Vector search at recall@10 ≥ %.2f%n%n", target));
    md.append("The fastest setting of each system and index that reaches the target; a dash when none does.\n\n");
    md.append("| size | clients | system | index | setting | recall@10 | QPS | p50 ms | p95 ms | p99 ms |\n");
    md.append("| ---: | ---: | --- | --- | --- | ---: | ---: | ---: | ---: | ---: |\n");
    for (long size : sizes()) {
      for (int clients : clientCounts()) {
        for (Map.Entry<String, List<JsonNode>> e : vectorSeries(size, clients).entrySet()) {
          Optional<JsonNode> best = e.getValue().stream().filter(r -> r.path("recallAt10").asDouble() >= target)
              .max(Comparator.comparingDouble(r -> r.path("qps").asDouble()));
          String[] key = e.getKey().split(" / ", 2);
          if (best.isPresent()) {
            JsonNode r = best.get();
            md.append(String.format(Locale.ROOT, "| %,d | %d | %s | %s | %s | %.3f | %,.0f | %.2f | %.2f | %.2f |%n",
                size, clients, key[0], key.length > 1 ? key[1] : "", setting(r.path("params")), r.path("recallAt10").asDouble(),
                r.path("qps").asDouble(), r.path("p50Ms").asDouble(), r.path("p95Ms").asDouble(), r.path("p99Ms").asDouble()));
          } else {
            double max = e.getValue().stream().mapToDouble(r -> r.path("recallAt10").asDouble()).max().orElse(0);
            md.append(String.format(Locale.ROOT, "| %,d | %d | %s | %s | — (best recall@10 %.3f) | | | | | |%n",
                size, clients, key[0], key.length > 1 ? key[1] : "", max));
          }
        }
      }
    }
    md.append('\n');
  }

  private void keywordAndHybrid() {
    List<JsonNode> rows = records.stream()
        .filter(r -> r.path("phase").asText().equals("keyword") || r.path("phase").asText().equals("hybrid"))
        .sorted(Comparator.comparingLong((JsonNode r) -> r.path("size").asLong())
            .thenComparing(r -> r.path("phase").asText()).thenComparingInt(r -> r.path("clients").asInt())
            .thenComparing(r -> r.path("system").asText()))
        .toList();
    if (rows.isEmpty()) {
      return;
    }
    md.append("## Keyword and hybrid search\n\n");
    md.append("No exact truth exists for these, so only speed is compared; what each system's keyword and hybrid mean is in benchmarks/peers/README.md.\n\n");
    md.append("| size | mode | clients | system | setting | QPS | p50 ms | p95 ms | p99 ms |\n");
    md.append("| ---: | --- | ---: | --- | --- | ---: | ---: | ---: | ---: |\n");
    for (JsonNode r : rows) {
      md.append(String.format(Locale.ROOT, "| %,d | %s | %d | %s | %s | %,.0f | %.2f | %.2f | %.2f |%n",
          r.path("size").asLong(), r.path("phase").asText(), r.path("clients").asInt(), r.path("system").asText(),
          setting(r.path("params")), r.path("qps").asDouble(), r.path("p50Ms").asDouble(), r.path("p95Ms").asDouble(),
          r.path("p99Ms").asDouble()));
    }
    md.append('\n');
  }

  private void sweep() {
    md.append("## Every vector measurement\n\n");
    md.append("| size | clients | system | index | setting | recall@10 | QPS | p50 ms | p95 ms | p99 ms |\n");
    md.append("| ---: | ---: | --- | --- | --- | ---: | ---: | ---: | ---: | ---: |\n");
    for (long size : sizes()) {
      for (int clients : clientCounts()) {
        for (Map.Entry<String, List<JsonNode>> e : vectorSeries(size, clients).entrySet()) {
          String[] key = e.getKey().split(" / ", 2);
          for (JsonNode r : e.getValue()) {
            md.append(String.format(Locale.ROOT, "| %,d | %d | %s | %s | %s | %.3f | %,.0f | %.2f | %.2f | %.2f |%n",
                size, clients, key[0], key.length > 1 ? key[1] : "", setting(r.path("params")), r.path("recallAt10").asDouble(),
                r.path("qps").asDouble(), r.path("p50Ms").asDouble(), r.path("p95Ms").asDouble(), r.path("p99Ms").asDouble()));
          }
        }
      }
    }
    md.append('\n');
  }

  private void plots() throws IOException {
    md.append("## Plots\n\n");
    for (long size : sizes()) {
      for (int clients : clientCounts()) {
        LinePlot plot = new LinePlot(String.format(Locale.ROOT, "QPS vs recall@10, %,d memories, %d client%s", size, clients,
            clients == 1 ? "" : "s"), "recall@10", false, "queries per second", true);
        for (Map.Entry<String, List<JsonNode>> e : vectorSeries(size, clients).entrySet()) {
          List<LinePlot.Point> points = e.getValue().stream()
              .map(r -> new LinePlot.Point(r.path("recallAt10").asDouble(), r.path("qps").asDouble()))
              .sorted(Comparator.comparingDouble(LinePlot.Point::x)).toList();
          plot.add(new LinePlot.Series(e.getKey(), points));
        }
        if (!plot.isEmpty()) {
          String name = String.format(Locale.ROOT, "qps-recall-%d-c%d.png", size, clients);
          plot.write(dir.resolve(name));
          md.append("![").append(name).append("](").append(name).append(")\n\n");
        }
      }
    }
    for (int clients : clientCounts()) {
      LinePlot plot = new LinePlot(String.format(Locale.ROOT, "p50 latency at recall@10 >= 0.95, %d client%s", clients,
          clients == 1 ? "" : "s"), "memories", true, "p50 ms", true);
      Map<String, List<LinePlot.Point>> bySystem = new TreeMap<>();
      for (long size : sizes()) {
        for (Map.Entry<String, List<JsonNode>> e : vectorSeries(size, clients).entrySet()) {
          e.getValue().stream().filter(r -> r.path("recallAt10").asDouble() >= 0.95)
              .max(Comparator.comparingDouble(r -> r.path("qps").asDouble()))
              .ifPresent(r -> bySystem.computeIfAbsent(e.getKey(), k -> new ArrayList<>())
                  .add(new LinePlot.Point(size, r.path("p50Ms").asDouble())));
        }
      }
      bySystem.forEach((name, points) -> plot.add(new LinePlot.Series(name, points)));
      if (!plot.isEmpty()) {
        String name = String.format(Locale.ROOT, "latency-size-c%d.png", clients);
        plot.write(dir.resolve(name));
        md.append("![").append(name).append("](").append(name).append(")\n\n");
      }
    }
  }

  /** The vector records of one size and client count, grouped by "system / index", in sweep order. */
  private Map<String, List<JsonNode>> vectorSeries(long size, int clients) {
    Map<String, List<JsonNode>> series = new TreeMap<>();
    for (JsonNode r : records) {
      if (r.path("phase").asText().equals("vector") && r.path("size").asLong() == size && r.path("clients").asInt() == clients) {
        String index = r.path("params").path("index").asText("");
        String key = r.path("system").asText() + (index.isEmpty() ? "" : " / " + index);
        series.computeIfAbsent(key, k -> new ArrayList<>()).add(r);
      }
    }
    return series;
  }

  private TreeSet<Long> sizes() {
    TreeSet<Long> sizes = new TreeSet<>();
    records.forEach(r -> sizes.add(r.path("size").asLong()));
    return sizes;
  }

  private TreeSet<Integer> clientCounts() {
    TreeSet<Integer> clients = new TreeSet<>();
    records.stream().filter(r -> r.has("clients")).forEach(r -> clients.add(r.path("clients").asInt()));
    return clients;
  }

  /** The swept parameters of a record, without the index name (it has its own column). */
  private static String setting(JsonNode params) {
    Map<String, String> parts = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = params.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (!e.getKey().equals("index")) {
        parts.put(e.getKey(), e.getValue().isTextual() ? e.getValue().asText() : e.getValue().toString());
      }
    }
    List<String> out = new ArrayList<>();
    parts.forEach((k, v) -> out.add(k + "=" + v));
    return out.isEmpty() ? "—" : String.join(", ", out);
  }
}
