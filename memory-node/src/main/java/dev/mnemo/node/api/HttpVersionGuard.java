package dev.mnemo.node.api;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.vertx.core.http.HttpConnection;

/**
 * Turns a request line with a version this server does not speak ({@code GET / HTTP/9.9}), and an
 * HTTP/1.1 request without exactly one Host header, into an invalid request, so that
 * {@link HttpApi#invalidRequest} answers it in the API's error shape.
 *
 * <p>Why a Netty handler: Netty parses any {@code NAME/major.minor} as a version, and Vert.x 5
 * (Http1xServerRequestHandler) then answers a version it does not know with a bare 501, empty
 * body and the client's own version in the status line ({@code HTTP/9.9 501}), before any handler
 * of ours runs. Marking the request as failed to decode here, between Netty's decoder and Vert.x's
 * connection handler, routes it to the server's invalid-request handler instead. This reaches into Vert.x's connection
 * ({@code ConnectionBase.channel()}, an implementation class): should a Vert.x upgrade move it,
 * {@link #install} does nothing and such requests fall back to Vert.x's bare 501, which
 * {@code WireEdgesApiTest} would catch.
 */
@ChannelHandler.Sharable // stateless: one instance serves every connection
public final class HttpVersionGuard extends ChannelInboundHandlerAdapter {
  private static final String NAME = "mnemo-http-version";
  /** The names Vert.x gives Netty's HTTP/1.x request decoder and its own connection handler. */
  private static final String DECODER = "httpDecoder";
  private static final String VERTX = "handler";
  private static final HttpVersionGuard INSTANCE = new HttpVersionGuard();

  /** A request line whose version is not HTTP/1.0 or HTTP/1.1; what the client sent, as text. */
  public static final class UnsupportedVersionException extends RuntimeException {
    private final String version;
    private final boolean http;

    UnsupportedVersionException(String version, boolean http) {
      super("unsupported protocol version " + version, null, false, false);
      this.version = version;
      this.http = http;
    }

    public String version() {
      return version;
    }

    /** Whether the protocol is HTTP at all ({@code HTTP/9.9}), as opposed to {@code FOO/1.1}. */
    public boolean isHttp() {
      return http;
    }
  }

  /** An HTTP/1.1 request without exactly one Host header (RFC 9112 section 3.2: a 400). */
  public static final class HostHeaderException extends RuntimeException {
    HostHeaderException(int count) {
      super(count == 0 ? "an HTTP/1.1 request needs a Host header (RFC 9112 section 3.2)"
          : "an HTTP/1.1 request has one Host header, not " + count + " (RFC 9112 section 3.2)", null, false, false);
    }
  }

  private HttpVersionGuard() {}

  /** For {@code HttpServer.connectionHandler}: guards an HTTP/1.x connection; HTTP/2 ones need nothing. */
  public static void install(HttpConnection connection) {
    if (connection instanceof io.vertx.core.net.impl.ConnectionBase base) {
      ChannelPipeline pipeline = base.channel().pipeline();
      // Right before Vert.x's handler, not right after the decoder: the h2c upgrade handler in
      // between holds the first request until this runs, then passes it on from its own place.
      if (pipeline.get(DECODER) != null && pipeline.get(VERTX) != null && pipeline.get(NAME) == null) {
        pipeline.addBefore(VERTX, NAME, INSTANCE);
      }
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof HttpRequest request && request.decoderResult().isSuccess()) {
      HttpVersion version = request.protocolVersion();
      boolean http = version.protocolName().equals("HTTP");
      if (!http || version.majorVersion() != 1 || version.minorVersion() > 1) {
        // The answer is in HTTP/1.1 (RFC 9110 15.6.6: the server says which version it speaks),
        // not in the client's unknown version.
        request.setProtocolVersion(HttpVersion.HTTP_1_1);
        request.setDecoderResult(DecoderResult.failure(new UnsupportedVersionException(version.text(), http)));
      } else if (version.minorVersion() == 1) {
        // Vert.x Web's router fails such a request with a VertxException, which was a 500.
        int hosts = request.headers().getAll(HttpHeaderNames.HOST).size();
        if (hosts != 1) {
          request.setDecoderResult(DecoderResult.failure(new HostHeaderException(hosts)));
        }
      }
    }
    ctx.fireChannelRead(msg);
  }
}
