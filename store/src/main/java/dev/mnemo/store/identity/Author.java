package dev.mnemo.store.identity;

/**
 * Who a local write is by, and how it is signed: a hosted agent signs with its own key; an agent
 * that keeps its key to itself delegates to the node, which signs with the node key and carries
 * the agent's signed delegation ({@code proof}) in the entry. Either way the entry's author is the
 * agent, and every replica checks the author's abilities, not the node's.
 *
 * @param did the entry's author
 * @param signer the key that signs the entry: the author's own, or the delegate's
 * @param proof the delegation's encoded bytes when {@code signer} is a delegate, else null
 */
public record Author(DidKey did, AgentKey signer, byte[] proof) {
  public Author {
    if (did == null || signer == null) {
      throw new IllegalArgumentException("an author needs a did and a signing key");
    }
    if (proof == null && !signer.did().equals(did)) {
      throw new IllegalArgumentException("a key signs for another did only under a delegation");
    }
    proof = proof == null ? null : proof.clone();
  }

  /** An agent (or the node itself) that signs its own entries. */
  public static Author of(AgentKey key) {
    return new Author(key.did(), key, null);
  }

  @Override
  public byte[] proof() {
    return proof == null ? null : proof.clone();
  }

  @Override
  public String toString() {
    return "Author[" + did + (proof == null ? "" : " via " + signer.did()) + "]";
  }
}
