package dev.mnemo.node.sync;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mnemo.node.ApiClient;
import dev.mnemo.store.acl.Ability;
import dev.mnemo.store.block.Block;
import dev.mnemo.store.car.CarWriter;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.identity.AgentKey;
import dev.mnemo.store.identity.Author;
import dev.mnemo.store.identity.DidKey;
import dev.mnemo.store.model.LogEntry;
import dev.mnemo.store.model.Op;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Grants and revocations written by a namespace's owner on a running node, as the owner's own
 * signed log entries: built and signed in the test JVM with the owner's key, on top of the node's
 * heads, and brought in through {@code POST /v1/namespaces/{ns}/import}, where the node checks them
 * as it checks any entry from outside. Replicas then receive them like any other entry.
 */
final class OwnerGrants {
  private OwnerGrants() {}

  /** Grants {@code to} the abilities {@code can} on {@code node}; returns the entry's CID. */
  static Cid grant(NodeProcess node, AgentKey owner, String ns, DidKey to, Set<Ability> can) {
    return control(node, owner, ns, Op.GRANT, to, can);
  }

  /** Revokes {@code to}'s abilities {@code can} on {@code node}; returns the entry's CID. */
  static Cid revoke(NodeProcess node, AgentKey owner, String ns, DidKey to, Set<Ability> can) {
    return control(node, owner, ns, Op.REVOKE, to, can);
  }

  private static Cid control(NodeProcess node, AgentKey owner, String ns, Op op, DidKey to, Set<Ability> can) {
    try {
      List<Cid> parents = new ArrayList<>();
      long clock = 0;
      for (String head : node.heads(ns)) {
        Cid cid = Cid.parse(head);
        ApiClient.Response block = node.api().get("/v1/blocks/" + cid);
        assertThat(block.status()).as("%s", block).isEqualTo(200);
        clock = Math.max(clock, LogEntry.decode(block.body()).clock());
        parents.add(cid);
      }
      assertThat(parents).as("heads of %s on %s", ns, node).isNotEmpty();
      LogEntry entry = LogEntry.signed(Author.of(owner), ns, op, List.of(), parents, clock + 1, to, can);
      Block block = Block.dagCbor(entry.encode());
      ByteArrayOutputStream car = new ByteArrayOutputStream();
      new CarWriter(car, List.of(block.cid())).write(block);
      ApiClient.Response r = node.api().postRaw("/v1/namespaces/" + ns + "/import", ApiClient.CAR_TYPE, car.toByteArray());
      assertThat(r.status()).as("%s", r).isEqualTo(200);
      assertThat(r.json().path("entriesApplied").asInt()).as("%s", r).isEqualTo(1);
      return block.cid();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
