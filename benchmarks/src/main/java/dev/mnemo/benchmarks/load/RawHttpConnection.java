package dev.mnemo.benchmarks.load;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;

/**
 * One keep-alive HTTP/1.1 connection that POSTs a body and reads the whole response, with no
 * selector threads, executors or header maps. The load tool shares the node's two cores, so the
 * CPU the client burns per request is taken from the server being measured: the JDK's HttpClient
 * costs several times more than this per request.
 *
 * <p>Understands what the node answers with: a status line, headers with Content-Length (or
 * {@code Transfer-Encoding: chunked}), and a body. Reconnects when the server closes.
 */
public final class RawHttpConnection implements AutoCloseable {
  private final InetSocketAddress address;
  private final byte[] requestHead;
  private Socket socket;
  private OutputStream out;
  private InputStream in;
  private byte[] lastBody = new byte[0];

  public RawHttpConnection(URI uri) {
    this(uri, null);
  }

  /** With {@code token} (or null) sent as {@code Authorization: Bearer} on every request. */
  public RawHttpConnection(URI uri, String token) {
    this.address = new InetSocketAddress(uri.getHost(), uri.getPort());
    this.requestHead = ("POST " + uri.getRawPath() + " HTTP/1.1\r\nHost: " + uri.getHost() + ":" + uri.getPort()
        + (token == null ? "" : "\r\nAuthorization: Bearer " + token)
        + "\r\nContent-Type: application/json\r\nContent-Length: ").getBytes(StandardCharsets.US_ASCII);
  }

  /** Sends {@code body} and returns the response status; the body is in {@link #lastBody()}. */
  public int post(byte[] body) throws IOException {
    if (socket == null) {
      connect();
    }
    try {
      return exchange(body);
    } catch (IOException e) {
      // A keep-alive connection the server closed while idle: retry once on a fresh one.
      close();
      connect();
      return exchange(body);
    }
  }

  public byte[] lastBody() {
    return lastBody;
  }

  private void connect() throws IOException {
    socket = new Socket();
    socket.setTcpNoDelay(true);
    socket.connect(address, 5_000);
    socket.setSoTimeout(60_000);
    out = socket.getOutputStream();
    in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
  }

  private int exchange(byte[] body) throws IOException {
    byte[] length = (body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    byte[] request = new byte[requestHead.length + length.length + body.length];
    System.arraycopy(requestHead, 0, request, 0, requestHead.length);
    System.arraycopy(length, 0, request, requestHead.length, length.length);
    System.arraycopy(body, 0, request, requestHead.length + length.length, body.length);
    out.write(request);
    out.flush();

    String statusLine = readLine();
    int status = Integer.parseInt(statusLine.substring(9, 12));
    long contentLength = -1;
    boolean chunked = false;
    boolean closeAfter = false;
    for (String line = readLine(); !line.isEmpty(); line = readLine()) {
      int colon = line.indexOf(':');
      String name = line.substring(0, colon).trim();
      String value = line.substring(colon + 1).trim();
      if (name.equalsIgnoreCase("content-length")) {
        contentLength = Long.parseLong(value);
      } else if (name.equalsIgnoreCase("transfer-encoding") && value.equalsIgnoreCase("chunked")) {
        chunked = true;
      } else if (name.equalsIgnoreCase("connection") && value.equalsIgnoreCase("close")) {
        closeAfter = true;
      }
    }
    lastBody = chunked ? readChunked() : readFully((int) Math.max(0, contentLength));
    if (closeAfter) {
      close();
    }
    return status;
  }

  private byte[] readChunked() throws IOException {
    java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
    while (true) {
      int size = Integer.parseInt(readLine().split(";")[0].trim(), 16);
      if (size == 0) {
        while (!readLine().isEmpty()) {
          // trailers
        }
        return body.toByteArray();
      }
      body.write(readFully(size));
      readLine();
    }
  }

  private byte[] readFully(int n) throws IOException {
    byte[] bytes = new byte[n];
    int read = 0;
    while (read < n) {
      int r = in.read(bytes, read, n - read);
      if (r < 0) {
        throw new EOFException("connection closed in a response body");
      }
      read += r;
    }
    return bytes;
  }

  private String readLine() throws IOException {
    StringBuilder line = new StringBuilder(64);
    int c;
    while ((c = in.read()) != '\n') {
      if (c < 0) {
        throw new EOFException("connection closed in a response head");
      }
      if (c != '\r') {
        line.append((char) c);
      }
    }
    return line.toString();
  }

  @Override
  public void close() {
    if (socket != null) {
      try {
        socket.close();
      } catch (IOException ignored) {
        // closing a connection we are discarding anyway
      }
      socket = null;
    }
  }
}
