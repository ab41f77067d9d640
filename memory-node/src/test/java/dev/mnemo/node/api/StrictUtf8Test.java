package dev.mnemo.node.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link StrictUtf8} agrees with the JDK's strict decoder on random bytes biased towards UTF-8's edges. */
class StrictUtf8Test {
  private static final int[] INTERESTING = {0x01, 0x2F, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xAF, 0xBF, 0xC0, 0xC1, 0xC2,
      0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xF8, 0xFE, 0xFF};

  @Test
  void agreesWithTheJdksStrictDecoder() {
    long seed = new Random().nextLong();
    Random random = new Random(seed);
    for (int round = 0; round < 200_000; round++) {
      byte[] bytes = new byte[1 + random.nextInt(6)];
      for (int i = 0; i < bytes.length; i++) {
        bytes[i] = (byte) (random.nextInt(4) == 0 ? 1 + random.nextInt(255) : INTERESTING[random.nextInt(INTERESTING.length)]);
      }
      if (bytes.length >= 3 && (bytes[0] & 0xFF) == 0xEF && (bytes[1] & 0xFF) == 0xBB && (bytes[2] & 0xFF) == 0xBF) {
        continue; // a BOM: valid UTF-8, refused for JSON on purpose
      }
      assertThat(StrictUtf8.problem(bytes) == null).as("seed %d, bytes %s", seed, java.util.HexFormat.of().formatHex(bytes))
          .isEqualTo(jdkAccepts(bytes));
    }
  }

  @Test
  void namesTheOffsetAndTheReason() {
    assertThat(StrictUtf8.problem("ok \u00e9 \uD83D\uDE00".getBytes(StandardCharsets.UTF_8))).isNull();
    assertThat(StrictUtf8.problem(new byte[] {'a', (byte) 0xC0, (byte) 0xAF, 'b'})).contains("overlong").contains("offset 1");
    assertThat(StrictUtf8.problem(new byte[] {'a', (byte) 0xE0, (byte) 0x80, (byte) 0xAF})).contains("overlong");
    assertThat(StrictUtf8.problem(new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80})).contains("surrogate");
    assertThat(StrictUtf8.problem(new byte[] {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80})).contains("U+10FFFF");
    assertThat(StrictUtf8.problem(new byte[] {'a', 'b', (byte) 0xE2, (byte) 0x82})).contains("cut short").contains("offset 2");
    assertThat(StrictUtf8.problem(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF, '{', '}'})).contains("byte order mark");
    assertThat(StrictUtf8.problem(new byte[] {'{', 0, '}', 0})).contains("NUL");
  }

  private static boolean jdkAccepts(byte[] bytes) {
    for (byte b : bytes) {
      if (b == 0) {
        return false; // valid UTF-8, but never in JSON text: refused on purpose
      }
    }
    try {
      StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes));
      return true;
    } catch (CharacterCodingException e) {
      return false;
    }
  }
}
