package dev.mnemo.benchmarks.peers;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Appends result records, one JSON object per line, to the --out file; the schema is in
 * benchmarks/peers/README.md and is shared with the Node runners. Latency percentiles are nearest
 * rank over the sorted samples and recall@10 is averaged over the answered queries, exactly as
 * benchmarks/peers/lib/stats.mjs computes them.
 */
final class ResultLog {
  static final ObjectMapper JSON = new ObjectMapper();
  private final Path file;
  private final ObjectNode common;

  ResultLog(Path file, ObjectNode common) throws IOException {
    this.file = file;
    this.common = common;
    Path parent = file.toAbsolutePath().getParent();
    Files.createDirectories(parent);
  }

  static ObjectNode object() {
    return JSON.createObjectNode();
  }

  void emit(ObjectNode record) throws IOException {
    ObjectNode line = common.deepCopy();
    line.setAll(record);
    line.put("ts", Instant.now().toString());
    String text = JSON.writeValueAsString(line);
    Files.writeString(file, text + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    System.out.println(text);
  }

  /** queries, seconds, qps, p50Ms, p95Ms, p99Ms of a run. */
  static ObjectNode latencySummary(QueryLoad.Run run) {
    double[] sorted = run.answers().stream().mapToDouble(QueryLoad.Answer::latencyMs).sorted().toArray();
    ObjectNode out = object()
        .put("queries", sorted.length)
        .put("seconds", round(run.seconds(), 3))
        .put("qps", round(sorted.length / run.seconds(), 1));
    out.put("p50Ms", round(percentile(sorted, 0.50), 3));
    out.put("p95Ms", round(percentile(sorted, 0.95), 3));
    out.put("p99Ms", round(percentile(sorted, 0.99), 3));
    return out;
  }

  static double recallAt10(List<QueryLoad.Answer> answers, PeerDataset data) {
    double sum = 0;
    for (QueryLoad.Answer a : answers) {
      Set<Integer> exact = new HashSet<>();
      Arrays.stream(data.truthTop10(a.q())).forEach(exact::add);
      long hits = Arrays.stream(a.ids()).limit(10).filter(exact::contains).count();
      sum += hits / 10.0;
    }
    return answers.isEmpty() ? Double.NaN : round(sum / answers.size(), 4);
  }

  private static double percentile(double[] sorted, double p) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)];
  }

  static double round(double x, int digits) {
    double f = Math.pow(10, digits);
    return Math.round(x * f) / f;
  }
}
