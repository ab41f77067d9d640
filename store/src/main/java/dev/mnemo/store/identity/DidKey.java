package dev.mnemo.store.identity;

import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.cid.Multibase;
import dev.mnemo.store.cid.Multicodec;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.SignatureException;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * An Ed25519 public key in its {@code did:key} text form: {@code did:key:z} + base58btc of the
 * multicodec ed25519-pub prefix (0xed 0x01) and the 32-byte key. Verifies signatures.
 */
public final class DidKey {
  static final String PREFIX = "did:key:z";
  /** X.509 SubjectPublicKeyInfo header for an Ed25519 key; the raw 32 bytes follow it. */
  static final byte[] X509_PREFIX = HexFormat.of().parseHex("302a300506032b6570032100");
  private static final String FORMAT = "did:key";

  private final byte[] raw;
  private final PublicKey publicKey;
  private final String text;

  private DidKey(byte[] raw) throws InvalidFormatException {
    this.raw = raw.clone();
    try {
      byte[] x509 = Arrays.copyOf(X509_PREFIX, X509_PREFIX.length + 32);
      System.arraycopy(raw, 0, x509, X509_PREFIX.length, 32);
      this.publicKey = KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(x509));
    } catch (GeneralSecurityException e) {
      throw new InvalidFormatException(FORMAT, "not a valid Ed25519 public key", e);
    }
    byte[] prefixed = new byte[34];
    prefixed[0] = (byte) Multicodec.ED25519_PUB;
    prefixed[1] = 0x01;
    System.arraycopy(raw, 0, prefixed, 2, 32);
    this.text = "did:key:" + Multibase.encodeBase58btc(prefixed);
  }

  /** The did:key of a raw 32-byte Ed25519 public key. */
  public static DidKey fromRaw(byte[] raw) throws InvalidFormatException {
    if (raw == null || raw.length != 32) {
      throw new InvalidFormatException(FORMAT, "an Ed25519 public key is 32 bytes");
    }
    return new DidKey(raw);
  }

  static DidKey of(PublicKey key) {
    byte[] encoded = key.getEncoded();
    try {
      return new DidKey(Arrays.copyOfRange(encoded, encoded.length - 32, encoded.length));
    } catch (InvalidFormatException e) {
      throw new IllegalStateException("the JDK produced an Ed25519 key it cannot read back", e);
    }
  }

  public static DidKey parse(String did) throws InvalidFormatException {
    if (did == null || !did.startsWith(PREFIX)) {
      throw new InvalidFormatException(FORMAT, "must start with '" + PREFIX + "'");
    }
    if (did.length() > 128) {
      throw new InvalidFormatException(FORMAT, "too long");
    }
    byte[] decoded;
    try {
      decoded = Multibase.decodeBase58(did.substring(PREFIX.length()));
    } catch (InvalidFormatException e) {
      throw new InvalidFormatException(FORMAT, e.getMessage(), e);
    }
    if (decoded.length < 2 || (decoded[0] & 0xFF) != Multicodec.ED25519_PUB || decoded[1] != 0x01) {
      throw new InvalidFormatException(FORMAT, "only Ed25519 keys (multicodec 0xed) are supported");
    }
    if (decoded.length != 34) {
      throw new InvalidFormatException(FORMAT, "an Ed25519 key is 32 bytes, this one is " + (decoded.length - 2));
    }
    return new DidKey(Arrays.copyOfRange(decoded, 2, 34));
  }

  /** Whether {@code signature} is this key's Ed25519 signature of {@code data}. */
  public boolean verify(byte[] data, byte[] signature) {
    if (signature == null || signature.length != 64) {
      return false;
    }
    try {
      Signature verifier = Signature.getInstance("Ed25519");
      verifier.initVerify(publicKey);
      verifier.update(data);
      return verifier.verify(signature);
    } catch (InvalidKeyException | SignatureException e) {
      return false;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK has no Ed25519", e);
    }
  }

  public byte[] raw() {
    return raw.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof DidKey d && Arrays.equals(d.raw, raw);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(raw);
  }

  @Override
  public String toString() {
    return text;
  }
}
