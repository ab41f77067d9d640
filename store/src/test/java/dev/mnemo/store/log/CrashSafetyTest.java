package dev.mnemo.store.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.model.LogEntry;
import dev.mnemo.store.model.Memory;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Acknowledged means durable: a child JVM appends from several threads and reports each write
 * once {@code append} returned; the test SIGKILLs it mid-stream, reopens the store and checks that
 * every acknowledged memory and entry is there and the log is consistent. Three kill/reopen cycles
 * on one data directory, each killed after a different number of acknowledgements.
 */
class CrashSafetyTest {
  private static final Pattern ACK = Pattern.compile("ACK (\\S+) (\\S+) (\\S+) (\\S+) END");
  private static final String EOF = "\u0000eof";
  /** Acknowledgements to wait for before each kill, and a further pause so kills land mid-group. */
  private static final int[] KILL_AFTER_ACKS = {300, 420, 340};
  private static final long[] KILL_EXTRA_MILLIS = {0, 7, 23};

  @TempDir Path tmp;

  /** One acknowledged memory: the CIDs the child was given back and what it wrote. */
  record Ack(Cid memory, Cid entry, String ns, String textId) {}

  @Test
  @Timeout(value = 90, unit = TimeUnit.SECONDS)
  void everyAcknowledgedAppendSurvivesSigkillAndTheLogStaysConsistent() throws Exception {
    Path dataDir = tmp.resolve("data");
    List<Ack> acked = new ArrayList<>();
    for (int cycle = 0; cycle < KILL_AFTER_ACKS.length; cycle++) {
      List<Ack> fromChild = runChildAndKill(dataDir, "run" + cycle, KILL_AFTER_ACKS[cycle], KILL_EXTRA_MILLIS[cycle]);
      assertThat(fromChild).as("acknowledgements in cycle %d", cycle).hasSizeGreaterThanOrEqualTo(KILL_AFTER_ACKS[cycle]);
      acked.addAll(fromChild);

      try (MnemoStore store = MnemoStore.open(dataDir)) {
        NamespaceLog log = store.log();
        assertConsistent(log, acked, "after kill " + cycle);
        acked.addAll(appendChainsOntoTheOldHeads(log, "test" + cycle));
        assertConsistent(log, acked, "after appending past kill " + cycle);
      }
    }
  }

