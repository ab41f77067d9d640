package dev.mnemo.node.api;

/**
 * Checks that a JSON body is UTF-8 as RFC 8259 section 8.1 requires, before Jackson sees it.
 *
 * <p>Why not Jackson alone: its byte parser decodes an overlong form such as {@code C0 AF} as
 * {@code '/'} (so {@code "a\xC0\xAFb"} was stored as {@code "a/b"}: one text, two byte forms, a
 * classic way past a filter), skips a leading byte order mark, and detects UTF-16 and UTF-32 from
 * the first bytes. All of these are refused here, with the offset of the first bad byte.
 *
 * <p>Why not the JDK's decoder: it would allocate the body again as chars just to be dropped;
 * this is one pass over the bytes, ASCII (nearly all of a JSON body) on the fast path.
 */
public final class StrictUtf8 {
  private StrictUtf8() {}

  /** Why {@code body} is not a UTF-8 JSON text, or null if it is (as far as its encoding goes). */
  public static String problem(byte[] body) {
    if (body.length >= 3 && (body[0] & 0xFF) == 0xEF && (body[1] & 0xFF) == 0xBB && (body[2] & 0xFF) == 0xBF) {
      return "the body starts with a byte order mark (EF BB BF); send JSON as UTF-8 without one (RFC 8259)";
    }
    int i = 0;
    int n = body.length;
    while (i < n) {
      int b = body[i];
      if (b > 0) { // ASCII other than NUL
        i++;
        continue;
      }
      if (b == 0) {
        // No JSON text holds a raw NUL (in a string it must be escaped); Jackson would take the
        // zero bytes for UTF-16 or UTF-32 and decode the body as that.
        return "the body holds a NUL byte at offset " + i + "; send JSON as UTF-8 (not UTF-16 or UTF-32)";
      }
      int lead = b & 0xFF;
      int length;
      int min2 = 0x80; // the range the second byte must be in: narrower after some leads
      int max2 = 0xBF;
      if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
      } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        if (lead == 0xE0) {
          min2 = 0xA0; // below is an overlong form of a 2-byte character
        } else if (lead == 0xED) {
          max2 = 0x9F; // above are UTF-16 surrogates, which UTF-8 may not encode
        }
      } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        if (lead == 0xF0) {
          min2 = 0x90; // overlong
        } else if (lead == 0xF4) {
          max2 = 0x8F; // past U+10FFFF
        }
      } else {
        return invalid(i, lead >= 0x80 && lead <= 0xBF ? "a continuation byte with no lead byte"
            : lead == 0xC0 || lead == 0xC1 ? "an overlong encoding" : "a byte that never occurs in UTF-8");
      }
      if (i + length > n) {
        return invalid(i, "a character cut short by the end of the body");
      }
      int second = body[i + 1] & 0xFF;
      if (second < min2 || second > max2) {
        boolean continuation = second >= 0x80 && second <= 0xBF;
        return invalid(i, !continuation ? "a lead byte not followed by its continuation bytes"
            : second < min2 ? "an overlong encoding" : max2 == 0x9F ? "an encoded UTF-16 surrogate" : "a code point past U+10FFFF");
      }
      for (int k = 2; k < length; k++) {
        if ((body[i + k] & 0xC0) != 0x80) {
          return invalid(i, "a lead byte not followed by its continuation bytes");
        }
      }
      i += length;
    }
    return null;
  }

  private static String invalid(int offset, String why) {
    return "the body is not valid UTF-8: " + why + " at byte offset " + offset;
  }
}
