package dev.mnemo.node.api;

import dev.mnemo.node.metrics.Metrics;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What a connection may hold on the node: at most {@link Limits#maxConnections} open at once (one
 * more is closed as soon as it is accepted); the first request's headers within
 * {@link Limits#headerTimeoutMillis} of connecting; and, once every request on it has been
 * answered, the next request's headers within {@link Limits#idleTimeoutMillis}. Without them,
 * 1,500 sockets that sent half a request line were all still open after a minute: each holds a
 * file descriptor and buffers, and enough of them stop the node accepting.
 *
 * <p>Vert.x has no option for the first two, and its idle timeout would also close a connection
 * whose request is still being worked on (an import applied and indexed for a minute sends and
 * receives nothing meanwhile): so one timer per connection, armed while no request is under way
 * and disarmed when a request's headers arrive (the request handler runs then). A request's body
 * is its route's to bound (an import's upload fails when it stalls, see SpillUpload).
 */
public final class ConnectionGuard {
  private final Vertx vertx;
  private final Limits limits;
  private final Metrics metrics;
  private final AtomicInteger open = new AtomicInteger();
  /** Per connection: the pending timer (or -1), and the requests it has under way. */
  private final Map<HttpConnection, long[]> states = new ConcurrentHashMap<>();

  public ConnectionGuard(Vertx vertx, Limits limits, Metrics metrics) {
    this.vertx = vertx;
    this.limits = limits;
    this.metrics = metrics;
    metrics.gauge("mnemo_http_connections", "HTTP connections open", open::get);
  }

  /** The server's connection handler. */
  public void connected(HttpConnection connection) {
    if (open.incrementAndGet() > limits.maxConnections()) {
      open.decrementAndGet();
      metrics.count("mnemo_http_connections_refused_total", "Connections closed at once: maxConnections were open", "", 1);
      connection.close();
      return;
    }
    long[] state = {-1, 0};
    states.put(connection, state);
    connection.closeHandler(v -> {
      open.decrementAndGet();
      long[] s = states.remove(connection);
      if (s != null && s[0] >= 0) {
        vertx.cancelTimer(s[0]);
      }
    });
    arm(connection, state, limits.headerTimeoutMillis());
  }

  /** Wraps the server's request handler: a request's headers have arrived. */
  public Handler<HttpServerRequest> requests(Handler<HttpServerRequest> next) {
    return request -> {
      long[] state = states.get(request.connection());
      if (state != null) {
        state[1]++;
        if (state[0] >= 0) {
          vertx.cancelTimer(state[0]);
          state[0] = -1;
        }
      }
      next.handle(request);
    };
  }

  /** Arms the idle timer once a connection's requests have all been answered (keep-alive). */
  public void mount(Router router) {
    router.route().order(Integer.MIN_VALUE).handler(ctx -> {
      HttpConnection connection = ctx.request().connection();
      ctx.addEndHandler(v -> {
        long[] state = states.get(connection);
        if (state != null && --state[1] == 0) {
          arm(connection, state, limits.idleTimeoutMillis());
        }
      });
      ctx.next();
    });
  }

  private void arm(HttpConnection connection, long[] state, long millis) {
    state[0] = vertx.setTimer(millis, id -> {
      if (state[0] == id && state[1] == 0) {
        metrics.count("mnemo_http_connection_timeouts_total",
            "Connections closed: no request headers within headerTimeoutMs of connecting, or idleTimeoutMs after the last answer", "", 1);
        connection.close();
      }
    });
  }
}
