package dev.mnemo.store.block;

import dev.mnemo.store.cid.Cid;
import java.io.IOException;

/**
 * A stored or received block whose bytes do not hash to its CID, or that the storage engine
 * itself found damaged. Never returned as data: the caller gets this instead.
 */
public class CorruptBlockException extends IOException {
  private final transient Cid cid;

  public CorruptBlockException(Cid cid, String message) {
    super("corrupt block " + cid + ": " + message);
    this.cid = cid;
  }

  public CorruptBlockException(Cid cid, String message, Throwable cause) {
    super("corrupt block " + cid + ": " + message, cause);
    this.cid = cid;
  }

  public Cid cid() {
    return cid;
  }
}
