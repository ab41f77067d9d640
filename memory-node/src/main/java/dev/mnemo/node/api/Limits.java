package dev.mnemo.node.api;

/**
 * The documented limits of the HTTP API (README "Limits"). A request over a limit gets 413 (body
 * size) or 422 (anything inside the body), never a partial write.
 *
 * <p>The last five bound what a set of clients can hold on the node: {@code maxConcurrentImports}
 * imports at once (one more gets 503; each streams to disk), a connection's first request headers
 * within {@code headerTimeoutMillis} of connecting, a connection with no request under way closed
 * after {@code idleTimeoutMillis}, at most {@code maxConnections} connections open (one more is
 * closed at once), and the bodies read whole (JSON, up to {@code maxBodyBytes} each) at most
 * {@code maxBufferedBodyBytes} together: one that does not fit waits, unread (see BodyBudget).
 */
public record Limits(
    int maxBodyBytes,
    int maxImportBytes,
    int maxTextChars,
    int maxBatch,
    int maxK,
    int maxListLimit,
    int maxMetadataKeys,
    int maxKeyChars,
    int maxValueChars,
    int maxTags,
    int maxTagChars,
    int maxJsonDepth,
    int maxConcurrentImports,
    long headerTimeoutMillis,
    long idleTimeoutMillis,
    int maxConnections,
    long maxBufferedBodyBytes) {

  public static final int DEFAULT_MAX_CONCURRENT_IMPORTS = 2;
  public static final long DEFAULT_HEADER_TIMEOUT_MILLIS = 10_000;
  public static final long DEFAULT_IDLE_TIMEOUT_MILLIS = 60_000;
  public static final int DEFAULT_MAX_CONNECTIONS = 1_024;
  public static final int DEFAULT_MAX_BUFFERED_BODY_MB = 64;

  public static Limits defaults() {
    return new Limits(16 << 20, 256 << 20, 32_768, 1_000, 1_000, 1_000, 64, 128, 2_048, 64, 128, 32,
        DEFAULT_MAX_CONCURRENT_IMPORTS, DEFAULT_HEADER_TIMEOUT_MILLIS, DEFAULT_IDLE_TIMEOUT_MILLIS, DEFAULT_MAX_CONNECTIONS,
        (long) DEFAULT_MAX_BUFFERED_BODY_MB << 20);
  }

  /** These limits with the server's own (the configurable ones) replaced. */
  public Limits withServer(int maxConcurrentImports, long headerTimeoutMillis, long idleTimeoutMillis, int maxConnections,
      long maxBufferedBodyBytes) {
    return new Limits(maxBodyBytes, maxImportBytes, maxTextChars, maxBatch, maxK, maxListLimit, maxMetadataKeys, maxKeyChars,
        maxValueChars, maxTags, maxTagChars, maxJsonDepth, maxConcurrentImports, headerTimeoutMillis, idleTimeoutMillis,
        maxConnections, maxBufferedBodyBytes);
  }
}
