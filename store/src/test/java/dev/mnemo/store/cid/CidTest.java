package dev.mnemo.store.cid;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import dev.mnemo.store.InvalidFormatException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * CIDs against the published multiformats examples. Every expected string and digest below was
 * computed outside this code base (python3 hashlib/base64 and a hand-written base58, sha256sum),
 * never by calling the code under test.
 */
class CidTest {
  private static final HexFormat HEX = HexFormat.of();

  /** The CIDv0 example of the multiformats CID spec: sha2-256 of the empty string. */
  static final String V0 = "QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n";
  /** The spec's CIDv1 (dag-pb) form of {@link #V0}. */
  static final String V1_DAG_PB = "bafybeihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";
  /** The raw-codec CIDv1 with the same digest. */
  static final String V1_RAW = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";
  static final String EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  static final String HELLO_WORLD_SHA256 = "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9";

  @Test
  void cidV0FromTheSpecConvertsToTheSpecCidV1() throws Exception {
    Cid v0 = Cid.parse(V0);

    assertThat(v0.version()).isZero();
    assertThat(v0.codec()).isEqualTo(Multicodec.DAG_PB);
    assertThat(v0.multihash().code()).isEqualTo(Multicodec.SHA2_256);
    assertThat(HEX.formatHex(v0.multihash().digest())).isEqualTo(EMPTY_SHA256);
    assertThat(HEX.formatHex(v0.toBytes())).isEqualTo("1220" + EMPTY_SHA256);
    assertThat(v0.toString()).isEqualTo(V0);
    assertThat(v0.matches(new byte[0])).isTrue();

    Cid v1 = Cid.v1(v0.codec(), v0.multihash());
    assertThat(v1.toString()).isEqualTo(V1_DAG_PB);
    assertThat(v1.version()).isEqualTo(1);
    assertThat(HEX.formatHex(v1.toBytes())).isEqualTo("0170" + "1220" + EMPTY_SHA256);
    assertThat(v1).isEqualTo(Cid.parse(V1_DAG_PB)).isNotEqualTo(v0);
    assertThat(v1.multihash()).isEqualTo(v0.multihash());
  }

  @Test
  void rawCidOfEmptyBlockHasTheSameDigest() throws Exception {
    Cid raw = Cid.of(Multicodec.RAW, new byte[0]);

    assertThat(raw.toString()).isEqualTo(V1_RAW);
    assertThat(Cid.parse(V1_RAW)).isEqualTo(raw);
    assertThat(raw.codec()).isEqualTo(Multicodec.RAW);
    assertThat(raw.multihash()).isEqualTo(Cid.parse(V0).multihash());
    assertThat(raw).isNotEqualTo(Cid.parse(V1_DAG_PB));
  }

  @Test
  void helloWorldCids() throws Exception {
    byte[] block = "hello world".getBytes(StandardCharsets.UTF_8);

    Cid raw = Cid.of(Multicodec.RAW, block);
    assertThat(raw.toString()).isEqualTo("bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e");
    assertThat(HEX.formatHex(raw.multihash().digest())).isEqualTo(HELLO_WORLD_SHA256);
    assertThat(Cid.dagCbor(block).toString())
        .isEqualTo("bafyreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e");
    assertThat(Cid.v1(Multicodec.DAG_PB, raw.multihash()).toString()).startsWith("bafybei");
    assertThat(raw.matches(block)).isTrue();
    assertThat(raw.matches("hello world!".getBytes(StandardCharsets.UTF_8))).isFalse();
    assertThat(Cid.parse("QmaozNR7DZHQK1ZcU9p7QdrshMvXqWK6gpu5rmrkPdT3L4").multihash()).isEqualTo(raw.multihash());
  }

