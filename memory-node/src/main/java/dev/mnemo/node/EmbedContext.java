package dev.mnemo.node;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Which of a memory's metadata the node puts before its text when it embeds it: the client's
 * choice per memory ({@code embedContext} in a remember), or the node's default. A conversation
 * turn such as "I went to the support group yesterday" says little alone; embedded as "[8 May
 * 2023] Caroline: I went to the support group yesterday" its vector carries who said it and when.
 * Only the vector changes: the stored text, the keyword index and query embedding are as without.
 *
 * <p>The string embedded: the values of the listed keys that the memory's metadata holds (and
 * are not blank), in the listed order, each but the last in square brackets, the last followed
 * by a colon, then the text; numbers and booleans as JSON writes them. So {@code ["session_date",
 * "speaker"]} embeds {@code "[8 May 2023] Caroline: text"}, {@code ["speaker"]} embeds {@code
 * "Caroline: text"}, and a memory with none of the keys embeds its text alone.
 *
 * <p>Not recorded in the memory: the node never embeds a stored memory again (the vector in the
 * memory block is what the index, every replica and every import use), so nothing needs to
 * reproduce the string.
 */
public record EmbedContext(List<String> keys) {
  /** The text alone: the node's default unless configured otherwise. */
  public static final EmbedContext NONE = new EmbedContext(List.of());

  public EmbedContext {
    keys = List.copyOf(keys);
  }

  public boolean isNone() {
    return keys.isEmpty();
  }

  /** The string to embed for a memory of this text and metadata. */
  public String compose(String text, Map<String, Object> metadata) {
    List<String> values = new ArrayList<>(keys.size());
    for (String key : keys) {
      Object value = metadata.get(key);
      if (value != null && !value.toString().isBlank()) {
        values.add(value.toString());
      }
    }
    if (values.isEmpty()) {
      return text;
    }
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < values.size() - 1; i++) {
      out.append('[').append(values.get(i)).append("] ");
    }
    return out.append(values.getLast()).append(": ").append(text).toString();
  }
}
