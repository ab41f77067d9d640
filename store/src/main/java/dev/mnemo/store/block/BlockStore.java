package dev.mnemo.store.block;

import dev.mnemo.store.cid.Cid;
import java.io.IOException;
import java.util.Collection;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Content-addressed block storage: the SPI at the edge of the store module. Implementations: the
 * embedded RocksDB store (default) and, in its own module, an IPFS node over the Kubo RPC API.
 *
 * <p>Every method may block on disk or network; callers on an event loop must move calls to a
 * worker. A put returns only once the block is durable. A get verifies the bytes against the CID
 * and throws {@link CorruptBlockException} rather than return bytes that do not match.
 */
public interface BlockStore extends AutoCloseable {

  /** Stores a block durably. Refuses (IllegalArgumentException) bytes that do not hash to the CID. */
  void put(Block block) throws IOException;

  /** Stores all blocks in one atomic, durable write: all are stored, or none. */
  void putAll(Collection<Block> blocks) throws IOException;

  /** The verified bytes of a block, or empty when this store does not have it. */
  Optional<byte[]> get(Cid cid) throws IOException;

  boolean has(Cid cid) throws IOException;

  /** Removes a block; removing an absent block is not an error. */
  void delete(Cid cid) throws IOException;

  /** Calls {@code visitor} with every stored CID, in an unspecified order. */
  void forEachCid(Consumer<Cid> visitor) throws IOException;

  @Override
  void close() throws IOException;
}