  @Test
  void dagCborCidOfAKnownBlock() throws Exception {
    // {"hello": "world"} in canonical DAG-CBOR.
    byte[] block = HEX.parseHex("a16568656c6c6f65776f726c64");
    Cid cid = Cid.dagCbor(block);

    assertThat(cid.toString()).isEqualTo("bafyreidykglsfhoixmivffc5uwhcgshx4j465xwqntbmu43nb2dzqwfvae");
    assertThat(cid.codec()).isEqualTo(Multicodec.DAG_CBOR);
    assertThat(cid.binaryLength()).isEqualTo(36);
    assertThat(cid.matches(block)).isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {
      V1_DAG_PB,
      "BAFYBEIHDWDCEFGH4DQKJV67UZCMW7OJEE6XEDZDETOJUZJEVTENXQUVYKU",
      "zdj7Wkkhxcu2rsiN6GUyHCLsSLL47kdUNfjbFqBUUhMFTZKBi",
      "f01701220e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      "F01701220E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
      "mAXASIOOwxEKY/BwUmvv0yJlvuSQnrkHkZJuTTKSVmRt4UrhV",
      "uAXASIOOwxEKY_BwUmvv0yJlvuSQnrkHkZJuTTKSVmRt4UrhV",
  })
  void everyMultibaseParsesToTheSameCid(String text) throws Exception {
    Cid expected = Cid.parse(V1_DAG_PB);
    Cid cid = Cid.parse(text);

    assertThat(cid).isEqualTo(expected);
    assertThat(cid.hashCode()).isEqualTo(expected.hashCode());
    assertThat(cid.compareTo(expected)).isZero();
    assertThat(cid.toString()).as("printed in canonical base32").isEqualTo(V1_DAG_PB);
    assertThat(HEX.formatHex(cid.toBytes())).isEqualTo("01701220" + EMPTY_SHA256);
  }

  @Test
  void toStringAndBinaryRoundTripForRandomCids() throws Exception {
    long seed = System.nanoTime();
    Random random = new Random(seed);
    for (int i = 0; i < 2_000; i++) {
      Cid cid = randomCid(random);
      String text = cid.toString();
      assertThat(Cid.parse(text)).as("seed %d, %s", seed, text).isEqualTo(cid);
      assertThat(Cid.parse(text).toString()).as("seed %d", seed).isEqualTo(text);
      assertThat(Cid.fromBytes(cid.toBytes())).as("seed %d, %s", seed, text).isEqualTo(cid);
      assertThat(cid.binaryLength()).isEqualTo(cid.toBytes().length);
      if (cid.version() == 1) {
        assertThat(text).as("seed %d", seed).startsWith("b").isEqualTo(text.toLowerCase());
      } else {
        assertThat(text).as("seed %d", seed).startsWith("Qm").hasSize(46);
      }
    }
  }

  @Test
  void readFindsACidInTheMiddleOfBytes() throws Exception {
    Cid cid = Cid.parse(V1_DAG_PB);
    byte[] raw = cid.toBytes();
    byte[] framed = new byte[raw.length + 7];
    System.arraycopy(raw, 0, framed, 3, raw.length);

    Cid.Read read = Cid.read(framed, 3, "CAR");

    assertThat(read.cid()).isEqualTo(cid);
    assertThat(read.next()).isEqualTo(3 + raw.length);
  }

  @Test
  void toBytesIsACopy() throws Exception {
    Cid cid = Cid.parse(V1_DAG_PB);
    byte[] raw = cid.toBytes();
    raw[5] ^= 1;
    assertThat(cid.toString()).isEqualTo(V1_DAG_PB);
  }

