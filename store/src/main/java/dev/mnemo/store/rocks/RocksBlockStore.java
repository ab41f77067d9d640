package dev.mnemo.store.rocks;

import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.block.Block;
import dev.mnemo.store.block.BlockStore;
import dev.mnemo.store.block.CorruptBlockException;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.rocks.RocksStorage.Family;
import java.io.IOException;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;

/**
 * The embedded {@link BlockStore}: blocks in the {@code blocks} column family of
 * {@link RocksStorage}, keyed by binary CID. Puts are synced to the WAL before they return; gets
 * re-hash every block, so bit rot that slipped past RocksDB's own checksums still cannot return
 * wrong data.
 */
public final class RocksBlockStore implements BlockStore {
  private final RocksStorage storage;

  public RocksBlockStore(RocksStorage storage) {
    this.storage = storage;
  }

  /** Whether this store keeps its blocks in {@code other}, so one batch can hold blocks and log state. */
  public boolean isBackedBy(RocksStorage other) {
    return storage == other;
  }

  @Override
  public void put(Block block) throws IOException {
    putAll(List.of(block));
  }

  @Override
  public void putAll(Collection<Block> blocks) throws IOException {
    try (WriteBatch batch = new WriteBatch()) {
      stage(batch, blocks);
      storage.writeDurably(batch);
    }
  }

  /** Adds verified puts of {@code blocks} to a batch the caller commits. */
  public void stage(WriteBatch batch, Collection<Block> blocks) throws IOException {
    for (Block block : blocks) {
      if (!block.isIntact()) {
        throw new IllegalArgumentException("block data does not hash to " + block.cid());
      }
      try {
        batch.put(storage.handle(Family.BLOCKS), block.cid().toBytes(), block.data());
      } catch (RocksDBException e) {
        throw RocksStorage.asIOException("staging block " + block.cid(), e);
      }
    }
  }

  @Override
  public Optional<byte[]> get(Cid cid) throws IOException {
    byte[] data;
    try {
      data = storage.get(Family.BLOCKS, cid.toBytes());
    } catch (IOException e) {
      if (e.getCause() instanceof RocksDBException r && RocksStorage.isCorruption(r)) {
        throw new CorruptBlockException(cid, "the storage engine reports damage: " + r.getMessage(), e);
      }
      throw e;
    }
    if (data == null) {
      return Optional.empty();
    }
    if (!cid.multihash().isVerifiable()) {
      throw new CorruptBlockException(cid, "hash function " + cid.multihash().code() + " cannot be verified here");
    }
    if (!cid.matches(data)) {
      throw new CorruptBlockException(cid, "stored bytes do not hash to the CID");
    }
    return Optional.of(data);
  }

  @Override
  public boolean has(Cid cid) throws IOException {
    byte[] key = cid.toBytes();
    return storage.mayExist(Family.BLOCKS, key) && storage.get(Family.BLOCKS, key) != null;
  }

  @Override
  public void delete(Cid cid) throws IOException {
    try (WriteBatch batch = new WriteBatch()) {
      batch.delete(storage.handle(Family.BLOCKS), cid.toBytes());
      storage.writeDurably(batch);
    } catch (RocksDBException e) {
      throw RocksStorage.asIOException("deleting block " + cid, e);
    }
  }

  @Override
  public void forEachCid(Consumer<Cid> visitor) throws IOException {
    try (RocksIterator it = storage.iterator(Family.BLOCKS)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        try {
          visitor.accept(Cid.fromBytes(it.key()));
        } catch (InvalidFormatException e) {
          throw new IOException("storage corruption detected: a block key is not a CID: " + e.getMessage(), e);
        }
      }
      it.status();
    } catch (RocksDBException e) {
      throw RocksStorage.asIOException("iterating blocks", e);
    }
  }

  /** The storage engine is shared and closed by its owner. */
  @Override
  public void close() {}
}
