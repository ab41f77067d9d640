package dev.mnemo.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.codec.DagCbor;
import dev.mnemo.store.identity.AgentKey;
import dev.mnemo.store.model.Memory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Announcements are signed by the announcing node, go only to peers that may replicate the
 * namespace, and are acted on only when a member's verified card carries the signing key.
 */
class AnnouncementTest {
  private final AgentKey key = AgentKey.generate();
  private final Cid head = Cid.dagCbor(new byte[] {1});

  @TempDir Path dir;

  @Test
  void anAnnouncementVerifiesAndAnyChangeBreaksIt() throws Exception {
    byte[] signed = new HeadsAnnouncement("notes", List.of(head), key.did()).encode(key);
    assertThat(HeadsAnnouncement.decode(signed)).isEqualTo(new HeadsAnnouncement("notes", List.of(head), key.did()));

    Map<String, Object> map = new LinkedHashMap<>(DagCbor.decodeMap(signed));
    for (Map.Entry<String, Object> change : List.<Map.Entry<String, Object>>of(
        Map.entry("ns", "secrets"), Map.entry("heads", List.of(Cid.dagCbor(new byte[] {2}))),
        Map.entry("did", AgentKey.generate().did().toString()), Map.entry("http", "http://evil.example"))) {
      Map<String, Object> tampered = new LinkedHashMap<>(map);
      tampered.put(change.getKey(), change.getValue());
      assertThatThrownBy(() -> HeadsAnnouncement.decode(DagCbor.encode(tampered))).as(change.getKey())
          .isInstanceOf(InvalidFormatException.class);
    }
    Map<String, Object> unsigned = new LinkedHashMap<>(map);
    unsigned.remove("sig");
    assertThatThrownBy(() -> HeadsAnnouncement.decode(DagCbor.encode(unsigned))).isInstanceOf(InvalidFormatException.class);
    assertThatThrownBy(() -> new HeadsAnnouncement("notes", List.of(head), key.did()).encode(AgentKey.generate()))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void headsAreAnnouncedOnlyToPeersThatMayReplicateTheNamespace() throws Exception {
    Peer allowed = peer("allowed", AgentKey.generate());
    Peer other = peer("other", AgentKey.generate());
    Peer notReplicating = new Peer("narrow", "http://127.0.0.1:3", AgentKey.generate().did(), Set.of("todo"));
    Recording members = new Recording(List.of(allowed, other, notReplicating));
    ReplicationPolicy policy = (p, ns) -> !p.equals(other.did());
    try (MnemoStore store = MnemoStore.open(dir);
        Replicator replicator = new Replicator(store.log(), members, new PeerClient(new PeerAuth(store.nodeKey())),
            SyncConfig.defaults(0, List.of()), store.nodeKey(), policy, ns -> { })) {
      replicator.start();
      store.log().append("notes", List.of(new Memory("notes", "x", Map.of(), List.of(), 1, null, null)));
      replicator.announce("notes");
      assertThat(members.sent).extracting(Sent::to).containsExactly(allowed);
      HeadsAnnouncement sent = HeadsAnnouncement.decode(members.sent.get(0).payload());
      assertThat(sent.did()).isEqualTo(store.nodeKey().did());
      assertThat(sent.heads()).containsExactlyElementsOf(store.log().heads("notes"));
    }
  }

  @Test
  void onlyAnnouncementsSignedByAMembersKeyArePulled() throws Exception {
    AgentKey memberKey = AgentKey.generate();
    Recording members = new Recording(List.of(peer("member", memberKey)));
    try (MnemoStore store = MnemoStore.open(dir);
        Replicator replicator = new Replicator(store.log(), members, new PeerClient(new PeerAuth(store.nodeKey())),
            SyncConfig.defaults(0, List.of()), store.nodeKey(), ReplicationPolicy.NOBODY, ns -> { })) {
      replicator.start();
      AgentKey stranger = AgentKey.generate();
      members.listener.onMessage(new HeadsAnnouncement("notes", List.of(head), stranger.did()).encode(stranger));
      // Kept (its signer may be a node about to join: ReplicatorChurnTest), not pulled.
      assertThat(replicator.status().deferredAnnouncements()).as("signed by a key no member holds").isEqualTo(1);
      assertThat(replicator.status().lagMillis()).isEmpty();

      Map<String, Object> forged = new LinkedHashMap<>(DagCbor.decodeMap(
          new HeadsAnnouncement("notes", List.of(head), memberKey.did()).encode(memberKey)));
      byte[] sig = ((byte[]) forged.get("sig")).clone();
      sig[0] ^= 1;
      forged.put("sig", sig);
      members.listener.onMessage(DagCbor.encode(forged));
      assertThat(replicator.status().rejected()).as("a signature that does not verify").isEqualTo(1);
      assertThat(replicator.status().lagMillis()).isEmpty();

      members.listener.onMessage(new HeadsAnnouncement("notes", List.of(head), memberKey.did()).encode(memberKey));
      assertThat(replicator.status().lagMillis()).as("a pull of the member's heads is wanted").containsOnlyKeys("notes");
    }
  }

  private static Peer peer(String id, AgentKey key) {
    return new Peer(id, "http://127.0.0.1:1", key.did(), Set.of(Peer.ALL));
  }

  private record Sent(Peer to, byte[] payload) {}

  /** Members fixed by the test; what is sent to them is recorded, not delivered. */
  private static final class Recording implements Membership {
    final List<Peer> peers;
    final List<Sent> sent = new ArrayList<>();
    Listener listener;

    Recording(List<Peer> peers) {
      this.peers = peers;
    }

    @Override
    public void start(Listener listener) {
      this.listener = listener;
    }

    @Override
    public List<Peer> peers() {
      return peers;
    }

    @Override
    public List<PeerStatus> members() {
      return List.of();
    }

    @Override
    public String localId() {
      return "test";
    }

    @Override
    public String localAddress() {
      return "127.0.0.1:0";
    }

    @Override
    public synchronized void send(Peer peer, byte[] payload) {
      sent.add(new Sent(peer, payload));
    }

    @Override
    public void close() {}
  }
}
