package dev.mnemo.node;

import dev.mnemo.store.identity.AgentKey;
import dev.mnemo.store.identity.Author;
import dev.mnemo.store.identity.DidKey;

/**
 * Who is asking the node for something: every {@link MemoryService} call takes one, and its writes
 * are signed as {@link #author}, so the log says which agent wrote what.
 *
 * @param agent the calling agent's did:key, whose abilities a namespace's ACL decides
 * @param name the agent's name on this node ({@code GET /v1/whoami}); null when it has none
 * @param author how the agent's writes are signed (its own key, or the node's under its delegation)
 * @param admin whether the agent administers this node (the node's operator calls)
 */
public record Caller(DidKey agent, String name, Author author, boolean admin) {
  public Caller {
    if (agent == null || author == null) {
      throw new IllegalArgumentException("a caller needs an agent and an author");
    }
    if (!author.did().equals(agent)) {
      throw new IllegalArgumentException("a caller's writes are authored by the caller (" + agent + "), not " + author.did());
    }
  }

  /** A caller without a name on this node. */
  public Caller(DidKey agent, Author author, boolean admin) {
    this(agent, null, author, admin);
  }

  /** The node acting for itself, signing with its own key: offline commands and tests. */
  public static Caller node(AgentKey nodeKey) {
    return new Caller(nodeKey.did(), "node", Author.of(nodeKey), true);
  }
}
