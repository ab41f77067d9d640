package dev.mnemo.node.ipfs;

import dev.mnemo.store.block.Block;
import dev.mnemo.store.block.BlockStore;
import dev.mnemo.store.block.BlockStoreUnavailableException;
import dev.mnemo.store.block.CorruptBlockException;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.cid.Multicodec;
import io.vertx.core.Context;
import io.vertx.core.Future;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * {@link BlockStore} on an IPFS node through the Kubo RPC API. A put is acknowledged only after
 * the node has stored the block, returned the same CID Mnemo computed, and pinned it directly (so
 * the node's garbage collector keeps it); a batch is checked as a whole first, then sent with at
 * most {@link KuboClient#MAX_CONNECTIONS} blocks in flight and awaited as a whole. Reads are
 * verified against the CID like every other read. Delete unpins Mnemo's direct pin, then removes
 * the block; a block another pin still holds (an operator's recursive pin, say) stays on the IPFS
 * node, with a warning, since removing it would break that pin.
 *
 * <p>The SPI is blocking: these methods wait for the non-blocking client and must not be called
 * on an event loop (they refuse). An unreachable or slow node surfaces as
 * {@link BlockStoreUnavailableException}, which the HTTP API answers with 503 and Retry-After.
 * Not atomic across blocks: a batch that fails halfway leaves some blocks pinned on the IPFS
 * node, unreferenced by any log entry; the log commits only after every block is confirmed.
 */
public final class KuboBlockStore implements BlockStore {
  private static final System.Logger LOG = System.getLogger(KuboBlockStore.class.getName());
  private static final long RETRY_AFTER_SECONDS = 5;
  /** Blocks of one batch in flight at once: one connection each (put, then pin). */
  private static final int WINDOW = KuboClient.MAX_CONNECTIONS;

  private final KuboClient client;
  private final long waitMillis;

  public KuboBlockStore(KuboClient client, long callTimeoutMillis, int retries) {
    this.client = client;
    // Long enough for every retry of one call, plus their backoff. A batch may take longer as a
    // whole (it is not bounded by its size), but never this long without a block completing.
    this.waitMillis = callTimeoutMillis * (retries + 1) + 2_000;
  }

  public KuboClient client() {
    return client;
  }

  @Override
  public void put(Block block) throws IOException {
    putAll(List.of(block));
  }

  @Override
  public void putAll(Collection<Block> blocks) throws IOException {
    // Refuse the whole batch before sending any of it.
    List<String> codecs = new ArrayList<>(blocks.size());
    for (Block block : blocks) {
      if (!block.isIntact()) {
        throw new IllegalArgumentException("block data does not hash to " + block.cid());
      }
      codecs.add(codecName(block.cid()));
    }
    if (Context.isOnEventLoopThread()) {
      throw new IllegalStateException("blocking IPFS call (storing " + blocks.size() + " blocks) on an event loop");
    }
    // A window of blocks in flight: a batch of thousands neither floods the connection pool's
    // queue (where calls would time out waiting) nor gets a deadline that ignores its size.
    Semaphore window = new Semaphore(WINDOW);
    AtomicReference<Throwable> failed = new AtomicReference<>();
    List<Future<Void>> stored = new ArrayList<>(blocks.size());
    int i = 0;
    for (Block block : blocks) {
      String what = "storing " + blocks.size() + " blocks";
      try {
        if (!window.tryAcquire(waitMillis, TimeUnit.MILLISECONDS)) {
          throw new BlockStoreUnavailableException("IPFS node at " + client.api() + " did not answer in time (" + what + ")",
              RETRY_AFTER_SECONDS, null);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted " + what);
      }
      if (failed.get() != null) {
        window.release();
        break;
      }
      Future<Void> one = client.blockPut(block.data(), codecs.get(i++)).compose(cid -> cid.equals(block.cid())
          ? client.pinAdd(cid)
          : Future.failedFuture(new IllegalStateException("the IPFS node computed " + cid + " for block " + block.cid())));
      one.onComplete(ar -> {
        if (ar.failed()) {
          failed.compareAndSet(null, ar.cause());
        }
        window.release();
      });
      stored.add(one);
    }
    Throwable failure = failed.get();
    if (failure != null) {
      await(Future.failedFuture(failure), "storing " + blocks.size() + " blocks");
    }
    await(Future.all(stored), "storing " + blocks.size() + " blocks");
  }

  @Override
  public Optional<byte[]> get(Cid cid) throws IOException {
    Optional<byte[]> data = await(client.blockGet(cid), "reading " + cid);
    if (data.isPresent() && !cid.matches(data.get())) {
      throw new CorruptBlockException(cid, "the IPFS node returned bytes that do not hash to the CID");
    }
    return data;
  }

  @Override
  public boolean has(Cid cid) throws IOException {
    return await(client.blockExists(cid), "checking " + cid);
  }

  @Override
  public void delete(Cid cid) throws IOException {
    KuboClient.Removed removed = await(client.pinRm(cid).compose(v -> client.blockRm(cid)), "deleting " + cid);
    if (removed == KuboClient.Removed.KEPT_PINNED) {
      LOG.log(System.Logger.Level.WARNING, "Mnemo unpinned " + cid + ", but the IPFS node at " + client.api()
          + " keeps the block: another pin holds it");
    }
  }

  /**
   * The IPFS node's direct pins ({@code pin/ls?type=direct}): the blocks Mnemo stored, plus any
   * other direct pin on a node shared with other software, and minus blocks an operator has since
   * pinned recursively (the recursive pin replaces the direct one).
   */
  @Override
  public void forEachCid(Consumer<Cid> visitor) throws IOException {
    await(client.pinLsDirect(), "listing pins").forEach(visitor);
  }

  private static String codecName(Cid cid) {
    return switch ((int) cid.codec()) {
      case Multicodec.DAG_CBOR -> "dag-cbor";
      case Multicodec.RAW -> "raw";
      default -> throw new IllegalArgumentException("unsupported codec " + Multicodec.name(cid.codec()));
    };
  }

  private <T> T await(Future<T> future, String what) throws IOException {
    if (Context.isOnEventLoopThread()) {
      throw new IllegalStateException("blocking IPFS call (" + what + ") on an event loop");
    }
    try {
      return future.toCompletionStage().toCompletableFuture().get(waitMillis, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted " + what);
    } catch (TimeoutException e) {
      throw new BlockStoreUnavailableException("IPFS node at " + client.api() + " did not answer in time (" + what + ")",
          RETRY_AFTER_SECONDS, e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof KuboClient.KuboException kubo && kubo.unavailable()) {
        throw new BlockStoreUnavailableException(kubo.getMessage(), RETRY_AFTER_SECONDS, kubo);
      }
      throw new IOException("IPFS node error while " + what + ": " + cause.getMessage(), cause);
    }
  }

  @Override
  public void close() {
    client.close();
  }
}
