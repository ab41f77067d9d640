package dev.mnemo.store.acl;

import java.util.Locale;

/**
 * What a grant in a namespace's log lets its holder do. The namespace's owner holds every ability
 * and cannot lose them; {@link #ADMIN} implies every other ability and lets its holder grant and
 * revoke them.
 */
public enum Ability {
  /** Recall, list, get and export the namespace's memories. */
  READ,
  /** Add memories (log entries with op {@code add}). */
  REMEMBER,
  /** Forget memories (log entries with op {@code forget}). */
  FORGET,
  /** Grant and revoke abilities; implies all the others. */
  ADMIN,
  /** Hold and serve the namespace's blocks and heads (granted to nodes). */
  REPLICATE;

  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Ability fromWire(String wire) {
    for (Ability a : values()) {
      if (a.wire().equals(wire)) {
        return a;
      }
    }
    throw new IllegalArgumentException("unknown ability '" + wire + "' (read, remember, forget, admin, replicate)");
  }
}
