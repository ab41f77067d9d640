package dev.mnemo.store.cid;

import dev.mnemo.store.InvalidFormatException;
import java.math.BigInteger;
import java.util.Base64;
import java.util.HexFormat;

/**
 * Multibase text encodings: a one-character prefix names the base. Mnemo writes base32 (lower,
 * no padding) for CIDs and base58btc for did:key, and reads the other common prefixes a peer or
 * an IPFS tool may send: {@code B} base32 upper, {@code f}/{@code F} base16, {@code m} base64,
 * {@code u} base64url.
 */
public final class Multibase {
  private static final String BASE32 = "abcdefghijklmnopqrstuvwxyz234567";
  private static final String BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
  private static final BigInteger FIFTY_EIGHT = BigInteger.valueOf(58);

  private Multibase() {}

  public static String encodeBase32(byte[] data) {
    StringBuilder sb = new StringBuilder((data.length * 8 + 4) / 5 + 1);
    sb.append('b');
    int buffer = 0;
    int bits = 0;
    for (byte b : data) {
      buffer = (buffer << 8) | (b & 0xFF);
      bits += 8;
      while (bits >= 5) {
        sb.append(BASE32.charAt((buffer >>> (bits - 5)) & 31));
        bits -= 5;
      }
    }
    if (bits > 0) {
      sb.append(BASE32.charAt((buffer << (5 - bits)) & 31));
    }
    return sb.toString();
  }

  public static String encodeBase58btc(byte[] data) {
    return "z" + base58(data);
  }

  /** Plain base58btc (no multibase prefix), as CIDv0 uses it. */
  public static String base58(byte[] data) {
    int zeros = 0;
    while (zeros < data.length && data[zeros] == 0) {
      zeros++;
    }
    StringBuilder sb = new StringBuilder();
    BigInteger n = new BigInteger(1, data);
    while (n.signum() > 0) {
      BigInteger[] qr = n.divideAndRemainder(FIFTY_EIGHT);
      sb.append(BASE58.charAt(qr[1].intValue()));
      n = qr[0];
    }
    sb.append("1".repeat(zeros));
    return sb.reverse().toString();
  }

  /** Decodes multibase text to bytes; the first character must be a supported prefix. */
  public static byte[] decode(String text) throws InvalidFormatException {
    if (text == null || text.isEmpty()) {
      throw new InvalidFormatException("multibase", "empty string");
    }
    String body = text.substring(1);
    return switch (text.charAt(0)) {
      case 'b' -> decodeBase32(body, false);
      case 'B' -> decodeBase32(body, true);
      case 'z' -> decodeBase58(body);
      case 'f', 'F' -> decodeBase16(body);
      case 'm' -> decodeBase64(body, Base64.getDecoder());
      case 'u' -> decodeBase64(body, Base64.getUrlDecoder());
      default -> throw new InvalidFormatException("multibase", "unsupported prefix '" + text.charAt(0) + "'");
    };
  }

  static byte[] decodeBase32(String body, boolean upper) throws InvalidFormatException {
    int length = body.length();
    while (length > 0 && body.charAt(length - 1) == '=') {
      length--;
    }
    byte[] out = new byte[length * 5 / 8];
    int buffer = 0;
    int bits = 0;
    int pos = 0;
    for (int i = 0; i < length; i++) {
      char c = body.charAt(i);
      // ASCII only: Character.toLowerCase would map look-alikes such as the Kelvin sign to 'k'.
      char lower = upper ? (c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : (c >= '2' && c <= '7' ? c : '!')) : c;
      int v = BASE32.indexOf(lower);
      if (v < 0) {
        throw new InvalidFormatException("multibase", "invalid base32 character '" + c + "' at " + (i + 1));
      }
      buffer = (buffer << 5) | v;
      bits += 5;
      if (bits >= 8) {
        out[pos++] = (byte) (buffer >>> (bits - 8));
        bits -= 8;
      }
    }
    // Leftover bits must be zero padding, or two strings would decode to the same bytes.
    if (bits >= 5 || (buffer & ((1 << bits) - 1)) != 0) {
      throw new InvalidFormatException("multibase", "base32 text has trailing bits");
    }
    return out;
  }

  public static byte[] decodeBase58(String body) throws InvalidFormatException {
    if (body.isEmpty()) {
      throw new InvalidFormatException("multibase", "empty base58 text");
    }
    BigInteger n = BigInteger.ZERO;
    int zeros = 0;
    boolean leading = true;
    for (int i = 0; i < body.length(); i++) {
      char c = body.charAt(i);
      int v = BASE58.indexOf(c);
      if (v < 0) {
        throw new InvalidFormatException("multibase", "invalid base58 character '" + c + "' at " + (i + 1));
      }
      if (leading && v == 0) {
        zeros++;
      } else {
        leading = false;
      }
      n = n.multiply(FIFTY_EIGHT).add(BigInteger.valueOf(v));
    }
    byte[] magnitude = n.signum() == 0 ? new byte[0] : n.toByteArray();
    int skip = magnitude.length > 1 && magnitude[0] == 0 ? 1 : 0;
    byte[] out = new byte[zeros + magnitude.length - skip];
    System.arraycopy(magnitude, skip, out, zeros, magnitude.length - skip);
    return out;
  }

  private static byte[] decodeBase16(String body) throws InvalidFormatException {
    try {
      return HexFormat.of().parseHex(body);
    } catch (IllegalArgumentException e) {
      throw new InvalidFormatException("multibase", "invalid base16 text: " + e.getMessage());
    }
  }

  private static byte[] decodeBase64(String body, Base64.Decoder decoder) throws InvalidFormatException {
    try {
      return decoder.decode(body);
    } catch (IllegalArgumentException e) {
      throw new InvalidFormatException("multibase", "invalid base64 text: " + e.getMessage());
    }
  }
}
