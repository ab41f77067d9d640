package dev.mnemo.store.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.cid.Multicodec;
import dev.mnemo.store.cid.Multihash;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Random round trips, canonical form and strict decoding of DAG-CBOR. Expected bytes are written
 * out by hand from RFC 8949 and the DAG-CBOR spec, not produced by the encoder under test.
 */
class DagCborTest {
  private static final HexFormat HEX = HexFormat.of();
  private static final BigInteger TWO_63 = BigInteger.ONE.shiftLeft(63);
  private static final BigInteger TWO_64 = BigInteger.ONE.shiftLeft(64);

  // ---------------------------------------------------------------- random round trips

  @Test
  void randomValuesRoundTrip() throws Exception {
    long seed = System.nanoTime();
    Random random = new Random(seed);
    for (int i = 0; i < 3_000; i++) {
      Object value = randomValue(random, 0);
      byte[] bytes = DagCbor.encode(value);
      Object decoded = DagCbor.decode(bytes);

      assertThat(deepEquals(value, decoded))
          .as("seed %d, iteration %d: %s decoded as %s", seed, i, describe(value), describe(decoded))
          .isTrue();
      assertThat(DagCbor.encode(decoded)).as("seed %d, iteration %d", seed, i).isEqualTo(bytes);
      assertCanonicalMapOrder(decoded, seed);
    }
  }

  @Test
  void randomMapsEncodeTheSameWhateverTheInsertionOrder() {
    long seed = System.nanoTime();
    Random random = new Random(seed);
    for (int i = 0; i < 500; i++) {
      Map<String, Object> map = new LinkedHashMap<>();
      int size = random.nextInt(12);
      for (int k = 0; k < size; k++) {
        map.put(randomString(random, 6), randomValue(random, 2));
      }
      List<Map.Entry<String, Object>> entries = new ArrayList<>(map.entrySet());
      java.util.Collections.shuffle(entries, random);
      Map<String, Object> shuffled = new LinkedHashMap<>();
      entries.forEach(e -> shuffled.put(e.getKey(), e.getValue()));

      assertThat(DagCbor.encode(shuffled)).as("seed %d", seed).isEqualTo(DagCbor.encode(map));
      assertThat(DagCbor.encode(new HashMap<>(map))).as("seed %d", seed).isEqualTo(DagCbor.encode(map));
    }
  }

