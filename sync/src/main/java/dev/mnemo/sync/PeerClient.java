package dev.mnemo.sync;

import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.block.Block;
import dev.mnemo.store.car.CarReader;
import dev.mnemo.store.cid.Cid;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.LongAdder;

/**
 * Fetches from peers over their HTTP API: head digests ({@code GET /v1/sync/heads}) and blocks in
 * batches ({@code POST /v1/sync/blocks}, answered as CAR). Every block is checked against its CID
 * by the CAR reader as it arrives, and a peer that sends a block nobody asked for is refused.
 *
 * <p>Peers are not trusted: every call has a timeout, so a peer that accepts connections and
 * never answers costs a bounded wait, and a response larger than any honest answer is cut off
 * rather than buffered. {@link #blocks} blocks its caller (the replicator's pull threads, never an
 * event loop); {@link #digestAsync} does not.
 */
public final class PeerClient {
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(3);
  /** A digest is small; a peer that takes longer than this is treated as unreachable this round. */
  private static final Duration DIGEST_TIMEOUT = Duration.ofSeconds(5);
  /** Up to {@link BlockRequest#MAX_CIDS} blocks; generous for a loaded peer on a slow link. */
  private static final Duration BLOCKS_TIMEOUT = Duration.ofSeconds(20);
  /** Largest digest accepted: about 100,000 namespaces with a head each. */
  static final int MAX_DIGEST_BYTES = 16 << 20;
  /** Largest block response accepted: the node's CAR import limit. */
  static final int MAX_BLOCKS_BYTES = 256 << 20;

  private final HttpClient http = HttpClient.newBuilder()
      .connectTimeout(CONNECT_TIMEOUT)
      .version(HttpClient.Version.HTTP_1_1)
      .build();
  private final LongAdder bytesReceived = new LongAdder();
  private final LongAdder requests = new LongAdder();

  /** The peer's heads digest; completes exceptionally when the peer cannot be asked or answers badly. */
  public CompletableFuture<HeadsDigest> digestAsync(String peerHttp) {
    HttpRequest request;
    try {
      request = HttpRequest.newBuilder(URI.create(peerHttp + "/v1/sync/heads")).timeout(DIGEST_TIMEOUT).GET().build();
    } catch (IllegalArgumentException e) {
      return CompletableFuture.failedFuture(new IOException("bad peer address " + peerHttp, e));
    }
    return http.sendAsync(request, HttpResponse.BodyHandlers.ofInputStream())
        .thenApply(response -> {
          try {
            return HeadsDigest.decode(body(request, response, MAX_DIGEST_BYTES));
          } catch (IOException e) {
            throw new CompletionException(e);
          }
        });
  }

  /** The blocks the peer has among {@code cids}, each verified against its CID. */
  public List<Block> blocks(String peerHttp, List<Cid> cids) throws IOException {
    List<Block> out = new ArrayList<>(cids.size());
    for (int from = 0; from < cids.size(); from += BlockRequest.MAX_CIDS) {
      List<Cid> chunk = cids.subList(from, Math.min(cids.size(), from + BlockRequest.MAX_CIDS));
      HttpRequest request = HttpRequest.newBuilder(URI.create(peerHttp + "/v1/sync/blocks"))
          .timeout(BLOCKS_TIMEOUT)
          .header("Content-Type", "application/vnd.ipld.dag-cbor")
          .POST(HttpRequest.BodyPublishers.ofByteArray(new BlockRequest(chunk).encode()))
          .build();
      byte[] body = send(request, MAX_BLOCKS_BYTES);
      Set<Cid> asked = new HashSet<>(chunk);
      try (InputStream in = new ByteArrayInputStream(body)) {
        CarReader car = new CarReader(in);
        for (Block block = car.next(); block != null; block = car.next()) {
          if (!asked.contains(block.cid())) {
            throw new InvalidFormatException("peer response", "peer sent block " + block.cid() + " that was not asked for");
          }
          out.add(block);
        }
      }
    }
    return out;
  }

  private byte[] send(HttpRequest request, int maxBytes) throws IOException {
    HttpResponse<InputStream> response;
    try {
      response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted talking to " + request.uri());
    }
    return body(request, response, maxBytes);
  }

  /** Reads a response body up to {@code maxBytes}; a non-200 answer or a longer body is an error. */
  private byte[] body(HttpRequest request, HttpResponse<InputStream> response, int maxBytes) throws IOException {
    requests.increment();
    try (InputStream in = response.body()) {
      if (response.statusCode() != 200) {
        throw new IOException(request.uri() + " answered " + response.statusCode());
      }
      byte[] body = in.readNBytes(maxBytes + 1);
      bytesReceived.add(body.length);
      if (body.length > maxBytes) {
        throw new IOException(request.uri() + " answered with more than " + maxBytes + " bytes");
      }
      return body;
    }
  }

  public long bytesReceived() {
    return bytesReceived.sum();
  }

  public long requests() {
    return requests.sum();
  }
}
