package dev.mnemo.sync;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mnemo.store.identity.AgentKey;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A member's advertised HTTP address is where its peers send requests, with {@code /v1/sync/...}
 * appended: only scheme, host and port may be in it, or a member picks what its peers request
 * and from whom.
 */
class MemberAddressTest {

  @ParameterizedTest
  @ValueSource(strings = {"http://127.0.0.1:7700", "https://node.example:443", "http://node.example", "http://[::1]:7700",
      "HTTP://10.0.0.5:80"})
  void aBaseUrlIsAnAddress(String http) {
    assertThat(Peer.badHttp(http)).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {"http://127.0.0.1:7700/", "http://127.0.0.1:7700/admin?x=", "http://victim.example/v1/forget#",
      "http://127.0.0.1:7700?q=1", "http://127.0.0.1:7700#frag", "http://user:pw@127.0.0.1:7700", "http://evil@127.0.0.1:7700",
      "ftp://127.0.0.1:21", "file:///etc/passwd", "127.0.0.1:7700", "//127.0.0.1:7700", "http:opaque", "http://", "",
      "http://127.0.0.1:99999", "http://a b:1", "httpx://127.0.0.1:1", "http://127.0.0.1:1\\@evil"})
  void anythingMoreOrLessIsNot(String http) {
    assertThat(Peer.badHttp(http)).as(http).isPresent();
  }

  @org.junit.jupiter.api.Test
  void aMemberAdvertisingABadAddressIsRefusedLoggedAndCountedOnce() {
    AgentKey key = AgentKey.generate();
    ScaleCubeMembership membership = new ScaleCubeMembership(SyncConfig.defaults(0, List.of()), "http://127.0.0.1:1", key);
    String gossip = "127.0.0.1:7701";
    String forging = MemberMetadata.signed(key, "http://127.0.0.1:7700/v1/blocks/x?", gossip, List.of("*"));
    assertThat(membership.parse("m1", gossip, forging)).isEmpty();
    assertThat(membership.parse("m1", gossip, forging)).isEmpty();
    assertThat(membership.parse("m2", gossip, MemberMetadata.signed(key, "http://user@127.0.0.1:7700", gossip, List.of("*"))))
        .isEmpty();
    assertThat(membership.refusedMembers()).isEqualTo(2);
    assertThat(membership.parse("m3", gossip, MemberMetadata.signed(key, "http://127.0.0.1:7700", gossip, List.of("notes"))))
        .get().extracting(Peer::http).isEqualTo("http://127.0.0.1:7700");
    assertThat(membership.refusedMembers()).isEqualTo(2);
  }
}
