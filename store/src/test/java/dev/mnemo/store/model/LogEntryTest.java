package dev.mnemo.store.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.cid.Multicodec;
import dev.mnemo.store.codec.DagCbor;
import dev.mnemo.store.identity.AgentKey;
import java.math.BigInteger;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
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

class LogEntryTest {
  private static final HexFormat HEX = HexFormat.of();
  static final AgentKey ALICE = AgentKey.fromSeed(seed(1));
  static final AgentKey BOB = AgentKey.fromSeed(seed(2));
  static final Cid M1 = memoryCid("one");
  static final Cid M2 = memoryCid("two");
  static final Cid M3 = memoryCid("three");
  static final Cid P1 = memoryCid("parent one");
  static final Cid P2 = memoryCid("parent two");

  static LogEntry entry() {
    return LogEntry.signed(ALICE, "team.notes", Op.ADD, List.of(M1, M2), List.of(P1, P2), 7);
  }

  // ---------------------------------------------------------------- signatures

  @Test
  void signedEntryVerifies() {
    LogEntry entry = entry();
    assertThat(entry.author()).isEqualTo(ALICE.did());
    assertThat(entry.sig()).hasSize(64);
    assertThat(entry.hasValidSignature()).isTrue();
  }

  @Test
  void signatureIsOverTheEntryWithoutSigAndVerifiesWithThePlainJdk() throws Exception {
    LogEntry entry = entry();
    byte[] signing = entry.signingBytes();

    Map<String, Object> unsigned = DagCbor.decodeMap(signing);
    assertThat(unsigned.keySet()).containsExactly("v", "ns", "op", "refs", "clock", "author", "parents");
    Map<String, Object> block = DagCbor.decodeMap(entry.encode());
    block.remove("sig");
    assertThat(DagCbor.encode(block)).isEqualTo(signing);

    // Verify with a key built straight from the did's raw bytes, outside the code under test.
    byte[] x509 = HEX.parseHex("302a300506032b6570032100" + HEX.formatHex(entry.author().raw()));
    PublicKey key = KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(x509));
    Signature verifier = Signature.getInstance("Ed25519");
    verifier.initVerify(key);
    verifier.update(signing);
    assertThat(verifier.verify(entry.sig())).isTrue();
  }

  static Stream<Arguments> tamperedEntries() {
    LogEntry e = entry();
    byte[] sig = e.sig();
    return Stream.of(
        Arguments.of("ns", new LogEntry("team.other", e.op(), e.refs(), e.parents(), e.clock(), e.author(), sig)),
        Arguments.of("op", new LogEntry(e.ns(), Op.FORGET, e.refs(), e.parents(), e.clock(), e.author(), sig)),
        Arguments.of("refs replaced", new LogEntry(e.ns(), e.op(), List.of(M1, M3), e.parents(), e.clock(), e.author(), sig)),
        Arguments.of("refs reordered", new LogEntry(e.ns(), e.op(), List.of(M2, M1), e.parents(), e.clock(), e.author(), sig)),
        Arguments.of("refs extended", new LogEntry(e.ns(), e.op(), List.of(M1, M2, M3), e.parents(), e.clock(), e.author(), sig)),
        Arguments.of("refs shortened", new LogEntry(e.ns(), e.op(), List.of(M1), e.parents(), e.clock(), e.author(), sig)),
        Arguments.of("parent dropped", new LogEntry(e.ns(), e.op(), e.refs(), List.of(P1), e.clock(), e.author(), sig)),
        Arguments.of("parent added", new LogEntry(e.ns(), e.op(), e.refs(), List.of(P1, P2, M3), e.clock(), e.author(), sig)),
        Arguments.of("no parents", new LogEntry(e.ns(), e.op(), e.refs(), List.of(), e.clock(), e.author(), sig)),
        Arguments.of("clock + 1", new LogEntry(e.ns(), e.op(), e.refs(), e.parents(), e.clock() + 1, e.author(), sig)),
        Arguments.of("clock - 1", new LogEntry(e.ns(), e.op(), e.refs(), e.parents(), e.clock() - 1, e.author(), sig)),
        Arguments.of("author", new LogEntry(e.ns(), e.op(), e.refs(), e.parents(), e.clock(), BOB.did(), sig)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("tamperedEntries")
  void changingAnyFieldBreaksTheSignature(String field, LogEntry tampered) throws Exception {
    assertThat(tampered).isNotEqualTo(entry());
    assertThat(tampered.hasValidSignature()).isFalse();
    // The same holds after a trip through the wire form.
    assertThat(LogEntry.decode(tampered.encode()).hasValidSignature()).isFalse();
  }

  @Test
  void changingAnyByteOfTheSignatureBreaksIt() {
    LogEntry e = entry();
    for (int i = 0; i < 64; i++) {
      for (int bit : new int[] {0, 7}) {
        byte[] sig = e.sig();
        sig[i] ^= (byte) (1 << bit);
        LogEntry tampered = new LogEntry(e.ns(), e.op(), e.refs(), e.parents(), e.clock(), e.author(), sig);
        assertThat(tampered.hasValidSignature()).as("byte %d bit %d", i, bit).isFalse();
      }
    }
  }

  @Test
  void anotherKeysSignatureFails() {
    LogEntry unsignedByAlice = new LogEntry("team.notes", Op.ADD, List.of(M1), List.of(), 1, ALICE.did(), null);
    byte[] bobsSig = BOB.sign(unsignedByAlice.signingBytes());
    LogEntry forged = new LogEntry("team.notes", Op.ADD, List.of(M1), List.of(), 1, ALICE.did(), bobsSig);

    assertThat(forged.hasValidSignature()).isFalse();
    assertThat(LogEntry.signed(BOB, "team.notes", Op.ADD, List.of(M1), List.of(), 1).hasValidSignature()).isTrue();
  }

  @Test
  void unsignedEntryIsNotValidAndNotABlock() {
    LogEntry unsigned = new LogEntry("team.notes", Op.ADD, List.of(M1), List.of(), 1, ALICE.did(), null);
    assertThat(unsigned.hasValidSignature()).isFalse();
    assertThat(unsigned.sig()).isNull();
    assertThatThrownBy(unsigned::encode).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void wrongLengthSignatureIsInvalidNotAnError() {
    LogEntry e = entry();
    assertThat(new LogEntry(e.ns(), e.op(), e.refs(), e.parents(), e.clock(), e.author(), Arrays.copyOf(e.sig(), 63))
        .hasValidSignature()).isFalse();
    assertThat(new LogEntry(e.ns(), e.op(), e.refs(), e.parents(), e.clock(), e.author(), new byte[64])
        .hasValidSignature()).isFalse();
  }

  @Test
  void sigIsCopiedInAndOut() {
    LogEntry e = entry();
    byte[] sig = e.sig();
    sig[0] ^= 1;
    assertThat(e.hasValidSignature()).isTrue();
  }

  // ---------------------------------------------------------------- wire form

  @Test
  void decodeEncodeRoundTrip() throws Exception {
    LogEntry entry = entry();
    byte[] block = entry.encode();
    LogEntry decoded = LogEntry.decode(block);

    assertThat(decoded).isEqualTo(entry);
    assertThat(decoded.encode()).isEqualTo(block);
    assertThat(decoded.hasValidSignature()).isTrue();
    assertThat(decoded.refs()).containsExactly(M1, M2);
    assertThat(DagCbor.decodeMap(block).keySet())
        .containsExactly("v", "ns", "op", "sig", "refs", "clock", "author", "parents");
    assertThat(DagCbor.decodeMap(block)).containsEntry("op", "add").containsEntry("v", 2L)
        .containsEntry("clock", 7L).containsEntry("author", ALICE.did().toString());
  }

  @Test
  void randomEntriesRoundTripAndVerify() throws Exception {
    long seed = System.nanoTime();
    Random random = new Random(seed);
    for (int i = 0; i < 100; i++) {
      AgentKey key = random.nextBoolean() ? ALICE : BOB;
      List<Cid> refs = new ArrayList<>();
      for (int r = 1 + random.nextInt(5); r > 0; r--) {
        refs.add(memoryCid("ref " + random.nextLong()));
      }
      List<Cid> parents = new ArrayList<>();
      for (int p = random.nextInt(4); p > 0; p--) {
        parents.add(randomCid(random));
      }
      LogEntry entry = LogEntry.signed(key, "ns-" + random.nextInt(3), random.nextBoolean() ? Op.ADD : Op.FORGET,
          refs, parents, 1 + (random.nextLong() >>> 1) % Long.MAX_VALUE);
      byte[] block = entry.encode();
      LogEntry decoded = LogEntry.decode(block);
      assertThat(decoded).as("seed %d", seed).isEqualTo(entry);
      assertThat(decoded.hashCode()).as("seed %d", seed).isEqualTo(entry.hashCode());
      assertThat(decoded.encode()).as("seed %d", seed).isEqualTo(block);
      assertThat(decoded.hasValidSignature()).as("seed %d", seed).isTrue();
      assertThat(decoded.refs()).as("seed %d: refs keep their order", seed).isEqualTo(refs);
    }
  }

  @Test
  void parentsAreSortedByBinaryCidAndDeduped() throws Exception {
    long seed = System.nanoTime();
    Random random = new Random(seed);
    List<Cid> parents = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      parents.add(randomCid(random));
    }
    parents.add(parents.get(3));
    Collections.shuffle(parents, random);

    LogEntry entry = LogEntry.signed(ALICE, "n", Op.ADD, List.of(M1), parents, 2);

    List<Cid> expected = parents.stream().distinct()
        .sorted((a, b) -> Arrays.compareUnsigned(a.toBytes(), b.toBytes())).toList();
    assertThat(entry.parents()).as("seed %d", seed).containsExactlyElementsOf(expected);
    assertThat(DagCbor.decodeMap(entry.encode()).get("parents")).as("seed %d", seed).isEqualTo(expected);
    assertThat(LogEntry.decode(entry.encode()).parents()).as("seed %d", seed).containsExactlyElementsOf(expected);
  }

  @Test
  void parentsInDifferentOrderGiveTheSameEntry() {
    LogEntry a = LogEntry.signed(ALICE, "n", Op.ADD, List.of(M1), List.of(P1, P2, M3), 2);
    LogEntry b = LogEntry.signed(ALICE, "n", Op.ADD, List.of(M1), List.of(M3, P2, P1), 2);
    assertThat(a.signingBytes()).isEqualTo(b.signingBytes());
    assertThat(a.encode()).isEqualTo(b.encode());
  }

  static Stream<Arguments> badBlocks() {
    return Stream.of(
        bad("sig 63 bytes", b -> b.put("sig", new byte[63]), "64 bytes, found 63"),
        bad("sig 65 bytes", b -> b.put("sig", new byte[65]), "64 bytes, found 65"),
        bad("sig empty", b -> b.put("sig", new byte[0]), "64 bytes, found 0"),
        bad("sig missing", b -> b.remove("sig"), "missing field 'sig'"),
        bad("sig as string", b -> b.put("sig", "abc"), "field 'sig' must be bytes"),
        bad("author not a did", b -> b.put("author", "alice"), "bad author"),
        bad("author did:web", b -> b.put("author", "did:web:example.com"), "bad author"),
        bad("author bad base58", b -> b.put("author", ALICE.did().toString().replace('z', '0')), "bad author"),
        bad("author truncated", b -> b.put("author", ALICE.did().toString().substring(0, 40)), "bad author"),
        bad("author secp256k1", b -> b.put("author", "did:key:zQ3sgkxA1r9UUKeDtF6gRP5t3pbNSemByHZ3XvvkoJLg8DUrj"), "bad author"),
        bad("author as bytes", b -> b.put("author", ALICE.did().raw()), "field 'author' must be string"),
        bad("parents unsorted", b -> b.put("parents", descending(P1, P2)), "parents must be sorted and unique"),
        bad("parents duplicated", b -> b.put("parents", List.of(P1, P1)), "parents must be sorted and unique"),
        bad("parents with a non-link", b -> b.put("parents", List.of(P1.toString())), "must hold only links"),
        bad("parents missing", b -> b.remove("parents"), "missing field 'parents'"),
        bad("refs empty", b -> b.put("refs", List.of()), "references 1-"),
        bad("refs duplicated", b -> b.put("refs", List.of(M1, M1)), "each memory once"),
        bad("refs with a null", b -> b.put("refs", Arrays.asList(M1, null)), "must hold only links"),
        bad("refs as a single link", b -> b.put("refs", M1), "field 'refs' must be list"),
        bad("clock 0", b -> b.put("clock", 0L), "clock starts at 1"),
        bad("clock negative", b -> b.put("clock", -5L), "clock starts at 1"),
        bad("clock beyond long", b -> b.put("clock", BigInteger.ONE.shiftLeft(63)), "field 'clock' is outside the 64-bit signed integer range"),
        bad("clock as float", b -> b.put("clock", 7.0), "field 'clock' must be int"),
        bad("unknown op", b -> b.put("op", "delete"), "unknown op 'delete'"),
        bad("op in capitals", b -> b.put("op", "ADD"), "unknown op 'ADD'"),
        bad("op as int", b -> b.put("op", 1L), "field 'op' must be string"),
        bad("version 4", b -> b.put("v", 4L), "unsupported version 4"),
        bad("version 3 add", b -> b.put("v", 3L), "version 3 entries, and only they, invalidate"),
        bad("at on an add", b -> b.put("at", 5L), "only they, say when ('at')"),
        bad("version missing", b -> b.remove("v"), "missing field 'v'"),
        bad("unknown field", b -> b.put("ref", M1), "unknown field 'ref'"),
        bad("invalid namespace", b -> b.put("ns", "../etc"), "invalid namespace name"),
        bad("ns missing", b -> b.remove("ns"), "missing field 'ns'"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badBlocks")
  void decodeRejects(String name, Consumer<Map<String, Object>> damage, String message) {
    Map<String, Object> block = new LinkedHashMap<>(entry().toIpld());
    damage.accept(block);
    byte[] bytes = DagCbor.encode(block);

    assertThatThrownBy(() -> LogEntry.decode(bytes))
        .isInstanceOfSatisfying(InvalidFormatException.class, e -> assertThat(e.format()).isEqualTo("log entry"))
        .hasMessageStartingWith("log entry: ")
        .hasMessageContaining(message);
  }

  @Test
  void theUndamagedBlockOfTheRejectionTestsDecodes() throws Exception {
    assertThat(LogEntry.decode(DagCbor.encode(new LinkedHashMap<>(entry().toIpld())))).isEqualTo(entry());
  }

  @Test
  void decodeRejectsBytesThatAreNotAnEntry() {
    for (String hex : List.of("", "f6", "8101", "a0", "a1617601")) {
      byte[] bytes = HEX.parseHex(hex);
      assertThatThrownBy(() -> LogEntry.decode(bytes))
          .as(hex)
          .isInstanceOfSatisfying(InvalidFormatException.class, e -> assertThat(e.format()).isEqualTo("log entry"));
    }
  }

  @Test
  void constructorRefusals() {
    assertThatThrownBy(() -> new LogEntry("n", Op.ADD, List.of(), List.of(), 1, ALICE.did(), null))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new LogEntry("n", Op.ADD, List.of(M1, M1), List.of(), 1, ALICE.did(), null))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new LogEntry("n", Op.ADD, List.of(M1), List.of(), 0, ALICE.did(), null))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new LogEntry("n", null, List.of(M1), List.of(), 1, ALICE.did(), null))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new LogEntry("n", Op.ADD, List.of(M1), List.of(), 1, null, null))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new LogEntry("", Op.ADD, List.of(M1), List.of(), 1, ALICE.did(), null))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void opWireNames() {
    assertThat(Op.ADD.wire()).isEqualTo("add");
    assertThat(Op.FORGET.wire()).isEqualTo("forget");
    assertThat(Op.fromWire("forget")).isEqualTo(Op.FORGET);
    assertThatThrownBy(() -> Op.fromWire("remove")).isInstanceOf(IllegalArgumentException.class);
  }

  // ---------------------------------------------------------------- helpers

  private static Arguments bad(String name, Consumer<Map<String, Object>> damage, String message) {
    return Arguments.of(name, damage, message);
  }

  private static List<Cid> descending(Cid a, Cid b) {
    return a.compareTo(b) > 0 ? List.of(a, b) : List.of(b, a);
  }

  static byte[] seed(int n) {
    byte[] seed = new byte[32];
    Arrays.fill(seed, (byte) n);
    return seed;
  }

  static Cid memoryCid(String text) {
    return Cid.dagCbor(DagCbor.encode(Map.of("text", text)));
  }

  static Cid randomCid(Random random) {
    byte[] block = new byte[8];
    random.nextBytes(block);
    return switch (random.nextInt(3)) {
      case 0 -> Cid.dagCbor(block);
      case 1 -> Cid.of(Multicodec.RAW, block);
      default -> Cid.of(Multicodec.DAG_PB, block);
    };
  }
}
