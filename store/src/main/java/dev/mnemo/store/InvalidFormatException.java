package dev.mnemo.store;

import java.io.IOException;

/**
 * Bytes or text that are not a valid instance of a Mnemo format (CID, DAG-CBOR, CAR, did:key,
 * log entry, memory). Every public parser throws this, and only this, for bad input, so a caller
 * can map it to a client error without catching unchecked exceptions. The message names the
 * format and what was wrong.
 */
public class InvalidFormatException extends IOException {
  private final String format;

  public InvalidFormatException(String format, String message) {
    super(format + ": " + message);
    this.format = format;
  }

  public InvalidFormatException(String format, String message, Throwable cause) {
    super(format + ": " + message, cause);
    this.format = format;
  }

  /** The name of the format that was malformed, e.g. {@code "CID"} or {@code "DAG-CBOR"}. */
  public String format() {
    return format;
  }
}
