package dev.mnemo.node.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Whole JSON numbers become integers exactly where @ipld/dag-cbor, given {@code JSON.parse}'s
 * number, writes an integer: within +-(2^53 - 1). Beyond, both write a float.
 */
class JsonNumbersTest {
  @Test
  void wholeNumbersWithinTheSafeRangeAreIntegers() {
    assertThat(Requests.wholeAsInteger(5.0)).isEqualTo(5L);
    assertThat(Requests.wholeAsInteger(-0.0)).isEqualTo(0L);
    assertThat(Requests.wholeAsInteger(1e3)).isEqualTo(1000L);
    assertThat(Requests.wholeAsInteger(-9007199254740991.0)).isEqualTo(-9007199254740991L);
    assertThat(Requests.wholeAsInteger(9007199254740991.0)).isEqualTo(9007199254740991L);
  }

  @Test
  void fractionsAndWholeNumbersPastTheSafeRangeStayDoubles() {
    assertThat(Requests.wholeAsInteger(0.1)).isEqualTo(0.1);
    assertThat(Requests.wholeAsInteger(-2.5)).isEqualTo(-2.5);
    assertThat(Requests.wholeAsInteger(9007199254740992.0)).isEqualTo(9007199254740992.0);
    assertThat(Requests.wholeAsInteger(1e20)).isEqualTo(1e20);
    assertThat(Requests.wholeAsInteger(-1e300)).isEqualTo(-1e300);
    assertThat(Requests.wholeAsInteger(Double.MIN_VALUE)).isEqualTo(Double.MIN_VALUE);
  }
}
