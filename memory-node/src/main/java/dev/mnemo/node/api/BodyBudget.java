package dev.mnemo.node.api;

import io.vertx.core.Vertx;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Bounds the bytes that the request bodies being read whole (JSON, and a peer's block requests)
 * hold together: without it, {@code maxBodyBytes} (16 MiB) times the open connections was the
 * only bound, gigabytes. Placed before the body handler, it reserves a body's declared length (or
 * {@code maxBodyBytes} when it declares none, chunked) out of {@link Limits#maxBufferedBodyBytes}
 * until the response ends. A body that does not fit waits, its request paused (so nothing of it
 * is read: TCP pushes back on the client), in arrival order; one still waiting after
 * {@link #WAIT_MILLIS} is answered 503 with Retry-After.
 *
 * <p>A platform handler, as Vert.x runs those before body handlers. A body larger than {@code maxBodyBytes} reserves nothing: the body handler refuses it (413)
 * as it reads past the limit.
 */
final class BodyBudget implements io.vertx.ext.web.handler.PlatformHandler {
  /** How long a body waits for room before 503: longer than reading a few 16 MiB bodies takes. */
  static final long WAIT_MILLIS = 10_000;
  static final int RETRY_AFTER_SECONDS = 2;
  private static final java.util.regex.Pattern DIGITS = java.util.regex.Pattern.compile("\\d{1,18}");

  private record Waiter(RoutingContext ctx, io.vertx.core.Context context, long bytes, long timer) {}

  private final Vertx vertx;
  private final long capacity;
  private final long maxBodyBytes;
  private final Deque<Waiter> waiting = new ArrayDeque<>();
  private long used;

  BodyBudget(Vertx vertx, long capacity, long maxBodyBytes) {
    this.vertx = vertx;
    this.capacity = capacity;
    this.maxBodyBytes = maxBodyBytes;
  }

  @Override
  public void handle(RoutingContext ctx) {
    long bytes = declared(ctx);
    if (bytes == 0 || bytes > maxBodyBytes) {
      ctx.next();
      return;
    }
    synchronized (this) {
      if (waiting.isEmpty() && used + bytes <= capacity) {
        used += bytes;
      } else {
        ctx.request().pause();
        long timer = vertx.setTimer(WAIT_MILLIS, id -> timedOut(ctx));
        waiting.add(new Waiter(ctx, vertx.getOrCreateContext(), bytes, timer));
        return;
      }
    }
    proceed(ctx, bytes);
  }

  /** The bytes to reserve: the declared length, or the most a body may have when it declares none. */
  private long declared(RoutingContext ctx) {
    long length = declaredLength(ctx.request());
    if (length >= 0) {
      return length;
    }
    // Chunked (or a malformed length, which the server refuses anyway): the worst case.
    return ctx.request().getHeader("Transfer-Encoding") != null ? maxBodyBytes : 0;
  }

  /** The request's {@code Content-Length}, or -1 when it has none or a malformed one. */
  static long declaredLength(io.vertx.core.http.HttpServerRequest request) {
    String length = request.getHeader("Content-Length");
    return length != null && DIGITS.matcher(length).matches() ? Long.parseLong(length) : -1;
  }

  private void proceed(RoutingContext ctx, long bytes) {
    ctx.addEndHandler(v -> release(bytes));
    ctx.next();
  }

  private void release(long bytes) {
    java.util.List<Waiter> admitted = new java.util.ArrayList<>();
    synchronized (this) {
      used -= bytes;
      while (!waiting.isEmpty() && used + waiting.peek().bytes() <= capacity) {
        Waiter next = waiting.poll();
        used += next.bytes();
        admitted.add(next);
      }
    }
    for (Waiter next : admitted) {
      vertx.cancelTimer(next.timer());
      // On the request's own context, as every handler of it runs.
      next.context().runOnContext(v -> proceed(next.ctx(), next.bytes()));
    }
  }

  private void timedOut(RoutingContext ctx) {
    synchronized (this) {
      if (!waiting.removeIf(w -> w.ctx() == ctx)) {
        return;
      }
    }
    ctx.put("route", "busy");
    ctx.response().putHeader("Retry-After", Integer.toString(RETRY_AFTER_SECONDS));
    // The body was never read: the connection cannot take another request after this one.
    HttpApi.closeAfterReply(ctx);
    ctx.fail(new ApiException(503, "busy", "the node is reading " + (capacity >> 20) + " MiB of request bodies already; retry in "
        + RETRY_AFTER_SECONDS + " s"));
  }
}
