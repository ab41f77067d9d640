package dev.mnemo.store.log;

import dev.mnemo.store.cid.Cid;
import java.io.IOException;

/**
 * Entries from outside (a CAR file, a peer) that cannot be applied: a bad signature, a memory
 * block that is missing or belongs to another namespace, a parent that is nowhere to be found.
 * Nothing of the batch that held them was stored.
 */
public class RejectedEntryException extends IOException {
  private final transient Cid cid;

  public RejectedEntryException(Cid cid, String message) {
    // No CID: a rule over the whole batch (see TooManyHeadsException), not one entry's fault.
    super(cid == null ? "rejected: " + message : "rejected " + cid + ": " + message);
    this.cid = cid;
  }

  public Cid cid() {
    return cid;
  }
}
