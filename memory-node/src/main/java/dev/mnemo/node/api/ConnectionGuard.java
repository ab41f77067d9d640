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
 * What a connection may hold on the node, beyond Vert.x's idle timeout: at most
 * {@link Limits#maxConnections} open at once (one more is closed as soon as it is accepted), and
 * request headers within {@link Limits#headerTimeoutMillis} of connecting or of the previous
 * response. Without them, 1,500 sockets that sent half a request line were all still open after a
 * minute: each holds a file descriptor and buffers, and enough of them stop the node accepting.
 *
 * <p>Vert.x has no option for either: the header timer is armed per connection and disarmed when
 * a request's headers arrive (the request handler runs then); a request in progress (an import
 * streaming its body) is the idle timeout's to bound.
 */
public final class ConnectionGuard {
  private final Vertx vertx;
  private final Limits limits;
  private final Metrics metrics;
  private final AtomicInteger open = new AtomicInteger();
  /** Per connection: the pending header timer (or -1), and the requests it has under way. */
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
    arm(connection, state);
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

  /** Re-arms the header timer once a connection's requests have all been answered (keep-alive). */
  public void mount(Router router) {
    router.route().order(Integer.MIN_VALUE).handler(ctx -> {
      HttpConnection connection = ctx.request().connection();
      ctx.addEndHandler(v -> {
        long[] state = states.get(connection);
        if (state != null && --state[1] == 0) {
          arm(connection, state);
        }
      });
      ctx.next();
    });
  }

  private void arm(HttpConnection connection, long[] state) {
    state[0] = vertx.setTimer(limits.headerTimeoutMillis(), id -> {
      if (state[0] == id && state[1] == 0) {
        metrics.count("mnemo_http_header_timeouts_total", "Connections closed: no request headers within headerTimeoutMs", "", 1);
        connection.close();
      }
    });
  }
}
