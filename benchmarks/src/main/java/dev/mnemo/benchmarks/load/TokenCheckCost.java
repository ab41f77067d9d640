package dev.mnemo.benchmarks.load;

import dev.mnemo.node.Caller;
import dev.mnemo.node.auth.AgentRegistry;
import dev.mnemo.node.auth.HostedAgent;
import dev.mnemo.node.auth.IssuedToken;
import dev.mnemo.store.identity.AgentKey;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * The CPU time of what a request with authentication on does and one with it off does not: find
 * the token's agent in the registry (SHA-256 of the secret, constant-time comparison) and make the
 * caller it acts as. One thread, in-process: an upper bound on what a token check adds to each
 * request's CPU time, free of the HTTP round trip's noise. (The Bearer parsing and the failure
 * limiter's look-up, the rest of the check, are a few string and map operations.)
 *
 * <pre>TokenCheckCost [--seconds 1] [--iterations 7]</pre>
 */
public final class TokenCheckCost {
  public static void main(String[] args) throws Exception {
    int seconds = args.length > 1 && args[0].equals("--seconds") ? Integer.parseInt(args[1]) : 1;
    int iterations = 7;
    Path dir = Files.createTempDirectory("mnemo-token-cost");
    try {
      AgentRegistry registry = AgentRegistry.open(dir);
      IssuedToken owner = registry.createOwnerIfAbsent(AgentKey.generate()).orElseThrow();
      for (int a = 0; a < 99; a++) {
        registry.createAgent("agent-" + a); // a registry of 100 agents, as a node hosting a team
      }
      String token = owner.token();
      long sink = 0;
      double[] nanos = new double[iterations + 2];
      for (int i = 0; i < nanos.length; i++) {
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        long n = 0;
        long start = System.nanoTime();
        while (System.nanoTime() < end) {
          for (int j = 0; j < 1_000; j++) {
            Caller caller = registry.authenticate(token).map(HostedAgent::caller).orElseThrow();
            sink += caller.agent().hashCode();
          }
          n += 1_000;
        }
        nanos[i] = (System.nanoTime() - start) / (double) n;
      }
      // The first two iterations warm the JIT up and are not counted.
      double[] measured = Arrays.copyOfRange(nanos, 2, nanos.length);
      Arrays.sort(measured);
      System.out.printf(Locale.ROOT, "token check (authenticate + caller), 1 thread: median %.2f µs, min %.2f, max %.2f"
          + " over %d iterations of %d s; load %s (sink %d)%n", measured[measured.length / 2] / 1e3, measured[0] / 1e3,
          measured[measured.length - 1] / 1e3, iterations, seconds,
          Files.readString(Path.of("/proc/loadavg")).trim().replaceAll("^(\\S+) (\\S+) (\\S+).*", "$1/$2/$3"), sink & 1);
    } finally {
      try (Stream<Path> files = Files.walk(dir)) {
        for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }
  }
}
