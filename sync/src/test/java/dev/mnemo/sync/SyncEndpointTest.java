package dev.mnemo.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.block.Block;
import dev.mnemo.store.car.CarReader;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.identity.AgentKey;
import dev.mnemo.store.identity.DidKey;
import dev.mnemo.store.model.Memory;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The serving half of sync on a real store, read back with the decoders the asking half uses. */
class SyncEndpointTest {
  /** A node the operator's allowlist names: it may replicate every namespace. */
  private static final AgentKey PEER = AgentKey.generate();
  @TempDir Path dir;

  private static SyncEndpoint endpoint(MnemoStore store) {
    ReplicationPolicy policy = new PeerAllowlist(Set.of(PEER.did()), false);
    return new SyncEndpoint(new SyncAccess(store.log(), policy, new PeerAuth(store.nodeKey())));
  }

  @Test
  void aPeerTheAllowlistDoesNotNameGetsNothing() throws Exception {
    try (MnemoStore store = MnemoStore.open(dir)) {
      List<Cid> held = store.log().append("a", List.of(new Memory("a", "one", 1))).memories();
      SyncEndpoint endpoint = endpoint(store);
      DidKey stranger = AgentKey.generate().did();

      assertThat(HeadsDigest.decode(endpoint.heads(stranger)).namespaces()).isEmpty();
      assertThat(endpoint.block(stranger, held.get(0))).isEmpty();
      assertThat(endpoint.block(PEER.did(), held.get(0))).isPresent();
    }
  }

  @Test
  void headsAreTheDigestOfEveryNamespace() throws Exception {
    try (MnemoStore store = MnemoStore.open(dir)) {
      store.log().append("a", List.of(new Memory("a", "one", 1)));
      store.log().append("b", List.of(new Memory("b", "two", 2)));

      HeadsDigest digest = HeadsDigest.decode(endpoint(store).heads(PEER.did()));

      assertThat(digest.namespaces()).containsOnlyKeys("a", "b");
      assertThat(digest.namespaces().get("a")).containsExactlyElementsOf(store.log().heads("a"));
    }
  }

  @Test
  void blocksAnswersTheBlocksItHasAsACarAndLeavesOutTheOthers() throws Exception {
    try (MnemoStore store = MnemoStore.open(dir)) {
      List<Cid> held = store.log().append("a", List.of(new Memory("a", "one", 1), new Memory("a", "two", 2))).memories();
      Cid missing = Block.dagCbor(dev.mnemo.store.codec.DagCbor.encode(Map.of("not", "stored"))).cid();
      ByteArrayOutputStream out = new ByteArrayOutputStream();

      endpoint(store).blocks(PEER.did(), new BlockRequest(List.of(held.get(0), missing, held.get(1))).encode(), out);

      CarReader car = new CarReader(new ByteArrayInputStream(out.toByteArray()));
      assertThat(car.roots()).isEmpty();
      List<Cid> served = new ArrayList<>();
      for (Block block = car.next(); block != null; block = car.next()) {
        assertThat(block.data()).isEqualTo(store.blocks().get(block.cid()).orElseThrow());
        served.add(block.cid());
      }
      assertThat(served).containsExactlyElementsOf(held);
    }
  }

  @Test
  void aMalformedBlockRequestIsRefusedWithNothingWritten() throws Exception {
    try (MnemoStore store = MnemoStore.open(dir)) {
      SyncEndpoint endpoint = endpoint(store);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      for (byte[] body : List.of(new byte[0], "{\"cids\":[]}".getBytes(StandardCharsets.UTF_8),
          dev.mnemo.store.codec.DagCbor.encode(Map.of("v", 2L, "cids", List.of())))) {
        assertThatThrownBy(() -> endpoint.blocks(PEER.did(), body, out)).isInstanceOf(MalformedSyncRequestException.class);
      }
      assertThat(out.size()).isZero();
    }
  }

