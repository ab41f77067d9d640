package dev.mnemo.node.api;

/**
 * The documented limits of the HTTP API (README "Limits"). A request over a limit gets 413 (body
 * size) or 422 (anything inside the body), never a partial write.
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
    int maxJsonDepth) {

  public static Limits defaults() {
    return new Limits(16 << 20, 256 << 20, 32_768, 1_000, 1_000, 1_000, 64, 128, 2_048, 64, 128, 32);
  }
}
