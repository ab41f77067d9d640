package dev.mnemo.node;

import java.io.IOException;

/**
 * A request the service cannot carry out as asked, found only when it tries (a recall without the
 * text or vector its mode needs, a keyword query with more words than the index takes). The
 * caller's mistake, never a node failure.
 */
public final class InvalidRequestException extends IOException {
  public InvalidRequestException(String message, Throwable cause) {
    super(message, cause);
  }
}