  private List<Ack> runChildAndKill(Path dataDir, String run, int killAfter, long extraMillis) throws Exception {
    String java = ProcessHandle.current().info().command()
        .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    Path stderr = tmp.resolve(run + ".stderr");
    Process child = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-Xmx256m",
        "-cp", System.getProperty("java.class.path"), AppendingChild.class.getName(), dataDir.toString(), run)
        .redirectError(stderr.toFile())
        .start();
    try {
      BlockingQueue<String> lines = new LinkedBlockingQueue<>();
      Thread reader = Thread.ofPlatform().daemon().name("child-stdout-" + run).start(() -> {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.US_ASCII))) {
          for (String line; (line = in.readLine()) != null; ) {
            lines.add(line);
          }
        } catch (IOException e) {
          lines.add("reader failed: " + e);
        } finally {
          lines.add(EOF);
        }
      });

      List<String> seen = new ArrayList<>();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (seen.size() < killAfter) {
        String line = lines.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        if (line == null || line.equals(EOF)) {
          fail("child %s gave %d of %d acknowledgements before %s; stderr:%n%s", run, seen.size(), killAfter,
              line == null ? "the timeout" : "exiting with " + child.waitFor(), Files.readString(stderr));
        }
        seen.add(line);
      }
      if (extraMillis > 0) {
        Thread.sleep(extraMillis);
      }
      child.destroyForcibly();
      assertThat(child.waitFor(20, TimeUnit.SECONDS)).as("child died").isTrue();
      // 128 + 9: the child died of SIGKILL, so nothing of it ran after the kill (no shutdown hooks, no close).
      assertThat(child.exitValue()).as("exit status of %s; stderr:%n%s", run, Files.readString(stderr)).isEqualTo(137);
      reader.join(TimeUnit.SECONDS.toMillis(10));
      // Lines the child wrote before it died were acknowledged too.
      for (String line; !(line = lines.take()).equals(EOF); ) {
        seen.add(line);
      }
      return parse(seen, run);
    } finally {
      if (child.isAlive()) {
        child.destroyForcibly();
        child.waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  private static List<Ack> parse(List<String> lines, String run) throws Exception {
    List<Ack> acks = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      Matcher m = ACK.matcher(lines.get(i));
      if (!m.matches()) {
        // Each acknowledgement is written whole; only a line cut by the kill may be partial.
        assertThat(i).as("unparsable line %d of %d from %s: %s", i, lines.size(), run, lines.get(i))
            .isEqualTo(lines.size() - 1);
        continue;
      }
      acks.add(new Ack(Cid.parse(m.group(1)), Cid.parse(m.group(2)), m.group(3), m.group(4)));
    }
    return acks;
  }

  /** One more write per namespace, in this process: it must name the old heads as its parents. */
  private static List<Ack> appendChainsOntoTheOldHeads(NamespaceLog log, String run) throws Exception {
    List<Ack> acks = new ArrayList<>();
    for (String ns : AppendingChild.NAMESPACES) {
      Set<Cid> headsBefore = log.heads(ns);
      long clockBefore = log.clock(ns);
      long lastBefore = log.lastPosition();
      assertThat(headsBefore).as("heads of %s", ns).isNotEmpty();

      String textId = run + "-" + ns;
      Appended appended = log.append(ns, List.of(AppendingChild.memoryFor(ns, textId)));
      LogEntry entry = log.entry(appended.entry()).orElseThrow();
      assertThat(Set.copyOf(entry.parents())).as("parents of the first entry after reopen in %s", ns).isEqualTo(headsBefore);
      assertThat(entry.clock()).isEqualTo(clockBefore + 1);
      assertThat(appended.position()).isEqualTo(lastBefore + 1);
      assertThat(log.heads(ns)).containsExactly(appended.entry());
      acks.add(new Ack(appended.memories().get(0), appended.entry(), ns, textId));
    }
    return acks;
  }

  private static void assertConsistent(NamespaceLog log, List<Ack> acked, String when) throws Exception {
    // Every acknowledged memory is live and reads back as written.
    for (Ack ack : acked) {
      Memory expected = AppendingChild.memoryFor(ack.ns(), ack.textId());
      assertThat(Cid.dagCbor(expected.encode())).as("CID the child reported for %s", ack.textId()).isEqualTo(ack.memory());
      assertThat(log.state(ack.ns(), ack.memory())).as("%s: state of %s (%s)", when, ack.memory(), ack.textId())
          .isEqualTo(MemoryState.LIVE);
      assertThat(log.memory(ack.memory())).as("%s: memory %s", when, ack.textId()).contains(expected);
    }

    // The apply log: positions 1..last, strictly increasing with no gap.
    List<PositionedEntry> applied = log.entriesAfter(0, Integer.MAX_VALUE);
    assertThat(applied).as("%s: applied entries", when).isNotEmpty();
    for (int i = 0; i < applied.size(); i++) {
      assertThat(applied.get(i).position()).as("%s: position of applied entry %d", when, i).isEqualTo(i + 1L);
    }
    assertThat(log.lastPosition()).isEqualTo(applied.size());

    Map<Cid, PositionedEntry> byCid = new HashMap<>();
    Map<String, Set<Cid>> entriesByNs = new HashMap<>();
    Map<String, Set<Cid>> parentsByNs = new HashMap<>();
    Map<String, Long> maxClock = new HashMap<>();
    for (PositionedEntry e : applied) {
      assertThat(byCid.put(e.cid(), e)).as("%s: entry %s applied twice", when, e.cid()).isNull();
      String ns = e.entry().ns();
      entriesByNs.computeIfAbsent(ns, k -> new HashSet<>()).add(e.cid());
      parentsByNs.computeIfAbsent(ns, k -> new HashSet<>()).addAll(e.entry().parents());
      maxClock.merge(ns, e.entry().clock(), Math::max);
      assertThat(e.entry().hasValidSignature()).isTrue();
      for (Cid parent : e.entry().parents()) {
        PositionedEntry p = byCid.get(parent);
        assertThat(p).as("%s: parent %s of %s is applied before it", when, parent, e.cid()).isNotNull();
        assertThat(p.entry().clock()).isLessThan(e.entry().clock());
      }
    }

    // Every acknowledged entry is applied and adds the memories acknowledged with it.
    for (Ack ack : acked) {
      assertThat(log.position(ack.entry())).as("%s: position of entry %s", when, ack.entry()).isPresent();
      PositionedEntry e = byCid.get(ack.entry());
      assertThat(e).as("%s: entry %s among the applied", when, ack.entry()).isNotNull();
      assertThat(e.entry().ns()).isEqualTo(ack.ns());
      assertThat(e.entry().refs()).contains(ack.memory());
    }

    assertThat(log.namespaces()).containsExactlyInAnyOrderElementsOf(AppendingChild.NAMESPACES);
    for (String ns : AppendingChild.NAMESPACES) {
      Set<Cid> entries = entriesByNs.getOrDefault(ns, Set.of());
      Set<Cid> expectedHeads = new HashSet<>(entries);
      expectedHeads.removeAll(parentsByNs.getOrDefault(ns, Set.of()));
      Set<Cid> heads = log.heads(ns);
      assertThat(heads).as("%s: heads of %s are the applied entries no entry names as parent", when, ns)
          .isEqualTo(expectedHeads);
      assertThat(log.clock(ns)).isEqualTo(maxClock.get(ns));

      // Walking back from the heads reaches every applied entry of the namespace, each once.
      Set<Cid> walked = new HashSet<>();
      log.walk(ns, e -> {
        assertThat(walked.add(e.cid())).as("walk visits %s once", e.cid()).isTrue();
        assertThat(e.position()).as("walked entry %s is applied", e.cid()).isPositive();
        return true;
      });
      assertThat(walked).as("%s: entries reachable from the heads of %s", when, ns).isEqualTo(entries);

      // The listing holds every live memory of the namespace once.
      List<Cid> listed = new ArrayList<>();
      String cursor = null;
      do {
        MemoryPage page = log.list(ns, cursor, 97);
        listed.addAll(page.memories());
        cursor = page.next();
      } while (cursor != null);
      assertThat(listed).as("%s: listing of %s", when, ns).doesNotHaveDuplicates();
      assertThat(listed).containsAll(acked.stream().filter(a -> a.ns().equals(ns)).map(Ack::memory).toList());
      Set<Cid> added = new HashSet<>();
      for (Cid entryCid : entries) {
        added.addAll(byCid.get(entryCid).entry().refs());
      }
      assertThat(Set.copyOf(listed)).as("%s: listing of %s is what its entries added", when, ns).isEqualTo(added);
    }
  }
}