  @Test
  void compareToIsConsistentWithEqualsAndOrdersByBinaryForm() throws Exception {
    long seed = System.nanoTime();
    Random random = new Random(seed);
    List<Cid> cids = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      cids.add(randomCid(random));
    }
    // Duplicates reached by different routes.
    cids.add(Cid.parse(V1_DAG_PB));
    cids.add(Cid.parse("zdj7Wkkhxcu2rsiN6GUyHCLsSLL47kdUNfjbFqBUUhMFTZKBi"));
    cids.add(Cid.parse(V0));
    cids.add(Cid.of(Multicodec.DAG_PB, new byte[0]));
    for (Cid a : cids) {
      for (Cid b : cids) {
        int byCid = Integer.signum(a.compareTo(b));
        int byBytes = Integer.signum(Arrays.compareUnsigned(a.toBytes(), b.toBytes()));
        assertThat(byCid).as("seed %d: %s vs %s", seed, a, b).isEqualTo(byBytes);
        assertThat(byCid == 0).as("seed %d: %s vs %s", seed, a, b).isEqualTo(a.equals(b));
        assertThat(Integer.signum(b.compareTo(a))).as("seed %d", seed).isEqualTo(-byCid);
        if (a.equals(b)) {
          assertThat(a.hashCode()).isEqualTo(b.hashCode());
        }
      }
    }
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @CsvSource(delimiter = '|', textBlock = """
      ''                                                                    | empty
      xabcdef                                                               | unsupported prefix 'x'
      ?                                                                     | unsupported prefix '?'
      bafybeihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyk1           | invalid base32 character '1'
      bAFYBEIHDWDCEFGH4DQKJV67UZCMW7OJEE6XEDZDETOJUZJEVTENXQUVYKU           | invalid base32 character 'A'
      Bafybeihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku           | invalid base32 character 'a'
      bafybeihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvykv           | trailing bits
      bafybeihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvy             | truncated
      bafybeihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvykuaa         | trailing bytes
      bajybeihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku           | unsupported CID version 2
      bafybeh7dwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvy             | sha2-256 digest must be 32 bytes
      bafybf777777q7y5qyrbjr7a4csnpx5gitfx3sjbhvza6ize3sngkjfmzdn4ffocv     | exceeds 128
      bahyaaera4oymiquy7qobjgx36tejs35zeqt24qpemsnzgtfeswmrw6csxbkq         | non-minimal varint
      zQmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n                       | CIDv0 must be written in plain base58btc
      bciqohmgeikmpyhautl57jsezn64sij5oihsgjg4tjssjlgi3pbjlqvi              | CIDv0 must be written in plain base58btc
      f1220e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 | CIDv0 must be written in plain base58btc
      f0070                                                                 | unsupported CID version 0
      f01                                                                   | too short
      f0170                                                                 | truncated varint
      f017012                                                               | truncated varint
      f01701220e3b0                                                         | truncated
      f0180                                                                 | truncated varint
      f01701                                                                | invalid base16
      fxyz0                                                                 | invalid base16
      b                                                                     | too short
      bafy                                                                  | trailing bits
      m!!!!                                                                 | invalid base64
      uAXASIOOwxEKY/BwUmvv0yJlvuSQnrkHkZJuTTKSVmRt4UrhV                     | invalid base64
      z0OIl                                                                 | invalid base58 character '0'
      z                                                                     | empty base58
      Qm0fTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n                        | invalid base58 character '0'
      QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1                         | unsupported prefix 'Q'
      not a cid at all!                                                     | unsupported prefix 'n'
      bafybeihdwdcefgh4dqkjv67u cmw7ojee6xedzdetojuzjevtenxquvyku           | invalid base32 character ' '
      """)
  void malformedTextIsRejectedWithAClearMessage(String text, String expected) {
    assertThatThrownBy(() -> Cid.parse(text == null ? "" : text))
        .isInstanceOf(InvalidFormatException.class)
        .hasMessageContaining(expected);
  }

  @Test
  void nullAndOverlongTextAreRejected() {
    assertThatThrownBy(() -> Cid.parse(null)).isInstanceOf(InvalidFormatException.class).hasMessageContaining("empty");
    assertThatThrownBy(() -> Cid.parse("b" + "a".repeat(600)))
        .isInstanceOf(InvalidFormatException.class)
        .hasMessageContaining("too long");
  }

