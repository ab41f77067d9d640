package dev.mnemo.store.acl;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

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

  /** The wire form of a set of abilities: their names, sorted and unique, as entries and delegations carry them. */
  public static List<String> wireList(Set<Ability> abilities) {
    List<String> names = new ArrayList<>();
    for (Ability a : abilities) {
      names.add(a.wire());
    }
    names.sort(null);
    return names;
  }

  /**
   * Reads a wire list of abilities, refusing one that is empty, unsorted, repeats a name or names
   * an unknown ability: the bytes are signed and hashed, so only one spelling of a set is valid.
   */
  public static Set<Ability> fromWireList(List<?> wire) {
    if (wire == null || wire.isEmpty()) {
      throw new IllegalArgumentException("an ability list names at least one ability");
    }
    Set<Ability> set = EnumSet.noneOf(Ability.class);
    String previous = null;
    for (Object item : wire) {
      if (!(item instanceof String name)) {
        throw new IllegalArgumentException("abilities are strings");
      }
      if (previous != null && previous.compareTo(name) >= 0) {
        throw new IllegalArgumentException("abilities must be sorted and unique");
      }
      set.add(fromWire(name));
      previous = name;
    }
    return Set.copyOf(set);
  }
}
