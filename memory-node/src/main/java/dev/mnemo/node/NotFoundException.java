package dev.mnemo.node;

import java.io.IOException;

/**
 * What a call names is not here for this caller: no such memory or namespace on this node. A
 * memory the caller may not read is reported the same way, so that a CID tells nothing about a
 * namespace the caller cannot see.
 */
public final class NotFoundException extends IOException {
  public NotFoundException(String message) {
    super(message);
  }
}