  /**
   * A walk request gets the named entries and their ancestors down to the depth asked, breadth
   * first, not past the asker's heads; a peer that may not replicate the namespace gets none; a
   * malformed request is refused before anything is written.
   */
  @Test
  void entriesAnswersTheNamedEntriesAndTheirAncestorsDownToTheDepthAndNotPastTheAskersHeads() throws Exception {
    try (MnemoStore store = MnemoStore.open(dir)) {
      List<Cid> chain = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        chain.add(store.log().append("a", List.of(new Memory("a", "note " + i, i))).entry());
      }
      Cid head = chain.get(5);
      SyncEndpoint endpoint = endpoint(store);

      assertThat(entries(endpoint, PEER.did(), new EntriesRequest(List.of(head), List.of(), 0))).containsExactly(head);
      assertThat(entries(endpoint, PEER.did(), new EntriesRequest(List.of(head), List.of(), 2)))
          .containsExactly(chain.get(5), chain.get(4), chain.get(3));
      assertThat(entries(endpoint, PEER.did(), new EntriesRequest(List.of(head), List.of(chain.get(2)), 64)))
          .as("down to the asker's head, not past it").containsExactly(chain.get(5), chain.get(4), chain.get(3));
      assertThat(entries(endpoint, AgentKey.generate().did(), new EntriesRequest(List.of(head), List.of(), 64))).isEmpty();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      assertThatThrownBy(() -> endpoint.entries(PEER.did(), new BlockRequest(List.of(head)).encode(), out))
          .isInstanceOf(MalformedSyncRequestException.class);
      assertThat(out.size()).isZero();
    }
  }

  private static List<Cid> entries(SyncEndpoint endpoint, DidKey peer, EntriesRequest request) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    endpoint.entries(peer, request.encode(), out);
    CarReader car = new CarReader(new ByteArrayInputStream(out.toByteArray()));
    List<Cid> served = new ArrayList<>();
    for (Block block = car.next(); block != null; block = car.next()) {
      served.add(block.cid());
    }
    return served;
  }

  /** Digest protocol v2: a peer the policy does not allow sees an empty tree, as if the node held nothing. */
  @Test
  void aPeerTheAllowlistDoesNotNameSeesAnEmptyDigestTree() throws Exception {
    try (MnemoStore store = MnemoStore.open(dir)) {
      store.log().append("a", List.of(new Memory("a", "one", 1)));
      SyncEndpoint endpoint = endpoint(store);
      DidKey stranger = AgentKey.generate().did();
      byte[] root = new DigestExchange.Request(DigestExchange.Want.CHILDREN, 0, List.of(0)).encode();
      byte[] everything = new DigestExchange.Request(DigestExchange.Want.NAMESPACES, 0, List.of(0)).encode();

      assertThat(DigestExchange.decodeChildren(endpoint.digest(stranger, root), 1)).allMatch(n -> n.count() == 0);
      assertThat(DigestExchange.decodeNamespaces(endpoint.digest(stranger, everything)).heads()).isEmpty();
      assertThat(DigestExchange.decodeChildren(endpoint.digest(PEER.did(), root), 1).stream()
          .mapToLong(NamespaceDigests.Node::count).sum()).isEqualTo(1);
      assertThat(DigestExchange.decodeNamespaces(endpoint.digest(PEER.did(), everything)).heads())
          .containsOnlyKeys("a").containsEntry("a", List.copyOf(store.log().heads("a")));
    }
  }

  @Test
  void aMalformedDigestRequestIsThePeersMistake() throws Exception {
    try (MnemoStore store = MnemoStore.open(dir)) {
      SyncEndpoint endpoint = endpoint(store);
      List<Object> nodes = new ArrayList<>();
      for (long i = 0; i <= DigestExchange.MAX_NODES; i++) {
        nodes.add(i % 4096);
      }
      List<byte[]> bad = List.of("not cbor".getBytes(StandardCharsets.UTF_8),
          DagCborOf.map("v", 1L, "want", "children", "level", 0L, "nodes", List.of(0L)),
          DagCborOf.map("v", 2L, "want", "leaves", "level", 0L, "nodes", List.of(0L)),
          DagCborOf.map("v", 2L, "want", "children", "level", 4L, "nodes", List.of(0L)),
          DagCborOf.map("v", 2L, "want", "namespaces", "level", 5L, "nodes", List.of(0L)),
          DagCborOf.map("v", 2L, "want", "children", "level", 1L, "nodes", List.of(16L)),
          DagCborOf.map("v", 2L, "want", "children", "level", 1L, "nodes", List.of(3L, 3L)),
          DagCborOf.map("v", 2L, "want", "children", "level", 3L, "nodes", nodes),
          DagCborOf.map("v", 2L, "want", "children", "level", 0L, "nodes", List.of()),
          DagCborOf.map("v", 2L, "want", "children", "level", -1L, "nodes", List.of(0L)));
      for (byte[] request : bad) {
        assertThatThrownBy(() -> endpoint.digest(PEER.did(), request)).isInstanceOf(MalformedSyncRequestException.class);
      }
    }
  }

  /** DAG-CBOR of a map given as key, value, key, value. */
  private static final class DagCborOf {
    static byte[] map(Object... keysAndValues) {
      Map<String, Object> map = new java.util.LinkedHashMap<>();
      for (int i = 0; i < keysAndValues.length; i += 2) {
        map.put((String) keysAndValues[i], keysAndValues[i + 1]);
      }
      return dev.mnemo.store.codec.DagCbor.encode(map);
    }
  }
}
