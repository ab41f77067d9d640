package dev.mnemo.node.sync;

import static dev.mnemo.node.sync.NodeProcess.memory;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mnemo.node.TestVectors;
import dev.mnemo.node.api.NamespacesPage;
import dev.mnemo.node.auth.AgentKeyFile;
import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.identity.AgentKey;
import dev.mnemo.store.identity.Author;
import dev.mnemo.store.model.Memory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two node processes holding the same {@value #NAMESPACES} namespaces; B misses a write to one
 * of them (it was down when A announced it). When B comes back, anti-entropy (digest protocol v2)
 * finds that namespace with a few small requests, not the v1 digest of every namespace and its
 * heads (some 1 MB here, past 16 MiB at 100,000 namespaces), and pulls it and nothing else.
 */
@ExtendWith(NodeLogsOnFailure.class)
class DigestAntiEntropyTest {
  static final int NAMESPACES = 20_000;
  /** Timer rounds out of the way: the comparison measured is the one B's rejoining starts. */
  private static final Map<String, String> ENV = Map.of("MNEMO_ANTI_ENTROPY_MS", "3600000");

  @TempDir Path dir;

  @Test
  void aRestartedNodeRepairsTheOneNamespaceItMissedWithAFewHundredBytesOfDigest() throws Exception {
    Map<String, String> env = Cluster.withSharedOwner(dir, ENV);
    AgentKey owner = AgentKeyFile.read(Path.of(env.get("MNEMO_OWNER_KEY_FILE")));
    // The same namespaces on both, written by the owner agent as through the API: B's store is a
    // copy of A's (with a node key of its own).
    try (MnemoStore a = MnemoStore.open(dir.resolve("a"))) {
      List<CompletableFuture<?>> writes = new ArrayList<>();
      for (int i = 0; i < NAMESPACES; i++) {
        String ns = ns(i);
        writes.add(a.log().appendAsync(Author.of(owner), ns, List.of(new Memory(ns, "m " + i, Map.of(), List.of(), 1L, null, null))));
      }
      CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get(300, TimeUnit.SECONDS);
    }
    copy(dir.resolve("a").resolve("store"), dir.resolve("b").resolve("store"));

    NodeProcess a = NodeProcess.create("a", dir.resolve("a"), List.of(), env);
    NodeProcess b = NodeProcess.create("b", dir.resolve("b"), List.of(a.gossip()), env);
    try (a; b) {
      a.start();
      b.start();
      Cluster.awaitMembership(List.of(a, b), Duration.ofSeconds(60));
      String missed = ns(12_345);
      assertThat(headsOf(b, missed)).isEqualTo(headsOf(a, missed)).isNotEmpty();

      b.stop();
      a.api().remember(missed, memory("written while b was down", TestVectors.random(7)));
      b.start();
      Await.until(Duration.ofSeconds(60), "b has the write it missed", () -> b.memorySet(missed).equals(a.memorySet(missed)));
      assertThat(headsOf(b, missed)).isEqualTo(headsOf(a, missed));

      JsonNode sync = b.sync();
      assertThat(sync.path("pulls").asLong()).as("pulls in %s", sync).isEqualTo(1);
      assertThat(sync.path("entriesApplied").asLong()).as("entries applied in %s", sync).isEqualTo(1);
      assertThat(sync.path("rejected").asLong()).isZero();
      assertThat(sync.path("digestRequests").asLong()).as("digest requests in %s", sync).isBetween(1L, 5L);
      assertThat(sync.path("digestBytes").asLong()).as("digest bytes in %s", sync).isLessThan(4_000);
      System.out.printf("anti-entropy at %d namespaces, one missed: %d digest requests, %d bytes of replies%n",
          NAMESPACES, sync.path("digestRequests").asLong(), sync.path("digestBytes").asLong());
      // Nothing else differs: A, comparing with B as B rejoined, pulled nothing.
      assertThat(a.sync().path("pulls").asLong()).isZero();
    }
  }

  /** The namespace's heads on {@code node}, read from the page of /v1/node that starts with it. */
  private static TreeSet<String> headsOf(NodeProcess node, String ns) {
    String before = ns(Integer.parseInt(ns.substring(3)) - 1);
    JsonNode page = node.api().getJson("/v1/node?limit=1&cursor=" + NamespacesPage.cursorAfter(before));
    return NodeProcess.heads(page, ns);
  }

  private static String ns(int i) {
    return String.format("ns-%06d", i);
  }

  private static void copy(Path from, Path to) throws IOException {
    try (Stream<Path> files = Files.walk(from)) {
      for (Path file : files.toList()) {
        Path target = to.resolve(from.relativize(file).toString());
        if (Files.isDirectory(file)) {
          Files.createDirectories(target);
        } else if (!file.getFileName().toString().equals("LOCK")) {
          Files.copy(file, target);
        }
      }
    }
  }
}
