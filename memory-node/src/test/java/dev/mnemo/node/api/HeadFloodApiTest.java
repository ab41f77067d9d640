package dev.mnemo.node.api;

import static dev.mnemo.node.ApiClient.CAR_TYPE;
import static dev.mnemo.node.ApiClient.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mnemo.node.ApiClient.Response;
import dev.mnemo.node.TestNode;
import dev.mnemo.store.block.Block;
import dev.mnemo.store.car.CarWriter;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.identity.AgentKey;
import dev.mnemo.store.model.LogEntry;
import dev.mnemo.store.model.Memory;
import dev.mnemo.store.model.Op;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 22's probe over HTTP: a CAR of thousands of self-signed roots, each a separate root of the
 * namespace, once left as many heads. An import may add at most importMaxNewHeads; more is a 422
 * that names the limit, and nothing of the file is stored.
 */
class HeadFloodApiTest {
  @TempDir Path dir;

  @Test
  void anImportOfThousandsOfSeparateRootsIsRefusedNamingTheLimit() throws IOException {
    try (TestNode node = TestNode.start(dir, TestNode.NONE)) {
      Response refused = node.api().postRaw("/v1/namespaces/flood/import", CAR_TYPE, roots("flood", 3_000));
      assertError(refused, 422, "too_many_heads");
      assertThat(refused.json().path("error").path("message").asText())
          .contains("3000 heads").contains("importMaxNewHeads is 64");
      assertThat(node.node().store().log().heads("flood")).as("nothing of the file is stored").isEmpty();

      Response fits = node.api().postRaw("/v1/namespaces/flood/import", CAR_TYPE, roots("flood", 64));
      assertThat(fits.status()).as("%s", fits).isEqualTo(200);
      assertThat(node.node().store().log().heads("flood")).hasSize(64);
    }
  }

  @Test
  void theLimitIsConfigurable() throws IOException {
    try (TestNode node = TestNode.start(dir, TestNode.NONE, Map.of("importMaxNewHeads", "5"))) {
      Response refused = node.api().postRaw("/v1/namespaces/flood/import", CAR_TYPE, roots("flood", 6));
      assertError(refused, 422, "too_many_heads");
      assertThat(refused.json().path("error").path("message").asText()).contains("importMaxNewHeads is 5");
    }
  }

  /** {@code n} root adds by one new key, each with its own memory, as a CAR whose roots they are. */
  private static byte[] roots(String ns, int n) throws IOException {
    AgentKey key = AgentKey.generate();
    List<Block> blocks = new ArrayList<>();
    List<Cid> roots = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Block memory = Block.dagCbor(new Memory(ns, "root " + i, Map.of(), List.of(), 1_700_000_000_000L, null, null).encode());
      Block entry = Block.dagCbor(LogEntry.signed(key, ns, Op.ADD, List.of(memory.cid()), List.of(), 1).encode());
      blocks.add(memory);
      blocks.add(entry);
      roots.add(entry.cid());
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    CarWriter car = new CarWriter(out, roots);
    for (Block block : blocks) {
      car.write(block);
    }
    return out.toByteArray();
  }
}
