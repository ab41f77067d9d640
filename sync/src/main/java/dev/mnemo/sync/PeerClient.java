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
import java.util.concurrent.atomic.LongAdder;

/**
 * Fetches from peers over their HTTP API: head digests ({@code GET /v1/sync/heads}) and blocks in
 * batches ({@code POST /v1/sync/blocks}, answered as CAR). Every block is checked against its CID
 * by the CAR reader as it arrives, and a peer that sends a block nobody asked for is refused.
 * Blocking calls: the replicator runs them on its own thread, never on an event loop.
 */
public final class PeerClient {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private final HttpClient http = HttpClient.newBuilder()
      .connectTimeout(Duration.ofSeconds(5))
      .version(HttpClient.Version.HTTP_1_1)
      .build();
  private final LongAdder bytesReceived = new LongAdder();
  private final LongAdder requests = new LongAdder();

  public HeadsDigest digest(String peerHttp) throws IOException {
    HttpRequest request = HttpRequest.newBuilder(URI.create(peerHttp + "/v1/sync/heads")).timeout(TIMEOUT).GET().build();
    byte[] body = send(request);
    return HeadsDigest.decode(body);
  }

  /** The blocks the peer has among {@code cids}, each verified against its CID. */
  public List<Block> blocks(String peerHttp, List<Cid> cids) throws IOException {
    List<Block> out = new ArrayList<>(cids.size());
    for (int from = 0; from < cids.size(); from += BlockRequest.MAX_CIDS) {
      List<Cid> chunk = cids.subList(from, Math.min(cids.size(), from + BlockRequest.MAX_CIDS));
      HttpRequest request = HttpRequest.newBuilder(URI.create(peerHttp + "/v1/sync/blocks"))
          .timeout(TIMEOUT)
          .header("Content-Type", "application/vnd.ipld.dag-cbor")
          .POST(HttpRequest.BodyPublishers.ofByteArray(new BlockRequest(chunk).encode()))
          .build();
      byte[] body = send(request);
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

  private byte[] send(HttpRequest request) throws IOException {
    HttpResponse<byte[]> response;
    try {
      response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted talking to " + request.uri());
    }
    requests.increment();
    bytesReceived.add(response.body().length);
    if (response.statusCode() != 200) {
      throw new IOException(request.uri() + " answered " + response.statusCode());
    }
    return response.body();
  }

  public long bytesReceived() {
    return bytesReceived.sum();
  }

  public long requests() {
    return requests.sum();
  }
}
