package dev.mnemo.sync;

import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.cid.Cid;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * The asking half of one anti-entropy comparison over digest protocol v2: walks down the peer's
 * digest tree ({@link NamespaceDigests}) where it differs from this node's, a level per round
 * trip, and fetches the namespaces (with their heads) under the subtrees that differ. When one
 * namespace differs, that is four small requests for children and one for a handful of
 * namespaces, whatever the number of namespaces (README "Anti-entropy digest").
 *
 * <p>A subtree is fetched whole, rather than walked further, when the peer has few namespaces
 * under it ({@link #FETCH_AT_MOST}), or when this node has none there (a new node, or one far
 * behind: every namespace under it is wanted anyway). A subtree where the peer has nothing is left
 * alone: what this node has more, the peer pulls in its own rounds.
 *
 * <p>Never blocks: each request is asynchronous, and the next is sent from its answer.
 */
final class Reconciliation {
  /** A differing subtree of at most this many namespaces on the peer is fetched rather than walked. */
  static final int FETCH_AT_MOST = 8;

  private final PeerClient client;
  private final Peer peer;
  private final NamespaceDigests.View local;
  private final Map<String, List<Cid>> found = new TreeMap<>();
  /** Differing subtrees to fetch: level, index, the peer's count under it. */
  private final List<long[]> toFetch = new ArrayList<>();

  private Reconciliation(PeerClient client, Peer peer, NamespaceDigests.View local) {
    this.client = client;
    this.peer = peer;
    this.local = local;
  }

  /**
   * The peer's heads of every namespace under the subtrees where its tree differs from
   * {@code local}, which must be this node's tree as this node would serve it to the peer. Fails
   * with {@link PeerClient.NoDigestV2Exception} when the peer does not speak v2.
   */
  static CompletableFuture<Map<String, List<Cid>>> run(PeerClient client, Peer peer, NamespaceDigests.View local) {
    Reconciliation r = new Reconciliation(client, peer, local);
    return r.descend(0, List.of(0)).thenCompose(v -> r.fetch(0)).thenApply(v -> r.found);
  }

  /**
   * The peer's heads of {@code ns} now (empty if it names none): one request for the namespaces of
   * the bucket {@code ns} falls in, not the peer's whole digest. Fails with
   * {@link PeerClient.NoDigestV2Exception} when the peer does not speak v2.
   */
  static CompletableFuture<List<Cid>> headsOf(PeerClient client, Peer peer, String ns) {
    int bucket = NamespaceDigests.bucket(ns);
    return client.digestAsync(peer, new DigestExchange.Request(DigestExchange.Want.NAMESPACES, NamespaceDigests.DEPTH,
            List.of(bucket)))
        .thenApply(bytes -> {
          try {
            return DigestExchange.decodeNamespaces(bytes).heads().getOrDefault(ns, List.of());
          } catch (InvalidFormatException e) {
            throw new CompletionException(e);
          }
        });
  }

  /** Asks for the children of {@code nodes} of {@code level} and goes on down where they differ. */
  private CompletableFuture<Void> descend(int level, List<Integer> nodes) {
    if (nodes.isEmpty()) {
      return CompletableFuture.completedFuture(null);
    }
    List<Integer> next = new ArrayList<>();
    CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
    for (int from = 0; from < nodes.size(); from += DigestExchange.MAX_NODES) {
      List<Integer> chunk = nodes.subList(from, Math.min(nodes.size(), from + DigestExchange.MAX_NODES));
      chain = chain.thenCompose(v -> client.digestAsync(peer, new DigestExchange.Request(DigestExchange.Want.CHILDREN, level, chunk)))
          .thenAccept(bytes -> compare(level + 1, chunk, decodeChildren(bytes, chunk.size()), next));
    }
    return chain.thenCompose(v -> descend(level + 1, next));
  }

  private static List<NamespaceDigests.Node> decodeChildren(byte[] bytes, int nodes) {
    try {
      return DigestExchange.decodeChildren(bytes, nodes);
    } catch (InvalidFormatException e) {
      throw new CompletionException(e);
    }
  }

  private void compare(int level, List<Integer> parents, List<NamespaceDigests.Node> theirs, List<Integer> next) {
    for (int i = 0; i < parents.size(); i++) {
      for (int k = 0; k < NamespaceDigests.FANOUT; k++) {
        int index = parents.get(i) * NamespaceDigests.FANOUT + k;
        NamespaceDigests.Node remote = theirs.get(i * NamespaceDigests.FANOUT + k);
        NamespaceDigests.Node mine = local.node(level, index);
        if (remote.equals(mine) || remote.count() == 0) {
          continue;
        }
        boolean fetchWhole = level == NamespaceDigests.DEPTH || remote.count() <= FETCH_AT_MOST
            || (mine.count() == 0 && remote.count() <= DigestExchange.MAX_NAMESPACES);
        if (fetchWhole) {
          toFetch.add(new long[] {level, index, remote.count()});
        } else {
          next.add(index);
        }
      }
    }
  }

  /**
   * Fetches the namespaces of the subtrees in {@link #toFetch} from {@code from} on, a request at a
   * time, each for subtrees of one level that fit in one reply.
   */
  private CompletableFuture<Void> fetch(int from) {
    if (from >= toFetch.size()) {
      return CompletableFuture.completedFuture(null);
    }
    long level = toFetch.get(from)[0];
    List<Integer> nodes = new ArrayList<>();
    long namespaces = 0;
    int end = from;
    while (end < toFetch.size() && toFetch.get(end)[0] == level && nodes.size() < DigestExchange.MAX_NODES
        && (nodes.isEmpty() || namespaces + toFetch.get(end)[2] <= DigestExchange.MAX_NAMESPACES)) {
      nodes.add((int) toFetch.get(end)[1]);
      namespaces += toFetch.get(end)[2];
      end++;
    }
    int next = end;
    return client.digestAsync(peer, new DigestExchange.Request(DigestExchange.Want.NAMESPACES, (int) level, nodes))
        .thenCompose(bytes -> {
          try {
            // An incomplete reply (the peer's tree grew meanwhile) is taken as it is: the next
            // round finds what it left out.
            found.putAll(DigestExchange.decodeNamespaces(bytes).heads());
          } catch (InvalidFormatException e) {
            throw new CompletionException(e);
          }
          return fetch(next);
        });
  }
}
