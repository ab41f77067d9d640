package dev.mnemo.node.sync;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A fault-injecting TCP forwarder on loopback that a test controls. {@link Mode#FORWARD} pipes
 * bytes both ways to the target; {@link #cut} kills every open connection (RST) and then
 * {@link Mode#REFUSE} accepts and immediately resets new ones, or {@link Mode#BLACKHOLE} holds them
 * open and drops every byte (a partition that looks like silence, not like a closed port).
 */
final class TcpProxy implements AutoCloseable {
  enum Mode { FORWARD, REFUSE, BLACKHOLE }

  private final String name;
  private final InetSocketAddress target;
  private final ServerSocket server;
  private final Thread acceptor;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private final AtomicLong accepted = new AtomicLong();
  private final AtomicLong forwardedBytes = new AtomicLong();
  private final AtomicLong refused = new AtomicLong();
  private volatile Mode mode = Mode.FORWARD;
  private volatile boolean closed;

  TcpProxy(String name, int targetPort) {
    this.name = name;
    this.target = new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort);
    try {
      this.server = new ServerSocket();
      server.setReuseAddress(true);
      server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 128);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    this.acceptor = Thread.ofPlatform().daemon(true).name("proxy-" + name).start(this::acceptLoop);
  }

  int port() {
    return server.getLocalPort();
  }

  String address() {
    return "127.0.0.1:" + port();
  }

  String url() {
    return "http://" + address();
  }

  Mode mode() {
    return mode;
  }

  /** Stops forwarding: open connections are reset, new ones are refused or blackholed. */
  void cut(Mode newMode) {
    if (newMode == Mode.FORWARD) {
      throw new IllegalArgumentException("cut to REFUSE or BLACKHOLE");
    }
    mode = newMode;
    killConnections();
  }

  /** Forwards new connections again (blackholed ones are reset, so clients reconnect). */
  void heal() {
    mode = Mode.FORWARD;
    killConnections();
  }

  void killConnections() {
    for (Socket socket : open) {
      reset(socket);
    }
    open.clear();
  }

  long accepted() {
    return accepted.get();
  }

  long refused() {
    return refused.get();
  }

  long forwardedBytes() {
    return forwardedBytes.get();
  }

  private void acceptLoop() {
    while (!closed) {
      Socket client;
      try {
        client = server.accept();
      } catch (IOException e) {
        if (closed) {
          return;
        }
        continue;
      }
      accepted.incrementAndGet();
      Mode now = mode;
      if (now == Mode.REFUSE) {
        refused.incrementAndGet();
        reset(client);
        continue;
      }
      open.add(client);
      if (now == Mode.BLACKHOLE) {
        refused.incrementAndGet();
        Thread.ofVirtual().start(() -> pump(client, null));
        continue;
      }
      Thread.ofVirtual().start(() -> connect(client));
    }
  }

  private void connect(Socket client) {
    Socket upstream = new Socket();
    try {
      upstream.connect(target, 2_000);
    } catch (IOException e) {
      reset(client);
      open.remove(client);
      return;
    }
    open.add(upstream);
    if (mode != Mode.FORWARD) {
      reset(upstream);
      reset(client);
      return;
    }
    java.util.concurrent.atomic.AtomicInteger finished = new java.util.concurrent.atomic.AtomicInteger();
    Runnable done = () -> {
      if (finished.incrementAndGet() == 2) {
        closeQuietly(client);
        closeQuietly(upstream);
      }
    };
    Thread.ofVirtual().start(() -> {
      pump(client, upstream);
      done.run();
    });
    pump(upstream, client);
    done.run();
  }

  private void closeQuietly(Socket socket) {
    open.remove(socket);
    try {
      socket.close();
    } catch (IOException ignored) {
      // nothing left to do
    }
  }

  /** Copies from one socket to the other until either closes; with no {@code to}, discards. */
  private void pump(Socket from, Socket to) {
    byte[] buffer = new byte[16 * 1024];
    try {
      InputStream in = from.getInputStream();
      OutputStream out = to == null ? null : to.getOutputStream();
      int n;
      while ((n = in.read(buffer)) >= 0) {
        if (out == null || mode != Mode.FORWARD) {
          continue;
        }
        out.write(buffer, 0, n);
        out.flush();
        forwardedBytes.addAndGet(n);
      }
      if (to != null) {
        to.shutdownOutput();
      }
    } catch (IOException e) {
      // The other side went away or the connection was killed.
      if (to != null) {
        reset(to);
      }
      reset(from);
    }
  }

  private void reset(Socket socket) {
    open.remove(socket);
    try {
      socket.setSoLinger(true, 0);
    } catch (SocketException ignored) {
      // already closed
    }
    try {
      socket.close();
    } catch (IOException ignored) {
      // nothing left to do
    }
  }

  @Override
  public void close() {
    closed = true;
    try {
      server.close();
    } catch (IOException ignored) {
      // closing anyway
    }
    killConnections();
    acceptor.interrupt();
  }

  @Override
  public String toString() {
    return "proxy " + name + " " + address() + " -> " + target.getPort() + " (" + mode + ")";
  }
}
