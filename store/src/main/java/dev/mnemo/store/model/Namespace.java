package dev.mnemo.store.model;

import java.util.regex.Pattern;

/**
 * Namespace names: 1 to 128 characters of letters, digits, '.', '_' and '-', starting with a
 * letter or digit. Narrow on purpose: names appear in URLs, storage keys and gossip messages.
 */
public final class Namespace {
  public static final int MAX_LENGTH = 128;
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

  private Namespace() {}

  public static boolean isValid(String name) {
    return name != null && NAME.matcher(name).matches();
  }

  /**
   * The namespace a block belongs to, read from the block itself: a log entry's or a memory's
   * {@code ns}. Empty for any other block.
   */
  public static java.util.Optional<String> ofBlock(byte[] data) {
    try {
      return java.util.Optional.of(LogEntry.decode(data).ns());
    } catch (dev.mnemo.store.InvalidFormatException notAnEntry) {
      try {
        return java.util.Optional.of(Memory.decode(data).ns());
      } catch (dev.mnemo.store.InvalidFormatException notAMemory) {
        return java.util.Optional.empty();
      }
    }
  }

  /** Returns {@code name}, or throws naming the rule it broke. */
  public static String requireValid(String name) {
    if (!isValid(name)) {
      throw new IllegalArgumentException("invalid namespace name '" + name
          + "': use 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit");
    }
    return name;
  }
}
