package dev.mnemo.store.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.block.Block;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.model.LogEntry;
import dev.mnemo.store.model.Memory;
import dev.mnemo.store.model.Op;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NamespaceLogTest {
  @TempDir Path dir;
  MnemoStore store;
  NamespaceLog log;

  @BeforeEach
  void open() throws Exception {
    store = MnemoStore.open(dir);
    log = store.log();
  }

  @AfterEach
  void close() throws Exception {
    store.close();
  }

  static Memory memory(String ns, String text) {
    return new Memory(ns, text, Map.of("source", "test"), List.of("t"), 1_700_000_000_000L, null, null);
  }

  @Test
  void appendMakesTheEntryTheOnlyHeadAndChainsClocks() throws Exception {
    Appended first = log.append("alice", List.of(memory("alice", "one")));
    assertThat(log.heads("alice")).containsExactly(first.entry());
    assertThat(log.clock("alice")).isEqualTo(1);

    Appended second = log.append("alice", List.of(memory("alice", "two"), memory("alice", "three")));
    assertThat(log.heads("alice")).containsExactly(second.entry());
    assertThat(log.clock("alice")).isEqualTo(2);
    LogEntry entry = log.entry(second.entry()).orElseThrow();
    assertThat(entry.parents()).containsExactly(first.entry());
    assertThat(entry.refs()).containsExactlyElementsOf(second.memories());
    assertThat(entry.hasValidSignature()).isTrue();
    assertThat(entry.author()).isEqualTo(store.nodeKey().did());
    assertThat(second.position()).isGreaterThan(first.position());
    assertThat(log.memory(second.memories().get(1)).orElseThrow().text()).isEqualTo("three");
  }

  @Test
  void namespacesAreIndependent() throws Exception {
    Appended a = log.append("alice", List.of(memory("alice", "x")));
    Appended b = log.append("bob", List.of(memory("bob", "x")));
    assertThat(log.heads("alice")).containsExactly(a.entry());
    assertThat(log.heads("bob")).containsExactly(b.entry());
    assertThat(log.namespaces()).containsExactly("alice", "bob");
    assertThat(a.memories()).doesNotContainAnyElementsOf(b.memories());
  }

  @Test
  void forgetRemovesFromStateAndListingAndDeletesTheBlock() throws Exception {
    Appended added = log.append("alice", List.of(memory("alice", "a"), memory("alice", "b")));
    Cid gone = added.memories().get(0);
    Appended forgotten = log.forget("alice", List.of(gone));

    assertThat(log.state("alice", gone)).isEqualTo(MemoryState.FORGOTTEN);
    assertThat(log.state("alice", added.memories().get(1))).isEqualTo(MemoryState.LIVE);
    assertThat(log.list("alice", null, 10).memories()).containsExactly(added.memories().get(1));
    assertThat(log.memory(gone)).isEmpty();
    assertThat(log.heads("alice")).containsExactly(forgotten.entry());
    assertThat(log.entry(forgotten.entry()).orElseThrow().op()).isEqualTo(Op.FORGET);
  }

  @Test
  void aMemoryIsLiveSinceTheEntryThatAddedItUntilItIsForgotten() throws Exception {
    Appended first = log.append("alice", List.of(memory("alice", "a")));
    Cid a = first.memories().get(0);
    Appended again = log.append("alice", List.of(memory("alice", "a"), memory("alice", "b")));
    Cid unknown = Block.dagCbor(memory("alice", "never").encode()).cid();

    assertThat(log.liveSince("alice", a)).as("listed again, still live since the first entry").isEqualTo(first.position());
    assertThat(log.liveSince("alice", again.memories().get(1))).isEqualTo(again.position());
    assertThat(log.liveSince("bob", a)).isEqualTo(-1);
    assertThat(log.liveSince("alice", unknown)).isEqualTo(-1);
    log.forget("alice", List.of(a));
    assertThat(log.liveSince("alice", a)).isEqualTo(-1);
  }

  @Test
  void forgettingAnUnknownMemoryFailsAndWritesNothing() throws Exception {
    Appended added = log.append("alice", List.of(memory("alice", "a")));
    Cid unknown = Block.dagCbor(memory("alice", "never").encode()).cid();
    long before = log.lastPosition();
    assertThatThrownBy(() -> log.forget("alice", List.of(unknown)))
        .isInstanceOf(MemoryNotFoundException.class)
        .hasMessageContaining(unknown.toString());
    assertThat(log.lastPosition()).isEqualTo(before);
    assertThat(log.heads("alice")).containsExactly(added.entry());
  }

  @Test
  void listingPagesThroughEveryLiveMemoryInWriteOrder() throws Exception {
    List<Cid> written = new ArrayList<>();
    for (int batch = 0; batch < 5; batch++) {
      List<Memory> memories = new ArrayList<>();
      for (int i = 0; i < 7; i++) {
        memories.add(memory("alice", "m" + batch + "-" + i));
      }
      written.addAll(log.append("alice", memories).memories());
    }
    List<Cid> seen = new ArrayList<>();
    String cursor = null;
    int pages = 0;
    do {
      MemoryPage page = log.list("alice", cursor, 4);
      seen.addAll(page.memories());
      cursor = page.next();
      pages++;
    } while (cursor != null);
    assertThat(seen).containsExactlyElementsOf(written);
    assertThat(pages).isEqualTo(9);
    assertThatThrownBy(() -> log.list("alice", "not-a-cursor", 4))
        .isInstanceOf(dev.mnemo.store.InvalidFormatException.class);
  }

  @Test
  void concurrentWritersShareEntriesAndAllBecomeDurable() throws Exception {
    List<CompletableFuture<Appended>> futures = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      futures.add(log.appendAsync("alice", List.of(memory("alice", "c" + i))));
    }
    Set<Cid> entries = new java.util.HashSet<>();
    for (CompletableFuture<Appended> f : futures) {
      entries.add(f.get().entry());
    }
    assertThat(log.list("alice", null, 1000).memories()).hasSize(200);
    // Queued writes coalesce: far fewer entries (and signatures) than writes.
    assertThat(entries.size()).isLessThan(200);
    assertThat(log.heads("alice")).hasSize(1);
  }

  @Test
  void entriesAfterResumesFromAPosition() throws Exception {
    Appended a = log.append("alice", List.of(memory("alice", "a")));
    Appended b = log.append("bob", List.of(memory("bob", "b")));
    assertThat(log.entriesAfter(0, 10)).extracting(PositionedEntry::cid).containsExactly(a.entry(), b.entry());
    assertThat(log.entriesAfter(a.position(), 10)).extracting(PositionedEntry::cid).containsExactly(b.entry());
    assertThat(log.lastPosition()).isEqualTo(b.position());
  }

  @Test
  void stateSurvivesReopen() throws Exception {
    Appended a = log.append("alice", List.of(memory("alice", "a")));
    store.close();
    store = MnemoStore.open(dir);
    log = store.log();
    assertThat(log.heads("alice")).containsExactly(a.entry());
    assertThat(log.clock("alice")).isEqualTo(1);
    Appended b = log.append("alice", List.of(memory("alice", "b")));
    assertThat(b.position()).isEqualTo(a.position() + 1);
    assertThat(log.entry(b.entry()).orElseThrow().parents()).containsExactly(a.entry());
  }
}
