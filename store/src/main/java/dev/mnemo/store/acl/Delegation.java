package dev.mnemo.store.acl;

import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.codec.DagCbor;
import dev.mnemo.store.identity.AgentKey;
import dev.mnemo.store.identity.DidKey;
import dev.mnemo.store.model.Namespace;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An agent's signed permission for a node to write log entries as the agent (UCAN 1.0 as the
 * model): {@code {v: 1, iss, aud, sub, can, nonce, sig}} in DAG-CBOR. {@code iss} is the agent
 * (the entries' author), {@code aud} the node that signs the entries, {@code sub} the namespace
 * name or {@code *} for every namespace, {@code can} the abilities delegated (sorted wire names),
 * {@code nonce} 12 random bytes so two delegations of the same scope differ, and {@code sig} the
 * issuer's Ed25519 signature over the DAG-CBOR of the map without {@code sig}.
 *
 * <p>There is no expiry: every replica must decide an entry's validity identically and forever,
 * so validity cannot depend on a clock. Nor can a delegation be withdrawn on its own: what it
 * lets a node write is checked as the agent's own entries are, so it ends where the agent's
 * abilities end (a revoke of the agent's grant); a namespace the agent owns it covers for good.
 */
public record Delegation(DidKey iss, DidKey aud, String sub, Set<Ability> can, byte[] nonce, byte[] sig) {
  public static final long VERSION = 1;
  /** A delegation's {@code sub} that covers every namespace. */
  public static final String ANY_NAMESPACE = "*";
  static final String FORMAT = "delegation";
  /** Larger encodings are refused before decoding: a delegation is a few hundred bytes. */
  public static final int MAX_BYTES = 1_024;
  private static final Set<String> FIELDS = Set.of("v", "iss", "aud", "sub", "can", "nonce", "sig");
  private static final SecureRandom RANDOM = new SecureRandom();
  /**
   * Delegations already verified, by their bytes: one delegation rides in every entry its node
   * writes for the agent, and re-verifying it each time would double the signature checks.
   */
  private static final Map<ByteBuffer, Delegation> VERIFIED = java.util.Collections.synchronizedMap(
      new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<ByteBuffer, Delegation> eldest) {
          return size() > 4_096;
        }
      });

  public Delegation {
    if (iss == null || aud == null || sub == null || can == null || nonce == null) {
      throw new IllegalArgumentException("a delegation needs iss, aud, sub, can and nonce");
    }
    if (!sub.equals(ANY_NAMESPACE)) {
      Namespace.requireValid(sub);
    }
    if (can.isEmpty()) {
      throw new IllegalArgumentException("a delegation grants at least one ability");
    }
    if (nonce.length != 12) {
      throw new IllegalArgumentException("a delegation's nonce is 12 bytes");
    }
    can = Set.copyOf(can);
    nonce = nonce.clone();
    sig = sig == null ? null : sig.clone();
  }

  /** A delegation from {@code issuer} to {@code audience} of {@code can} in namespace {@code sub} (or {@code *}), signed. */
  public static Delegation sign(AgentKey issuer, DidKey audience, String sub, Set<Ability> can) {
    byte[] nonce = new byte[12];
    RANDOM.nextBytes(nonce);
    Delegation unsigned = new Delegation(issuer.did(), audience, sub, can, nonce, null);
    return new Delegation(issuer.did(), audience, sub, can, nonce, issuer.sign(unsigned.signingBytes()));
  }

  /** Whether it lets its audience write entries of namespace {@code ns} that need {@code ability}. */
  public boolean covers(String ns, Ability ability) {
    return (sub.equals(ANY_NAMESPACE) || sub.equals(ns)) && (can.contains(ability) || can.contains(Ability.ADMIN));
  }

  /** Whether {@code sig} is the issuer's signature of the rest. */
  public boolean verify() {
    return sig != null && iss.verify(signingBytes(), sig);
  }

  public byte[] signingBytes() {
    Map<String, Object> map = toIpld();
    map.remove("sig");
    return DagCbor.encode(map);
  }

  private Map<String, Object> toIpld() {
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("v", VERSION);
    map.put("iss", iss.toString());
    map.put("aud", aud.toString());
    map.put("sub", sub);
    map.put("can", Ability.wireList(can));
    map.put("nonce", nonce);
    if (sig != null) {
      map.put("sig", sig);
    }
    return map;
  }

  public byte[] encode() {
    if (sig == null) {
      throw new IllegalStateException("an unsigned delegation cannot be encoded");
    }
    return DagCbor.encode(toIpld());
  }

  /** Decodes a delegation, checking its structure, not its signature (see {@link #verify()}). */
  public static Delegation decode(byte[] bytes) throws InvalidFormatException {
    if (bytes == null || bytes.length > MAX_BYTES) {
      throw new InvalidFormatException(FORMAT, "larger than " + MAX_BYTES + " bytes");
    }
    Map<String, Object> map;
    try {
      map = DagCbor.decodeMap(bytes);
    } catch (InvalidFormatException e) {
      throw new InvalidFormatException(FORMAT, e.getMessage(), e);
    }
    for (String key : map.keySet()) {
      if (!FIELDS.contains(key)) {
        throw new InvalidFormatException(FORMAT, "unknown field '" + key + "'");
      }
    }
    if (!(map.get("v") instanceof Long v)) {
      throw new InvalidFormatException(FORMAT, "missing or non-integer field 'v'");
    }
    if (v != VERSION) {
      throw new InvalidFormatException(FORMAT, "unsupported version " + v + " (this node reads " + VERSION + ")");
    }
    try {
      Delegation d = new Delegation(did(map, "iss"), did(map, "aud"),
          field(map, "sub", String.class), Ability.fromWireList(field(map, "can", List.class)),
          field(map, "nonce", byte[].class), field(map, "sig", byte[].class));
      if (d.sig.length != 64) {
        throw new InvalidFormatException(FORMAT, "an Ed25519 signature is 64 bytes, found " + d.sig.length);
      }
      return d;
    } catch (IllegalArgumentException e) {
      throw new InvalidFormatException(FORMAT, e.getMessage(), e);
    }
  }

  /**
   * Decodes and verifies a delegation, remembering the ones that verified; throws with the reason
   * when it is malformed or its signature is not its issuer's.
   */
  public static Delegation decodeVerified(byte[] bytes) throws InvalidFormatException {
    ByteBuffer key = ByteBuffer.wrap(bytes.clone());
    Delegation known = VERIFIED.get(key);
    if (known != null) {
      return known;
    }
    Delegation d = decode(bytes);
    if (!d.verify()) {
      throw new InvalidFormatException(FORMAT, "its signature is not by its issuer " + d.iss);
    }
    VERIFIED.put(key, d);
    return d;
  }

  private static DidKey did(Map<String, Object> map, String key) throws InvalidFormatException {
    try {
      return DidKey.parse(field(map, key, String.class));
    } catch (InvalidFormatException e) {
      if (e.format().equals(FORMAT)) {
        throw e;
      }
      throw new InvalidFormatException(FORMAT, "bad " + key + ": " + e.getMessage(), e);
    }
  }

  private static <T> T field(Map<String, Object> map, String key, Class<T> type) throws InvalidFormatException {
    Object value = map.get(key);
    if (value == null) {
      throw new InvalidFormatException(FORMAT, "missing field '" + key + "'");
    }
    if (!type.isInstance(value)) {
      throw new InvalidFormatException(FORMAT, "field '" + key + "' must be " + type.getSimpleName() + ", found " + DagCbor.kind(value));
    }
    return type.cast(value);
  }

  @Override
  public byte[] nonce() {
    return nonce.clone();
  }

  @Override
  public byte[] sig() {
    return sig == null ? null : sig.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Delegation d && d.iss.equals(iss) && d.aud.equals(aud) && d.sub.equals(sub) && d.can.equals(can)
        && Arrays.equals(d.nonce, nonce) && Arrays.equals(d.sig, sig);
  }

  @Override
  public int hashCode() {
    return ((iss.hashCode() * 31 + aud.hashCode()) * 31 + sub.hashCode()) * 31 + Arrays.hashCode(nonce);
  }

  @Override
  public String toString() {
    return "Delegation[" + iss + " -> " + aud + " " + sub + " " + Ability.wireList(can) + "]";
  }
}
