package dev.mnemo.node.api;

import static dev.mnemo.node.ApiClient.CAR_TYPE;
import static dev.mnemo.node.ApiClient.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mnemo.node.ApiClient;
import dev.mnemo.node.ApiClient.Response;
import dev.mnemo.node.TestNode;
import dev.mnemo.node.TestVectors;
import dev.mnemo.store.block.Block;
import dev.mnemo.store.car.CarReader;
import dev.mnemo.store.car.CarWriter;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.codec.DagCbor;
import dev.mnemo.store.model.LogEntry;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Moving a namespace between nodes as a CAR v1 file over HTTP: what node B recalls after the
 * import is what node A recalls; imports are all or nothing and refuse entries of another
 * namespace, forged entries and incomplete DAGs.
 */
class ExportImportApiTest {
  private static final String NS = "travel";

  @TempDir Path dirA;
  @TempDir Path dirB;
  @TempDir Path keys;

  /**
   * A node whose owner agent is the same on both nodes (one agent's memory moving between its
   * nodes): imported entries keep their author, and only that author may read them.
   */
  private TestNode sameOwner(Path dir) {
    return TestNode.start(dir, TestNode.NONE, TestNode.sharedOwner(keys));
  }

  @Test
  void importedNamespaceRecallsLikeTheOriginal() throws IOException {
    try (TestNode a = sameOwner(dirA); TestNode b = sameOwner(dirB)) {
      List<String> cids = fill(a.api());
      String forgotten = cids.get(3);
      assertThat(a.api().delete("/v1/namespaces/" + NS + "/memories/" + forgotten).status()).isEqualTo(200);
      a.api().remember("unrelated", Map.of("text", "not exported", "vector", TestVectors.random(9999)));

      Response export = a.api().get("/v1/namespaces/" + NS + "/export");
      assertThat(export.status()).as("%s", export).isEqualTo(200);
      assertThat(export.contentType()).startsWith(CAR_TYPE);
      List<Block> blocks = blocks(export.body());
      assertThat(blocks).allSatisfy(block -> assertThat(block.cid().matches(block.data())).isTrue());

      Response imported = b.api().postRaw("/v1/namespaces/" + NS + "/import", CAR_TYPE, export.body());
      assertThat(imported.status()).as("%s", imported).isEqualTo(200);
      assertThat(imported.json().path("blocks").asInt()).isEqualTo(blocks.size());
      assertThat(imported.json().path("entriesApplied").asInt()).isPositive();
      // The file's roots are A's heads of the namespace.
      assertThat(texts(imported.json().path("roots"))).containsExactlyInAnyOrderElementsOf(texts(heads(a.api(), NS)));

      // Same live memories, same heads, nothing of other namespaces, nothing forgotten.
      assertThat(b.api().listAll(NS)).containsExactlyInAnyOrderElementsOf(a.api().listAll(NS));
      assertThat(b.api().listAll(NS)).hasSize(cids.size() - 1).doesNotContain(forgotten);
      assertThat(heads(b.api(), NS)).isEqualTo(heads(a.api(), NS)).isNotEmpty();
      assertThat(b.api().listAll("unrelated")).isEmpty();
      assertError(b.api().get("/v1/memories/" + forgotten), 404, "not_found");
      for (String cid : b.api().listAll(NS)) {
        assertThat(b.api().getJson("/v1/memories/" + cid)).isEqualTo(a.api().getJson("/v1/memories/" + cid));
      }

      // B's recall answers as A's does, in every mode and with filters.
      for (Map<String, Object> query : queries()) {
        List<String> fromA = a.api().recallCids(NS, query);
        assertThat(fromA).as("A %s", query).isNotEmpty();
        assertThat(b.api().recallCids(NS, query)).as("B %s", query).containsExactlyElementsOf(fromA);
      }
      Map<String, Object> vectorQuery = Map.of("vector", TestVectors.random(5), "mode", "vector", "k", 5);
      assertThat(scores(b.api().recall(NS, vectorQuery))).isEqualTo(scores(a.api().recall(NS, vectorQuery)));

      // Importing the same file again changes nothing.
      long positionB = b.api().getJson("/v1/node").path("index").path("logPosition").asLong();
      Response again = b.api().postRaw("/v1/namespaces/" + NS + "/import", CAR_TYPE, export.body());
      assertThat(again.status()).as("%s", again).isEqualTo(200);
      assertThat(again.json().path("entriesApplied").asInt()).isZero();
      assertThat(b.api().getJson("/v1/node").path("index").path("logPosition").asLong()).isEqualTo(positionB);
    }
  }

