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
import dev.mnemo.store.acl.Ability;
import dev.mnemo.store.acl.NamespaceExistsException;
import dev.mnemo.store.acl.UnauthorizedException;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.identity.AgentKey;
import dev.mnemo.store.identity.Author;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
  void grantsAndRevokesThroughDomainTypesAndAnnouncesEachChange() throws Exception {
    List<String> announced = new java.util.ArrayList<>();
    service.afterWrite(announced::add);
    AgentKey bobKey = AgentKey.generate();
    Caller bob = new Caller(bobKey.did(), "bob", Author.of(bobKey), false);
    RememberRequest bobs = new RememberRequest("team", List.of(memory("bob's", 7, null)));

    Cid root = service.create(caller, "team");
    assertThatThrownBy(() -> service.create(bob, "team")).isInstanceOf(NamespaceExistsException.class);
    assertThatThrownBy(() -> service.grant(caller, "nowhere", bob.agent(), Set.of(Ability.READ))).isInstanceOf(NotFoundException.class);
    assertThatThrownBy(() -> service.acl(caller, "nowhere")).isInstanceOf(NotFoundException.class);
    assertThatThrownBy(() -> service.grant(bob, "team", bob.agent(), Set.of(Ability.READ))).isInstanceOf(UnauthorizedException.class);
    assertThatThrownBy(() -> service.acl(bob, "team")).isInstanceOf(UnauthorizedException.class);
    assertThatThrownBy(() -> service.grant(caller, "team", bob.agent(), Set.of())).isInstanceOf(InvalidRequestException.class);
    assertThatThrownBy(() -> service.remember(bob, bobs)).isInstanceOf(UnauthorizedException.class);

    Cid granted = service.grant(caller, "team", bob.agent(), Set.of(Ability.READ, Ability.REMEMBER));
    assertThat(granted).isNotEqualTo(root);
    Cid written = service.remember(bob, bobs).cids().get(0);
    assertThat(service.acl(bob, "team").grants()).containsEntry(bob.agent(), Set.of(Ability.READ, Ability.REMEMBER));
    assertThat(service.acl(bob, "team").owners()).containsExactly(caller.agent());

    service.revoke(caller, "team", bob.agent(), Set.of(Ability.REMEMBER));
    assertThatThrownBy(() -> service.remember(bob, new RememberRequest("team", List.of(memory("again", 8, null)))))
        .isInstanceOf(UnauthorizedException.class);
    assertThat(service.get(bob, written)).isPresent();
    assertThatThrownBy(() -> service.revoke(caller, "team", caller.agent(), Set.of(Ability.READ))).isInstanceOf(InvalidRequestException.class);
    assertThat(announced).containsExactly("team", "team", "team", "team");
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
