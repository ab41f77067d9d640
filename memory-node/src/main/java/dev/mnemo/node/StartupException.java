package dev.mnemo.node;

import java.io.IOException;

/**
 * A node or an offline command cannot start for a reason its operator fixes (a port taken, an
 * address this machine does not have, a data directory whose blocks are elsewhere): the message is one line that says what and which setting changes it, and the
 * command line prints it without a stack trace.
 */
public final class StartupException extends IOException {
  public StartupException(String message) {
    super(message);
  }

  public StartupException(String message, Throwable cause) {
    super(message, cause);
  }
}
