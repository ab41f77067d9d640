package dev.mnemo.sync;

import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.identity.AgentKey;
import dev.mnemo.store.identity.DidKey;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * What a node tells the gossip cluster about itself, signed by its node key: UTF-8 text
 * {@code v2|<http base URL>|<gossip HOST:PORT>|<ns,ns,…>|<did:key>|<signature>} (never
 * Java-serialized). The signature (Ed25519, base64url) covers
 * {@code "mnemo member\n"} followed by everything before the last {@code |}.
 *
 * <p>The gossip address is signed so that a member cannot pass another node's metadata off as
 * its own: messages to a member go to the address it gossips from, and a copied card names an
 * address the copier does not hold.
 */
record MemberMetadata(String http, String gossip, Set<String> namespaces, DidKey did) {
  static final String VERSION = "v2";
  private static final String FORMAT = "member metadata";
  private static final byte[] CONTEXT = "mnemo member\n".getBytes(StandardCharsets.UTF_8);
  /** Far above an honest card (a few namespaces), far below what would cost anything to check. */
  static final int MAX_LENGTH = 16_384;

  MemberMetadata {
    namespaces = Set.copyOf(namespaces);
  }

  static String signed(AgentKey key, String http, String gossip, Collection<String> namespaces) {
    String body = String.join("|", VERSION, http, gossip, String.join(",", namespaces), key.did().toString());
    return body + "|" + Base64.getUrlEncoder().withoutPadding().encodeToString(key.sign(signedBytes(body)));
  }

  /** The card in {@code text}, its signature verified; throws when it is unreadable or forged. */
  static MemberMetadata verify(String text) throws InvalidFormatException {
    if (text == null || text.length() > MAX_LENGTH) {
      throw new InvalidFormatException(FORMAT, "missing or longer than " + MAX_LENGTH);
    }
    String[] parts = text.split("\\|", -1);
    if (parts.length != 6 || !parts[0].equals(VERSION)) {
      throw new InvalidFormatException(FORMAT, "not " + VERSION + "|http|gossip|namespaces|did|signature");
    }
    DidKey did = DidKey.parse(parts[4]);
    byte[] signature;
    try {
      signature = Base64.getUrlDecoder().decode(parts[5]);
    } catch (IllegalArgumentException e) {
      throw new InvalidFormatException(FORMAT, "signature is not base64url");
    }
    String body = text.substring(0, text.lastIndexOf('|'));
    if (!did.verify(signedBytes(body), signature)) {
      throw new InvalidFormatException(FORMAT, "signature does not verify for " + did);
    }
    Set<String> namespaces = new LinkedHashSet<>(Arrays.asList(parts[3].split(",")));
    namespaces.remove("");
    return new MemberMetadata(parts[1], parts[2], namespaces, did);
  }

  private static byte[] signedBytes(String body) {
    byte[] text = body.getBytes(StandardCharsets.UTF_8);
    byte[] out = Arrays.copyOf(CONTEXT, CONTEXT.length + text.length);
    System.arraycopy(text, 0, out, CONTEXT.length, text.length);
    return out;
  }
}
