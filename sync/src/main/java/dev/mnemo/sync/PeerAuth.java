package dev.mnemo.sync;

import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.identity.AgentKey;
import dev.mnemo.store.identity.DidKey;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Signed node-to-node HTTP requests. A node signs each request to a peer with its node key:
 *
 * <pre>Authorization: MnemoNode did=did:key:z…, ts=1733590000000, sig=base64url</pre>
 *
 * The signature (Ed25519) covers {@code "mnemo node request v1\n"}, then, a line each: the method,
 * the path with its query, the did:key of the node addressed, the timestamp (epoch milliseconds)
 * and the hex SHA-256 of the body (of nothing, for a GET). The receiver checks the signature with
 * its own did as the audience (a request signed for one node is no good at another: a peer cannot
 * replay what it was sent to a third node) and refuses a timestamp more than {@link #MAX_SKEW}
 * from its clock. The server half (the sync endpoint) calls {@link #verify}; {@link PeerClient}
 * calls {@link #sign} for every request.
 *
 * <p>Not covered: a replay of the same request to the same node within the skew window, by
 * someone who can see the traffic. Every node-to-node call is a read that such an observer sees
 * the answer to anyway; TLS closes that.
 */
public final class PeerAuth {
  public static final String SCHEME = "MnemoNode";
  public static final Duration MAX_SKEW = Duration.ofMinutes(5);
  /** Longer than any header this class writes (a did:key is 56 characters, a signature 86). */
  static final int MAX_HEADER_LENGTH = 512;
  private static final byte[] CONTEXT = "mnemo node request v1\n".getBytes(StandardCharsets.UTF_8);

  /** Why a request is not authenticated. */
  public enum Failure {
    /** No {@code Authorization: MnemoNode …} header. */
    MISSING,
    /** A header of the scheme that cannot be read: fields missing, repeated or malformed. */
    MALFORMED,
    /** The signature does not verify for this request, addressed to this node, by that did. */
    BAD_SIGNATURE,
    /** The timestamp is more than {@link #MAX_SKEW} from this node's clock. */
    CLOCK_SKEW
  }

  /** A request that does not authenticate, and why. */
  public static final class RejectedException extends Exception {
    private final Failure failure;

    RejectedException(Failure failure, String message) {
      super(message);
      this.failure = failure;
    }

    public Failure failure() {
      return failure;
    }
  }

  private final AgentKey key;
  private final Clock clock;

  public PeerAuth(AgentKey nodeKey) {
    this(nodeKey, Clock.systemUTC());
  }

  public PeerAuth(AgentKey nodeKey, Clock clock) {
    this.key = nodeKey;
    this.clock = clock;
  }

  /** This node's did: the audience requests to it must be signed for. */
  public DidKey did() {
    return key.did();
  }

  /**
   * The {@code Authorization} header value for a request to the node {@code audience}.
   *
   * @param pathAndQuery the request target as sent: path, and {@code ?query} if any
   * @param body the request body; null or empty for none
   */
  public String sign(DidKey audience, String method, String pathAndQuery, byte[] body) {
    long ts = clock.millis();
    byte[] sig = key.sign(signedBytes(method, pathAndQuery, audience, ts, body));
    return SCHEME + " did=" + key.did() + ", ts=" + ts + ", sig=" + Base64.getUrlEncoder().withoutPadding().encodeToString(sig);
  }

  /**
   * The did of the node that signed this request to this node.
   *
   * @param authorization the {@code Authorization} header, null if absent
   * @param pathAndQuery the request target as received: path, and {@code ?query} if any
   * @param body the request body as received; null or empty for none
   * @throws RejectedException when the request is not a signed request from a node to this one
   */
  public DidKey verify(String authorization, String method, String pathAndQuery, byte[] body) throws RejectedException {
    if (authorization == null || !authorization.regionMatches(true, 0, SCHEME + " ", 0, SCHEME.length() + 1)) {
      throw new RejectedException(Failure.MISSING, "no " + SCHEME + " authorization");
    }
    if (authorization.length() > MAX_HEADER_LENGTH) {
      throw new RejectedException(Failure.MALFORMED, "authorization longer than " + MAX_HEADER_LENGTH);
    }
    Map<String, String> fields = new LinkedHashMap<>();
    for (String field : authorization.substring(SCHEME.length() + 1).split(",")) {
      int eq = field.indexOf('=');
      if (eq <= 0 || fields.put(field.substring(0, eq).trim(), field.substring(eq + 1).trim()) != null) {
        throw new RejectedException(Failure.MALFORMED, "authorization fields must be did=, ts=, sig=, each once");
      }
    }
    if (fields.size() != 3 || !fields.containsKey("did") || !fields.containsKey("ts") || !fields.containsKey("sig")) {
      throw new RejectedException(Failure.MALFORMED, "authorization fields must be did=, ts=, sig=, each once");
    }
    DidKey did;
    long ts;
    byte[] sig;
    try {
      did = DidKey.parse(fields.get("did"));
      ts = Long.parseLong(fields.get("ts"));
      sig = Base64.getUrlDecoder().decode(fields.get("sig"));
    } catch (InvalidFormatException | IllegalArgumentException e) {
      throw new RejectedException(Failure.MALFORMED, "unreadable authorization: " + e.getMessage());
    }
    long skew = Math.abs(clock.millis() - ts);
    if (skew > MAX_SKEW.toMillis()) {
      throw new RejectedException(Failure.CLOCK_SKEW, "request timestamp " + skew / 1000 + " s from this node's clock (at most "
          + MAX_SKEW.toSeconds() + " s)");
    }
    if (!did.verify(signedBytes(method, pathAndQuery, key.did(), ts, body), sig)) {
      throw new RejectedException(Failure.BAD_SIGNATURE, "signature by " + did + " does not verify for "
          + method + " " + pathAndQuery + " to " + key.did());
    }
    return did;
  }

  private static byte[] signedBytes(String method, String pathAndQuery, DidKey audience, long ts, byte[] body) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    out.writeBytes(CONTEXT);
    String lines = method.toUpperCase(Locale.ROOT) + "\n" + pathAndQuery + "\n" + audience + "\n" + ts + "\n"
        + HexFormat.of().formatHex(sha256(body == null ? new byte[0] : body));
    out.writeBytes(lines.getBytes(StandardCharsets.UTF_8));
    return out.toByteArray();
  }

  private static byte[] sha256(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }
}
