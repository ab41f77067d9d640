package dev.mnemo.store.block;

import java.io.IOException;

/**
 * The block store cannot be reached or did not answer in time (an IPFS node down or slow). Nothing
 * was acknowledged; the caller may retry later. The HTTP API answers 503 with a Retry-After.
 */
public class BlockStoreUnavailableException extends IOException {
  private final long retryAfterSeconds;

  public BlockStoreUnavailableException(String message, long retryAfterSeconds, Throwable cause) {
    super(message, cause);
    this.retryAfterSeconds = retryAfterSeconds;
  }

  public long retryAfterSeconds() {
    return retryAfterSeconds;
  }
}
