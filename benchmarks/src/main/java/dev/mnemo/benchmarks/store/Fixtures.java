package dev.mnemo.benchmarks.store;

import dev.mnemo.store.model.Memory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Shared fixtures: realistic ~2 KiB memories (text, metadata, tags; no embedding) that are unique
 * per (writer, counter), and temporary data directories.
 */
final class Fixtures {
  /** Sentences an agent might remember; memories are made by stitching a varying selection. */
  private static final String[] SENTENCES = {
    "The user prefers concise answers with code samples first and the explanation after.",
    "Deployment of the billing service is blocked until the schema migration for invoices lands.",
    "Alice mentioned that the staging cluster runs out of disk every Friday because of log rotation.",
    "When summarising meetings, list decisions before action items and name an owner for each.",
    "The customer in Lisbon wants weekly reports as PDF, not as a shared spreadsheet link.",
    "Retry the nightly export at most three times; after that page the on-call engineer.",
    "The team agreed to freeze the public API for the 2.0 release until the security review ends.",
    "Bob is allergic to peanuts, so the offsite catering order must exclude them entirely.",
    "Latency of the search endpoint regressed after the index was sharded by tenant last Tuesday.",
    "The preferred timezone for scheduling is Europe/Berlin, and no meetings before ten o'clock.",
    "Use the internal mirror for Maven dependencies; the public registry is rate limited in CI.",
    "The quarterly goal is to cut cold-start time of the mobile app below one and a half seconds.",
    "Carol owns the data retention policy and must approve any change to deletion schedules.",
    "A flaky integration test in the payments module fails when the sandbox clock drifts.",
    "The design doc for offline sync proposes CRDT merges with forget-wins semantics for deletes.",
    "Prefer Postgres over MySQL for new services unless an existing team already runs MySQL.",
    "The user is learning Rust and asked for explanations that compare ownership to Java references.",
    "Invoices above ten thousand euros need a second approver from the finance department.",
    "The marketing site is built with a static generator and deployed from the main branch.",
    "Dave will be on parental leave from March to May; route his reviews to Erin meanwhile.",
  };

  private static final String[] TAGS = {
    "preference", "project:billing", "project:search", "people", "ops", "decision", "todo",
    "schedule", "security", "customer",
  };

  /** Target size of an encoded memory block. */
  static final int TARGET_BYTES = 2048;

  /**
   * Pre-built bodies of ~1,780 characters: words of the sentences above in pseudo-random order,
   * so a body does not repeat whole sentences (LZ4 squeezes it about as much as prose, not more).
   * Building them once keeps the per-op cost of a fixture memory to a string concatenation.
   */
  private static final String[] BODIES = buildBodies(512, 1_780);

  private Fixtures() {}

  private static String[] buildBodies(int count, int length) {
    List<String> words = new ArrayList<>();
    for (String sentence : SENTENCES) {
      for (String word : sentence.split(" ")) {
        words.add(word.replaceAll("[.,;]", ""));
      }
    }
    java.util.SplittableRandom random = new java.util.SplittableRandom(2026);
    String[] bodies = new String[count];
    for (int b = 0; b < count; b++) {
      StringBuilder text = new StringBuilder(length + 32);
      int inSentence = 0;
      while (text.length() < length) {
        String word = words.get(random.nextInt(words.size()));
        if (inSentence == 0) {
          word = Character.toUpperCase(word.charAt(0)) + word.substring(1);
        }
        text.append(word);
        inSentence++;
        if (inSentence >= 8 + random.nextInt(10)) {
          text.append(". ");
          inSentence = 0;
        } else {
          text.append(' ');
        }
      }
      bodies[b] = text.toString();
    }
    return bodies;
  }

  /** A memory of about 2 KiB, unique for each (writer, n). */
  static Memory memory(String ns, int writer, long n) {
    String body = BODIES[(int) Math.floorMod(n * 31 + writer * 17L, (long) BODIES.length)];
    String text = "Memory " + writer + "-" + n + ": " + body;
    Map<String, Object> metadata = new LinkedHashMap<>();
    metadata.put("source", "chat");
    metadata.put("agent", "assistant-" + (writer % 4));
    metadata.put("session", "s-" + (n / 50));
    metadata.put("turn", n % 50);
    metadata.put("importance", (n % 10) / 10.0);
    metadata.put("pinned", n % 7 == 0);
    List<String> tags = new ArrayList<>(3);
    tags.add(TAGS[(int) (n % TAGS.length)]);
    tags.add(TAGS[(int) ((n / 3 + 1) % TAGS.length)]);
    tags.add("writer-" + writer);
    return new Memory(ns, text, metadata, tags, 1_760_000_000_000L + n, null, null);
  }

  /** A fresh directory for one trial: under {@code -Dmnemo.bench.dir} if set, else the JVM's temp dir. */
  static Path tempDir(String prefix) {
    try {
      String base = System.getProperty("mnemo.bench.dir");
      if (base != null) {
        Path dir = Path.of(base);
        Files.createDirectories(dir);
        return Files.createTempDirectory(dir, prefix);
      }
      return Files.createTempDirectory(prefix);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static void deleteRecursively(Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try {
      Files.walkFileTree(dir, new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
          Files.delete(file);
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
          Files.delete(d);
          return FileVisitResult.CONTINUE;
        }
      });
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
