package dev.mnemo.node.auth;

/**
 * A token just made for an agent: {@code token} is the only copy of its secret (the registry
 * keeps a hash), to be shown to its holder once.
 */
public record IssuedToken(HostedAgent agent, String id, String token) {
  @Override
  public String toString() {
    return "IssuedToken[" + agent.name() + ", " + id + "]";
  }
}
