package dev.mnemo.store.log;

import dev.mnemo.store.cid.Cid;

/** A forget named a memory that is not live in the namespace. */
public class MemoryNotFoundException extends Exception {
  private final transient Cid cid;

  public MemoryNotFoundException(String ns, Cid cid) {
    super("no memory " + cid + " in namespace " + ns);
    this.cid = cid;
  }

  public Cid cid() {
    return cid;
  }
}
