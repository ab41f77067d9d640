package dev.mnemo.index;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.model.Embedding;
import dev.mnemo.store.model.Memory;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LuceneMemoryIndexTest {
  @TempDir Path dir;
  LuceneMemoryIndex index;

  @BeforeEach
  void open() throws Exception {
    index = LuceneMemoryIndex.open(dir, IndexConfig.defaults(4));
  }

  @AfterEach
  void close() throws Exception {
    index.close();
  }

  static IndexedMemory memory(String ns, String text, float[] vector, Map<String, Object> metadata, List<String> tags, long ts, long position) {
    Memory memory = new Memory(ns, text, metadata, tags, ts, new Embedding("test", vector), null);
    return new IndexedMemory(Cid.dagCbor(memory.encode()), position, memory);
  }

  @Test
  void keywordVectorAndHybridFindTheRightMemoryWithPerSignalScores() throws Exception {
    IndexedMemory tea = memory("alice", "Bob prefers green tea in the morning", new float[] {1, 0, 0, 0}, Map.of("source", "chat"), List.of("pref"), 1000, 1);
    IndexedMemory car = memory("alice", "The car needs new tires before winter", new float[] {0, 1, 0, 0}, Map.of("source", "email"), List.of("todo"), 2000, 1);
    IndexedMemory other = memory("bob", "Bob prefers green tea", new float[] {1, 0, 0, 0}, Map.of(), List.of(), 3000, 2);
    index.add(List.of(tea, car, other));
    index.refresh();

    var keyword = index.recall(RecallQuery.of("alice", "tires", null, 5, RecallMode.KEYWORD)).hits();
    assertThat(keyword).extracting(RecallHit::cid).containsExactly(car.cid());
    assertThat(keyword.get(0).keyword()).isPositive();
    assertThat(keyword.get(0).vector()).isNull();

    var vector = index.recall(RecallQuery.of("alice", null, new float[] {0.9f, 0.1f, 0, 0}, 1, RecallMode.VECTOR)).hits();
    assertThat(vector).extracting(RecallHit::cid).containsExactly(tea.cid());
    assertThat(vector.get(0).vector()).isCloseTo(0.9938, org.assertj.core.data.Offset.offset(0.001));

    var hybrid = index.recall(RecallQuery.of("alice", "what does Bob drink, tea?", new float[] {1, 0, 0, 0}, 2, RecallMode.HYBRID)).hits();
    assertThat(hybrid.get(0).cid()).isEqualTo(tea.cid());
    assertThat(hybrid.get(0).keyword()).isPositive();
    assertThat(hybrid.get(0).vector()).isCloseTo(1.0, org.assertj.core.data.Offset.offset(0.001));
    // The other namespace's identical memory never shows up.
    assertThat(hybrid).extracting(RecallHit::cid).doesNotContain(other.cid());
  }

  @Test
  void filtersApplyInsideTheSearch() throws Exception {
    IndexedMemory a = memory("alice", "meeting notes about the budget", new float[] {1, 0, 0, 0}, Map.of("source", "chat", "priority", 3L), List.of("work"), 1000, 1);
    IndexedMemory b = memory("alice", "meeting notes about the party", new float[] {1, 0.01f, 0, 0}, Map.of("source", "email", "priority", 1L), List.of("home"), 5000, 1);
    index.add(List.of(a, b));
    index.refresh();
    float[] q = {1, 0, 0, 0};
    assertThat(index.recall(query("alice", q, new RecallFilter(Map.of("source", "email"), Map.of(), List.of(), null, null))).hits())
        .extracting(RecallHit::cid).containsExactly(b.cid());
    assertThat(index.recall(query("alice", q, new RecallFilter(Map.of(), Map.of("priority", new RecallFilter.NumericRange(2.0, null)), List.of(), null, null))).hits())
        .extracting(RecallHit::cid).containsExactly(a.cid());
    assertThat(index.recall(query("alice", q, new RecallFilter(Map.of("priority", 1L), Map.of(), List.of(), null, null))).hits())
        .extracting(RecallHit::cid).containsExactly(b.cid());
    assertThat(index.recall(query("alice", q, new RecallFilter(Map.of(), Map.of(), List.of("home"), null, null))).hits())
        .extracting(RecallHit::cid).containsExactly(b.cid());
    assertThat(index.recall(query("alice", q, new RecallFilter(Map.of(), Map.of(), List.of(), 2000L, null))).hits())
        .extracting(RecallHit::cid).containsExactly(b.cid());
    assertThat(index.recall(query("alice", q, new RecallFilter(Map.of(), Map.of(), List.of(), null, 5000L))).hits())
        .extracting(RecallHit::cid).containsExactly(a.cid());
  }

  @Test
  void aRemovalInOneNamespaceLeavesAnotherNamespacesMemoryOfTheSameCid() throws Exception {
    // A peer's signed forget in bob may name alice's memory; it says nothing about alice's copy.
    IndexedMemory a = memory("alice", "alpha", new float[] {1, 0, 0, 0}, Map.of(), List.of(), 1, 1);
    index.addNew(List.of(a));
    index.remove("bob", List.of(a.cid()));
    index.refresh();
    assertThat(index.size()).isEqualTo(1);

    index.remove("alice", List.of(a.cid()));
    index.refresh();
    assertThat(index.size()).isZero();
  }

  @Test
  void anIndexIsEmptyUntilAMemoryIsAddedEvenBeforeItIsVisible() throws Exception {
    assertThat(index.isEmpty()).isTrue();
    index.addNew(List.of(memory("alice", "alpha", new float[] {1, 0, 0, 0}, Map.of(), List.of(), 1, 1)));
    assertThat(index.isEmpty()).as("added, not refreshed or committed").isFalse();
    assertThat(index.size()).as("what recall sees").isZero();
  }

  @Test
  void removeAndCommittedPositionSurviveReopen() throws Exception {
    IndexedMemory a = memory("alice", "alpha", new float[] {1, 0, 0, 0}, Map.of(), List.of(), 1, 1);
    IndexedMemory b = memory("alice", "beta", new float[] {0, 1, 0, 0}, Map.of(), List.of(), 2, 2);
    index.add(List.of(a, b));
    index.remove("alice", List.of(a.cid()));
    index.markApplied(7);
    index.commit();
    index.close();
    index = LuceneMemoryIndex.open(dir, IndexConfig.defaults(4));
    assertThat(index.appliedPosition()).isEqualTo(7);
    assertThat(index.size()).isEqualTo(1);
  }

  /**
   * Two replicas that applied the same memories in a different order give them different doc ids;
   * memories with equal scores must still come back in the same order on both (by CID).
   */
  @Test
  void tiesRankTheSameWhateverOrderTheMemoriesWereIndexedIn(@TempDir Path other) throws Exception {
    List<IndexedMemory> memories = new java.util.ArrayList<>();
    for (int i = 0; i < 12; i++) {
      memories.add(memory("alice", "trip to Lisbon number " + i, new float[] {1, 0, 0, 0}, Map.of(), List.of(), 1000, i + 1));
    }
    index.add(memories);
    index.refresh();
    List<IndexedMemory> reversed = new java.util.ArrayList<>(memories);
    java.util.Collections.reverse(reversed);
    try (LuceneMemoryIndex replica = LuceneMemoryIndex.open(other, IndexConfig.defaults(4))) {
      replica.add(reversed);
      replica.refresh();
      for (RecallQuery q : List.of(
          RecallQuery.of("alice", "trip Lisbon", null, 5, RecallMode.KEYWORD),
          RecallQuery.of("alice", null, new float[] {1, 0, 0, 0}, 5, RecallMode.VECTOR),
          RecallQuery.of("alice", "trip Lisbon", new float[] {1, 0, 0, 0}, 5, RecallMode.HYBRID))) {
        List<Cid> here = index.recall(q).hits().stream().map(RecallHit::cid).toList();
        List<Cid> there = replica.recall(q).hits().stream().map(RecallHit::cid).toList();
        assertThat(here).as("%s mode", q.mode()).hasSize(5).isEqualTo(there);
        assertThat(here).as("ties in CID order").isSorted();
      }
    }
  }

  /** A vector of norm ~1e-39 once made a scale that overflowed a float, and Lucene refused the infinities. */
  @Test
  void aVectorOfTinyNormIsIndexedAndSearchedByItsDirection() throws Exception {
    IndexedMemory tiny = memory("alice", "tiny", new float[] {1e-39f, 0, 0, 0}, Map.of(), List.of(), 1000, 1);
    IndexedMemory other = memory("alice", "other", new float[] {0, 1, 0, 0}, Map.of(), List.of(), 1000, 1);
    index.addNew(List.of(tiny, other));
    index.refresh();
    assertThat(index.refusedDocuments()).isZero();

    var byDirection = index.recall(RecallQuery.of("alice", null, new float[] {1, 0, 0, 0}, 1, RecallMode.VECTOR)).hits();
    assertThat(byDirection).extracting(RecallHit::cid).containsExactly(tiny.cid());
    assertThat(byDirection.get(0).vector()).isCloseTo(1.0, org.assertj.core.data.Offset.offset(0.001));
    var tinyQuery = index.recall(RecallQuery.of("alice", null, new float[] {0, 1e-40f, 0, 0}, 1, RecallMode.VECTOR)).hits();
    assertThat(tinyQuery).extracting(RecallHit::cid).containsExactly(other.cid());
  }

  /** Lucene refuses a term over 32,766 bytes; a peer's memory is not held to the API's tag limits. */
  @Test
  void aTagTooLongForATermIsLeftOutOfFilteringAndTheMemoryIsStillRecalled() throws Exception {
    String immense = "x".repeat(40_000);
    IndexedMemory big = memory("alice", "a memory with an immense tag", new float[] {1, 0, 0, 0},
        Map.of("note", immense), List.of(immense, "short"), 1000, 1);
    index.addNew(List.of(big));
    index.refresh();
    assertThat(index.refusedDocuments()).isZero();
    assertThat(index.recall(RecallQuery.of("alice", "immense", null, 5, RecallMode.KEYWORD)).hits())
        .extracting(RecallHit::cid).containsExactly(big.cid());
    assertThat(index.recall(query("alice", new float[] {1, 0, 0, 0}, new RecallFilter(Map.of(), Map.of(), List.of("short"), null, null))).hits())
        .extracting(RecallHit::cid).containsExactly(big.cid());
  }

  /**
   * A metadata key with '#' once shared the field of another key's numbers ("x#n" and the number
   * under "x"), and Lucene refused whichever memory came second, in any namespace; a boolean key's
   * field ("k#b") matched the string under "k#b". The API refuses such keys; a peer's memory may
   * still hold one, and is indexed without it.
   */
  @Test
  void aMetadataKeyWithAHashIsLeftOutOfTheIndexNotClashingWithAnotherKeysField() throws Exception {
    IndexedMemory number = memory("alice", "number", new float[] {1, 0, 0, 0}, Map.of("x", 1), List.of(), 1000, 1);
    IndexedMemory clash = memory("bob", "clash", new float[] {1, 0, 0, 0}, Map.of("x#n", "a", "flag#b", "true"), List.of(), 1000, 1);
    IndexedMemory flag = memory("bob", "flag", new float[] {1, 0, 0, 0}, Map.of("flag", true), List.of(), 1000, 2);
    index.addNew(List.of(number, clash, flag));
    index.refresh();

    assertThat(index.refusedDocuments()).isZero();
    assertThat(index.recall(RecallQuery.of("bob", "clash", null, 5, RecallMode.KEYWORD)).hits())
        .extracting(RecallHit::cid).containsExactly(clash.cid());
    assertThat(index.recall(query("alice", new float[] {1, 0, 0, 0}, new RecallFilter(Map.of("x", 1), Map.of(), List.of(), null, null))).hits())
        .extracting(RecallHit::cid).containsExactly(number.cid());
    assertThat(index.recall(query("bob", new float[] {1, 0, 0, 0}, new RecallFilter(Map.of("flag", true), Map.of(), List.of(), null, null))).hits())
        .extracting(RecallHit::cid).containsExactly(flag.cid());
  }

  /** The dimension is fixed once a vector is indexed: an index of another one is rebuilt, not left refusing every vector. */
  @Test
  void anIndexOfAnotherVectorDimensionIsRebuiltFromTheLog(@TempDir Path other) throws Exception {
    try (LuceneMemoryIndex four = LuceneMemoryIndex.open(other, IndexConfig.defaults(4))) {
      four.addNew(List.of(memory("alice", "four", new float[] {1, 0, 0, 0}, Map.of(), List.of(), 1000, 1)));
      four.markApplied(1);
      four.commit();
    }
    try (LuceneMemoryIndex eight = LuceneMemoryIndex.open(other, IndexConfig.defaults(8))) {
      assertThat(eight.appliedPosition()).as("to be rebuilt from the start of the log").isZero();
      assertThat(eight.size()).isZero();
      IndexedMemory wide = memory("alice", "eight", new float[] {0, 1, 0, 0, 0, 0, 0, 0}, Map.of(), List.of(), 1000, 1);
      eight.addNew(List.of(wide));
      eight.refresh();
      assertThat(eight.refusedDocuments()).isZero();
      assertThat(eight.recall(RecallQuery.of("alice", null, new float[] {0, 1, 0, 0, 0, 0, 0, 0}, 1, RecallMode.VECTOR)).hits())
          .extracting(RecallHit::cid).containsExactly(wide.cid());
    }
    try (LuceneMemoryIndex again = LuceneMemoryIndex.open(other, IndexConfig.defaults(8))) {
      assertThat(again.size()).as("the same dimension keeps the index").isEqualTo(1);
    }
  }

  /** As doubles, 64-bit IDs within ~128 of each other were the same number, so a filter on one matched both. */
  @Test
  void wholeNumbersInMetadataMatchExactlyAndWhateverTheirType() throws Exception {
    IndexedMemory id = memory("alice", "one id", new float[] {1, 0, 0, 0}, Map.of("msg", 1234567890123456789L), List.of(), 1000, 1);
    IndexedMemory near = memory("alice", "a near id", new float[] {1, 0, 0, 0}, Map.of("msg", 1234567890123456700L), List.of(), 1000, 1);
    IndexedMemory five = memory("alice", "five as a double", new float[] {1, 0, 0, 0}, Map.of("n", 5.0, "z", -0.0), List.of(), 1000, 1);
    IndexedMemory half = memory("alice", "five and a half", new float[] {1, 0, 0, 0}, Map.of("n", 5.5), List.of(), 1000, 1);
    index.addNew(List.of(id, near, five, half));
    index.refresh();

    assertThat(filtered(Map.of("msg", 1234567890123456789L))).containsExactly(id.cid());
    assertThat(filtered(Map.of("msg", 1234567890123456700L))).containsExactly(near.cid());
    assertThat(filtered(Map.of("n", 5L))).containsExactly(five.cid());
    assertThat(filtered(Map.of("n", 5.0))).containsExactly(five.cid());
    assertThat(filtered(Map.of("n", 5.5))).containsExactly(half.cid());
    assertThat(filtered(Map.of("z", 0L))).as("-0.0 is the whole number 0").containsExactly(five.cid());
  }

  private List<Cid> filtered(Map<String, Object> metadata) throws Exception {
    return index.recall(query("alice", new float[] {1, 0, 0, 0}, new RecallFilter(metadata, Map.of(), List.of(), null, null)))
        .hits().stream().map(RecallHit::cid).toList();
  }

  /** A damaged commit kept the node, and mnemo reindex, from starting, though the index is derived state. */
  @Test
  void anIndexWhoseCommitCannotBeReadIsRebuiltFromTheLog(@TempDir Path other) throws Exception {
    try (LuceneMemoryIndex first = LuceneMemoryIndex.open(other, IndexConfig.defaults(4))) {
      first.addNew(List.of(memory("alice", "one", new float[] {1, 0, 0, 0}, Map.of(), List.of(), 1000, 1)));
      first.markApplied(1);
      first.commit();
    }
    try (var files = java.nio.file.Files.list(other)) {
      for (Path file : files.filter(f -> f.getFileName().toString().startsWith("segments_")).toList()) {
        byte[] bytes = java.nio.file.Files.readAllBytes(file);
        bytes[bytes.length / 2] ^= 0x5a;
        java.nio.file.Files.write(file, bytes);
      }
    }
    try (LuceneMemoryIndex reopened = LuceneMemoryIndex.open(other, IndexConfig.defaults(4))) {
      assertThat(reopened.appliedPosition()).as("to be rebuilt from the start of the log").isZero();
      assertThat(reopened.size()).isZero();
      IndexedMemory again = memory("alice", "again", new float[] {1, 0, 0, 0}, Map.of(), List.of(), 1000, 1);
      reopened.addNew(List.of(again));
      reopened.refresh();
      assertThat(reopened.recall(RecallQuery.of("alice", "again", null, 5, RecallMode.KEYWORD)).hits())
          .extracting(RecallHit::cid).containsExactly(again.cid());
    }
  }

  @Test
  void validAtKeepsOnlyWhatHoldsThenInKeywordAndVectorSearch() throws Exception {
    IndexedMemory paris = valid("Bob lives in Paris", new float[] {1, 0, 0, 0}, 1_000L, 5_000L, 1);
    IndexedMemory berlin = valid("Bob lives in Berlin", new float[] {0.9f, 0.1f, 0, 0}, 5_000L, null, 2);
    IndexedMemory always = valid("Bob lives somewhere", new float[] {0.8f, 0.2f, 0, 0}, null, null, 3);
    index.add(List.of(paris, berlin, always));
    index.refresh();
    for (RecallMode mode : List.of(RecallMode.KEYWORD, RecallMode.VECTOR, RecallMode.HYBRID)) {
      assertThat(validAt(mode, 999L)).as(mode + " before Paris").containsExactly(always.cid());
      assertThat(validAt(mode, 1_000L)).as(mode + " validFrom is inclusive").containsExactlyInAnyOrder(paris.cid(), always.cid());
      assertThat(validAt(mode, 5_000L)).as(mode + " validTo is exclusive").containsExactlyInAnyOrder(berlin.cid(), always.cid());
      assertThat(validAt(mode, Long.MAX_VALUE)).as(mode.name()).isEmpty();
      assertThat(validAt(mode, Long.MIN_VALUE)).as(mode.name()).containsExactly(always.cid());
      assertThat(validAt(mode, null)).as(mode + " without validAt").hasSize(3);
    }
  }

  @Test
  void anInvalidateEndsValidityInPlaceWithoutIndexingAgain() throws Exception {
    IndexedMemory paris = valid("Bob lives in Paris", new float[] {1, 0, 0, 0}, 1_000L, 9_000L, 1);
    IndexedMemory ended = new IndexedMemory(Cid.dagCbor(new Memory("alice", "Bob lives in Rome", 1).encode()), 2,
        new Memory("alice", "Bob lives in Rome", 1).withEmbedding(new Embedding("test", new float[] {0, 1, 0, 0})), 3_000L);
    index.add(List.of(paris, ended));
    index.refresh();
    assertThat(validAt(RecallMode.KEYWORD, 2_999L)).containsExactlyInAnyOrder(paris.cid(), ended.cid());
    assertThat(validAt(RecallMode.KEYWORD, 3_000L)).as("added already invalidated").containsExactly(paris.cid());

    index.invalidated(paris.cid(), 4_000);
    index.invalidated(Cid.dagCbor("not indexed".getBytes(java.nio.charset.StandardCharsets.UTF_8)), 0);
    index.refresh();
    for (RecallMode mode : List.of(RecallMode.KEYWORD, RecallMode.VECTOR)) {
      assertThat(validAt(mode, 3_999L)).as(mode.name()).containsExactly(paris.cid());
      assertThat(validAt(mode, 4_000L)).as(mode.name()).isEmpty();
      assertThat(validAt(mode, null)).as(mode + ": invalidated, not forgotten").hasSize(2);
    }
    // Its own validTo still ends it where that is sooner.
    index.invalidated(paris.cid(), 20_000);
    index.refresh();
    assertThat(validAt(RecallMode.KEYWORD, 8_999L)).containsExactly(paris.cid());
    assertThat(validAt(RecallMode.KEYWORD, 9_000L)).isEmpty();
    index.commit();
    assertThat(index.size()).isEqualTo(2);
  }

  @Test
  void anInvalidateOfAMemoryNotIndexedIsNothingAlsoInAnEmptyOrClearedIndex() throws Exception {
    Cid absent = Cid.dagCbor("never indexed".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    index.invalidated(absent, 5);
    index.add(List.of(valid("Bob lives in Paris", new float[] {1, 0, 0, 0}, null, null, 1)));
    index.clear();
    index.invalidated(absent, 5);
    index.commit();
    assertThat(index.size()).isZero();
  }

  @Test
  void onlyAFilterWithValidAtReadsTheValidityFieldsAndSoStaysOutOfTheFilterCache() {
    RecallFilter plain = new RecallFilter(Map.of("source", "chat"), Map.of(), List.of("t"), 1L, 2L);
    RecallFilter timed = new RecallFilter(Map.of("source", "chat"), Map.of(), List.of("t"), 1L, 2L, 5L);
    assertThat(MemoryDocuments.readsValidity(MemoryDocuments.filterQuery("alice", plain, false))).isFalse();
    assertThat(MemoryDocuments.readsValidity(MemoryDocuments.filterQuery("alice", timed, false))).isTrue();
    assertThat(MemoryDocuments.readsValidity(MemoryDocuments.filterQuery("alice", RecallFilter.NONE, false))).isFalse();
  }

  private static IndexedMemory valid(String text, float[] vector, Long from, Long to, long position) {
    Memory memory = new Memory("alice", text, Map.of(), List.of(), 1, new Embedding("test", vector), null, from, to);
    return new IndexedMemory(Cid.dagCbor(memory.encode()), position, memory);
  }

  private List<Cid> validAt(RecallMode mode, Long t) throws Exception {
    RecallFilter filter = new RecallFilter(Map.of(), Map.of(), List.of(), null, null, t);
    return index.recall(new RecallQuery("alice", mode == RecallMode.VECTOR ? null : "Bob lives",
        mode == RecallMode.KEYWORD ? null : new float[] {1, 0, 0, 0}, 10, mode, filter, 0, RecallQuery.DEFAULT_HALF_LIFE,
        System.currentTimeMillis())).hits().stream().map(RecallHit::cid).toList();
  }

  private static RecallQuery query(String ns, float[] vector, RecallFilter filter) {
    return new RecallQuery(ns, null, vector, 5, RecallMode.VECTOR, filter, 0, RecallQuery.DEFAULT_HALF_LIFE, System.currentTimeMillis());
  }
}
