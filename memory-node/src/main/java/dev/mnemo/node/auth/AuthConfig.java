package dev.mnemo.node.auth;

import java.nio.file.Path;
import java.util.List;

/**
 * How a node authenticates its callers.
 *
 * @param enabled false only for development ({@code --insecure-no-auth}, config {@code auth:
 *     false}): every request then acts as the owner, and the node warns at every start
 * @param ownerKeyFile an agent key file ({@link AgentKeyFile}) whose key becomes the owner on the
 *     first start, so several nodes share one owner; null for a new key
 * @param allowedHosts names besides {@code localhost}, the bind address and the advertised host
 *     that clients may send as {@code Host}
 * @param corsOrigins origins browsers may call from (none by default: no CORS headers at all)
 * @param failuresPerMinute failed token checks a source address may make per minute (and in a
 *     burst) before it is answered 429 without a check
 */
public record AuthConfig(boolean enabled, Path ownerKeyFile, List<String> allowedHosts, List<String> corsOrigins,
    int failuresPerMinute) {
  public static final int DEFAULT_FAILURES_PER_MINUTE = 30;

  public AuthConfig {
    allowedHosts = List.copyOf(allowedHosts);
    corsOrigins = List.copyOf(corsOrigins);
  }

  public static AuthConfig defaults() {
    return new AuthConfig(true, null, List.of(), List.of(), DEFAULT_FAILURES_PER_MINUTE);
  }
}
