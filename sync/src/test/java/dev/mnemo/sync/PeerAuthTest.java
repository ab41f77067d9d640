package dev.mnemo.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mnemo.store.identity.AgentKey;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Both halves of signed node-to-node requests, and every way a request fails to authenticate. */
class PeerAuthTest {
  private static final Instant NOW = Instant.parse("2026-12-07T18:00:00Z");
  private static final byte[] BODY = "{v: 1, cids: [...]}".getBytes(StandardCharsets.UTF_8);

  private final AgentKey aKey = AgentKey.generate();
  private final AgentKey bKey = AgentKey.generate();
  private final PeerAuth a = new PeerAuth(aKey, at(NOW));
  private final PeerAuth b = new PeerAuth(bKey, at(NOW));

  private static Clock at(Instant instant) {
    return Clock.fixed(instant, ZoneOffset.UTC);
  }

  @Test
  void aSignedRequestNamesItsSender() throws Exception {
    String header = a.sign(bKey.did(), "POST", "/v1/sync/blocks", BODY);
    assertThat(header).startsWith("MnemoNode did=" + aKey.did() + ", ts=" + NOW.toEpochMilli() + ", sig=");
    assertThat(b.verify(header, "POST", "/v1/sync/blocks", BODY)).isEqualTo(aKey.did());
    String get = a.sign(bKey.did(), "GET", "/v1/sync/heads", null);
    assertThat(b.verify(get, "GET", "/v1/sync/heads", new byte[0])).as("no body is the empty body").isEqualTo(aKey.did());
  }

  @Test
  void aMissingHeaderOrAnotherSchemeIsMissing() {
    for (String header : new String[] {null, "", "Bearer mnemo_x_y", "MnemoNodes did=x"}) {
      assertFails(header, "GET", "/v1/sync/heads", null, PeerAuth.Failure.MISSING);
    }
  }

  @Test
  void anUnreadableHeaderIsMalformed() {
    String good = a.sign(bKey.did(), "GET", "/v1/sync/heads", null);
    String did = "did=" + aKey.did();
    List<String> malformed = List.of(
        "MnemoNode " + did,
        "MnemoNode " + did + ", ts=1, sig=AAAA, extra=1",
        "MnemoNode " + did + ", " + did + ", sig=AAAA",
        "MnemoNode did=did:key:zNotAKey, ts=1, sig=AAAA",
        good.replaceFirst("ts=\\d+", "ts=soon"),
        good.replaceFirst("sig=", "sig=***"),
        good.replaceFirst("did=", "did"),
        good + ", pad=" + "x".repeat(600));
    for (String header : malformed) {
      assertFails(header, "GET", "/v1/sync/heads", null, PeerAuth.Failure.MALFORMED);
    }
  }

  @Test
  void tamperingWithAnyPartBreaksTheSignature() {
    String header = a.sign(bKey.did(), "POST", "/v1/sync/blocks", BODY);
    byte[] otherBody = BODY.clone();
    otherBody[0] ^= 1;
    assertFails(header, "GET", "/v1/sync/blocks", BODY, PeerAuth.Failure.BAD_SIGNATURE);
    assertFails(header, "POST", "/v1/sync/heads", BODY, PeerAuth.Failure.BAD_SIGNATURE);
    assertFails(header, "POST", "/v1/sync/blocks?x=1", BODY, PeerAuth.Failure.BAD_SIGNATURE);
    assertFails(header, "POST", "/v1/sync/blocks", otherBody, PeerAuth.Failure.BAD_SIGNATURE);
    assertFails(header, "POST", "/v1/sync/blocks", null, PeerAuth.Failure.BAD_SIGNATURE);
    assertFails(header.replace("ts=" + NOW.toEpochMilli(), "ts=" + (NOW.toEpochMilli() + 1)), "POST", "/v1/sync/blocks", BODY,
        PeerAuth.Failure.BAD_SIGNATURE);
    assertFails(header.replace(aKey.did().toString(), AgentKey.generate().did().toString()), "POST", "/v1/sync/blocks", BODY,
        PeerAuth.Failure.BAD_SIGNATURE);
    String sig = header.substring(header.indexOf("sig=") + 4);
    String flipped = (sig.charAt(0) == 'A' ? 'B' : 'A') + sig.substring(1);
    assertFails(header.replace(sig, flipped), "POST", "/v1/sync/blocks", BODY, PeerAuth.Failure.BAD_SIGNATURE);
  }

  @Test
  void aRequestSignedForOneNodeIsRefusedByAnother() {
    String toB = a.sign(bKey.did(), "GET", "/v1/sync/heads", null);
    PeerAuth c = new PeerAuth(AgentKey.generate(), at(NOW));
    assertThatThrownBy(() -> c.verify(toB, "GET", "/v1/sync/heads", null))
        .isInstanceOfSatisfying(PeerAuth.RejectedException.class,
            e -> assertThat(e.failure()).isEqualTo(PeerAuth.Failure.BAD_SIGNATURE));
  }

  @Test
  void aTimestampMoreThanFiveMinutesAwayIsClockSkew() throws Exception {
    for (Duration offset : List.of(Duration.ofMinutes(6), Duration.ofMinutes(-6), Duration.ofDays(-365))) {
      String header = new PeerAuth(aKey, at(NOW.plus(offset))).sign(bKey.did(), "GET", "/v1/sync/heads", null);
      assertFails(header, "GET", "/v1/sync/heads", null, PeerAuth.Failure.CLOCK_SKEW);
    }
    String header = new PeerAuth(aKey, at(NOW.minus(Duration.ofMinutes(4)))).sign(bKey.did(), "GET", "/v1/sync/heads", null);
    assertThat(b.verify(header, "GET", "/v1/sync/heads", null)).as("4 minutes late").isEqualTo(aKey.did());
  }

  private void assertFails(String header, String method, String path, byte[] body, PeerAuth.Failure failure) {
    assertThatThrownBy(() -> b.verify(header, method, path, body)).as(header)
        .isInstanceOfSatisfying(PeerAuth.RejectedException.class, e -> assertThat(e.failure()).as(e.getMessage()).isEqualTo(failure));
  }
}
