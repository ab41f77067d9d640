package dev.mnemo.node.sync;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fault run of issue 22 ({@link FaultRun}): writes and forgets on three nodes while one is
 * stopped for 25 s and another killed and restarted. Afterwards the nodes agree: the same heads,
 * every acknowledged memory that was not forgotten on every node, no forgotten memory anywhere,
 * no honest peer's data counted as rejected, and no honest announcement dropped. The bound is a behaviour check, not a timing
 * target (the figures are {@link FaultConvergenceBenchmark}'s).
 */
@ExtendWith(NodeLogsOnFailure.class)
class FaultRunTest {
  @TempDir Path dir;
  private final List<NodeProcess> nodes = new ArrayList<>();

  @AfterEach
  void stop() {
    nodes.forEach(NodeProcess::close);
  }

  @Test
  void aClusterUnderStopsKillsAndRestartsConvergesAndLosesNothing() {
    FaultRun.Result result = FaultRun.run(dir, Map.of(), Duration.ofSeconds(60), nodes);
    System.out.println("fault run: converged " + result.convergedMillis() + " ms after the last write; " + result.live().size()
        + " live, " + result.forgotten().size() + " forgotten");
    assertThat(result.live()).as("acknowledged memories").isNotEmpty();
    assertThat(result.forgotten()).as("forgotten memories").isNotEmpty();
    Set<String> first = null;
    for (NodeProcess node : result.nodes()) {
      Set<String> memories = new TreeSet<>(node.memorySet(FaultRun.NS));
      assertThat(memories).as("%s holds every acknowledged memory not forgotten", node.name()).containsAll(result.live());
      assertThat(memories).as("forgotten memories on %s", node.name()).doesNotContainAnyElementsOf(result.forgotten());
      if (first != null) {
        assertThat(memories).as("%s's memories equal a's", node.name()).isEqualTo(first);
      }
      first = memories;
      assertThat(node.sync().path("rejected").asLong()).as("%s rejected data from honest peers: %s", node.name(),
          node.sync().path("lastRejection").asText()).isZero();
      // Every node that announced while another's view lacked it rejoined: none of its announcements was dropped.
      assertThat(node.sync().path("ignoredAnnouncements").asLong()).as("%s dropped announcements", node.name()).isZero();
    }
  }
}
