package dev.mnemo.benchmarks.peers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Peak memory of a server process tree (the postmaster and its backends), sampled from /proc in
 * the background. It sums PSS (proportional set size), not RSS: every backend maps the same
 * shared buffers, and RSS would count those pages once per backend. Needs the right to read the
 * server's /proc entries (root, or the same user); otherwise {@link #peakBytes()} is -1.
 */
final class ServerMemory implements AutoCloseable {
  private final long rootPid;
  private final AtomicLong peak = new AtomicLong(-1);
  private final Thread sampler;
  private volatile boolean running = true;

  ServerMemory(long rootPid) {
    this.rootPid = rootPid;
    this.sampler = Thread.ofPlatform().daemon().name("server-memory").start(this::sampleUntilClosed);
  }

  long peakBytes() {
    sampleOnce();
    return peak.get();
  }

  @Override
  public void close() throws InterruptedException {
    running = false;
    sampler.interrupt();
    sampler.join();
  }

  private void sampleUntilClosed() {
    while (running) {
      sampleOnce();
      try {
        Thread.sleep(250);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  private void sampleOnce() {
    long total = 0;
    for (long pid : tree(rootPid)) {
      long pss = pssBytes(pid);
      if (pss < 0) {
        return; // unreadable: report nothing rather than a partial sum
      }
      total += pss;
    }
    peak.accumulateAndGet(total, Math::max);
  }

  private static List<Long> tree(long pid) {
    List<Long> out = new ArrayList<>();
    out.add(pid);
    try {
      String children = Files.readString(Path.of("/proc", Long.toString(pid), "task", Long.toString(pid), "children")).trim();
      if (!children.isEmpty()) {
        for (String child : children.split("\\s+")) {
          out.addAll(tree(Long.parseLong(child)));
        }
      }
    } catch (IOException e) {
      // the process ended between listing and reading: it holds no memory any more
    }
    return out;
  }

  private static long pssBytes(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "smaps_rollup"))) {
        if (line.startsWith("Pss:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
      return 0;
    } catch (java.nio.file.NoSuchFileException e) {
      return 0; // exited
    } catch (IOException | SecurityException e) {
      return -1;
    }
  }
}
