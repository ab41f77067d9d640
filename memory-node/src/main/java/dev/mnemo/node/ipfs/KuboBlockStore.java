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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * {@link BlockStore} on an IPFS node through the Kubo RPC API. A put is acknowledged only after
 * the node has stored the block, returned the same CID Mnemo computed, and pinned it (so the
 * node's garbage collector keeps it); a batch is sent concurrently and awaited as a whole. Reads
 * are verified against the CID like every other read. Delete unpins, then removes the block.
 *
 * <p>The SPI is blocking: these methods wait for the non-blocking client and must not be called
 * on an event loop (they refuse). An unreachable or slow node surfaces as
 * {@link BlockStoreUnavailableException}, which the HTTP API answers with 503 and Retry-After.
 * Not atomic across blocks: a batch that fails halfway leaves some blocks pinned on the IPFS
 * node, unreferenced by any log entry; the log commits only after every block is confirmed.
 */
public final class KuboBlockStore implements BlockStore {
  private static final long RETRY_AFTER_SECONDS = 5;

  private final KuboClient client;
  private final long waitMillis;

  public KuboBlockStore(KuboClient client, long callTimeoutMillis, int retries) {
    this.client = client;
    // Long enough for every retry of the slowest call in a batch, plus their backoff.
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
    List<Future<Void>> stored = new ArrayList<>(blocks.size());
    for (Block block : blocks) {
      if (!block.isIntact()) {
        throw new IllegalArgumentException("block data does not hash to " + block.cid());
      }
      stored.add(client.blockPut(block.data(), codecName(block.cid())).compose(cid -> cid.equals(block.cid())
          ? client.pinAdd(cid)
          : Future.failedFuture(new IllegalStateException("the IPFS node computed " + cid + " for block " + block.cid()))));
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
    await(client.pinRm(cid).compose(v -> client.blockRm(cid)), "deleting " + cid);
  }

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
