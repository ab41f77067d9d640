package dev.mnemo.store.acl;

import dev.mnemo.store.identity.DidKey;
import java.io.IOException;

/** A local write by an author that does not hold the ability it needs in the namespace. Nothing was written. */
public final class UnauthorizedException extends IOException {
  private final DidKey author;
  private final String ns;
  private final Ability ability;

  public UnauthorizedException(DidKey author, String ns, Ability ability) {
    this(author, ns, ability, null);
  }

  /** As the plain constructor, saying why in {@code detail} (a proof that does not cover the write, say). */
  public UnauthorizedException(DidKey author, String ns, Ability ability, String detail) {
    super(author + " does not hold '" + ability.wire() + "' in namespace " + ns + (detail == null ? "" : " (" + detail + ")"));
    this.author = author;
    this.ns = ns;
    this.ability = ability;
  }

  public DidKey author() {
    return author;
  }

  public String ns() {
    return ns;
  }

  public Ability ability() {
    return ability;
  }
}
