package dev.mnemo.node.sync;

import static dev.mnemo.node.sync.NodeProcess.memory;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mnemo.node.ApiClient.Response;
import dev.mnemo.node.TestVectors;
import dev.mnemo.store.identity.AgentKey;
import dev.mnemo.store.identity.DidKey;
import dev.mnemo.store.identity.NodeKeyFile;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replication by the namespace's own {@code replicate} grants, with no operator allowlist at all
 * ({@code replicationPeers} empty): a namespace reaches exactly the nodes its owner grants
 * {@code replicate}, and a node whose grant is revoked stops receiving it, while the others go on.
 */
@ExtendWith(NodeLogsOnFailure.class)
class ReplicateGrantTest {
  private static final String NS = "by-grant";
  private static final Duration CONVERGE = Duration.ofSeconds(20);
  /** Several anti-entropy rounds (500 ms) of every node with every other. */
  private static final long ROUNDS_MS = 2_500;

  @TempDir Path dir;
  private final List<NodeProcess> nodes = new ArrayList<>();

  @AfterEach
  void stop() {
    nodes.forEach(NodeProcess::close);
  }

  @Test
  void aNamespaceReachesExactlyTheNodesItsOwnerGrantsReplicate() {
    List<DidKey> dids = new ArrayList<>();
    for (String name : List.of("n1", "n2", "n3")) {
      try {
        AgentKey key = NodeKeyFile.loadOrCreate(dir.resolve(name));
        dids.add(key.did());
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
    Map<String, String> env = new HashMap<>(Map.of("MNEMO_ANTI_ENTROPY_MS", "500"));
    env.put("MNEMO_REPLICATION_PEERS", ""); // no allowlist: grants alone decide
    nodes.addAll(Cluster.start(dir, List.of("n1", "n2", "n3"), env));
    NodeProcess n1 = nodes.get(0);
    NodeProcess n2 = nodes.get(1);
    NodeProcess n3 = nodes.get(2);

    Set<String> written = new LinkedHashSet<>();
    String m0 = n1.api().remember(NS, memory("written before any grant", TestVectors.random(1)));
    written.add(m0);
    NodeProcess.sleep(ROUNDS_MS);
    for (NodeProcess node : List.of(n2, n3)) {
      assertThat(namespaces(node)).as("namespaces on %s before any replicate grant", node).doesNotContain(NS);
    }

    // Created through n1, the namespace grants n1 replicate by itself: the owner grants only n2,
    // and what it then writes through n2 still reaches n1.
    assertThat(n1.api().getJson("/v1/namespaces/" + NS + "/acl").path("grants").path(dids.get(0).toString()).toString())
        .as("n1's grants in %s", NS).contains("replicate");
    grantReplicate(n1, dids.get(1));
    Await.until(CONVERGE, "n2 replicates " + NS + " once granted",
        () -> n2.heads(NS).equals(n1.heads(NS)) && n2.memorySet(NS).equals(written), () -> state(NS));
    String m1 = n2.api().remember(NS, memory("written on n2", TestVectors.random(2)));
    written.add(m1);
    Await.until(CONVERGE, "n2's write reaches n1", () -> n1.memorySet(NS).equals(written), () -> state(NS));
    NodeProcess.sleep(ROUNDS_MS);
    assertThat(namespaces(n3)).as("namespaces on n3, not granted").doesNotContain(NS);
    assertThat(n3.api().get("/v1/blocks/" + m0).status()).as("a block of %s on n3", NS).isEqualTo(404);

    // Revoked, n2 hears nothing more of the namespace, not even the revoke; the others go on.
    String revoke = n1.api().post("/v1/namespaces/" + NS + "/revocations",
        Map.of("to", dids.get(1).toString(), "can", List.of("replicate"))).json().path("entry").asText();
    String m2 = n1.api().remember(NS, memory("written on n1 after n2's revoke", TestVectors.random(3)));
    grantReplicate(n1, dids.get(2));
    Set<String> onN1 = Set.of(m0, m1, m2);
    Await.until(CONVERGE, "n3 replicates " + NS + " once granted, up to the latest write",
        () -> n3.heads(NS).equals(n1.heads(NS)) && n3.memorySet(NS).equals(onN1), () -> state(NS));
    NodeProcess.sleep(ROUNDS_MS);
    assertThat(n2.memorySet(NS)).as("memories on n2 after its revoke").isEqualTo(Set.of(m0, m1));
    assertThat(n2.api().get("/v1/blocks/" + revoke).status()).as("the revoke entry on n2").isEqualTo(404);
    assertThat(n2.api().get("/v1/memories/" + m2).status()).as("n1's write after the revoke, on n2").isEqualTo(404);
  }

  private static void grantReplicate(NodeProcess on, DidKey node) {
    Response r = on.api().post("/v1/namespaces/" + NS + "/grants", Map.of("to", node.toString(), "can", List.of("replicate")));
    assertThat(r.status()).as("%s", r).isEqualTo(201);
  }

  private static Set<String> namespaces(NodeProcess node) {
    Set<String> names = new LinkedHashSet<>();
    node.info().path("namespaces").forEach(n -> names.add(n.path("name").asText()));
    return names;
  }

  private String state(String ns) {
    return nodes.stream().map(n -> {
      JsonNode info = n.info();
      return n.name() + ": heads " + NodeProcess.heads(info, ns) + ", memories " + n.memorySet(ns) + ", sync " + info.path("sync");
    }).collect(Collectors.joining("\n"));
  }
}
