package dev.mnemo.store.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.codec.DagCbor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * did:key and Ed25519 keys. Expected raw keys were derived outside this code base: the did:key
 * strings base58-decoded by a hand-written python3 decoder, the RFC 8032 vectors checked with
 * python3 cryptography.
 */
class DidKeyTest {
  private static final HexFormat HEX = HexFormat.of();

  // RFC 8032 section 7.1, TEST 1 and TEST 2.
  static final String RFC1_SEED = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
  static final String RFC1_PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
  static final String RFC1_SIG_EMPTY = "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
      + "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";
  /** did:key of {@link #RFC1_PUBLIC}: base58btc of ed 01 || key, computed in python3. */
  static final String RFC1_DID = "did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw";
  static final String RFC2_SEED = "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb";
  static final String RFC2_PUBLIC = "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";
  static final String RFC2_SIG_72 = "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
      + "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00";

  // ---------------------------------------------------------------- did:key

  /**
   * The W3C CCG did:key spec's Ed25519 example (its JWK x is O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik),
   * and two more published did documents whose publicKeyBase58 decodes to the same bytes.
   */
  @ParameterizedTest
  @CsvSource({
      "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp, 3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29",
      "did:key:z6MkmjY8GnV5i9YTDtPETC2uUAW6ejw3nk5mXF5yci5ab7th, 6c2d48b1605684ef94363dc6158eeb6577466e1a36a740f2fc624617edb7712e",
      "did:key:z6Mkgg342Ycpuk263R9d8Aq6MUaxPn1DDeHyGo38EefXmgDL, 20fd3bd58fcc1bea2f34f3092168fbe58caf803f23d2d0bbe043007ef4485a87",
      "did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw, d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
  })
  void publishedDidKeysDecodeToTheirRawKeys(String did, String rawHex) throws Exception {
    DidKey key = DidKey.parse(did);

    assertThat(HEX.formatHex(key.raw())).isEqualTo(rawHex);
    assertThat(key.toString()).isEqualTo(did);
    assertThat(DidKey.fromRaw(HEX.parseHex(rawHex)).toString()).isEqualTo(did);
    assertThat(DidKey.fromRaw(HEX.parseHex(rawHex))).isEqualTo(key).hasSameHashCodeAs(key);
  }

  @Test
  void generatedKeysRoundTripThroughText() throws Exception {
    for (int i = 0; i < 20; i++) {
      AgentKey agent = AgentKey.generate();
      DidKey did = agent.did();
      String text = did.toString();

      assertThat(text).startsWith("did:key:z6Mk");
      DidKey parsed = DidKey.parse(text);
      assertThat(parsed).isEqualTo(did);
      assertThat(parsed.toString()).isEqualTo(text);
      assertThat(parsed.raw()).isEqualTo(did.raw()).hasSize(32);
      assertThat(DidKey.fromRaw(did.raw())).isEqualTo(did);
    }
  }

  @Test
  void rawIsACopy() throws Exception {
    DidKey key = DidKey.parse(RFC1_DID);
    key.raw()[0] ^= 1;
    assertThat(HEX.formatHex(key.raw())).isEqualTo(RFC1_PUBLIC);
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @CsvSource(delimiter = '|', textBlock = """
      did:web:example.com                                                  | must start with 'did:key:z'
      did:key:6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp               | must start with 'did:key:z'
      did:key:uO2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik                  | must start with 'did:key:z'
      DID:KEY:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp             | must start with 'did:key:z'
      z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp                     | must start with 'did:key:z'
      did:key:z                                                            | empty base58
      did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooW0             | invalid base58 character '0'
      did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWl             | invalid base58 character 'l'
      did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp#z6MkiTBz1ym | invalid base58 character '#'
      did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8qu G5GLVVQR3djdX3mDooWp            | invalid base58 character ' '
      did:key:zQ3sgkxA1r9UUKeDtF6gRP5t3pbNSemByHZ3XvvkoJLg8DUrj             | only Ed25519
      did:key:z6LSeu9HkTHSfLLeUs2nnzUSNedgDUevfNQgQjQC23ZCit6F              | only Ed25519
      did:key:z2DQUz8yxybcgY49o2TDENNPqPQBbVynuU6CcNCWtSMrwMx               | did:key
      did:key:zQebecGaHdoVnoJG767ZUcQLQ857pRDTS3ASqDZtV5XgUfRZ2             | did:key
      did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooW               | did:key
      did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWpp             | did:key
      did:key:z1116MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp          | did:key
      """)
  void parseRejectsMalformedDids(String did, String message) {
    assertThatThrownBy(() -> DidKey.parse(did))
        .isInstanceOf(InvalidFormatException.class)
        .hasMessageContaining(message);
  }

  @ParameterizedTest
  @NullAndEmptySource
  void parseRejectsNullAndEmpty(String did) {
    assertThatThrownBy(() -> DidKey.parse(did))
        .isInstanceOfSatisfying(InvalidFormatException.class, e -> assertThat(e.format()).isEqualTo("did:key"));
  }

  @Test
  void parseRejectsOverlongText() {
    assertThatThrownBy(() -> DidKey.parse("did:key:z" + "6Mk".repeat(100)))
        .isInstanceOf(InvalidFormatException.class)
        .hasMessageContaining("too long");
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 31, 33, 64})
  void fromRawRejectsWrongLengths(int length) {
    assertThatThrownBy(() -> DidKey.fromRaw(new byte[length]))
        .isInstanceOf(InvalidFormatException.class)
        .hasMessageContaining("32 bytes");
    assertThatThrownBy(() -> DidKey.fromRaw(null)).isInstanceOf(InvalidFormatException.class);
  }

