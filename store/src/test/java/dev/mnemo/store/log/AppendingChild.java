package dev.mnemo.store.log;

import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.model.Memory;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The child process of {@link CrashSafetyTest}: appends memories from several threads until it is
 * killed, and reports every acknowledged one on stdout as
 * {@code ACK <memory-cid> <entry-cid> <namespace> <text-id> END}, written only after
 * {@link NamespaceLog#append} returned, i.e. after the write was durable.
 *
 * <p>Usage: {@code AppendingChild <data-dir> <run-label>}.
 */
public final class AppendingChild {
  static final int THREADS = 4;
  static final int BATCH = 10;
  static final List<String> NAMESPACES = List.of("crash-a", "crash-b");
  static final long TS = 1_700_000_000_000L;

  private AppendingChild() {}

  /** The memory a text id stands for; the test rebuilds it to know what to expect. */
  static Memory memoryFor(String ns, String textId) {
    return new Memory(ns, textFor(textId), Map.of("id", textId), List.of("crash"), TS, null, null);
  }

  /** About 2 KiB, unique to the id, and not one repeated character. */
  static String textFor(String textId) {
    StringBuilder text = new StringBuilder(2100).append(textId).append(':');
    long x = textId.hashCode() * 0x9E3779B97F4A7C15L;
    while (text.length() < 2048) {
      x ^= x << 13;
      x ^= x >>> 7;
      x ^= x << 17;
      text.append((char) ('a' + Math.floorMod(x, 26)));
      if (Math.floorMod(x, 9) == 0) {
        text.append(' ');
      }
    }
    return text.toString();
  }

  public static void main(String[] args) throws Exception {
    Path dataDir = Path.of(args[0]);
    String run = args[1];
    // One unbuffered stream, each acknowledgement written whole by one write() so a kill cannot
    // interleave or split lines (pipe writes up to 4 KiB are atomic).
    OutputStream out = new FileOutputStream(FileDescriptor.out);
    MnemoStore store = MnemoStore.open(dataDir);
    NamespaceLog log = store.log();
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < THREADS; t++) {
      int thread = t;
      String ns = NAMESPACES.get(t % NAMESPACES.size());
      threads.add(Thread.ofPlatform().name("appender-" + t).start(() -> {
        try {
          for (int n = 0; ; n++) {
            int count = n % 2 == 0 ? 1 : BATCH;
            List<String> ids = new ArrayList<>(count);
            List<Memory> memories = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
              String id = run + "-t" + thread + "-n" + n + "-i" + i;
              ids.add(id);
              memories.add(memoryFor(ns, id));
            }
            Appended appended = log.append(ns, memories);
            StringBuilder lines = new StringBuilder();
            for (int i = 0; i < count; i++) {
              Cid memory = appended.memories().get(i);
              lines.append("ACK ").append(memory).append(' ').append(appended.entry()).append(' ')
                  .append(ns).append(' ').append(ids.get(i)).append(" END\n");
            }
            synchronized (out) {
              out.write(lines.toString().getBytes(StandardCharsets.US_ASCII));
              out.flush();
            }
          }
        } catch (IOException | RuntimeException e) {
          e.printStackTrace();
          System.exit(3);
        }
      }));
    }
    for (Thread thread : threads) {
      thread.join();
    }
  }
}