  @Test
  void importOfAnotherNamespacesEntriesIsRefusedAndStoresNothing() throws IOException {
    try (TestNode a = sameOwner(dirA); TestNode b = sameOwner(dirB)) {
      fill(a.api());
      byte[] car = a.api().get("/v1/namespaces/" + NS + "/export").body();
      JsonNode before = b.api().getJson("/v1/node");

      Response refused = b.api().postRaw("/v1/namespaces/other/import", CAR_TYPE, car);
      assertError(refused, 422, "rejected_block");

      JsonNode after = b.api().getJson("/v1/node");
      assertThat(after.path("index")).isEqualTo(before.path("index"));
      assertThat(after.path("namespaces")).isEqualTo(before.path("namespaces")).isEmpty();
      assertThat(after.path("index").path("memories").asInt()).isZero();
      assertThat(b.api().listAll("other")).isEmpty();
      assertThat(b.api().listAll(NS)).isEmpty();
      for (Block block : blocks(car)) {
        assertError(b.api().get("/v1/blocks/" + block.cid()), 404, "not_found");
      }
    }
  }

  @Test
  void incompleteOrForgedCarsAreRefusedAndStoreNothing() throws IOException {
    try (TestNode a = sameOwner(dirA); TestNode b = sameOwner(dirB)) {
      fill(a.api());
      byte[] car = a.api().get("/v1/namespaces/" + NS + "/export").body();
      List<Block> blocks = blocks(car);
      List<Block> entries = blocks.stream().filter(ExportImportApiTest::isEntry).toList();
      List<Block> memories = blocks.stream().filter(block -> !isEntry(block)).toList();
      assertThat(entries).hasSizeGreaterThan(1);
      assertThat(memories).isNotEmpty();

      // A memory block missing: its entry cannot be applied, and so nothing is.
      byte[] missingMemory = car(roots(car), without(blocks, memories.get(memories.size() / 2)::equals));
      // The first entry missing: the others' parents are unknown.
      Block firstEntry = entries.stream().filter(e -> decode(e).parents().isEmpty()).findFirst().orElseThrow();
      byte[] missingParent = car(roots(car), without(blocks, firstEntry::equals));
      // An entry altered after signing (a later clock), properly hashed: its signature fails.
      LogEntry original = decode(firstEntry);
      LogEntry altered = new LogEntry(original.ns(), original.op(), original.refs(), original.parents(),
          original.clock() + 1000, original.author(), original.sig());
      List<Block> forged = new ArrayList<>(memories);
      forged.add(Block.dagCbor(altered.encode()));
      byte[] forgedCar = car(List.of(), forged);

      for (byte[] bad : List.of(missingMemory, missingParent, forgedCar)) {
        JsonNode before = b.api().getJson("/v1/node");
        assertError(b.api().postRaw("/v1/namespaces/" + NS + "/import", CAR_TYPE, bad), 422, "rejected_block");
        JsonNode after = b.api().getJson("/v1/node");
        assertThat(after.path("index")).isEqualTo(before.path("index"));
        assertThat(after.path("namespaces")).isEqualTo(before.path("namespaces"));
        assertThat(b.api().listAll(NS)).isEmpty();
      }
      for (Block block : blocks) {
        assertError(b.api().get("/v1/blocks/" + block.cid()), 404, "not_found");
      }

      // The complete file still imports afterwards.
      assertThat(b.api().postRaw("/v1/namespaces/" + NS + "/import", CAR_TYPE, car).status()).isEqualTo(200);
      assertThat(b.api().listAll(NS)).containsExactlyInAnyOrderElementsOf(a.api().listAll(NS));
    }
  }

