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
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import javax.net.ssl.SSLContext;

/**
 * Fetches from peers over their HTTP API: digest steps ({@code POST /v1/sync/digest}, see
 * {@link Reconciliation}), whole v1 head digests of older peers ({@code GET /v1/sync/heads}), blocks in
 * batches ({@code POST /v1/sync/blocks}, answered as CAR) and log entries with their ancestors
 * ({@code POST /v1/sync/entries}, likewise). Every request is signed with the node
 * key for the peer it goes to ({@link PeerAuth}), so the peer knows which node asks and serves it
 * only what that node may replicate. Every block is checked against its CID by the CAR reader as
 * it arrives, and a peer that sends a block nobody asked for is refused.
 *
 * <p>Peers are not trusted: every call has a timeout, covering the answer's headers and its body,
 * so a peer that accepts connections and never answers, or stalls half-way, costs a bounded wait;
 * and a response larger than any honest answer is cut off rather than buffered. {@link #blocks} blocks its caller (the replicator's pull threads, never an
 * event loop); {@link #digestAsync} does not.
 */
public final class PeerClient {
  /** The sync endpoint's paths, as signed: peers' base URLs are bare (see {@link Peer#badHttp}). */
  public static final String HEADS_PATH = "/v1/sync/heads";
  public static final String BLOCKS_PATH = "/v1/sync/blocks";
  /** Digest protocol v2 ({@link DigestExchange}); a peer older than it answers 404. */
  public static final String DIGEST_PATH = "/v1/sync/digest";
  /** Largest v2 digest reply accepted: {@link DigestExchange#MAX_NAMESPACES} namespaces with many heads each. */
  static final int MAX_DIGEST_REPLY_BYTES = 4 << 20;
  public static final String ENTRIES_PATH = "/v1/sync/entries";
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(3);
  /** A digest is small; a peer that takes longer than this is treated as unreachable this round. */
  private static final Duration DIGEST_TIMEOUT = Duration.ofSeconds(5);
  /** Up to {@link BlockRequest#MAX_CIDS} blocks; generous for a loaded peer on a slow link. */
  private static final Duration BLOCKS_TIMEOUT = Duration.ofSeconds(20);
  /** Largest digest accepted: about 100,000 namespaces with a head each. */
  static final int MAX_DIGEST_BYTES = 16 << 20;
  /** Largest block response accepted: the node's CAR import limit. */
  static final int MAX_BLOCKS_BYTES = 256 << 20;

  /**
   * Closes response bodies that run past their deadline. {@link HttpRequest#timeout} covers the
   * wait for the response headers only: a peer that sends them and then stalls, or trickles a
   * byte at a time, would otherwise hold the reading thread for good.
   */
  private static final ScheduledExecutorService DEADLINES = deadlines();

  private static ScheduledExecutorService deadlines() {
    java.util.concurrent.ScheduledThreadPoolExecutor pool = new java.util.concurrent.ScheduledThreadPoolExecutor(1,
        r -> Thread.ofPlatform().name("mnemo-peer-deadlines").daemon(true).unstarted(r));
    // Nearly every cut-off is cancelled when its read ends: drop it then, not when it would have run.
    pool.setRemoveOnCancelPolicy(true);
    return pool;
  }

  private final HttpClient http;
  private final PeerAuth auth;
  private final Duration digestTimeout;
  private final Duration blocksTimeout;
  private final LongAdder bytesReceived = new LongAdder();
  private final LongAdder requests = new LongAdder();
  private final LongAdder digestBytes = new LongAdder();
  private final LongAdder digestRequests = new LongAdder();

  /** @param auth signs every request with this node's key */
  public PeerClient(PeerAuth auth) {
    this(auth, null);
  }

  /**
   * @param auth signs every request with this node's key
   * @param tls what https peers must present (see {@link PeerTls}); null for the JVM's default
   *     trusted CAs
   */
  public PeerClient(PeerAuth auth, SSLContext tls) {
    this(auth, tls, DIGEST_TIMEOUT, BLOCKS_TIMEOUT);
  }

