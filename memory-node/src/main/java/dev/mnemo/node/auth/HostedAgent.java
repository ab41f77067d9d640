package dev.mnemo.node.auth;

import dev.mnemo.node.Caller;
import dev.mnemo.store.identity.AgentKey;
import dev.mnemo.store.identity.Author;
import dev.mnemo.store.identity.DidKey;

/**
 * An agent whose key this node keeps, so the node can sign its entries as it: callers holding one
 * of its API tokens act as it.
 *
 * @param name unique on this node, 1 to 64 of {@code A-Z a-z 0-9 . _ -}, starting with a letter
 *     or digit
 * @param key the agent's Ed25519 key; its did names the agent everywhere
 * @param created epoch milliseconds
 * @param admin whether it administers the node itself (agents, tokens, {@code /v1/node},
 *     {@code /metrics}); the first start's {@code owner} agent does
 */
public record HostedAgent(String name, AgentKey key, long created, boolean admin) {
  public HostedAgent {
    if (!isValidName(name)) {
      throw new IllegalArgumentException("agent names are 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit");
    }
    if (key == null) {
      throw new IllegalArgumentException("an agent needs a key");
    }
  }

  public DidKey did() {
    return key.did();
  }

  /** The agent as the author of the log entries its requests write, signed with its own key. */
  public Author author() {
    return Author.of(key);
  }

  /** Who its requests are by, for the memory service. */
  public Caller caller() {
    return new Caller(did(), name, author(), admin);
  }

  public static boolean isValidName(String name) {
    return name != null && name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
  }

  /** Never prints the key. */
  @Override
  public String toString() {
    return "HostedAgent[" + name + " " + key.did() + (admin ? ", admin" : "") + "]";
  }
}
