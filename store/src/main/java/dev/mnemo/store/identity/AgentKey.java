package dev.mnemo.store.identity;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.NamedParameterSpec;
import java.util.Arrays;

/**
 * An Ed25519 key pair (the JDK's own EdDSA) that signs log entries. Its public half is a
 * {@link DidKey}. The 32-byte seed is the whole secret; {@link NodeKeyFile} persists it.
 */
public final class AgentKey {
  private final byte[] seed;
  private final PrivateKey privateKey;
  private final DidKey did;

  private AgentKey(byte[] seed) {
    this.seed = seed.clone();
    try {
      // The JDK derives an Ed25519 key pair from the first 32 bytes its random source yields, and
      // offers no other public way to get the public key of a seed; feeding it the seed does that.
      KeyPairGenerator generator = KeyPairGenerator.getInstance("Ed25519");
      generator.initialize(NamedParameterSpec.ED25519, new SeedRandom(this.seed));
      KeyPair pair = generator.generateKeyPair();
      this.privateKey = pair.getPrivate();
      this.did = DidKey.of(pair.getPublic());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK has no Ed25519", e);
    }
  }

  public static AgentKey generate() {
    byte[] seed = new byte[32];
    new SecureRandom().nextBytes(seed);
    return new AgentKey(seed);
  }

  public static AgentKey fromSeed(byte[] seed) {
    if (seed == null || seed.length != 32) {
      throw new IllegalArgumentException("an Ed25519 seed is 32 bytes");
    }
    return new AgentKey(seed);
  }

  public DidKey did() {
    return did;
  }

  public byte[] seed() {
    return seed.clone();
  }

  public byte[] sign(byte[] data) {
    try {
      Signature signer = Signature.getInstance("Ed25519");
      signer.initSign(privateKey);
      signer.update(data);
      return signer.sign();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("Ed25519 signing failed", e);
    }
  }

  @Override
  public String toString() {
    return "AgentKey[" + did + "]";
  }

  /** Yields the seed once, then refuses: a second read would mean the JDK changed how it derives. */
  private static final class SeedRandom extends SecureRandom {
    private byte[] remaining;

    SeedRandom(byte[] seed) {
      this.remaining = seed.clone();
    }

    @Override
    public void nextBytes(byte[] bytes) {
      if (remaining == null || bytes.length > remaining.length) {
        throw new IllegalStateException("Ed25519 key derivation asked for unexpected random bytes");
      }
      System.arraycopy(remaining, 0, bytes, 0, bytes.length);
      Arrays.fill(remaining, (byte) 0);
      remaining = null;
    }
  }
}