  /** A CAR v1 with no roots is refused by go-car (Kubo's dag import), so there is nothing to export. */
  @Test
  void exportOfANamespaceWithNoEntriesIs404() {
    try (TestNode a = TestNode.start(dirA, TestNode.NONE)) {
      assertError(a.api().get("/v1/namespaces/nothing-here/export"), 404, "not_found");
    }
  }

  // ---- helpers ----

  /** Twenty memories in NS with metadata, tags and times; returns their CIDs in order. */
  private static List<String> fill(ApiClient api) {
    List<Map<String, Object>> batch = new ArrayList<>();
    String[] places = {"Lisbon", "Kyoto", "Lima", "Oslo", "Nairobi"};
    for (int i = 0; i < 12; i++) {
      batch.add(Map.of("text", "trip to " + places[i % 5] + " number " + i, "vector", TestVectors.random(i),
          "metadata", Map.of("city", places[i % 5], "nights", i), "tags", List.of(i % 2 == 0 ? "even" : "odd"), "ts", 1000L * i));
    }
    List<String> cids = new ArrayList<>(api.rememberAll(NS, batch));
    for (int i = 12; i < 20; i++) {
      cids.add(api.remember(NS, Map.of("text", "packing list for " + places[i % 5] + " trip " + i, "vector", TestVectors.random(i),
          "metadata", Map.of("city", places[i % 5], "nights", i), "tags", List.of("packing"), "ts", 1000L * i)));
    }
    return cids;
  }

  private static List<Map<String, Object>> queries() {
    List<Map<String, Object>> queries = new ArrayList<>();
    queries.add(Map.of("query", "trip Lisbon", "mode", "keyword", "k", 5));
    queries.add(Map.of("query", "packing list", "mode", "keyword", "k", 20));
    queries.add(Map.of("vector", TestVectors.random(7), "mode", "vector", "k", 5));
    queries.add(Map.of("query", "Kyoto", "vector", TestVectors.random(1), "mode", "hybrid", "k", 8));
    Map<String, Object> filtered = new LinkedHashMap<>(Map.of("vector", TestVectors.random(2), "k", 20));
    filtered.put("filter", Map.of("metadata", Map.of("nights", Map.of("gte", 5)), "tags", List.of("even")));
    queries.add(filtered);
    return queries;
  }

  private static List<String> texts(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

  private static List<Double> scores(JsonNode results) {
    List<Double> out = new ArrayList<>();
    results.forEach(r -> out.add(r.path("score").asDouble()));
    return out;
  }

  private static JsonNode heads(ApiClient api, String ns) {
    for (JsonNode n : api.getJson("/v1/node").path("namespaces")) {
      if (n.path("name").asText().equals(ns)) {
        return n.path("heads");
      }
    }
    return ApiClient.JSON.createArrayNode();
  }

  private static List<Block> blocks(byte[] car) throws IOException {
    CarReader reader = new CarReader(new ByteArrayInputStream(car));
    List<Block> out = new ArrayList<>();
    for (Block block = reader.next(); block != null; block = reader.next()) {
      out.add(block);
    }
    return out;
  }

  private static List<Cid> roots(byte[] car) throws IOException {
    return new CarReader(new ByteArrayInputStream(car)).roots();
  }

  private static byte[] car(List<Cid> roots, List<Block> blocks) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    CarWriter writer = new CarWriter(out, roots);
    for (Block block : blocks) {
      writer.write(block);
    }
    return out.toByteArray();
  }

  private static List<Block> without(List<Block> blocks, Predicate<Block> drop) {
    return blocks.stream().filter(drop.negate()).toList();
  }

  private static boolean isEntry(Block block) {
    try {
      return DagCbor.decodeMap(block.data()).containsKey("op");
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  private static LogEntry decode(Block block) {
    try {
      return LogEntry.decode(block.data());
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }
}
