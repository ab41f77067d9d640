package dev.mnemo.sync;

import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.block.Block;
import dev.mnemo.store.car.CarWriter;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.identity.DidKey;
import java.io.IOException;
import java.io.OutputStream;
import java.util.List;
import java.util.Optional;

/**
 * The serving half of the sync protocol, whose asking half is {@link PeerClient}: what a node
 * answers to {@code POST /v1/sync/digest}, {@code GET /v1/sync/heads}, {@code POST /v1/sync/blocks} and
 * {@code POST /v1/sync/entries}, and to a peer's
 * {@code GET /v1/blocks/{cid}}. Every call first authenticates the asking node ({@link PeerAuth},
 * through {@link SyncAccess}) and answers with only what that node may replicate: a peer cannot
 * tell a namespace it may not replicate from one that does not exist. Plain blocking calls on
 * bytes, so the HTTP layer only mounts them (on a worker thread: they read the store).
 */
public final class SyncEndpoint {
  private final SyncAccess access;

  public SyncEndpoint(SyncAccess access) {
    this.access = access;
  }

  /**
   * The node that signed a request to this node ({@code authorization} is its
   * {@code Authorization} header, {@code target} the request's path with its query).
   *
   * @throws PeerAuth.RejectedException if the request does not authenticate (401)
   */
  public DidKey authenticate(String authorization, String method, String target, byte[] body)
      throws PeerAuth.RejectedException {
    return access.authenticate(authorization, method, target, body);
  }

  /** {@code GET /v1/sync/heads}: the {@link HeadsDigest} of the namespaces {@code peer} may replicate, DAG-CBOR. */
  public byte[] heads(DidKey peer) {
    return access.digestFor(peer).encode();
  }

  /**
   * {@code POST /v1/sync/digest}: answers a {@link DigestExchange} request (protocol v2) from the
   * digest tree of the namespaces {@code peer} may replicate, DAG-CBOR.
   *
   * @throws MalformedSyncRequestException if {@code request} is not a digest request of v2
   */
  public byte[] digest(DidKey peer, byte[] request) throws MalformedSyncRequestException {
    DigestExchange.Request asked;
    try {
      asked = DigestExchange.Request.decode(request);
    } catch (InvalidFormatException e) {
      throw new MalformedSyncRequestException(e.getMessage(), e);
    }
    NamespaceDigests.View tree = access.treeFor(peer);
    if (asked.want() == DigestExchange.Want.CHILDREN) {
      List<NamespaceDigests.Node> children = new java.util.ArrayList<>(asked.nodes().size() * NamespaceDigests.FANOUT);
      for (int node : asked.nodes()) {
        children.addAll(tree.children(asked.level(), node));
      }
      return DigestExchange.encodeChildren(children);
    }
    DigestExchange.Namespaces namespaces = tree.namespaces(asked.level(), asked.nodes(), DigestExchange.MAX_NAMESPACES);
    return DigestExchange.encodeNamespaces(namespaces.heads(), namespaces.complete());
  }

  /**
   * {@code POST /v1/sync/blocks}: decodes the {@link BlockRequest} in {@code request} and writes the
   * requested blocks this node has and {@code peer} may have to {@code out} as a CAR v1 with no
   * roots. Other blocks are left out: the asking peer tells what it did not get from the CIDs it sees.
   *
   * @throws MalformedSyncRequestException if {@code request} is not a block request; nothing is written
   */
  public void blocks(DidKey peer, byte[] request, OutputStream out) throws IOException {
    List<Cid> cids;
    try {
      cids = BlockRequest.decode(request).cids();
    } catch (InvalidFormatException e) {
      throw new MalformedSyncRequestException(e.getMessage(), e);
    }
    CarWriter car = new CarWriter(out, List.of());
    for (Cid cid : cids) {
      Optional<Block> block = block(peer, cid);
      if (block.isPresent()) {
        car.write(block.get());
      }
    }
  }

  /**
   * {@code POST /v1/sync/entries}: decodes the {@link EntriesRequest} in {@code request} and writes
   * the named entries and their ancestors it asks for, that this node has and {@code peer} may
   * have, to {@code out} as a CAR v1 with no roots, breadth first. A named block that is no log
   * entry is written as is (the asker rejects it, as it would from {@code /v1/sync/blocks}).
   *
   * @throws MalformedSyncRequestException if {@code request} is not an entries request; nothing is written
   */
  public void entries(DidKey peer, byte[] request, OutputStream out) throws IOException {
    EntriesRequest walk;
    try {
      walk = EntriesRequest.decode(request);
    } catch (InvalidFormatException e) {
      throw new MalformedSyncRequestException(e.getMessage(), e);
    }
    java.util.Set<Cid> stop = new java.util.HashSet<>(walk.have());
    java.util.Set<Cid> seen = new java.util.HashSet<>();
    CarWriter car = new CarWriter(out, List.of());
    int blocks = 0;
    long bytes = 0;
    List<Cid> level = walk.cids();
    for (int depth = 0; !level.isEmpty(); depth++) {
      List<Cid> next = new java.util.ArrayList<>();
      for (Cid cid : level) {
        if (!seen.add(cid) || blocks >= EntriesRequest.MAX_BLOCKS || (depth > 0 && bytes >= EntriesRequest.MAX_BYTES)) {
          continue;
        }
        Optional<Block> block = block(peer, cid);
        if (block.isEmpty()) {
          continue;
        }
        car.write(block.get());
        blocks++;
        bytes += block.get().data().length;
        if (depth < walk.depth()) {
          try {
            for (Cid parent : dev.mnemo.store.model.LogEntry.decode(block.get().data()).parents()) {
              if (!stop.contains(parent) && !seen.contains(parent)) {
                next.add(parent);
              }
            }
          } catch (InvalidFormatException e) {
            // not an entry: it has no parents to follow
          }
        }
      }
      level = next;
    }
  }

  /** One block for {@code peer}: empty if this node lacks it or the peer may not replicate its namespace. */
  public Optional<Block> block(DidKey peer, Cid cid) throws IOException {
    Optional<byte[]> data = access.log().blocks().get(cid);
    if (data.isEmpty()) {
      return Optional.empty();
    }
    Block block = new Block(cid, data.get());
    return access.mayServe(peer, block) ? Optional.of(block) : Optional.empty();
  }
}