  static Object randomValue(Random random, int depth) {
    int kinds = depth >= 4 ? 9 : 11;
    return switch (random.nextInt(kinds)) {
      case 0 -> null;
      case 1 -> random.nextBoolean();
      case 2 -> randomLong(random);
      case 3 -> randomBigInteger(random);
      case 4 -> randomDouble(random);
      case 5 -> randomString(random, 20);
      case 6 -> randomBytes(random, 40);
      case 7 -> randomCid(random);
      case 8 -> (long) random.nextInt(1000) - 500;
      case 9 -> {
        int size = random.nextInt(6);
        List<Object> list = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
          list.add(randomValue(random, depth + 1));
        }
        yield list;
      }
      default -> {
        int size = random.nextInt(6);
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < size; i++) {
          map.put(randomString(random, 8), randomValue(random, depth + 1));
        }
        yield map;
      }
    };
  }

  private static final long[] LONG_EDGES = {
      0, 1, 23, 24, 255, 256, 65_535, 65_536, 0xFFFF_FFFFL, 0x1_0000_0000L, Long.MAX_VALUE,
      -1, -24, -25, -256, -257, -65_536, -65_537, -0x1_0000_0000L, -0x1_0000_0001L, Long.MIN_VALUE,
  };

  static long randomLong(Random random) {
    return switch (random.nextInt(4)) {
      case 0 -> LONG_EDGES[random.nextInt(LONG_EDGES.length)];
      case 1 -> random.nextInt();
      case 2 -> random.nextLong() >> random.nextInt(64);
      default -> random.nextLong();
    };
  }

  /** An integer outside the long range: 2^63..2^64-1 or -2^64..-2^63-1. */
  static BigInteger randomBigInteger(Random random) {
    BigInteger offset = switch (random.nextInt(3)) {
      case 0 -> BigInteger.ZERO;
      case 1 -> TWO_63.subtract(BigInteger.ONE);
      default -> new BigInteger(63, random);
    };
    return random.nextBoolean() ? TWO_63.add(offset) : TWO_63.negate().subtract(BigInteger.ONE).subtract(offset);
  }

  static double randomDouble(Random random) {
    switch (random.nextInt(4)) {
      case 0 -> {
        double[] edges = {0.0, -0.0, 1.0, -1.5, Double.MIN_VALUE, Double.MAX_VALUE, -Double.MAX_VALUE,
            Double.MIN_NORMAL, 0.1, 1e300, 2.5e-310, 9007199254740993.0};
        return edges[random.nextInt(edges.length)];
      }
      case 1 -> {
        return random.nextGaussian() * 1000;
      }
      default -> {
        double d;
        do {
          d = Double.longBitsToDouble(random.nextLong());
        } while (!Double.isFinite(d));
        return d;
      }
    }
  }

  /** Valid Unicode only (no lone surrogates): ASCII, Latin, Greek, CJK, emoji. */
  static String randomString(Random random, int maxLength) {
    int length = random.nextInt(maxLength + 1);
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < length; i++) {
      int cp = switch (random.nextInt(6)) {
        case 0, 1 -> 'a' + random.nextInt(26);
        case 2 -> 0x20 + random.nextInt(0x5f);
        case 3 -> 0xa0 + random.nextInt(0x400);
        case 4 -> 0x4e00 + random.nextInt(0x5000);
        default -> 0x1f300 + random.nextInt(0x300);
      };
      sb.appendCodePoint(cp);
    }
    if (random.nextInt(20) == 0) {
      sb.append('\u0000').append('\uffff').append("\ud800\udc00");
    }
    return sb.toString();
  }

  static byte[] randomBytes(Random random, int maxLength) {
    byte[] bytes = new byte[random.nextInt(maxLength + 1)];
    random.nextBytes(bytes);
    return bytes;
  }

  static Cid randomCid(Random random) {
    byte[] block = randomBytes(random, 20);
    return switch (random.nextInt(4)) {
      case 0 -> Cid.dagCbor(block);
      case 1 -> Cid.of(Multicodec.RAW, block);
      case 2 -> Cid.v1(Multicodec.DAG_PB, new Multihash(Multicodec.IDENTITY, block));
      default -> {
        try {
          byte[] v0 = new byte[34];
          v0[0] = 0x12;
          v0[1] = 0x20;
          System.arraycopy(Multihash.sha256(block).digest(), 0, v0, 2, 32);
          yield Cid.fromBytes(v0);
        } catch (InvalidFormatException e) {
          throw new AssertionError(e);
        }
      }
    };
  }

  /**
   * Structural equality as the IPLD data model sees it: bytes by content, maps by entries, ints
   * and floats by exact value and Java type (a Long must come back a Long, a Double a Double).
   */
  static boolean deepEquals(Object a, Object b) {
    if (a == null || b == null) {
      return a == b;
    }
    if (a instanceof byte[] x) {
      return b instanceof byte[] y && Arrays.equals(x, y);
    }
    if (a instanceof List<?> x) {
      if (!(b instanceof List<?> y) || x.size() != y.size()) {
        return false;
      }
      Iterator<?> i = x.iterator();
      Iterator<?> j = y.iterator();
      while (i.hasNext()) {
        if (!deepEquals(i.next(), j.next())) {
          return false;
        }
      }
      return true;
    }
    if (a instanceof Map<?, ?> x) {
      if (!(b instanceof Map<?, ?> y) || x.size() != y.size()) {
        return false;
      }
      for (Map.Entry<?, ?> e : x.entrySet()) {
        if (!y.containsKey(e.getKey()) || !deepEquals(e.getValue(), y.get(e.getKey()))) {
          return false;
        }
      }
      return true;
    }
    // Double.equals compares bits, so -0.0 must come back as -0.0.
    return a.getClass() == b.getClass() && a.equals(b);
  }

  private static String describe(Object value) {
    if (value instanceof byte[] b) {
      return "h'" + HEX.formatHex(b) + "'";
    }
    if (value instanceof List<?> l) {
      return l.stream().map(DagCborTest::describe).toList().toString();
    }
    if (value instanceof Map<?, ?> m) {
      StringBuilder sb = new StringBuilder("{");
      m.forEach((k, v) -> sb.append(k).append('=').append(describe(v)).append(", "));
      return sb.append('}').toString();
    }
    return value == null ? "null" : value + " (" + value.getClass().getSimpleName() + ")";
  }

  /** Decoded maps iterate in canonical order: shorter UTF-8 key first, then bytewise. */
  private static void assertCanonicalMapOrder(Object value, long seed) {
    if (value instanceof Map<?, ?> map) {
      byte[] previous = null;
      for (Map.Entry<?, ?> e : map.entrySet()) {
        byte[] key = ((String) e.getKey()).getBytes(StandardCharsets.UTF_8);
        if (previous != null) {
          boolean ordered = previous.length < key.length
              || (previous.length == key.length && Arrays.compareUnsigned(previous, key) < 0);
          assertThat(ordered).as("seed %d: key %s after %s", seed, e.getKey(), new String(previous, StandardCharsets.UTF_8)).isTrue();
        }
        previous = key;
        assertCanonicalMapOrder(e.getValue(), seed);
      }
    } else if (value instanceof List<?> list) {
      list.forEach(v -> assertCanonicalMapOrder(v, seed));
    }
  }

  // ---------------------------------------------------------------- canonical form

  @Test
  void mapKeysAreSortedLengthFirstThenBytewise() throws Exception {
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("b", 1L);
    map.put("aa", 2L);
    map.put("a", 3L);

    // {"a": 3, "b": 1, "aa": 2}
    assertThat(HEX.formatHex(DagCbor.encode(map))).isEqualTo("a3" + "616103" + "616201" + "62616102");

    Map<String, Object> decoded = DagCbor.decodeMap(HEX.parseHex("a3616103616201" + "62616102"));
    assertThat(decoded.keySet()).containsExactly("a", "b", "aa");
  }

  @Test
  void keyOrderIsByUtf8LengthThenBytesNotJavaStringOrder() {
    // Java's String order would give aa, abc, abcd, z, é, Ａ, 😀; sorting by UTF-16 length first
    // would put é before aa. DAG-CBOR sorts by UTF-8 length, then bytewise.
    Map<String, Object> map = new TreeMap<>();
    map.put("\u00e9", 3L); // c3 a9
    map.put("aa", 2L);
    map.put("z", 1L);
    map.put("\uff21", 5L); // ef bc a1
    map.put("abc", 4L);
    map.put("\ud83d\ude00", 7L); // f0 9f 98 80
    map.put("abcd", 6L);
    assertThat(HEX.formatHex(DagCbor.encode(map))).isEqualTo("a7"
        + "617a01" + "62616102" + "62c3a903" + "6361626304" + "63efbca105" + "646162636406" + "64f09f988007");
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
      "0, 00",
      "1, 01",
      "23, 17",
      "24, 1818",
      "255, 18ff",
      "256, 190100",
      "65535, 19ffff",
      "65536, 1a00010000",
      "4294967295, 1affffffff",
      "4294967296, 1b0000000100000000",
      "9223372036854775807, 1b7fffffffffffffff",
      "-1, 20",
      "-24, 37",
      "-25, 3818",
      "-256, 38ff",
      "-257, 390100",
      "-65536, 39ffff",
      "-65537, 3a00010000",
      "-4294967296, 3affffffff",
      "-4294967297, 3b0000000100000000",
      "-9223372036854775808, 3b7fffffffffffffff",
  })
  void integersUseTheShortestForm(long value, String hex) throws Exception {
    assertThat(HEX.formatHex(DagCbor.encode(value))).isEqualTo(hex);
    assertThat(DagCbor.decode(HEX.parseHex(hex))).isEqualTo(value);
    assertThat(HEX.formatHex(DagCbor.encode((Object) BigInteger.valueOf(value)))).as("BigInteger in long range").isEqualTo(hex);
  }

  @Test
  void smallerJavaIntegerTypesEncodeAsInts() throws Exception {
    assertThat(HEX.formatHex(DagCbor.encode(24))).isEqualTo("1818");
    assertThat(HEX.formatHex(DagCbor.encode((short) -257))).isEqualTo("390100");
    assertThat(HEX.formatHex(DagCbor.encode((byte) 23))).isEqualTo("17");
    assertThat(DagCbor.decode(DagCbor.encode(7))).isEqualTo(7L);
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
      "9223372036854775808, 1b8000000000000000",
      "18446744073709551615, 1bffffffffffffffff",
      "-9223372036854775809, 3b8000000000000000",
      "-18446744073709551616, 3bffffffffffffffff",
  })
  void integersBeyondLongUseBigInteger(String value, String hex) throws Exception {
    BigInteger big = new BigInteger(value);
    assertThat(HEX.formatHex(DagCbor.encode(big))).isEqualTo(hex);
    assertThat(DagCbor.decode(HEX.parseHex(hex))).isInstanceOf(BigInteger.class).isEqualTo(big);
  }

  @ParameterizedTest
  @ValueSource(strings = {"18446744073709551616", "-18446744073709551617", "340282366920938463463374607431768211456"})
  void integersBeyondCborRangeAreRefused(String value) {
    assertThatThrownBy(() -> DagCbor.encode(new BigInteger(value)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("64-bit");
  }

  @Test
  void lengthsUseTheShortestForm() throws Exception {
    assertThat(HEX.formatHex(DagCbor.encode("a".repeat(23)))).startsWith("77").hasSize(2 + 46);
    assertThat(HEX.formatHex(DagCbor.encode("a".repeat(24)))).startsWith("7818").hasSize(4 + 48);
    assertThat(HEX.formatHex(DagCbor.encode(new byte[255]))).startsWith("58ff00");
    assertThat(HEX.formatHex(DagCbor.encode(new byte[256]))).startsWith("59010000");
    assertThat(HEX.formatHex(DagCbor.encode(new byte[65_536]))).startsWith("5a0001000000");
    assertThat(HEX.formatHex(DagCbor.encode(java.util.Collections.nCopies(24, 0L)))).isEqualTo("9818" + "00".repeat(24));
    assertThat(HEX.formatHex(DagCbor.encode(List.of()))).isEqualTo("80");
    assertThat(HEX.formatHex(DagCbor.encode(Map.of()))).isEqualTo("a0");
    assertThat(HEX.formatHex(DagCbor.encode(""))).isEqualTo("60");
    assertThat(HEX.formatHex(DagCbor.encode(new byte[0]))).isEqualTo("40");
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
      "1.0, fb3ff0000000000000",
      "0.5, fb3fe0000000000000",
      "1.5, fb3ff8000000000000",
      "0.0, fb0000000000000000",
      "-0.0, fb8000000000000000",
      "1.1, fb3ff199999999999a",
      "-4.1, fbc010666666666666",
      "100000.0, fb40f86a0000000000",
      "1.7976931348623157E308, fb7fefffffffffffff",
      "4.9E-324, fb0000000000000001",
  })
  void floatsAreAlwaysEightBytes(double value, String hex) throws Exception {
    assertThat(HEX.formatHex(DagCbor.encode(value))).isEqualTo(hex);
    Object decoded = DagCbor.decode(HEX.parseHex(hex));
    assertThat(decoded).isInstanceOf(Double.class);
    assertThat(Double.doubleToRawLongBits((Double) decoded)).isEqualTo(Double.doubleToRawLongBits(value));
  }

  @Test
  void floatsThatFitInHalfOrSinglePrecisionStillUseEightBytesAndStayFloats() throws Exception {
    assertThat(HEX.formatHex(DagCbor.encode(1.5f))).isEqualTo("fb3ff8000000000000");
    // A whole-number float is still a float, never an int.
    assertThat(DagCbor.decode(DagCbor.encode(2.0))).isEqualTo(2.0).isInstanceOf(Double.class);
  }

  @Test
  void simpleValuesAndLinks() throws Exception {
    assertThat(HEX.formatHex(DagCbor.encode(null))).isEqualTo("f6");
    assertThat(HEX.formatHex(DagCbor.encode(true))).isEqualTo("f5");
    assertThat(HEX.formatHex(DagCbor.encode(false))).isEqualTo("f4");

    Cid cid = Cid.parse("bafyreidykglsfhoixmivffc5uwhcgshx4j465xwqntbmu43nb2dzqwfvae");
    String expected = "d82a" + "5825" + "00" + "01711220" + HEX.formatHex(cid.multihash().digest());
    assertThat(HEX.formatHex(DagCbor.encode(cid))).isEqualTo(expected);
    assertThat(DagCbor.decode(HEX.parseHex(expected))).isEqualTo(cid);

    Cid v0 = Cid.parse("QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n");
    String v0hex = "d82a" + "5823" + "00" + "1220e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    assertThat(HEX.formatHex(DagCbor.encode(v0))).isEqualTo(v0hex);
    assertThat(DagCbor.decode(HEX.parseHex(v0hex))).isEqualTo(v0);
  }

  @Test
  void aNestedDocumentHasTheExpectedBytes() throws Exception {
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("list", List.of(1L, "x", new byte[] {1, 2}));
    doc.put("n", -1L);
    doc.put("ok", true);
    assertThat(HEX.formatHex(DagCbor.encode(doc)))
        .isEqualTo("a3" + "616e" + "20" + "626f6b" + "f5" + "646c697374" + "83" + "01" + "6178" + "420102");
  }

  // ---------------------------------------------------------------- strict decoding

  @ParameterizedTest(name = "[{index}] {0}: {1}")
  @CsvSource(delimiter = '|', textBlock = """
      1817                       | non-canonical
      190017                     | non-canonical
      1900ff                     | non-canonical
      1a0000ffff                 | non-canonical
      1b00000000ffffffff         | non-canonical
      3817                       | non-canonical
      39000f                     | non-canonical
      5800                       | non-canonical
      780161                     | non-canonical
      9800                       | non-canonical
      b800                       | non-canonical
      d9002a582500017112200000000000000000000000000000000000000000000000000000000000000000 | non-canonical
      f93c00                     | floats must be 64-bit
      fa3f800000                 | floats must be 64-bit
      fb7ff8000000000000         | NaN and Infinity
      fb7ff0000000000000         | NaN and Infinity
      fbfff0000000000000         | NaN and Infinity
      fb7ff0000000000001         | NaN and Infinity
      f7                         | undefined
      f0                         | unsupported simple value
      f818                       | unsupported simple value
      ff                         | break
      5f4100ff                   | indefinite-length
      7f6161ff                   | indefinite-length
      9fff                       | indefinite-length
      9f01ff                     | indefinite-length
      bfff                       | indefinite-length
      bf616101ff                 | indefinite-length
      a17f6161ff01               | indefinite-length
      1c                         | reserved additional information
      5d                         | reserved additional information
      a2616201616102             | not in canonical order
      a2626161016162 02          | not in canonical order
      a2616101616102             | duplicate map key
      a10102                     | map keys must be strings
      a1416101                   | map keys must be strings
      a1f601                     | map keys must be strings
      a1816101                   | map keys must be strings
      c074323031332d30332d32315432303a30343a30305a | tag 0 is not allowed
      c24101                     | tag 2 is not allowed
      d82b4100                   | tag 43 is not allowed
      d82a5824017112200000000000000000000000000000000000000000000000000000000000000000 | identity multibase prefix 0x00
      d82a40                     | identity multibase prefix 0x00
      d82a6161                   | tag 42 must wrap a byte string
      d82a01                     | tag 42 must wrap a byte string
      d82af6                     | tag 42 must wrap a byte string
      d82a4400010203             | bad link
      d82a4100                   | bad link
      62c328                     | not valid UTF-8
      61ff                       | not valid UTF-8
      62c0af                     | not valid UTF-8
      63eda080                   | not valid UTF-8
      64f4908080                 | not valid UTF-8
      a161ff01                   | not valid UTF-8
      0100                       | trailing bytes
      f6f6                       | trailing bytes
      a0a0                       | trailing bytes
      1901                       | end of input
      6261                       | overruns the input
      8201                       | overruns the input
      820118                     | end of input
      a16161                     | end of input
      a1                         | overruns the input
      fb3ff0                     | end of input
      d82a                       | end of input
      d8                         | end of input
      5b0000010000000000         | overruns the input
      7b0000010000000000         | overruns the input
      9b0000010000000000         | overruns the input
      bb0000010000000000         | overruns the input
      5a7fffffff00               | overruns the input
      9a7fffffff00               | overruns the input
      ba7fffffff0000             | overruns the input
      """)
  void nonCanonicalOrInvalidInputIsRefused(String hex, String message) {
    byte[] bytes = HEX.parseHex(hex.replace(" ", ""));
    assertThatThrownBy(() -> DagCbor.decode(bytes))
        .isInstanceOfSatisfying(InvalidFormatException.class, e -> assertThat(e.format()).isEqualTo("DAG-CBOR"))
        .hasMessageContaining(message);
  }

  /**
   * Lengths of 2^63 and more read as negative longs. The decoder must refuse them like any other
   * length past the input, not return an empty container nor throw an unchecked exception.
   */
  @ParameterizedTest
  @ValueSource(strings = {
      "9b8000000000000000",
      "9bffffffffffffffff",
      "9b8000000000010000",
      "bb8000000000000000",
      "bbffffffffffffffff",
      "bbfffffffffffffff0",
      "5b8000000000000000",
      "7bffffffffffffffff",
  })
  void lengthsOfTwoToTheSixtyThreeAndMoreAreRefused(String hex) {
    byte[] bytes = HEX.parseHex(hex);
    assertThatThrownBy(() -> DagCbor.decode(bytes))
        .isInstanceOf(InvalidFormatException.class)
        .hasMessageContaining("overruns the input");
  }

  @Test
  void emptyInputIsRefused() {
    assertThatThrownBy(() -> DagCbor.decode(new byte[0]))
        .isInstanceOf(InvalidFormatException.class)
        .hasMessageContaining("empty input");
  }

  @Test
  void aHugeClaimedLengthDoesNotAllocate() {
    // 2^40 bytes claimed, 3 present: refused by comparing with what is left, before any copy.
    byte[] bytes = HEX.parseHex("5b0000010000000000616263");
    Runtime runtime = Runtime.getRuntime();
    assertThat(runtime.maxMemory()).isLessThan(1L << 40);
    assertThatThrownBy(() -> DagCbor.decode(bytes))
        .isInstanceOf(InvalidFormatException.class)
        .hasMessageContaining("1099511627776");
  }

  @ParameterizedTest
  @ValueSource(strings = {"81", "a16161", "d82a81"})
  void deepNestingIsRefusedWithoutStackOverflow(String level) {
    byte[] unit = HEX.parseHex(level);
    int depth = 100_000;
    byte[] bytes = new byte[unit.length * depth + 1];
    for (int i = 0; i < depth; i++) {
      System.arraycopy(unit, 0, bytes, i * unit.length, unit.length);
    }
    bytes[bytes.length - 1] = 0x01;
    assertThatThrownBy(() -> DagCbor.decode(bytes))
        .isInstanceOf(InvalidFormatException.class)
        .hasMessageContaining("nesting deeper than");
  }

  @Test
  void nestingUpToTheLimitDecodes() throws Exception {
    Object value = 1L;
    for (int i = 0; i < DagCbor.MAX_DEPTH; i++) {
      value = List.of(value);
    }
    byte[] bytes = DagCbor.encode(value);
    assertThat(DagCbor.encode(DagCbor.decode(bytes))).isEqualTo(bytes);

    byte[] deeper = DagCbor.encode(List.of(value));
    assertThatThrownBy(() -> DagCbor.decode(deeper))
        .isInstanceOf(InvalidFormatException.class)
        .hasMessageContaining("nesting deeper than " + DagCbor.MAX_DEPTH);
  }

  @Test
  void decodeMapRefusesANonMap() {
    assertThatThrownBy(() -> DagCbor.decodeMap(HEX.parseHex("8101")))
        .isInstanceOf(InvalidFormatException.class)
        .hasMessageContaining("expected a map")
        .hasMessageContaining("list");
  }

  // ---------------------------------------------------------------- fuzz

  @Test
  void mutatedEncodingsDecodeCanonicallyOrFailCleanly() {
    long seed = System.nanoTime();
    Random random = new Random(seed);
    int refused = 0;
    for (int i = 0; i < 20_000; i++) {
      byte[] valid = DagCbor.encode(randomValue(random, 1));
      byte[] mutated = mutate(random, valid);
      if (checkDecode(mutated, seed)) {
        refused++;
      }
    }
    assertThat(refused).as("seed %d: most mutations are refused", seed).isGreaterThan(1_000);
  }

  @Test
  void randomBytesDecodeCanonicallyOrFailCleanly() {
    long seed = System.nanoTime();
    Random random = new Random(seed);
    for (int i = 0; i < 50_000; i++) {
      byte[] bytes = randomBytes(random, 24);
      checkDecode(bytes, seed);
    }
  }

  /** Returns true when refused; fails the test on any outcome other than those two. */
  private static boolean checkDecode(byte[] bytes, long seed) {
    Object decoded;
    try {
      decoded = DagCbor.decode(bytes);
    } catch (InvalidFormatException e) {
      assertThat(e.getMessage()).as("seed %d", seed).startsWith("DAG-CBOR: ");
      return true;
    } catch (Throwable t) {
      throw new AssertionError("seed %d: decoding %s threw %s".formatted(seed, HEX.formatHex(bytes), t), t);
    }
    byte[] again;
    try {
      again = DagCbor.encode(decoded);
    } catch (Throwable t) {
      throw new AssertionError("seed %d: decoded %s but cannot re-encode it: %s".formatted(seed, HEX.formatHex(bytes), t), t);
    }
    if (!Arrays.equals(again, bytes)) {
      fail("seed %d: %s decoded to %s, which re-encodes to %s".formatted(
          seed, HEX.formatHex(bytes), describe(decoded), HEX.formatHex(again)));
    }
    return false;
  }

  private static byte[] mutate(Random random, byte[] valid) {
    byte[] out = valid.clone();
    int mutations = 1 + random.nextInt(3);
    for (int m = 0; m < mutations; m++) {
      int at = out.length == 0 ? 0 : random.nextInt(out.length);
      switch (random.nextInt(4)) {
        case 0 -> {
          if (out.length > 0) out[at] ^= (byte) (1 << random.nextInt(8));
        }
        case 1 -> {
          byte[] longer = new byte[out.length + 1];
          System.arraycopy(out, 0, longer, 0, at);
          longer[at] = (byte) random.nextInt(256);
          System.arraycopy(out, at, longer, at + 1, out.length - at);
          out = longer;
        }
        case 2 -> {
          if (out.length > 0) {
            byte[] shorter = new byte[out.length - 1];
            System.arraycopy(out, 0, shorter, 0, at);
            System.arraycopy(out, at + 1, shorter, at, out.length - at - 1);
            out = shorter;
          }
        }
        default -> {
          if (out.length > 0) out[at] = (byte) random.nextInt(256);
        }
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- encoder refusals

  @ParameterizedTest
  @ValueSource(doubles = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY})
  void encoderRefusesNonFiniteFloats(double value) {
    assertThatThrownBy(() -> DagCbor.encode(value)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> DagCbor.encode(List.of(1L, Map.of("x", value)))).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> DagCbor.encode((float) value)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void encoderRefusesNonStringMapKeys() {
    assertThatThrownBy(() -> DagCbor.encode(Map.of(1L, "x")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("keys must be strings");
    assertThatThrownBy(() -> DagCbor.encode(Map.of(new byte[] {1}, "x"))).isInstanceOf(IllegalArgumentException.class);
    Map<String, Object> withNullKey = new HashMap<>();
    withNullKey.put(null, 1L);
    assertThatThrownBy(() -> DagCbor.encode(withNullKey)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> DagCbor.encode(List.of(Map.of("ok", Map.of(true, 1L))))).isInstanceOf(IllegalArgumentException.class);
  }

  /**
   * A lone surrogate has no UTF-8 form. {@code String.getBytes(UTF_8)} silently writes '?' for it,
   * so the value would not survive a round trip; the encoder must refuse it like NaN.
   */
  @ParameterizedTest
  @ValueSource(strings = {"\ud800", "a\udc00b", "\ud83d"})
  void encoderRefusesStringsThatAreNotValidUnicode(String text) {
    assertThatThrownBy(() -> DagCbor.encode(text)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> DagCbor.encode(Map.of(text, 1L))).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void encoderRefusesUnsupportedJavaTypes() {
    for (Object value : List.of(new Object(), 'c', new BigDecimal("1.5"), new int[] {1}, Optional.empty(),
        new Date(0), Set.of(1L), new StringBuilder("x"))) {
      assertThatThrownBy(() -> DagCbor.encode(value))
          .as("%s", value.getClass())
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("not an IPLD value");
      assertThatThrownBy(() -> DagCbor.encode(Map.of("nested", List.of(value))))
          .isInstanceOf(IllegalArgumentException.class);
    }
  }
}
