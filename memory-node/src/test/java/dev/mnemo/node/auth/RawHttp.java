package dev.mnemo.node.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * HTTP/1.1 on a plain socket, headers byte for byte as given: java.net.http will not send a
 * {@code Host} of our choosing, and the auth tests must.
 */
final class RawHttp {
  record Reply(int status, Map<String, String> headers, byte[] body) {
    String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }

    String text() {
      return new String(body, StandardCharsets.UTF_8);
    }

    JsonNode json() {
      try {
        return new ObjectMapper().readTree(body);
      } catch (IOException e) {
        throw new AssertionError("not JSON: " + text(), e);
      }
    }

    @Override
    public String toString() {
      return status + " " + headers + " " + (text().length() > 300 ? text().substring(0, 300) : text());
    }
  }

  private RawHttp() {}

  /** {@code headers} are sent as given (a null Host sends none); Content-Length and Connection: close are added. */
  static Reply send(int port, String method, String target, Map<String, String> headers, byte[] body) {
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
      socket.setSoTimeout(30_000);
      StringBuilder head = new StringBuilder(method + " " + target + " HTTP/1.1\r\n");
      headers.forEach((k, v) -> {
        if (v != null) {
          head.append(k).append(": ").append(v).append("\r\n");
        }
      });
      head.append("Content-Length: ").append(body == null ? 0 : body.length).append("\r\nConnection: close\r\n\r\n");
      socket.getOutputStream().write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
      if (body != null) {
        socket.getOutputStream().write(body);
      }
      socket.getOutputStream().flush();
      byte[] raw = readAll(socket.getInputStream());
      String text = new String(raw, StandardCharsets.ISO_8859_1);
      int end = text.indexOf("\r\n\r\n");
      String[] lines = text.substring(0, end).split("\r\n");
      Map<String, String> parsed = new LinkedHashMap<>();
      for (int i = 1; i < lines.length; i++) {
        int colon = lines[i].indexOf(':');
        parsed.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
      }
      byte[] rest = java.util.Arrays.copyOfRange(raw, end + 4, raw.length);
      return new Reply(Integer.parseInt(lines[0].split(" ", 3)[1]), parsed, rest);
    } catch (IOException e) {
      throw new UncheckedIOException(method + " " + target, e);
    }
  }

  static Reply get(int port, String target, Map<String, String> headers) {
    return send(port, "GET", target, headers, null);
  }

  private static byte[] readAll(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    in.transferTo(out);
    return out.toByteArray();
  }
}
