package dev.mnemo.node.auth;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * Refuses (421 {@code misdirected_request}) a request whose {@code Host} names a host the node does
 * not serve, before anything else looks at it: a web page that rebinds its own DNS name to
 * 127.0.0.1 reaches the node's port, but its requests still carry that name.
 *
 * <p>Served: {@code localhost}, the bind address, the advertised HTTP host, configured names, and
 * any IP address literal. A literal cannot be rebound (rebinding needs a name the attacker's DNS
 * answers for), and a node bound to every interface is reached under each of its addresses.
 * A request without {@code Host} (HTTP/1.0) passes: browsers always send one.
 */
final class HostCheck implements Handler<RoutingContext> {
  private final Set<String> names;

  HostCheck(Set<String> names) {
    this.names = new TreeSet<>();
    this.names.add("localhost");
    for (String name : names) {
      this.names.add(normalize(name));
    }
  }

  Set<String> names() {
    return Set.copyOf(names);
  }

  @Override
  public void handle(RoutingContext ctx) {
    String host = ctx.request().getHeader("Host");
    if (host == null || serves(host)) {
      ctx.next();
      return;
    }
    ErrorReplies.error(ctx, 421, "misdirected_request", "this node does not serve the host '" + abbreviate(host)
        + "'; use its address, localhost, or a name listed in allowedHosts");
  }

  boolean serves(String hostHeader) {
    String host = hostPart(hostHeader.strip());
    if (host == null) {
      return false;
    }
    return isIpLiteral(host) || names.contains(normalize(host));
  }

  /** The host of {@code host[:port]} or {@code [v6][:port]}; null when malformed. */
  static String hostPart(String authority) {
    if (authority.startsWith("[")) {
      int end = authority.indexOf(']');
      if (end < 0 || (end + 1 < authority.length() && !authority.substring(end + 1).matches(":\\d{1,5}"))) {
        return null;
      }
      return authority.substring(0, end + 1);
    }
    int colon = authority.indexOf(':');
    if (colon >= 0) {
      if (!authority.substring(colon + 1).matches("\\d{1,5}")) {
        return null;
      }
      authority = authority.substring(0, colon);
    }
    return authority.isEmpty() ? null : authority;
  }

  static boolean isIpLiteral(String host) {
    if (host.startsWith("[") && host.endsWith("]")) {
      return host.substring(1, host.length() - 1).matches("[0-9A-Fa-f:.]+(%[A-Za-z0-9_.-]+)?") && host.indexOf(':') >= 0;
    }
    if (!host.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
      return false;
    }
    for (String part : host.split("\\.")) {
      if (Integer.parseInt(part) > 255) {
        return false;
      }
    }
    return true;
  }

  /** Lower case, without a trailing dot (a fully qualified name), IPv6 in brackets. */
  static String normalize(String host) {
    String h = host.strip().toLowerCase(Locale.ROOT);
    if (h.endsWith(".")) {
      h = h.substring(0, h.length() - 1);
    }
    if (h.indexOf(':') >= 0 && !h.startsWith("[")) {
      h = "[" + h + "]";
    }
    return h;
  }

  private static String abbreviate(String s) {
    return s.length() > 100 ? s.substring(0, 100) + "…" : s;
  }
}
