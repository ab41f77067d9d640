package dev.mnemo.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mnemo.index.IndexConfig;
import dev.mnemo.index.LogIndexer;
import dev.mnemo.index.LuceneMemoryIndex;
import dev.mnemo.index.RecallFilter;
import dev.mnemo.index.RecallMode;
import dev.mnemo.index.RecallQuery;
import dev.mnemo.node.embed.EmbedderUnavailableException;
import dev.mnemo.node.embed.Embedders;
import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.cid.Cid;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The front door without HTTP, as a later API (MCP, a Java client) calls it: domain requests in,
 * result records out, domain exceptions for what the caller got wrong. Real store and index.
 */
class MemoryServiceTest {
  private static final int DIM = TestVectors.DIMENSION;

  @TempDir Path dir;
  private MnemoStore store;
  private LuceneMemoryIndex index;
  private LogIndexer indexer;
  private MemoryService service;
  private Caller caller;

  @BeforeEach
  void open() throws IOException {
    store = MnemoStore.open(dir.resolve("store"));
    index = LuceneMemoryIndex.open(dir.resolve("index"), IndexConfig.defaults(DIM));
    indexer = new LogIndexer(store.log(), index, 1_000);
    service = new MemoryService(store, index, indexer, Embedders.create(Embedders.NONE, DIM), DIM);
    caller = Caller.node(store.nodeKey());
  }

  @AfterEach
  void close() throws Exception {
    indexer.close();
    index.close();
    store.close();
  }

  private static NewMemory memory(String text, long seed, Cid prev) {
    return new NewMemory(text, Map.of("topic", "drinks"), List.of("t"), TestVectors.random(seed), 1_000L + seed, prev);
  }

  private static RecallRequest recall(String text, float[] vector, RecallMode mode) {
    return new RecallRequest("notes", text, vector, 5, mode, RecallFilter.NONE, 0, RecallQuery.DEFAULT_HALF_LIFE);
  }

  @Test
  void remembersRecallsListsAndForgetsThroughDomainTypes() throws Exception {
    Remembered first = service.remember(caller, new RememberRequest("notes", List.of(memory("Bob drinks tea", 1, null))));
    Remembered second = service.remember(caller, new RememberRequest("notes", List.of(memory("Bob drinks coffee now", 2, first.cids().get(0)))));
    Cid coffee = second.cids().get(0);

    RecallResult byVector = service.recall(caller, recall(null, TestVectors.random(2), RecallMode.VECTOR));
    assertThat(byVector.results()).extracting(r -> r.hit().cid()).startsWith(coffee);
    RecallResult byWord = service.recall(caller, recall("coffee", null, RecallMode.KEYWORD));
    assertThat(byWord.results()).extracting(r -> r.memory().text()).containsExactly("Bob drinks coffee now");

    assertThat(service.history(caller, coffee, 10)).extracting(MemoryVersion::cid).containsExactly(coffee, first.cids().get(0));
    assertThat(service.list(caller, new ListRequest("notes", null, 10)).memories()).hasSize(2);

    Forgotten forgotten = service.forget(caller, "notes", coffee);
    assertThat(forgotten.memory()).isEqualTo(coffee);
    assertThat(forgotten.entry()).isNotEqualTo(second.entry());
    assertThat(service.get(caller, coffee)).isEmpty();
    assertThat(service.get(caller, first.cids().get(0))).isPresent();
  }

  @Test
  void whatTheCallerGotWrongIsADomainExceptionAndNothingIsWritten() throws Exception {
    Cid live = service.remember(caller, new RememberRequest("notes", List.of(memory("kept", 1, null)))).cids().get(0);
    long position = store.log().lastPosition();

    assertThatThrownBy(() -> service.remember(caller, new RememberRequest("other", List.of(memory("orphan", 2, live)))))
        .isInstanceOf(UnknownPrevException.class).hasMessageContaining(live.toString());
    assertThatThrownBy(() -> service.forget(caller, "other", live)).isInstanceOf(NotFoundException.class);
    assertThatThrownBy(() -> service.history(caller, Cid.parse("bafyreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"), 10))
        .isInstanceOf(NotFoundException.class);
    assertThatThrownBy(() -> service.export(caller, "other")).isInstanceOf(NotFoundException.class);
    assertThatThrownBy(() -> service.list(caller, new ListRequest("notes", "not-a-cursor", 10)))
        .isInstanceOf(InvalidCursorException.class);
    assertThatThrownBy(() -> service.recall(caller, recall(null, null, RecallMode.HYBRID)))
        .isInstanceOf(InvalidRequestException.class);
    // A node without an embedder cannot embed the text of a vector recall: the caller must send a vector.
    assertThatThrownBy(() -> service.recall(caller, recall("kept", null, RecallMode.VECTOR)))
        .isInstanceOf(EmbedderUnavailableException.class);

    assertThat(store.log().lastPosition()).isEqualTo(position);
  }
}
