package dev.mnemo.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.block.Block;
import dev.mnemo.store.identity.AgentKey;
import dev.mnemo.store.identity.DidKey;
import dev.mnemo.store.model.Memory;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A peer learns of, and is served, only the namespaces it may replicate: the operator's
 * allowlist, or (combined with {@code or}) the namespace's own grants.
 */
class ReplicationPolicyTest {
  private final DidKey trusted = AgentKey.generate().did();
  private final DidKey granted = AgentKey.generate().did();
  private final DidKey stranger = AgentKey.generate().did();

  @TempDir Path dir;

  @Test
  void theAllowlistTrustsListedNodesWithEveryNamespaceAndStarWithEveryNode() throws Exception {
    PeerAllowlist listed = PeerAllowlist.parse(List.of(trusted.toString()));
    assertThat(listed.mayReplicate(trusted, "notes")).isTrue();
    assertThat(listed.mayReplicate(stranger, "notes")).isFalse();
    assertThat(PeerAllowlist.parse(List.of("*")).mayReplicate(stranger, "notes")).isTrue();
    assertThat(PeerAllowlist.NONE.mayReplicate(trusted, "notes")).isFalse();
    assertThatThrownBy(() -> PeerAllowlist.parse(List.of("did:key:zNope"))).isInstanceOf(InvalidFormatException.class);
  }

  @Test
  void aDigestForAPeerListsOnlyTheNamespacesItMayReplicate() throws Exception {
    try (MnemoStore store = MnemoStore.open(dir)) {
      for (String ns : List.of("notes", "secrets", "shared")) {
        store.log().append(ns, List.of(new Memory(ns, "in " + ns, Map.of(), List.of(), 1_000, null, null)));
      }
      ReplicationPolicy grants = (peer, ns) -> peer.equals(granted) && ns.equals("shared");
      ReplicationPolicy policy = PeerAllowlist.parse(List.of(trusted.toString())).or(grants);
      assertThat(HeadsDigest.of(store.log(), policy, trusted).namespaces()).containsOnlyKeys("notes", "secrets", "shared");
      assertThat(HeadsDigest.of(store.log(), policy, granted).namespaces()).containsOnlyKeys("shared");
      assertThat(HeadsDigest.of(store.log(), policy, stranger).namespaces()).isEmpty();
      assertThat(HeadsDigest.of(store.log(), policy, granted).namespaces().get("shared"))
          .containsExactlyElementsOf(store.log().heads("shared"));
    }
  }

  @Test
  void blocksAreServedOnlyForNamespacesThePeerMayReplicate() throws Exception {
    try (MnemoStore store = MnemoStore.open(dir)) {
      var shared = store.log().append("shared", List.of(new Memory("shared", "open", Map.of(), List.of(), 1_000, null, null)));
      var secret = store.log().append("secrets", List.of(new Memory("secrets", "closed", Map.of(), List.of(), 1_000, null, null)));
      SyncAccess access = new SyncAccess(store.log(), (peer, ns) -> peer.equals(granted) && ns.equals("shared"),
          new PeerAuth(store.nodeKey()));
      assertThat(access.mayServe(granted, block(store, shared.entry()))).as("an entry of shared").isTrue();
      assertThat(access.mayServe(granted, block(store, shared.memories().get(0)))).as("a memory of shared").isTrue();
      assertThat(access.mayServe(granted, block(store, secret.entry()))).as("an entry of secrets").isFalse();
      assertThat(access.mayServe(granted, block(store, secret.memories().get(0)))).as("a memory of secrets").isFalse();
      assertThat(access.mayServe(stranger, block(store, shared.entry()))).isFalse();
      assertThat(access.mayServe(granted, Block.dagCbor(new BlockRequest(List.of(shared.entry())).encode())))
          .as("a block of no namespace").isFalse();
      assertThat(access.digestFor(stranger).namespaces()).isEmpty();
    }
  }

  @Test
  void theServerHalfAuthenticatesPeersByTheirNodeKey() throws Exception {
    try (MnemoStore store = MnemoStore.open(dir)) {
      AgentKey peerKey = AgentKey.generate();
      SyncAccess access = new SyncAccess(store.log(), ReplicationPolicy.NOBODY, new PeerAuth(store.nodeKey()));
      String header = new PeerAuth(peerKey).sign(store.nodeKey().did(), "GET", PeerClient.HEADS_PATH, null);
      assertThat(access.authenticate(header, "GET", PeerClient.HEADS_PATH, null)).isEqualTo(peerKey.did());
      assertThatThrownBy(() -> access.authenticate(null, "GET", PeerClient.HEADS_PATH, null))
          .isInstanceOf(PeerAuth.RejectedException.class);
    }
  }

  private static Block block(MnemoStore store, dev.mnemo.store.cid.Cid cid) throws Exception {
    return new Block(cid, store.log().blocks().get(cid).orElseThrow());
  }
}
