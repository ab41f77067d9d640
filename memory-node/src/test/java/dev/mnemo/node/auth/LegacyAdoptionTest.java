package dev.mnemo.node.auth;

import static dev.mnemo.node.ApiClient.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mnemo.node.ApiClient;
import dev.mnemo.node.TestNode;
import dev.mnemo.node.TestVectors;
import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.acl.Ability;
import dev.mnemo.store.identity.AgentKey;
import dev.mnemo.store.identity.Author;
import dev.mnemo.store.identity.DidKey;
import dev.mnemo.store.model.Embedding;
import dev.mnemo.store.model.Memory;
import dev.mnemo.store.rocks.RocksStorage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A data directory written before access control: its namespaces are the node's own (their
 * entries signed by the node key), and at start the node grants its owner agent admin in each, so
 * the owner's token reads, recalls and writes there as before.
 */
class LegacyAdoptionTest {
  @TempDir Path dir;

  private static Memory memory(String ns, String text, long seed) {
    return new Memory(ns, text, Map.of(), List.of(), 1_000 + seed, new Embedding("client", TestVectors.random(seed)), null);
  }

  @Test
  void theOwnerAgentAdministersTheNodesOldNamespaces() throws Exception {
    AgentKey alice = AgentKey.generate();
    DidKey node;
    String old;
    try (MnemoStore store = MnemoStore.open(dir)) {
      node = store.nodeKey().did();
      // As an old node wrote: the node signs, through the node's own append.
      old = store.log().append("old", List.of(memory("old", "written before access control", 1))).memories().get(0).toString();
      store.log().append("old", List.of(memory("old", "and a second one", 2)));
      store.log().append(Author.of(alice), "hers", List.of(memory("hers", "an agent's own", 3)));
      backToLayoutOne(store);
    }

    long before;
    String ownerDid;
    try (TestNode started = TestNode.start(dir, TestNode.NONE)) {
      ApiClient owner = started.api();
      ownerDid = owner.getJson("/v1/whoami").path("did").asText();
      assertThat(started.node().store().log().acl("old").isOwner(node)).isTrue();
      assertThat(started.node().store().log().acl("old").can(DidKey.parse(ownerDid), Ability.ADMIN)).isTrue();

      assertThat(owner.listAll("old")).hasSize(2).contains(old);
      assertThat(owner.recallCids("old", Map.of("vector", TestVectors.random(1), "k", 1))).containsExactly(old);
      assertThat(owner.getJson("/v1/memories/" + old).path("text").asText()).isEqualTo("written before access control");
      String written = owner.remember("old", Map.of("text", "written after", "vector", TestVectors.random(4)));
      assertThat(owner.listAll("old")).hasSize(3).contains(written);
      // as admin, it brings other agents in
      String bobToken = owner.post("/v1/agents", Map.of("name", "bob")).json().path("token").asText();
      ApiClient bob = owner.withToken(bobToken);
      String bobDid = bob.getJson("/v1/whoami").path("did").asText();
      assertThat(owner.post("/v1/namespaces/old/grants", Map.of("to", bobDid, "can", List.of("read"))).status()).isEqualTo(201);
      assertThat(bob.listAll("old")).hasSize(3);
      JsonNode acl = owner.getJson("/v1/namespaces/old/acl");
      assertThat(acl.path("owners").get(0).asText()).isEqualTo(node.toString());
      assertThat(acl.path("grants").has(ownerDid)).isTrue();

      // an agent's namespace is not the node's to hand over
      assertError(owner.get("/v1/namespaces/hers/memories"), 403, "forbidden");
      assertThat(started.node().store().log().acl("hers").can(DidKey.parse(ownerDid), Ability.READ)).isFalse();
      before = started.node().store().log().lastPosition();
    }

    // adopted once: a restart writes nothing
    try (TestNode restarted = TestNode.start(dir, TestNode.NONE)) {
      assertThat(restarted.node().store().log().lastPosition()).isEqualTo(before);
      assertThat(restarted.api().listAll("old")).hasSize(3);
      assertThat(restarted.api().getJson("/v1/whoami").path("did").asText()).isEqualTo(ownerDid);
    }
  }

  /** Drops the access-control records and marks the store layout 1, as a store from before access control is. */
  private static void backToLayoutOne(MnemoStore store) throws Exception {
    try (org.rocksdb.WriteBatch batch = new org.rocksdb.WriteBatch();
         org.rocksdb.RocksIterator it = store.storage().iterator(RocksStorage.Family.ACL)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        batch.delete(store.storage().handle(RocksStorage.Family.ACL), it.key());
      }
      batch.put(store.storage().handle(RocksStorage.Family.META), "format".getBytes(StandardCharsets.UTF_8),
          "1".getBytes(StandardCharsets.UTF_8));
      store.storage().writeDurably(batch);
    }
  }
}