  // ---------------------------------------------------------------- Ed25519 keys

  @Test
  void rfc8032TestVectorOne() throws Exception {
    AgentKey key = AgentKey.fromSeed(HEX.parseHex(RFC1_SEED));

    assertThat(HEX.formatHex(key.did().raw())).isEqualTo(RFC1_PUBLIC);
    assertThat(key.did().toString()).isEqualTo(RFC1_DID);
    assertThat(HEX.formatHex(key.sign(new byte[0]))).isEqualTo(RFC1_SIG_EMPTY);
    assertThat(DidKey.parse(RFC1_DID).verify(new byte[0], HEX.parseHex(RFC1_SIG_EMPTY))).isTrue();
  }

  @Test
  void rfc8032TestVectorTwo() throws Exception {
    AgentKey key = AgentKey.fromSeed(HEX.parseHex(RFC2_SEED));
    byte[] message = {0x72};

    assertThat(HEX.formatHex(key.did().raw())).isEqualTo(RFC2_PUBLIC);
    assertThat(HEX.formatHex(key.sign(message))).isEqualTo(RFC2_SIG_72);
    assertThat(DidKey.fromRaw(HEX.parseHex(RFC2_PUBLIC)).verify(message, HEX.parseHex(RFC2_SIG_72))).isTrue();
  }

  @Test
  void fromSeedIsDeterministic() {
    byte[] seed = new byte[32];
    Arrays.fill(seed, (byte) 7);
    AgentKey a = AgentKey.fromSeed(seed);
    AgentKey b = AgentKey.fromSeed(seed.clone());
    byte[] message = "remember this".getBytes(StandardCharsets.UTF_8);

    assertThat(a.did()).isEqualTo(b.did());
    assertThat(a.did().toString()).isEqualTo(b.did().toString());
    assertThat(a.sign(message)).isEqualTo(b.sign(message));
    assertThat(a.seed()).isEqualTo(seed);

    seed[0] = 8;
    assertThat(AgentKey.fromSeed(seed).did()).isNotEqualTo(a.did());
  }

  @Test
  void seedIsCopiedInAndOut() {
    byte[] seed = HEX.parseHex(RFC1_SEED);
    AgentKey key = AgentKey.fromSeed(seed);
    seed[0] ^= 1;
    key.seed()[1] ^= 1;
    assertThat(HEX.formatHex(key.seed())).isEqualTo(RFC1_SEED);
    assertThat(HEX.formatHex(key.did().raw())).isEqualTo(RFC1_PUBLIC);
  }

  @Test
  void fromSeedRejectsWrongLengths() {
    assertThatThrownBy(() -> AgentKey.fromSeed(null)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> AgentKey.fromSeed(new byte[31])).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> AgentKey.fromSeed(new byte[33])).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void generatedKeysAreDistinct() {
    assertThat(AgentKey.generate().did()).isNotEqualTo(AgentKey.generate().did());
  }

  @Test
  void verifyRefusesWrongMessageSignatureOrKey() {
    AgentKey key = AgentKey.fromSeed(HEX.parseHex(RFC2_SEED));
    AgentKey other = AgentKey.fromSeed(HEX.parseHex(RFC1_SEED));
    byte[] message = "hello".getBytes(StandardCharsets.UTF_8);
    byte[] sig = key.sign(message);

    assertThat(key.did().verify(message, sig)).isTrue();
    assertThat(key.did().verify("hellO".getBytes(StandardCharsets.UTF_8), sig)).isFalse();
    assertThat(other.did().verify(message, sig)).isFalse();
    assertThat(key.did().verify(message, Arrays.copyOf(sig, 63))).isFalse();
    assertThat(key.did().verify(message, Arrays.copyOf(sig, 65))).isFalse();
    assertThat(key.did().verify(message, null)).isFalse();
    assertThat(key.did().verify(message, new byte[64])).isFalse();
    byte[] flipped = sig.clone();
    flipped[40] ^= 0x10;
    assertThat(key.did().verify(message, flipped)).isFalse();
  }

  // ---------------------------------------------------------------- node key file

