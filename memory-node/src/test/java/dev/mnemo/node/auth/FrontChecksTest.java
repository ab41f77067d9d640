package dev.mnemo.node.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The Host check's parsing and the failure limiter's bucket, without a node. */
class FrontChecksTest {
  @Test
  void hostCheckServesItsNamesAndIpLiteralsOnly() {
    HostCheck check = new HostCheck(Set.of("Mnemo.Example", "::1"));
    for (String ok : new String[] {"localhost", "LOCALHOST:7700", "mnemo.example", "mnemo.example.:80", "127.0.0.1",
        "127.0.0.1:7700", "10.1.2.3", "[::1]", "[::1]:7700", "[fe80::1%25eth0]:1"}) {
      assertThat(check.serves(ok)).as(ok).isTrue();
    }
    for (String bad : new String[] {"rebind.attacker.example", "rebind.attacker.example:7700", "localhost.attacker.example",
        "127.0.0.1.nip.io", "999.1.1.1", "localhost:x", "localhost:", "[::1", "[::1]x", "", ":7700", "mnemo.example:7700:1",
        "user@localhost"}) {
      assertThat(check.serves(bad)).as(bad).isFalse();
    }
  }

  @Test
  void bearerCredentialsAreParsedStrictly() {
    assertThat(Authenticator.bearer("Bearer abc")).contains("abc");
    assertThat(Authenticator.bearer("bearer   abc ")).contains("abc");
    assertThat(Authenticator.bearer("Basic abc")).isEmpty();
    assertThat(Authenticator.bearer("Bearer")).isEmpty();
    assertThat(Authenticator.bearer("Bearer ")).isEmpty();
    assertThat(Authenticator.bearer("Bearer a b")).isEmpty();
    assertThat(Authenticator.bearer("Bearerabc")).isEmpty();
  }

  @Test
  void failuresAreLimitedPerAddressAndEarnedBack() {
    AtomicLong now = new AtomicLong();
    FailureLimiter limiter = new FailureLimiter(6, now::get);
    for (int i = 0; i < 6; i++) {
      assertThat(limiter.retryAfterSeconds("a")).isZero();
      limiter.failed("a");
    }
    // one attempt is earned every 10 s
    assertThat(limiter.retryAfterSeconds("a")).isEqualTo(10);
    assertThat(limiter.retryAfterSeconds("b")).isZero();
    now.addAndGet(4_000_000_000L);
    assertThat(limiter.retryAfterSeconds("a")).isEqualTo(6);
    now.addAndGet(6_000_000_000L);
    assertThat(limiter.retryAfterSeconds("a")).isZero();
    limiter.failed("a");
    assertThat(limiter.retryAfterSeconds("a")).isEqualTo(10);
    // an hour later the bucket is full again, not overfull
    now.addAndGet(3_600_000_000_000L);
    for (int i = 0; i < 6; i++) {
      limiter.failed("a");
    }
    assertThat(limiter.retryAfterSeconds("a")).isPositive();
  }

  @Test
  void theLimiterStaysBounded() {
    AtomicLong now = new AtomicLong();
    FailureLimiter limiter = new FailureLimiter(60, now::get);
    for (int i = 0; i < FailureLimiter.MAX_ADDRESSES * 2; i++) {
      limiter.failed("10.0." + (i >> 8) + "." + (i & 255));
      now.addAndGet(1_000_000_000L);
    }
    assertThat(limiter.addresses()).isLessThanOrEqualTo(FailureLimiter.MAX_ADDRESSES);
  }
}
