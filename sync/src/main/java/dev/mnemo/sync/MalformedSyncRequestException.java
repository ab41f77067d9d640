package dev.mnemo.sync;

import java.io.IOException;

/** A peer's sync request this node cannot decode: the peer's mistake, answered as such, never a node failure. */
public final class MalformedSyncRequestException extends IOException {
  public MalformedSyncRequestException(String message, Throwable cause) {
    super(message, cause);
  }
}