  @Test
  void loadOrCreateCreatesAnOwnerOnlyFileOnce(@TempDir Path dir) throws Exception {
    Path dataDir = dir.resolve("data/node");
    AgentKey created = NodeKeyFile.loadOrCreate(dataDir);
    Path file = dataDir.resolve(NodeKeyFile.FILE_NAME);

    assertThat(file).isRegularFile();
    assertThat(Files.getPosixFilePermissions(file)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
    try (var listing = Files.list(dataDir)) {
      assertThat(listing.map(p -> p.getFileName().toString())).containsExactly(NodeKeyFile.FILE_NAME);
    }
    byte[] bytes = Files.readAllBytes(file);
    Map<String, Object> map = DagCbor.decodeMap(bytes);
    assertThat(map).containsOnlyKeys("v", "type", "seed", "did")
        .containsEntry("v", 1L)
        .containsEntry("type", "ed25519")
        .containsEntry("did", created.did().toString());
    assertThat((byte[]) map.get("seed")).isEqualTo(created.seed());

    AgentKey reloaded = NodeKeyFile.loadOrCreate(dataDir);
    assertThat(reloaded.did()).isEqualTo(created.did());
    assertThat(reloaded.seed()).isEqualTo(created.seed());
    assertThat(Files.readAllBytes(file)).as("the second call does not rewrite the file").isEqualTo(bytes);
    byte[] message = {1, 2, 3};
    assertThat(created.did().verify(message, reloaded.sign(message))).isTrue();
  }

  @Test
  void differentDirectoriesGetDifferentIdentities(@TempDir Path dir) throws Exception {
    assertThat(NodeKeyFile.loadOrCreate(dir.resolve("a")).did())
        .isNotEqualTo(NodeKeyFile.loadOrCreate(dir.resolve("b")).did());
  }

  @Test
  void loadsAHandWrittenFile(@TempDir Path dir) throws Exception {
    writeKeyFile(dir, 1L, "ed25519", HEX.parseHex(RFC1_SEED), RFC1_DID);
    AgentKey key = NodeKeyFile.loadOrCreate(dir);
    assertThat(key.did().toString()).isEqualTo(RFC1_DID);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "00", "ff", "a0a0", "a1617601", "8101"})
  void rejectsACorruptFile(String hex, @TempDir Path dir) throws Exception {
    Files.write(dir.resolve(NodeKeyFile.FILE_NAME), HEX.parseHex(hex));
    assertRejected(dir, "");
  }

  @Test
  void rejectsATruncatedFile(@TempDir Path dir) throws Exception {
    NodeKeyFile.loadOrCreate(dir);
    Path file = dir.resolve(NodeKeyFile.FILE_NAME);
    byte[] bytes = Files.readAllBytes(file);
    Files.write(file, Arrays.copyOf(bytes, bytes.length - 5));
    assertRejected(dir, "corrupt");
  }

  @Test
  void rejectsAFileWhoseSeedWasDamaged(@TempDir Path dir) throws Exception {
    AgentKey created = NodeKeyFile.loadOrCreate(dir);
    Path file = dir.resolve(NodeKeyFile.FILE_NAME);
    byte[] bytes = Files.readAllBytes(file);
    byte[] seed = created.seed();
    int at = indexOf(bytes, seed);
    assertThat(at).isPositive();
    bytes[at + 10] ^= 0x01;
    Files.write(file, bytes);

    assertRejected(dir, "does not match the recorded did");
  }

  @Test
  void rejectsAWrongVersion(@TempDir Path dir) throws Exception {
    writeKeyFile(dir, 2L, "ed25519", HEX.parseHex(RFC1_SEED), RFC1_DID);
    assertRejected(dir, "unsupported version 2");
  }

  @Test
  void rejectsAMissingVersion(@TempDir Path dir) throws Exception {
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("type", "ed25519");
    map.put("seed", HEX.parseHex(RFC1_SEED));
    map.put("did", RFC1_DID);
    Files.write(dir.resolve(NodeKeyFile.FILE_NAME), DagCbor.encode(map));
    assertRejected(dir, "unsupported version");
  }

  @Test
  void rejectsASeedThatDoesNotMatchTheDid(@TempDir Path dir) throws Exception {
    writeKeyFile(dir, 1L, "ed25519", HEX.parseHex(RFC2_SEED), RFC1_DID);
    assertRejected(dir, "does not match the recorded did");
  }

  @Test
  void rejectsOtherKeyTypesAndSeedSizes(@TempDir Path dir) throws Exception {
    writeKeyFile(dir, 1L, "x25519", HEX.parseHex(RFC1_SEED), RFC1_DID);
    assertRejected(dir, "does not hold an Ed25519 seed");
    writeKeyFile(dir, 1L, "ed25519", Arrays.copyOf(HEX.parseHex(RFC1_SEED), 31), RFC1_DID);
    assertRejected(dir, "does not hold an Ed25519 seed");
  }

  private static void assertRejected(Path dir, String message) {
    assertThatThrownBy(() -> NodeKeyFile.loadOrCreate(dir))
        .isInstanceOfSatisfying(InvalidFormatException.class, e -> assertThat(e.format()).isEqualTo("key file"))
        .hasMessageContaining(NodeKeyFile.FILE_NAME)
        .hasMessageContaining(message);
  }

  private static void writeKeyFile(Path dir, long version, String type, byte[] seed, String did) throws Exception {
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("v", version);
    map.put("type", type);
    map.put("seed", seed);
    map.put("did", did);
    Files.write(dir.resolve(NodeKeyFile.FILE_NAME), DagCbor.encode(map));
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
