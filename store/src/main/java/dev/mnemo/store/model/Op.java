package dev.mnemo.store.model;

import dev.mnemo.store.acl.Ability;

/**
 * What a log entry does: to the memories it references ({@code add}, {@code forget},
 * {@code invalidate}), or to the namespace's access control ({@code create}, {@code grant},
 * {@code revoke}).
 */
public enum Op {
  ADD("add", Ability.REMEMBER),
  FORGET("forget", Ability.FORGET),
  /** The namespace's root entry: makes its author the owner. Needs no ability. */
  CREATE("create", null),
  GRANT("grant", Ability.ADMIN),
  REVOKE("revoke", Ability.ADMIN),
  /**
   * Ends the validity of memories at a time ({@code at}) without forgetting them. It needs
   * {@code remember}, not {@code forget}: like a remember with {@code prev}, it states something
   * new about the world and erases nothing; the memory and its text stay.
   */
  INVALIDATE("invalidate", Ability.REMEMBER);

  private final String wire;
  private final Ability needs;

  Op(String wire, Ability needs) {
    this.wire = wire;
    this.needs = needs;
  }

  public String wire() {
    return wire;
  }

  /** The ability an author needs for an entry of this op; null for {@link #CREATE} (a root needs none). */
  public Ability needs() {
    return needs;
  }

  /** Whether entries of this op reference memories (in {@code refs}). */
  public boolean touchesMemories() {
    return this == ADD || this == FORGET || this == INVALIDATE;
  }

  /** Whether entries of this op change who may do what ({@code to} and {@code can} for grant and revoke). */
  public boolean isAccessControl() {
    return this == CREATE || this == GRANT || this == REVOKE;
  }

  public static Op fromWire(String wire) {
    for (Op op : values()) {
      if (op.wire.equals(wire)) {
        return op;
      }
    }
    throw new IllegalArgumentException("unknown op '" + wire + "'");
  }
}
