package dev.mnemo.node.api;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.AsyncFile;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.http.HttpServerRequest;
import java.nio.file.Path;

/**
 * A request body streamed to a file as it arrives, so that an import of hundreds of MiB never
 * sits in the heap: each chunk is written and let go, and the socket is read no faster than the
 * disk takes it (back-pressure). The byte limit is enforced while streaming: past it, reading
 * stops and the upload fails with 413 at once, not after the whole body has come.
 *
 * <p>Created on the event loop as soon as the route is known, with the request paused: its
 * handlers are set before anything could be lost (a connection that closes while the node checks
 * the caller, for instance), and reading starts only when the file is open ({@link #into}).
 */
final class SpillUpload {
  private final HttpServerRequest request;
  private final long limit;
  private final long stallMillis;
  private final Promise<Void> done = Promise.promise();
  private AsyncFile file;
  private long received;
  private volatile long lastChunkNanos = System.nanoTime();

  /** @param stallMillis an upload that sends nothing for this long fails (408): it would hold an import slot */
  SpillUpload(HttpServerRequest request, long limit, long stallMillis) {
    this.request = request;
    this.limit = limit;
    this.stallMillis = stallMillis;
    if (request.isEnded()) {
      // Vert.x's BodyHandler refuses the same: a handler before this one let the body go unread.
      done.tryFail(new IllegalStateException("the request body was read before the import could stream it"));
      return;
    }
    request.pause();
    request.handler(this::chunk);
    request.exceptionHandler(this::fail);
    request.endHandler(v -> {
      if (file != null) {
        // end() flushes what is queued and closes: the upload is done once the bytes are on disk.
        file.end().onComplete(ar -> {
          if (ar.succeeded()) {
            done.tryComplete();
          } else {
            fail(ar.cause());
          }
        });
      }
    });
  }

  /** Opens {@code spill}, reads the body into it; completes when it is all there. */
  Future<Void> into(Vertx vertx, Path spill) {
    if (done.future().isComplete()) {
      return done.future();
    }
    vertx.fileSystem().open(spill.toString(), new OpenOptions().setWrite(true).setCreate(false).setTruncateExisting(true))
        .onSuccess(opened -> {
          if (done.future().isComplete()) {
            opened.close();
            return;
          }
          file = opened;
          file.exceptionHandler(this::fail);
          lastChunkNanos = System.nanoTime();
          long watch = vertx.setPeriodic(Math.max(100, stallMillis / 4), id -> {
            if (done.future().isComplete()) {
              vertx.cancelTimer(id);
            } else if (System.nanoTime() - lastChunkNanos > stallMillis * 1_000_000) {
              vertx.cancelTimer(id);
              fail(new ApiException(408, "request_timeout", "the import's body stalled: nothing came for " + stallMillis + " ms"));
            }
          });
          done.future().onComplete(ar -> vertx.cancelTimer(watch));
          request.resume();
        })
        .onFailure(this::fail);
    return done.future();
  }

  /**
   * Reads the rest of a refused request's body and throws it away, so that the client, which
   * may read no answer before it has sent its body (java.net.http does not), gets the answer
   * rather than a reset connection; the connection then serves its next request. Past
   * {@code limit} bytes the connection is closed: a refused body is no reason to read for ever.
   */
  static void discard(HttpServerRequest request, long limit) {
    if (request.isEnded()) {
      return;
    }
    long[] discarded = {0};
    request.exceptionHandler(e -> {});
    request.endHandler(v -> {});
    request.handler(buffer -> {
      discarded[0] += buffer.length();
      if (discarded[0] > limit) {
        request.handler(null);
        request.connection().close();
      }
    });
    request.resume();
  }

  private void chunk(Buffer buffer) {
    if (done.future().isComplete()) {
      return;
    }
    received += buffer.length();
    lastChunkNanos = System.nanoTime();
    if (received > limit) {
      fail(ApiException.tooLarge(limit));
      return;
    }
    file.write(buffer);
    if (file.writeQueueFull()) {
      request.pause();
      file.drainHandler(v -> {
        if (!done.future().isComplete()) {
          lastChunkNanos = System.nanoTime(); // the disk was slow, not the client
          request.resume();
        }
      });
    }
  }

  /** Stops reading and fails the upload. */
  void fail(Throwable cause) {
    if (done.tryFail(cause)) {
      request.pause();
      if (file != null) {
        file.close();
      }
    }
  }
}
