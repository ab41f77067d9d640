package dev.mnemo.store.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.codec.DagCbor;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class MemoryTest {
  private static final HexFormat HEX = HexFormat.of();
  private static final Cid PREV = Cid.dagCbor("previous".getBytes(StandardCharsets.UTF_8));

  static Memory full() {
    Map<String, Object> metadata = new LinkedHashMap<>();
    metadata.put("source", "chat");
    metadata.put("turn", 42L);
    metadata.put("score", 0.75);
    metadata.put("pinned", true);
    return new Memory("team.notes", "the deploy key rotates on Mondays", metadata,
        List.of("ops", "deploy"), 1_700_000_000_000L, new Embedding("minilm-l6", new float[] {1.0f, -2.5f, 0.125f}), PREV);
  }

  static Memory minimal() {
    return new Memory("n", "t", 0);
  }

  // ---------------------------------------------------------------- round trips

  @Test
  void roundTripWithoutOptionals() throws Exception {
    Memory memory = new Memory("agent-1", "likes green tea", Map.of("lang", "en"), List.of("pref"), 123L, null, null);
    byte[] block = memory.encode();
    Memory decoded = Memory.decode(block);

    assertThat(decoded).isEqualTo(memory);
    assertThat(decoded.embedding()).isNull();
    assertThat(decoded.prev()).isNull();
    assertThat(decoded.encode()).isEqualTo(block);
  }

  @Test
  void roundTripWithEmbeddingAndPrev() throws Exception {
    Memory memory = full();
    byte[] block = memory.encode();
    Memory decoded = Memory.decode(block);

    assertThat(decoded).isEqualTo(memory);
    assertThat(decoded.embedding().vector()).containsExactly(1.0f, -2.5f, 0.125f);
    assertThat(decoded.embedding().model()).isEqualTo("minilm-l6");
    assertThat(decoded.prev()).isEqualTo(PREV);
    assertThat(decoded.metadata()).containsExactlyInAnyOrderEntriesOf(
        Map.of("source", "chat", "turn", 42L, "score", 0.75, "pinned", true));
    assertThat(decoded.encode()).isEqualTo(block);
    assertThat(Cid.dagCbor(decoded.encode())).isEqualTo(Cid.dagCbor(block));
  }

  @Test
  void roundTripWithOnlyOneOptional() throws Exception {
    Memory withPrev = new Memory("n", "t", Map.of(), List.of(), 1, null, PREV);
    Memory withEmbedding = new Memory("n", "t", Map.of(), List.of(), 1, new Embedding("m", new float[] {0f}), null);
    assertThat(Memory.decode(withPrev.encode())).isEqualTo(withPrev);
    assertThat(Memory.decode(withEmbedding.encode())).isEqualTo(withEmbedding);
    assertThat(DagCbor.decodeMap(withPrev.encode())).containsKey("prev").doesNotContainKey("embedding");
    assertThat(DagCbor.decodeMap(withEmbedding.encode())).containsKey("embedding").doesNotContainKey("prev");
  }

  @Test
  void randomMemoriesRoundTrip() throws Exception {
    long seed = System.nanoTime();
    Random random = new Random(seed);
    for (int i = 0; i < 500; i++) {
      Memory memory = randomMemory(random);
      byte[] block = memory.encode();
      Memory decoded = Memory.decode(block);
      assertThat(decoded).as("seed %d, iteration %d", seed, i).isEqualTo(memory);
      assertThat(decoded.encode()).as("seed %d, iteration %d", seed, i).isEqualTo(block);
    }
  }

  static Memory randomMemory(Random random) {
    Map<String, Object> metadata = new LinkedHashMap<>();
    int entries = random.nextInt(5);
    for (int k = 0; k < entries; k++) {
      Object value = switch (random.nextInt(5)) {
        case 0 -> "v" + random.nextInt(100) + "\u00e9\u6f22";
        case 1 -> random.nextLong();
        case 2 -> random.nextDouble() * 1e6 - 5e5;
        case 3 -> random.nextBoolean();
        default -> random.nextInt(10);
      };
      metadata.put("k" + random.nextInt(10), value);
    }
    List<String> tags = new ArrayList<>();
    for (int k = random.nextInt(5); k > 0; k--) {
      tags.add("t" + random.nextInt(6));
    }
    Embedding embedding = null;
    if (random.nextBoolean()) {
      float[] vector = new float[1 + random.nextInt(16)];
      for (int d = 0; d < vector.length; d++) {
        vector[d] = (float) random.nextGaussian();
      }
      embedding = new Embedding("model-" + random.nextInt(3), vector);
    }
    Cid prev = random.nextBoolean() ? Cid.dagCbor(new byte[] {(byte) random.nextInt()}) : null;
    return new Memory("ns" + random.nextInt(5), "text " + random.nextLong() + " \ud83d\ude00", metadata, tags,
        random.nextLong(), embedding, prev);
  }

  // ---------------------------------------------------------------- canonical bytes and CID stability

  @Test
  void minimalMemoryHasTheExpectedBytes() {
    // {"v": 1, "ns": "n", "ts": 0, "tags": [], "text": "t", "metadata": {}} in canonical key order.
    String expected = "a6" + "6176" + "01" + "626e73" + "616e" + "627473" + "00" + "6474616773" + "80"
        + "6474657874" + "6174" + "686d65746164617461" + "a0";
    assertThat(HEX.formatHex(minimal().encode())).isEqualTo(expected);
  }

  @Test
  void blockFieldsAreInCanonicalOrder() throws Exception {
    assertThat(DagCbor.decodeMap(full().encode()).keySet())
        .containsExactly("v", "ns", "ts", "prev", "tags", "text", "metadata", "embedding");
  }

  @Test
  void embeddingVectorIsLittleEndianFloat32Bytes() throws Exception {
    Map<String, Object> block = DagCbor.decodeMap(full().encode());
    @SuppressWarnings("unchecked")
    Map<String, Object> embedding = (Map<String, Object>) block.get("embedding");

    assertThat(embedding.keySet()).containsExactly("dim", "vec", "model");
    assertThat(embedding.get("dim")).isEqualTo(3L);
    assertThat(embedding.get("model")).isEqualTo("minilm-l6");
    // 1.0f = 0x3f800000, -2.5f = 0xc0200000, 0.125f = 0x3e000000, each written low byte first.
    assertThat(HEX.formatHex((byte[]) embedding.get("vec"))).isEqualTo("0000803f" + "000020c0" + "0000003e");
  }

  @Test
  void sameMemoryGivesSameBytesAndCid() {
    byte[] a = full().encode();
    byte[] b = full().encode();
    assertThat(a).isEqualTo(b);
    assertThat(Cid.dagCbor(a)).isEqualTo(Cid.dagCbor(b));
  }

  @Test
  void metadataInsertionOrderDoesNotChangeTheBytes() {
    Map<String, Object> forward = new LinkedHashMap<>();
    Map<String, Object> backward = new LinkedHashMap<>();
    List<String> keys = List.of("alpha", "b", "cc", "zeta", "\u00e9t\u00e9", "a");
    for (int i = 0; i < keys.size(); i++) {
      forward.put(keys.get(i), (long) i);
    }
    for (int i = keys.size() - 1; i >= 0; i--) {
      backward.put(keys.get(i), (long) i);
    }
    Memory m1 = new Memory("n", "t", forward, List.of(), 5, null, null);
    Memory m2 = new Memory("n", "t", backward, List.of(), 5, null, null);

    assertThat(m1.encode()).isEqualTo(m2.encode());
    assertThat(m1).isEqualTo(m2);
  }

  @Test
  void javaNumberTypesNormalizeToTheSameBlock() {
    Memory ints = new Memory("n", "t", Map.of("a", 7, "b", (short) 3, "c", 1.5f), List.of(), 5, null, null);
    Memory longs = new Memory("n", "t", Map.of("a", 7L, "b", 3L, "c", 1.5), List.of(), 5, null, null);
    assertThat(ints.encode()).isEqualTo(longs.encode());
  }

  @Test
  void tagsAreDedupedAndSorted() throws Exception {
    Memory messy = new Memory("n", "t", Map.of(), List.of("b", "a", "b", "c", "a"), 5, null, null);
    Memory clean = new Memory("n", "t", Map.of(), List.of("a", "b", "c"), 5, null, null);

    assertThat(messy.tags()).containsExactly("a", "b", "c");
    assertThat(messy.encode()).isEqualTo(clean.encode());
    assertThat(DagCbor.decodeMap(messy.encode()).get("tags")).isEqualTo(List.of("a", "b", "c"));
  }

  /** U+FFFD is one UTF-16 unit (FFFD), U+1F600 two (D83D DE00): the two orders disagree on them. */
  private static final String REPLACEMENT = "\uFFFD";
  private static final String GRINNING = "\uD83D\uDE00";

  @Test
  void tagsSortByCodePointAsGoRustAndJavaScriptDo() throws Exception {
    Memory memory = new Memory("n", "t", Map.of(), List.of(GRINNING, "z", REPLACEMENT, "a", "\uE000"), 5, null, null);
    assertThat(memory.tags()).containsExactly("a", "z", "\uE000", REPLACEMENT, GRINNING);
    byte[] block = memory.encode();
    assertThat(DagCbor.decodeMap(block).get("tags")).isEqualTo(List.of("a", "z", "\uE000", REPLACEMENT, GRINNING));
    assertThat(Memory.decode(block)).isEqualTo(memory);
    assertThat(Memory.decode(block).encode()).isEqualTo(block);
    // The order of the tags' UTF-8 bytes, which is how a byte-wise sort elsewhere puts them.
    List<String> byBytes = new ArrayList<>(memory.tags());
    byBytes.sort((x, y) -> Arrays.compareUnsigned(x.getBytes(StandardCharsets.UTF_8), y.getBytes(StandardCharsets.UTF_8)));
    assertThat(memory.tags()).isEqualTo(byBytes);
  }

  @Test
  void aBlockWithTagsInCodePointOrderFromAnotherToolDecodes() throws Exception {
    // What @ipld/dag-cbor writes for a JavaScript client that sorted its tags by code point.
    byte[] block = DagCbor.encode(blockWithTags(List.of(REPLACEMENT, GRINNING)));
    assertThat(Memory.decode(block).tags()).containsExactly(REPLACEMENT, GRINNING);
    assertThat(Memory.decode(block).encode()).isEqualTo(block);
  }

  @Test
  void aBlockWrittenInTheOldUtf16OrderStillDecodesUnderItsOwnCid() throws Exception {
    byte[] old = DagCbor.encode(blockWithTags(List.of("a", GRINNING, REPLACEMENT)));
    Memory memory = Memory.decode(old);
    // The same set of tags, held in the new order; the block and its CID are what they were.
    assertThat(memory.tags()).containsExactly("a", REPLACEMENT, GRINNING);
    assertThat(Cid.dagCbor(old)).isEqualTo(Cid.dagCbor(old.clone()));
    assertThat(memory.encode()).isNotEqualTo(old);
    // Sorted in neither order, or repeated: refused as before.
    assertThatThrownBy(() -> Memory.decode(DagCbor.encode(blockWithTags(List.of(GRINNING, "a", REPLACEMENT)))))
        .isInstanceOf(InvalidFormatException.class).hasMessageContaining("tags must be sorted by code point and unique");
    assertThatThrownBy(() -> Memory.decode(DagCbor.encode(blockWithTags(List.of(GRINNING, GRINNING)))))
        .isInstanceOf(InvalidFormatException.class).hasMessageContaining("tags must be sorted by code point and unique");
  }

  private static Map<String, Object> blockWithTags(List<String> tags) {
    Map<String, Object> block = mutableBlock(minimal());
    block.put("tags", tags);
    return block;
  }

  @Test
  void validityBoundsRoundTripInVersionTwoAndLeaveOtherBlocksAtVersionOne() throws Exception {
    Memory open = full();
    Memory bounded = new Memory(open.ns(), open.text(), open.metadata(), open.tags(), open.ts(), open.embedding(),
        open.prev(), 1_600_000_000_000L, 1_800_000_000_000L);
    Memory fromOnly = new Memory("n", "t", Map.of(), List.of(), 1, null, null, -5L, null);
    Memory toOnly = new Memory("n", "t", Map.of(), List.of(), 1, null, null, null, 7L);
    assertThat(DagCbor.decodeMap(open.encode())).containsEntry("v", 1L).doesNotContainKeys("validFrom", "validTo");
    assertThat(DagCbor.decodeMap(bounded.encode())).containsEntry("v", 2L)
        .containsEntry("validFrom", 1_600_000_000_000L).containsEntry("validTo", 1_800_000_000_000L);
    assertThat(DagCbor.decodeMap(fromOnly.encode())).containsEntry("v", 2L).containsEntry("validFrom", -5L)
        .doesNotContainKey("validTo");
    for (Memory memory : List.of(bounded, fromOnly, toOnly)) {
      byte[] block = memory.encode();
      assertThat(Memory.decode(block)).isEqualTo(memory);
      assertThat(Memory.decode(block).encode()).isEqualTo(block);
    }
    assertThat(Cid.dagCbor(bounded.encode())).isNotEqualTo(Cid.dagCbor(open.encode()));
    assertThat(bounded.validAt(1_600_000_000_000L)).isTrue();
    assertThat(bounded.validAt(1_800_000_000_000L)).as("validTo is exclusive").isFalse();
    assertThat(fromOnly.validAt(Long.MAX_VALUE)).isTrue();
    assertThat(toOnly.validAt(Long.MIN_VALUE)).isTrue();
    assertThatThrownBy(() -> new Memory("n", "t", Map.of(), List.of(), 1, null, null, 7L, 7L))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must be before validTo");
  }

  @Test
  void absentOptionalsAreOmittedNotNull() throws Exception {
    Map<String, Object> block = DagCbor.decodeMap(new Memory("n", "t", Map.of(), null, 9, null, null).encode());

    assertThat(block.keySet()).containsExactly("v", "ns", "ts", "tags", "text", "metadata");
    assertThat(block.values()).doesNotContainNull();
    assertThat(block.get("metadata")).isEqualTo(Map.of());
    assertThat(block.get("tags")).isEqualTo(List.of());
  }

  // ---------------------------------------------------------------- decode rejects

  static Stream<Arguments> badBlocks() {
    return Stream.of(
        bad("version 3", b -> b.put("v", 3L), "unsupported version 3"),
        bad("version 2 without validity bounds", b -> b.put("v", 2L), "without validity bounds is version 1, not 2"),
        bad("version 1 with a validity bound", b -> b.put("validTo", 5L), "of version 1 has no validity bounds"),
        bad("validFrom as string", b -> {
          b.put("v", 2L);
          b.put("validFrom", "2024-01-01T00:00:00Z");
        }, "field 'validFrom' must be int"),
        bad("validFrom not before validTo", b -> {
          b.put("v", 2L);
          b.put("validFrom", 10L);
          b.put("validTo", 10L);
        }, "validFrom (10) must be before validTo (10)"),
        bad("version 0", b -> b.put("v", 0L), "unsupported version 0"),
        bad("version as string", b -> b.put("v", "1"), "field 'v' must be int"),
        bad("unknown field", b -> b.put("extra", 1L), "unknown field 'extra'"),
        bad("unknown embedding field", b -> embedding(b).put("norm", 1.0), "unknown field 'norm'"),
        bad("missing v", b -> b.remove("v"), "missing field 'v'"),
        bad("missing ns", b -> b.remove("ns"), "missing field 'ns'"),
        bad("missing text", b -> b.remove("text"), "missing field 'text'"),
        bad("missing metadata", b -> b.remove("metadata"), "missing field 'metadata'"),
        bad("missing tags", b -> b.remove("tags"), "missing field 'tags'"),
        bad("missing ts", b -> b.remove("ts"), "missing field 'ts'"),
        bad("missing embedding model", b -> embedding(b).remove("model"), "missing field 'model'"),
        bad("missing embedding vec", b -> embedding(b).remove("vec"), "missing field 'vec'"),
        bad("null embedding", b -> b.put("embedding", null), "embedding"),
        bad("null prev", b -> b.put("prev", null), "prev"),
        bad("ns not a string", b -> b.put("ns", 5L), "field 'ns' must be string"),
        bad("text as bytes", b -> b.put("text", new byte[] {1}), "field 'text' must be string"),
        bad("metadata as list", b -> b.put("metadata", List.of()), "field 'metadata' must be map"),
        bad("tags as string", b -> b.put("tags", "a"), "field 'tags' must be list"),
        bad("tag not a string", b -> b.put("tags", List.of(1L)), "field 'tags' must hold only strings"),
        bad("ts as float", b -> b.put("ts", 1.0), "field 'ts' must be int"),
        bad("ts beyond long", b -> b.put("ts", BigInteger.ONE.shiftLeft(63)), "field 'ts' is outside the 64-bit signed integer range"),
        bad("prev not a link", b -> b.put("prev", PREV.toString()), "field 'prev' must be link"),
        bad("embedding not a map", b -> b.put("embedding", List.of()), "field 'embedding' must be map"),
        bad("dim as string", b -> embedding(b).put("dim", "3"), "field 'dim' must be int"),
        bad("unsorted tags", b -> b.put("tags", List.of("ops", "deploy")), "tags must be sorted by code point and unique"),
        bad("duplicate tags", b -> b.put("tags", List.of("deploy", "deploy")), "tags must be sorted by code point and unique"),
        bad("empty tag", b -> b.put("tags", List.of("")), "tags must be non-empty"),
        bad("dim larger than vec", b -> embedding(b).put("dim", 4L), "does not match"),
        bad("dim smaller than vec", b -> embedding(b).put("dim", 2L), "does not match"),
        bad("vec not a multiple of 4", b -> embedding(b).put("vec", new byte[11]), "does not match"),
        bad("dim 0", b -> {
          embedding(b).put("dim", 0L);
          embedding(b).put("vec", new byte[0]);
        }, "does not match"),
        bad("NaN in vec", b -> embedding(b).put("vec", le(1f, Float.NaN, 2f)), "NaN"),
        bad("Infinity in vec", b -> embedding(b).put("vec", le(1f, 2f, Float.NEGATIVE_INFINITY)), "Infinity"),
        bad("empty model", b -> embedding(b).put("model", ""), "model"),
        bad("metadata value list", b -> b.put("metadata", Map.of("k", List.of("x"))), "metadata 'k'"),
        bad("metadata value map", b -> b.put("metadata", Map.of("k", Map.of("x", 1L))), "metadata 'k'"),
        bad("metadata value null", b -> b.put("metadata", nullValued("k")), "metadata 'k' is null"),
        bad("metadata value big int", b -> b.put("metadata", Map.of("k", BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE))), "metadata 'k'"),
        bad("metadata value bytes", b -> b.put("metadata", Map.of("k", new byte[] {1})), "metadata 'k'"),
        bad("metadata value link", b -> b.put("metadata", Map.of("k", PREV)), "metadata 'k'"),
        bad("metadata empty key", b -> b.put("metadata", Map.of("", "x")), "metadata keys must be non-empty"),
        bad("empty namespace", b -> b.put("ns", ""), "invalid namespace name"),
        bad("namespace with slash", b -> b.put("ns", "a/b"), "invalid namespace name"),
        bad("namespace starting with dash", b -> b.put("ns", "-a"), "invalid namespace name"),
        bad("namespace with space", b -> b.put("ns", "a b"), "invalid namespace name"),
        bad("namespace too long", b -> b.put("ns", "a".repeat(129)), "invalid namespace name"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badBlocks")
  void decodeRejects(String name, Consumer<Map<String, Object>> damage, String message) {
    Map<String, Object> block = mutableBlock(full());
    damage.accept(block);
    byte[] bytes = DagCbor.encode(block);

    assertThatThrownBy(() -> Memory.decode(bytes))
        .isInstanceOfSatisfying(InvalidFormatException.class, e -> assertThat(e.format()).isEqualTo("memory block"))
        .hasMessageStartingWith("memory block: ")
        .hasMessageContaining(message);
  }

  @Test
  void theUndamagedBlockOfTheRejectionTestsDecodes() throws Exception {
    assertThat(Memory.decode(DagCbor.encode(mutableBlock(full())))).isEqualTo(full());
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "8101", "a0", "a16176f6", "ff", "a1617601a0"})
  void decodeRejectsBytesThatAreNotAMemoryBlock(String hex) {
    byte[] bytes = HEX.parseHex(hex);
    assertThatThrownBy(() -> Memory.decode(bytes))
        .isInstanceOfSatisfying(InvalidFormatException.class, e -> assertThat(e.format()).isEqualTo("memory block"));
  }

  @Test
  void namespaceOfMaximumLengthIsAccepted() throws Exception {
    Memory memory = new Memory("a" + "._-9".repeat(31) + "bcd", "t", 0);
    assertThat(memory.ns()).hasSize(128);
    assertThat(Memory.decode(memory.encode())).isEqualTo(memory);
  }

  // ---------------------------------------------------------------- constructor refusals

  @Test
  void constructorRefusesInvalidValues() {
    assertThatThrownBy(() -> new Memory("bad ns", "t", 0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Memory(null, "t", 0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Memory("n", null, 0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Memory("n", "t", Map.of("k", Double.NaN), List.of(), 0, null, null))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Memory("n", "t", Map.of("k", List.of()), List.of(), 0, null, null))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Memory("n", "t", nullValued("k"), List.of(), 0, null, null))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Memory("n", "t", Map.of(), Arrays.asList("a", null), 0, null, null))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Embedding("m", new float[] {Float.NaN})).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Embedding("m", new float[0])).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Embedding("", new float[1])).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Embedding("m", new float[Embedding.MAX_DIM + 1])).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void embeddingIsImmutable() {
    float[] vector = {1f, 2f};
    Embedding embedding = new Embedding("m", vector);
    vector[0] = 9f;
    embedding.vector()[1] = 9f;
    assertThat(embedding.vector()).containsExactly(1f, 2f);
  }

  // ---------------------------------------------------------------- helpers

  private static Arguments bad(String name, Consumer<Map<String, Object>> damage, String message) {
    return Arguments.of(name, damage, message);
  }

  /** A deep-enough mutable copy of a memory's IPLD map. */
  static Map<String, Object> mutableBlock(Memory memory) {
    Map<String, Object> block = new LinkedHashMap<>(memory.toIpld());
    if (block.get("embedding") instanceof Map<?, ?> e) {
      block.put("embedding", new LinkedHashMap<>(e));
    }
    return block;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> embedding(Map<String, Object> block) {
    return (Map<String, Object>) block.get("embedding");
  }

  private static Map<String, Object> nullValued(String key) {
    Map<String, Object> map = new LinkedHashMap<>();
    map.put(key, null);
    return map;
  }

  private static byte[] le(float... values) {
    ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      buf.putFloat(v);
    }
    return buf.array();
  }
}
