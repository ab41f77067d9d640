package dev.mnemo.store.log;

import dev.mnemo.store.block.BlockStore;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.rocks.RocksStorage;
import dev.mnemo.store.rocks.RocksStorage.Family;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;

/**
 * Memory blocks that forgets removed from the log but that a block store outside the engine (an
 * IPFS node) still holds. A forget is committed first, with a record here in the same batch; the
 * block is removed after, and the record with it. When the removal fails (the IPFS node is down,
 * or refuses), the forget stays committed and acknowledged, and the removal is retried later and
 * after a restart: a failed delete must neither undo a durable forget nor be forgotten itself.
 *
 * <p>Used by the log's writer thread only.
 */
final class PendingDeletes {
  private static final System.Logger LOG = System.getLogger(PendingDeletes.class.getName());
  private static final byte[] PREFIX = "gc/".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  private static final long RETRY_NANOS = TimeUnit.SECONDS.toNanos(30);

  private final RocksStorage storage;
  private final BlockStore blocks;
  private final Consumer<List<Cid>> onRemoved;
  private final Set<Cid> pending = new LinkedHashSet<>();
  /** Due at once: deletes left over from before a restart are retried on the first idle check. */
  private long retryAtNanos = System.nanoTime();

  /** {@code onRemoved} hears of the blocks removed, so that caches can drop what a read put back meanwhile. */
  PendingDeletes(RocksStorage storage, BlockStore blocks, Consumer<List<Cid>> onRemoved) {
    this.storage = storage;
    this.blocks = blocks;
    this.onRemoved = onRemoved;
    try (RocksIterator it = storage.iterator(Family.META)) {
      for (it.seek(PREFIX); it.isValid() && LogKeys.hasPrefix(it.key(), PREFIX); it.next()) {
        pending.add(Cid.fromBytes(LogKeys.suffix(it.key(), PREFIX)));
      }
    } catch (IOException e) {
      throw new IllegalStateException("unreadable pending block delete: " + e.getMessage(), e);
    }
  }

  /** Adds the records for {@code cids} to the batch that commits their forgets. */
  void stage(WriteBatch batch, List<Cid> cids) throws RocksDBException {
    for (Cid cid : cids) {
      batch.put(storage.handle(Family.META), key(cid), new byte[0]);
    }
  }

  /** After the commit: removes these blocks, and any left over whose retry is due. */
  void removeCommitted(List<Cid> cids) {
    pending.addAll(cids);
    if (!cids.isEmpty() || retryDue()) {
      removeAll();
    }
  }

  /** Retries left-over removals when due; cheap when there are none. */
  void retryIfDue() {
    if (retryDue()) {
      removeAll();
    }
  }

  int size() {
    return pending.size();
  }

  private boolean retryDue() {
    return !pending.isEmpty() && System.nanoTime() - retryAtNanos >= 0;
  }

  private void removeAll() {
    List<Cid> removed = new ArrayList<>();
    for (Cid cid : List.copyOf(pending)) {
      try {
        blocks.delete(cid);
        removed.add(cid);
      } catch (IOException | RuntimeException e) {
        // The block store is likely down: stop here rather than wait out a timeout per block.
        LOG.log(System.Logger.Level.WARNING, "could not remove forgotten block " + cid + " from the block store ("
            + e.getMessage() + "); " + pending.size() + " removal(s) pending, retrying in 30 s");
        retryAtNanos = System.nanoTime() + RETRY_NANOS;
        break;
      }
    }
    if (removed.isEmpty()) {
      return;
    }
    onRemoved.accept(removed);
    try (WriteBatch batch = new WriteBatch()) {
      for (Cid cid : removed) {
        batch.delete(storage.handle(Family.META), key(cid));
      }
      storage.writeDurably(batch);
      removed.forEach(pending::remove);
    } catch (IOException | RocksDBException e) {
      // The records stay; removing an absent block again later is harmless.
      LOG.log(System.Logger.Level.WARNING, "could not clear pending block deletes: " + e.getMessage());
    }
  }

  private static byte[] key(Cid cid) {
    byte[] bytes = cid.toBytes();
    byte[] key = Arrays.copyOf(PREFIX, PREFIX.length + bytes.length);
    System.arraycopy(bytes, 0, key, PREFIX.length, bytes.length);
    return key;
  }
}
