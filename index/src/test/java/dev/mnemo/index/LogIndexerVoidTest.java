package dev.mnemo.index;

import static dev.mnemo.index.LogIndexerTest.batch;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.acl.Ability;
import dev.mnemo.store.car.NamespaceCar;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.log.Appended;
import dev.mnemo.store.log.MemoryState;
import dev.mnemo.store.log.NamespaceLog;
import dev.mnemo.store.model.Memory;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A revoke that wins over adds already indexed takes their memories out of recall, and a rebuild never puts them in. */
class LogIndexerVoidTest {
  @TempDir Path dir;

  @Test
  void memoriesOfAddsARevokeMadeVoidLeaveTheIndex() throws Exception {
    try (MnemoStore owner = MnemoStore.open(dir.resolve("owner"));
         MnemoStore agent = MnemoStore.open(dir.resolve("agent"));
         LuceneMemoryIndex index = LuceneMemoryIndex.open(dir.resolve("index"), IndexConfig.defaults(8))) {
      NamespaceLog o = owner.log();
      NamespaceLog a = agent.log();
      Appended owners = o.append("alice", batch(new Random(1), 0, 3));
      o.grant(o.nodeAuthor(), "alice", agent.nodeKey().did(), Set.of(Ability.REMEMBER));
      copy(owner, agent);
      LogIndexer indexer = new LogIndexer(a, index, 60_000);
      indexer.catchUp(null);

      // The agent writes while the owner, not knowing, revokes it.
      List<Memory> memories = batch(new Random(2), 1, 4);
      Appended agents = a.append("alice", memories);
      indexer.awaitApplied(agents.position(), agents.memories(), memories);
      o.revoke(o.nodeAuthor(), "alice", agent.nodeKey().did(), Set.of(Ability.REMEMBER));
      indexer.awaitVisible();
      assertThat(index.size()).isEqualTo(7);
      Cid one = agents.memories().get(0);
      assertThat(recall(index, memories.get(0))).contains(one);

      copy(owner, agent);
      assertThat(a.state("alice", one)).isEqualTo(MemoryState.VOID);
      indexer.catchUp(null);
      assertThat(index.size()).as("only the owner's memories stay").isEqualTo(3);
      assertThat(recall(index, memories.get(0))).doesNotContain(one).containsAnyElementsOf(owners.memories());

      indexer.rebuild(null);
      assertThat(index.size()).as("a rebuild leaves them out").isEqualTo(3);
      indexer.close();
    }
  }

  private static List<Cid> recall(MemoryIndex index, Memory like) throws IOException {
    return index.recall(RecallQuery.of("alice", null, like.embedding().vector(), 5, RecallMode.VECTOR)).hits().stream()
        .map(RecallHit::cid).toList();
  }

  private static void copy(MnemoStore from, MnemoStore to) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    NamespaceCar.export(from.log(), "alice", out);
    NamespaceCar.importCar(to.log(), new ByteArrayInputStream(out.toByteArray()));
  }
}
