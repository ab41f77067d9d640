package dev.mnemo.node.sync;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Convergence under faults (benchmarks/README.md, "Hardening (issue 22): convergence under
 * faults"): {@link FaultRun} a few times on fresh clusters, each run's time from the last
 * acknowledged write until all three nodes report the same heads, with the machine's load beside
 * it, and the median. Runs only with {@code -Dmnemo.bench=true}:
 *
 * <pre>
 * ./mvnw -q -B test -pl store,index,sync,memory-node -Dtest=FaultConvergenceBenchmark \
 *     -Dsurefire.failIfNoSpecifiedTests=false -Dmnemo.bench=true [-Dmnemo.bench.runs=5]
 * </pre>
 */
@EnabledIfSystemProperty(named = "mnemo.bench", matches = "true")
@ExtendWith(NodeLogsOnFailure.class)
class FaultConvergenceBenchmark {
  @TempDir Path dir;

  @Test
  void convergenceAfterTheLastWriteUnderFaults() throws IOException {
    int runs = Integer.getInteger("mnemo.bench.runs", 5);
    List<Long> times = new ArrayList<>();
    StringBuilder report = new StringBuilder();
    for (int run = 0; run < runs; run++) {
      List<NodeProcess> nodes = new ArrayList<>();
      try {
        String loadBefore = Files.readString(Path.of("/proc/loadavg")).strip();
        FaultRun.Result result = FaultRun.run(dir.resolve("run" + run), Map.of(), Duration.ofSeconds(180), nodes);
        times.add(result.convergedMillis());
        StringBuilder rejected = new StringBuilder();
        for (NodeProcess node : nodes) {
          rejected.append(' ').append(node.name()).append('=').append(node.sync().path("rejected").asLong())
              .append("/").append(node.sync().path("deferredAnnouncements").asLong())
              .append("/").append(node.sync().path("ignoredAnnouncements").asLong());
        }
        report.append(String.format("run %d: converged %d ms after the last write; %d live, %d forgotten; rejected/deferred/ignored%s;"
                + " heads last changed (ms after the last write) %s; load before %s, after %s%n", run, result.convergedMillis(),
            result.live().size(), result.forgotten().size(), rejected, result.lastChangeMillis(), loadBefore, Files.readString(Path.of("/proc/loadavg")).strip()));
        System.out.print(report.substring(report.lastIndexOf("run " + run)));
      } finally {
        nodes.forEach(NodeProcess::close);
      }
    }
    List<Long> sorted = times.stream().sorted().toList();
    report.append("median ").append(sorted.get(sorted.size() / 2)).append(" ms of ").append(times).append('\n');
    System.out.println("==== fault-run convergence ====\n" + report);
  }
}
