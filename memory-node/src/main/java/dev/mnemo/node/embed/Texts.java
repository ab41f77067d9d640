package dev.mnemo.node.embed;

import java.util.List;

/** The one rule every embedder applies to its input, checked before any work is queued. */
final class Texts {
  private Texts() {}

  /** Throws {@link IllegalArgumentException} naming the first null or blank text. */
  static void requireNonBlank(List<String> texts) {
    if (texts == null) {
      throw new IllegalArgumentException("texts must not be null");
    }
    for (int i = 0; i < texts.size(); i++) {
      String text = texts.get(i);
      if (text == null || text.isBlank()) {
        throw new IllegalArgumentException("text " + i + " is blank: there is nothing to embed");
      }
    }
  }

  static void requireNonBlank(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("query is blank: there is nothing to embed");
    }
  }
}
