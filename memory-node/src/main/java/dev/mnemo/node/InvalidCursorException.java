package dev.mnemo.node;

import java.io.IOException;

/** A list cursor this node did not hand out (or not for this namespace). */
public final class InvalidCursorException extends IOException {
  public InvalidCursorException(String message, Throwable cause) {
    super(message, cause);
  }
}
