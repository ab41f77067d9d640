package dev.mnemo.store.acl;

import java.io.IOException;

/** A create of a namespace that already has a root entry here (an owner). Nothing was written. */
public final class NamespaceExistsException extends IOException {
  private final String ns;

  public NamespaceExistsException(String ns) {
    super("namespace " + ns + " already exists");
    this.ns = ns;
  }

  public String ns() {
    return ns;
  }
}
