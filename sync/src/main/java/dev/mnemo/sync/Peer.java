package dev.mnemo.sync;

import dev.mnemo.store.identity.DidKey;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Another node as membership sees it: its member id, the HTTP base URL it serves blocks on, its
 * node key (verified: it signed what it advertises), and the namespaces it replicates
 * ({@link #ALL} for every namespace).
 */
public record Peer(String id, String http, DidKey did, Set<String> namespaces) {
  public static final String ALL = "*";
  /** Longer than any real base URL; a member's metadata is small. */
  static final int MAX_HTTP_LENGTH = 256;

  public boolean replicates(String ns) {
    return namespaces.contains(ALL) || namespaces.contains(ns);
  }

  /**
   * Why {@code http} is not a base URL a node may send requests to, or empty when it is one: an
   * absolute http or https URL with a host and optionally a port, and nothing else. Peers append
   * {@code /v1/sync/...} to it, so a path, query, fragment or user info would let a member choose
   * what its peers request, and from whom (request forgery).
   */
  public static Optional<String> badHttp(String http) {
    if (http == null || http.isEmpty() || http.length() > MAX_HTTP_LENGTH) {
      return Optional.of("empty or longer than " + MAX_HTTP_LENGTH + " characters");
    }
    URI uri;
    try {
      uri = new URI(http);
    } catch (URISyntaxException e) {
      return Optional.of("not a URL");
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https")) {
      return Optional.of("not an absolute http(s) URL");
    }
    if (uri.isOpaque() || uri.getHost() == null || uri.getHost().isEmpty()) {
      return Optional.of("no host");
    }
    if (uri.getRawUserInfo() != null) {
      return Optional.of("has user info");
    }
    if (uri.getRawPath() != null && !uri.getRawPath().isEmpty()) {
      return Optional.of("has a path");
    }
    if (uri.getRawQuery() != null || http.indexOf('?') >= 0) {
      return Optional.of("has a query");
    }
    if (uri.getRawFragment() != null || http.indexOf('#') >= 0) {
      return Optional.of("has a fragment");
    }
    if (uri.getPort() == 0 || uri.getPort() > 65535) {
      return Optional.of("port out of range");
    }
    return Optional.empty();
  }
}
