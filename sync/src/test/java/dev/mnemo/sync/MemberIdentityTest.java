package dev.mnemo.sync;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mnemo.store.identity.AgentKey;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Members know each other by node key: each member's metadata is signed by its node key over its
 * HTTP address, gossip address and namespaces, and a card that does not verify, or that names
 * another member's gossip address, makes no peer.
 */
class MemberIdentityTest {
  private final AgentKey key = AgentKey.generate();
  private final ScaleCubeMembership membership =
      new ScaleCubeMembership(SyncConfig.defaults(0, List.of()), "http://127.0.0.1:1", AgentKey.generate());

  @Test
  void aSignedCardMakesAPeerKnownByItsDid() {
    String card = MemberMetadata.signed(key, "http://127.0.0.1:7700", "127.0.0.1:7701", List.of("notes", "todo"));
    assertThat(card).startsWith("v2|http://127.0.0.1:7700|127.0.0.1:7701|notes,todo|" + key.did() + "|");
    Peer peer = membership.parse("m", "127.0.0.1:7701", card).orElseThrow();
    assertThat(peer.did()).isEqualTo(key.did());
    assertThat(peer.namespaces()).containsExactlyInAnyOrder("notes", "todo");
    assertThat(membership.refusedMembers()).isZero();
  }

  @Test
  void aCardThatDoesNotVerifyMakesNoPeer() {
    String card = MemberMetadata.signed(key, "http://127.0.0.1:7700", "127.0.0.1:7701", List.of("notes"));
    String other = AgentKey.generate().did().toString();
    List<String> forgeries = List.of(
        card.replace("notes", "notez"), // a namespace changed after signing
        card.replace("7700", "7799"), // another HTTP address
        card.replace(key.did().toString(), other), // claims another node's key
        card.substring(0, card.lastIndexOf('|') + 1) + "AAAA", // a signature of the wrong length
        card.substring(0, card.lastIndexOf('|')), // no signature
        "v1|http://127.0.0.1:7700|*", // the unsigned format of old
        card.replaceFirst("v2", "v3"),
        "");
    for (int i = 0; i < forgeries.size(); i++) {
      assertThat(membership.parse("m" + i, "127.0.0.1:7701", forgeries.get(i))).as(forgeries.get(i)).isEmpty();
    }
    assertThat(membership.refusedMembers()).isEqualTo(forgeries.size());
  }

  @Test
  void aCardCopiedToAnotherGossipAddressMakesNoPeer() {
    String card = MemberMetadata.signed(key, "http://127.0.0.1:7700", "127.0.0.1:7701", List.of("*"));
    assertThat(membership.parse("copier", "127.0.0.1:9999", card)).isEmpty();
    assertThat(membership.refusedMembers()).isEqualTo(1);
  }

  @Test
  void realMembersLearnEachOthersDidAndMessageOneAnother() throws Exception {
    AgentKey aKey = AgentKey.generate();
    AgentKey bKey = AgentKey.generate();
    BlockingQueue<byte[]> toB = new LinkedBlockingQueue<>();
    try (ScaleCubeMembership a = new ScaleCubeMembership(SyncConfig.defaults(0, List.of()), "http://127.0.0.1:7001", aKey)) {
      a.start(payload -> { });
      try (ScaleCubeMembership b = new ScaleCubeMembership(SyncConfig.defaults(0, List.of(a.localAddress())),
          "http://127.0.0.1:7002", bKey)) {
        b.start(toB::add);
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while ((a.peers().isEmpty() || b.peers().isEmpty()) && System.nanoTime() < deadline) {
          Thread.sleep(50);
        }
        assertThat(a.peers()).singleElement().satisfies(p -> {
          assertThat(p.did()).isEqualTo(bKey.did());
          assertThat(p.http()).isEqualTo("http://127.0.0.1:7002");
        });
        assertThat(b.peers()).singleElement().extracting(Peer::did).isEqualTo(aKey.did());
        a.send(a.peers().get(0), new byte[] {1, 2, 3});
        assertThat(toB.poll(10, TimeUnit.SECONDS)).containsExactly(1, 2, 3);
        assertThat(a.refusedMembers() + b.refusedMembers()).isZero();
      }
    }
  }
}
