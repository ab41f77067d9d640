package dev.mnemo.sync;

import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.LengthFieldPrepender;
import io.scalecube.cluster.transport.api.Message;
import io.scalecube.cluster.transport.api.Transport;
import io.scalecube.cluster.transport.api.TransportConfig;
import io.scalecube.cluster.transport.api.TransportFactory;
import io.scalecube.transport.netty.Receiver;
import io.scalecube.transport.netty.Sender;
import io.scalecube.transport.netty.TransportImpl;
import io.scalecube.transport.netty.TransportImpl.ReceiverContext;
import io.scalecube.transport.netty.TransportImpl.SenderContext;
import reactor.core.publisher.Mono;
import reactor.netty.Connection;
import reactor.netty.DisposableServer;
import reactor.netty.tcp.TcpClient;
import reactor.netty.tcp.TcpServer;

/**
 * ScaleCube's TCP transport, listening on one address. ScaleCube 2.7's own TCP receiver binds
 * only a port, so it listens on every interface whatever host the node was told to use; this one
 * binds {@code host}. The framing (a 4-byte length before each message) and socket options are
 * those of ScaleCube's TcpReceiver and TcpSender, so these nodes talk to any ScaleCube TCP member.
 */
final class BoundTcpTransportFactory implements TransportFactory {
  private static final int LENGTH_FIELD_LENGTH = 4;
  private final String host;

  BoundTcpTransportFactory(String host) {
    this.host = host;
  }

  @Override
  public Transport createTransport(TransportConfig config) {
    return new TransportImpl(config.messageCodec(), new BoundReceiver(host, config), new FramedSender(config),
        config.addressMapper());
  }

  private static void frame(Channel channel, int maxFrameLength) {
    channel.pipeline().addFirst(new LengthFieldBasedFrameDecoder(maxFrameLength, 0, LENGTH_FIELD_LENGTH, 0, LENGTH_FIELD_LENGTH));
    channel.pipeline().addFirst(new LengthFieldPrepender(LENGTH_FIELD_LENGTH));
  }

  private record BoundReceiver(String host, TransportConfig config) implements Receiver {
    @Override
    public Mono<DisposableServer> bind() {
      return Mono.deferContextual(context -> Mono.just(context.get(ReceiverContext.class)))
          .flatMap(context -> TcpServer.create()
              .runOn(context.loopResources())
              .host(host)
              .port(config.port())
              .childOption(ChannelOption.TCP_NODELAY, true)
              .childOption(ChannelOption.SO_KEEPALIVE, true)
              .childOption(ChannelOption.SO_REUSEADDR, true)
              .doOnChannelInit((observer, channel, address) -> frame(channel, config.maxFrameLength()))
              .handle((in, out) -> in.receive().retain().doOnNext(context::onMessage).then())
              .bind()
              .cast(DisposableServer.class));
    }
  }

  private record FramedSender(TransportConfig config) implements Sender {
    @Override
    public Mono<Connection> connect(String address) {
      return Mono.deferContextual(context -> Mono.just(context.get(SenderContext.class)))
          .map(context -> client(context, address))
          .flatMap(TcpClient::connect);
    }

    private TcpClient client(SenderContext context, String address) {
      return TcpClient.newConnection()
          .runOn(context.loopResources())
          .host(Transport.parseHost(address))
          .port(Transport.parsePort(address))
          .option(ChannelOption.TCP_NODELAY, true)
          .option(ChannelOption.SO_KEEPALIVE, true)
          .option(ChannelOption.SO_REUSEADDR, true)
          .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, config.connectTimeout())
          .doOnChannelInit((observer, channel, remote) -> frame(channel, config.maxFrameLength()));
    }

    @Override
    public Mono<Void> send(Message message) {
      return Mono.deferContextual(context -> {
        Connection connection = context.get(Connection.class);
        SenderContext sender = context.get(SenderContext.class);
        return connection.outbound().sendObject(Mono.just(message).map(sender.messageEncoder()), any -> true).then();
      });
    }
  }
}
