package dev.mnemo.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mnemo.store.identity.AgentKey;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Gossip listens where it is told, never on every interface by default. The listening sockets are
 * read from the kernel's table ({@code /proc/net/tcp}, what {@code ss -ltn} prints), so a
 * transport that binds the wildcard address shows up whatever address it reports.
 */
class GossipBindTest {

  @Test
  void gossipListensOnlyOnTheConfiguredHost() throws Exception {
    assumeTrue(Files.isReadable(Path.of("/proc/net/tcp")), "needs Linux's /proc/net/tcp");
    SyncConfig config = new SyncConfig("127.0.0.1", 0, List.of(), List.of(Peer.ALL), null, 3_600_000, 100, 500, 5_000);
    try (ScaleCubeMembership membership = new ScaleCubeMembership(config, "http://127.0.0.1:1", AgentKey.generate())) {
      membership.start(payload -> { });
      String address = membership.localAddress();
      int port = Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
      assertThat(address).isEqualTo("127.0.0.1:" + port);
      assertThat(listening(port)).as("listening sockets on gossip port %d", port)
          .containsExactly(InetAddress.getByName("127.0.0.1"));
    }
  }

  @Test
  void theDefaultGossipHostIsLoopback() {
    assertThat(SyncConfig.defaults(0, List.of()).gossipHost()).isEqualTo("127.0.0.1");
    assertThat(new SyncConfig(null, 0, List.of(), List.of(), null, 1, 1, 1, 1).gossipHost()).isEqualTo("127.0.0.1");
  }

  /** The local addresses of sockets listening on {@code port} (an IPv4-mapped IPv6 one as IPv4). */
  private static List<InetAddress> listening(int port) throws IOException {
    List<InetAddress> addresses = new ArrayList<>();
    for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
      Path path = Path.of(table);
      if (!Files.isReadable(path)) {
        continue;
      }
      // Read once: the table changes as other tests open and close sockets.
      List<String> lines = Files.readAllLines(path);
      for (String line : lines.subList(1, lines.size())) {
        String[] fields = line.trim().split("\\s+");
        String[] local = fields[1].split(":");
        if (fields[3].equals("0A") && Integer.parseInt(local[1], 16) == port) {
          addresses.add(address(local[0]));
        }
      }
    }
    return addresses;
  }

  /** The kernel prints an address as hex 32-bit words, each in host (little-endian) byte order. */
  private static InetAddress address(String hex) throws IOException {
    byte[] bytes = HexFormat.of().parseHex(hex);
    for (int word = 0; word < bytes.length; word += 4) {
      for (int i = 0; i < 2; i++) {
        byte b = bytes[word + i];
        bytes[word + i] = bytes[word + 3 - i];
        bytes[word + 3 - i] = b;
      }
    }
    return InetAddress.getByAddress(bytes);
  }
}
