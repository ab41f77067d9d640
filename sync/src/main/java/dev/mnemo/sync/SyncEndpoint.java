package dev.mnemo.sync;

import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.block.Block;
import dev.mnemo.store.car.CarWriter;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.log.NamespaceLog;
import java.io.IOException;
import java.io.OutputStream;
import java.util.List;
import java.util.Optional;

/**
 * The serving half of the sync protocol, whose asking half is {@link PeerClient}: what a node
 * answers to {@code GET /v1/sync/heads} and {@code POST /v1/sync/blocks}. Plain blocking calls on
 * bytes, so the HTTP layer only mounts them (on a worker thread: both read the store).
 */
public final class SyncEndpoint {
  private final NamespaceLog log;

  public SyncEndpoint(NamespaceLog log) {
    this.log = log;
  }

  /** {@code GET /v1/sync/heads}: the {@link HeadsDigest} of every namespace this node holds, DAG-CBOR. */
  public byte[] heads() {
    return HeadsDigest.of(log).encode();
  }

  /**
   * {@code POST /v1/sync/blocks}: decodes the {@link BlockRequest} in {@code request} and writes the
   * requested blocks this node has to {@code out} as a CAR v1 with no roots. Missing blocks are left
   * out: the asking peer tells what it did not get from the CIDs it sees.
   *
   * @throws MalformedSyncRequestException if {@code request} is not a block request; nothing is written
   */
  public void blocks(byte[] request, OutputStream out) throws IOException {
    List<Cid> cids;
    try {
      cids = BlockRequest.decode(request).cids();
    } catch (InvalidFormatException e) {
      throw new MalformedSyncRequestException(e.getMessage(), e);
    }
    CarWriter car = new CarWriter(out, List.of());
    for (Cid cid : cids) {
      Optional<byte[]> data = log.blocks().get(cid);
      if (data.isPresent()) {
        car.write(new Block(cid, data.get()));
      }
    }
  }
}