  @Test
  void errorsFromMultibaseAreReportedAsCidErrors() {
    assertThatThrownBy(() -> Cid.parse("bafybeihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyk1"))
        .isInstanceOfSatisfying(InvalidFormatException.class, e -> {
          assertThat(e.format()).isEqualTo("CID");
          assertThat(e.getMessage()).startsWith("CID: ").contains("at 58");
        });
    assertThatThrownBy(() -> Cid.parse("bajybeihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"))
        .isInstanceOfSatisfying(InvalidFormatException.class, e -> assertThat(e.format()).isEqualTo("CID"));
  }

  /**
   * Non-ASCII letters are not base32, whatever {@link Character#toLowerCase} makes of them: the
   * Kelvin sign (U+212A) lower-cases to 'k' and the dotted capital I (U+0130) to 'i'.
   */
  @ParameterizedTest
  @ValueSource(strings = {
      "BAFYBEIHDWDCEFGH4DQKJV67UZCMW7OJEE6XEDZDETOJUZJEVTENXQUVY\u212AU",
      "BAFYBE\u0130HDWDCEFGH4DQKJV67UZCMW7OJEE6XEDZDETOJUZJEVTENXQUVYKU",
  })
  void nonAsciiLookalikesAreNotBase32(String text) {
    assertThatThrownBy(() -> Cid.parse(text))
        .isInstanceOf(InvalidFormatException.class)
        .hasMessageContaining("invalid base32 character");
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @CsvSource(delimiter = '|', textBlock = """
      ''                                                                  | too short
      01                                                                  | too short
      0270                                                                | unsupported CID version 2
      8100                                                                | non-minimal varint
      01f000                                                              | non-minimal varint
      0170ffffffffffffffffff                                              | varint longer than 9 bytes
      017012                                                              | truncated varint
      0170121f00000000000000000000000000000000000000000000000000000000000000 | sha2-256 digest must be 32 bytes
      0170122100 | digest truncated
      0170128002                                                          | exceeds 128
      01701220e3b0                                                        | truncated
      1220e3b0                                                            | truncated
      1220e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85500 | trailing bytes
      01701220e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85500 | trailing bytes
      """)
  void malformedBinaryIsRejected(String hex, String expected) {
    byte[] raw = hex == null ? new byte[0] : HEX.parseHex(hex);
    assertThatThrownBy(() -> Cid.fromBytes(raw))
        .isInstanceOf(InvalidFormatException.class)
        .hasMessageContaining(expected);
  }

  @Test
  void randomTextNeverThrowsAnythingButInvalidFormat() {
    long seed = System.nanoTime();
    Random random = new Random(seed);
    String alphabet = "abcdefghijklmnopqrstuvwxyz234567ABCDEFGHIJKLMNOPQRSTUVWXYZ0189+/-_=! \u00e9\u212a\u0130\ud83d\ude00";
    String prefixes = "bBzfFmuQx1";
    List<String> valid = List.of(V0, V1_DAG_PB, V1_RAW, "zdj7Wkkhxcu2rsiN6GUyHCLsSLL47kdUNfjbFqBUUhMFTZKBi",
        "mAXASIOOwxEKY/BwUmvv0yJlvuSQnrkHkZJuTTKSVmRt4UrhV", "f01701220e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    int accepted = 0;
    for (int i = 0; i < 20_000; i++) {
      String text;
      switch (random.nextInt(3)) {
        case 0 -> {
          StringBuilder sb = new StringBuilder();
          sb.append(prefixes.charAt(random.nextInt(prefixes.length())));
          int length = random.nextInt(80);
          for (int k = 0; k < length; k++) {
            sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
          }
          text = sb.toString();
        }
        case 1 -> text = mutate(random, valid.get(random.nextInt(valid.size())), alphabet);
        default -> {
          Cid cid = randomCid(random);
          String base = random.nextBoolean() ? cid.toString() : "f" + HEX.formatHex(cid.toBytes());
          text = mutate(random, base, alphabet);
        }
      }
      try {
        Cid cid = Cid.parse(text);
        accepted++;
        // Whatever parses must print and re-parse to itself.
        assertThat(Cid.parse(cid.toString())).as("seed %d, input %s", seed, text).isEqualTo(cid);
        assertThat(Cid.fromBytes(cid.toBytes())).as("seed %d, input %s", seed, text).isEqualTo(cid);
      } catch (InvalidFormatException expected) {
        assertThat(expected.getMessage()).as("seed %d, input %s", seed, text).isNotBlank();
      } catch (Throwable t) {
        fail("seed %d: Cid.parse(\"%s\") threw %s".formatted(seed, text, t), t);
      }
    }
    assertThat(accepted).as("seed %d: some mutations leave a valid CID", seed).isPositive();
  }

  @Test
  void randomBytesNeverThrowAnythingButInvalidFormat() {
    long seed = System.nanoTime();
    Random random = new Random(seed);
    for (int i = 0; i < 20_000; i++) {
      byte[] raw;
      if (random.nextBoolean()) {
        raw = new byte[random.nextInt(48)];
        random.nextBytes(raw);
        if (raw.length > 0 && random.nextBoolean()) {
          raw[0] = (byte) (random.nextBoolean() ? 0x01 : 0x12);
        }
      } else {
        raw = mutate(random, randomCid(random).toBytes());
      }
      try {
        Cid cid = Cid.fromBytes(raw);
        assertThat(cid.toBytes()).as("seed %d, input %s", seed, HEX.formatHex(raw)).isEqualTo(raw);
        assertThat(Cid.parse(cid.toString())).as("seed %d", seed).isEqualTo(cid);
      } catch (InvalidFormatException expected) {
        assertThat(expected.getMessage()).as("seed %d", seed).isNotBlank();
      } catch (Throwable t) {
        fail("seed %d: Cid.fromBytes(%s) threw %s".formatted(seed, HEX.formatHex(raw), t), t);
      }
    }
  }

  static Cid randomCid(Random random) {
    byte[] block = new byte[random.nextInt(40)];
    random.nextBytes(block);
    return switch (random.nextInt(6)) {
      case 0 -> {
        try {
          yield Cid.fromBytes(concat(new byte[] {0x12, 0x20}, Multihash.sha256(block).digest()));
        } catch (InvalidFormatException e) {
          throw new AssertionError(e);
        }
      }
      case 1 -> Cid.of(Multicodec.RAW, block);
      case 2 -> Cid.of(Multicodec.DAG_PB, block);
      case 3 -> Cid.v1(Multicodec.DAG_CBOR, new Multihash(Multicodec.IDENTITY, block));
      case 4 -> Cid.of(random.nextLong() >>> (1 + random.nextInt(63)), block);
      default -> Cid.dagCbor(block);
    };
  }

  private static String mutate(Random random, String text, String alphabet) {
    StringBuilder sb = new StringBuilder(text);
    int edits = 1 + random.nextInt(3);
    for (int e = 0; e < edits; e++) {
      int at = sb.isEmpty() ? 0 : random.nextInt(sb.length());
      char c = alphabet.charAt(random.nextInt(alphabet.length()));
      switch (random.nextInt(4)) {
        case 0 -> { if (!sb.isEmpty()) sb.setCharAt(at, c); }
        case 1 -> sb.insert(at, c);
        case 2 -> { if (!sb.isEmpty()) sb.deleteCharAt(at); }
        default -> sb.setLength(at);
      }
    }
    return sb.toString();
  }

  private static byte[] mutate(Random random, byte[] raw) {
    byte[] out = raw.clone();
    switch (random.nextInt(4)) {
      case 0 -> out[random.nextInt(out.length)] ^= (byte) (1 << random.nextInt(8));
      case 1 -> out[random.nextInt(out.length)] = (byte) random.nextInt(256);
      case 2 -> out = Arrays.copyOf(out, random.nextInt(out.length));
      default -> out = concat(out, new byte[] {(byte) random.nextInt(256)});
    }
    return out;
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
