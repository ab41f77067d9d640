package dev.mnemo.node;

import dev.mnemo.store.cid.Cid;
import java.io.IOException;

/** A new memory names as its previous version a CID that is not a memory of its namespace. Nothing was written. */
public final class UnknownPrevException extends IOException {
  private final transient Cid prev;

  public UnknownPrevException(String ns, Cid prev) {
    super("prev " + prev + " is not a memory of namespace " + ns);
    this.prev = prev;
  }

  public Cid prev() {
    return prev;
  }
}