  /** With other timeouts, each covering a whole call: the wait for the answer and reading it. */
  PeerClient(PeerAuth auth, Duration digestTimeout, Duration blocksTimeout) {
    this(auth, null, digestTimeout, blocksTimeout);
  }

  PeerClient(PeerAuth auth, SSLContext tls, Duration digestTimeout, Duration blocksTimeout) {
    HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT).version(HttpClient.Version.HTTP_1_1);
    this.http = (tls == null ? builder : builder.sslContext(tls)).build();
    this.auth = auth;
    this.digestTimeout = digestTimeout;
    this.blocksTimeout = blocksTimeout;
  }

  /** The peer's heads digest; completes exceptionally when the peer cannot be asked or answers badly. */
  public CompletableFuture<HeadsDigest> digestAsync(Peer peer) {
    HttpRequest request;
    try {
      request = HttpRequest.newBuilder(URI.create(peer.http() + HEADS_PATH)).timeout(digestTimeout).GET()
          .header("Authorization", auth.sign(peer.did(), "GET", HEADS_PATH, null))
          .build();
    } catch (IllegalArgumentException e) {
      return CompletableFuture.failedFuture(new IOException("bad peer address " + peer.http(), e));
    }
    long deadline = System.nanoTime() + digestTimeout.toNanos();
    return http.sendAsync(request, HttpResponse.BodyHandlers.ofInputStream())
        .thenApply(response -> {
          try {
            byte[] body = body(request, response, MAX_DIGEST_BYTES, deadline);
            countDigest(body);
            return HeadsDigest.decode(body);
          } catch (IOException e) {
            throw new CompletionException(e);
          }
        });
  }

  /** A peer that does not speak digest protocol v2 (it answered 404): ask it for the v1 digest. */
  static final class NoDigestV2Exception extends IOException {
    NoDigestV2Exception(String peer) {
      super(peer + " does not speak digest protocol v2");
    }
  }

  /**
   * One digest protocol v2 exchange ({@link DigestExchange}): the peer's reply, undecoded.
   * Completes with {@link NoDigestV2Exception} when the peer answers 404 (a node older than v2).
   */
  CompletableFuture<byte[]> digestAsync(Peer peer, DigestExchange.Request asked) {
    HttpRequest request;
    try {
      request = signedPost(peer, DIGEST_PATH, asked.encode(), digestTimeout);
    } catch (IOException e) {
      return CompletableFuture.failedFuture(e);
    }
    long deadline = System.nanoTime() + digestTimeout.toNanos();
    return http.sendAsync(request, HttpResponse.BodyHandlers.ofInputStream())
        .thenApply(response -> {
          try {
            if (response.statusCode() == 404) {
              closeQuietly(response.body());
              throw new NoDigestV2Exception(peer.http());
            }
            byte[] body = body(request, response, MAX_DIGEST_REPLY_BYTES, deadline);
            countDigest(body);
            return body;
          } catch (IOException e) {
            throw new CompletionException(e);
          }
        });
  }

  private void countDigest(byte[] body) {
    digestBytes.add(body.length);
    digestRequests.increment();
  }

  /** A DAG-CBOR POST of {@code body} to the peer's {@code path}, signed by this node. */
  private HttpRequest signedPost(Peer peer, String path, byte[] body, Duration timeout) throws IOException {
    try {
      return HttpRequest.newBuilder(URI.create(peer.http() + path))
          .timeout(timeout)
          .header("Content-Type", "application/vnd.ipld.dag-cbor")
          .header("Authorization", auth.sign(peer.did(), "POST", path, body))
          .POST(HttpRequest.BodyPublishers.ofByteArray(body))
          .build();
    } catch (IllegalArgumentException e) {
      throw new IOException("bad peer address " + peer.http(), e);
    }
  }

  /** The blocks the peer has among {@code cids}, each verified against its CID. */
  public List<Block> blocks(Peer peer, List<Cid> cids) throws IOException {
    List<Block> out = new ArrayList<>(cids.size());
    for (int from = 0; from < cids.size(); from += BlockRequest.MAX_CIDS) {
      List<Cid> chunk = cids.subList(from, Math.min(cids.size(), from + BlockRequest.MAX_CIDS));
      byte[] answer = send(signedPost(peer, BLOCKS_PATH, new BlockRequest(chunk).encode(), blocksTimeout), MAX_BLOCKS_BYTES);
      Set<Cid> asked = new HashSet<>(chunk);
      try (InputStream in = new ByteArrayInputStream(answer)) {
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

  /**
   * The entries the peer has among {@code cids} and their ancestors {@code depth} levels down, not
   * past {@code have} ({@link EntriesRequest}), each verified against its CID; blocks that were
   * not asked for by name are returned too, and the caller uses only those its walk reaches
   * through parent links. Empty when the peer does not serve {@code /v1/sync/entries} (a node
   * older than it answers 404): walk with {@link #blocks} instead.
   */
  public Optional<List<Block>> entries(Peer peer, List<Cid> cids, List<Cid> have, int depth) throws IOException {
    HttpRequest request = signedPost(peer, ENTRIES_PATH, new EntriesRequest(cids, have, depth).encode(), blocksTimeout);
    byte[] answer;
    try {
      answer = send(request, MAX_BLOCKS_BYTES);
    } catch (StatusException e) {
      if (e.status == 404) {
        return Optional.empty();
      }
      throw e;
    }
    List<Block> out = new ArrayList<>();
    try (InputStream in = new ByteArrayInputStream(answer)) {
      CarReader car = new CarReader(in);
      for (Block block = car.next(); block != null; block = car.next()) {
        if (out.size() >= EntriesRequest.MAX_BLOCKS) {
          throw new InvalidFormatException("peer response", "peer sent more than " + EntriesRequest.MAX_BLOCKS + " entries");
        }
        out.add(block);
      }
    }
    return Optional.of(out);
  }

  /** A peer's answer with another status than 200. */
  static final class StatusException extends IOException {
    final int status;

    StatusException(String message, int status) {
      super(message);
      this.status = status;
    }
  }

  private byte[] send(HttpRequest request, int maxBytes) throws IOException {
    long deadline = System.nanoTime() + request.timeout().orElse(blocksTimeout).toNanos();
    HttpResponse<InputStream> response;
    try {
      response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted talking to " + request.uri());
    }
    return body(request, response, maxBytes, deadline);
  }

  /**
   * Reads a response body up to {@code maxBytes} by {@code deadline} (System.nanoTime); a non-200
   * answer, a longer body or a late one is an error.
   */
  private byte[] body(HttpRequest request, HttpResponse<InputStream> response, int maxBytes, long deadline) throws IOException {
    requests.increment();
    try (InputStream in = response.body()) {
      if (response.statusCode() != 200) {
        throw new StatusException(request.uri() + " answered " + response.statusCode(), response.statusCode());
      }
      AtomicBoolean late = new AtomicBoolean();
      ScheduledFuture<?> cutOff = DEADLINES.schedule(() -> {
        late.set(true);
        closeQuietly(in);
      }, Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      byte[] body;
      try {
        body = in.readNBytes(maxBytes + 1);
      } catch (IOException e) {
        throw late.get() ? timedOut(request) : e;
      } finally {
        cutOff.cancel(false);
      }
      if (late.get()) {
        throw timedOut(request);
      }
      bytesReceived.add(body.length);
      if (body.length > maxBytes) {
        throw new IOException(request.uri() + " answered with more than " + maxBytes + " bytes");
      }
      return body;
    }
  }

  private static java.net.http.HttpTimeoutException timedOut(HttpRequest request) {
    return new java.net.http.HttpTimeoutException(request.uri() + " did not finish its answer in time");
  }

  private static void closeQuietly(InputStream in) {
    try {
      in.close();
    } catch (IOException ignored) {
      // Closing is how the read is cut off; a failure to close leaves nothing else to do.
    }
  }

  public long bytesReceived() {
    return bytesReceived.sum();
  }

  public long requests() {
    return requests.sum();
  }

  /** Bytes of digest replies (v1 and v2) received: what anti-entropy's comparisons cost. */
  public long digestBytesReceived() {
    return digestBytes.sum();
  }

  /** Digest requests (v1 and v2) answered. */
  public long digestRequests() {
    return digestRequests.sum();
  }
}
