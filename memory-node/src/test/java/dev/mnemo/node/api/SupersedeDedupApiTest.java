package dev.mnemo.node.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mnemo.node.ApiClient;
import dev.mnemo.node.ApiClient.Response;
import dev.mnemo.node.TestNode;
import dev.mnemo.node.TestVectors;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which fact is current, over HTTP with the real embedder: an update names its prev and the prev
 * leaves recall (back with includeSuperseded, marked); remembering what a live memory says answers
 * that memory (200), exactly by default and nearly when asked.
 */
class SupersedeDedupApiTest {
  @TempDir static Path dir;
  private static TestNode node;
  private static ApiClient api;

  @BeforeAll
  static void start() {
    node = TestNode.start(dir, TestNode.BGE);
    api = node.api();
  }

  @AfterAll
  static void stop() {
    if (node != null) {
      node.close();
    }
  }

  private static String memories(String ns) {
    return "/v1/namespaces/" + ns + "/memories";
  }

  private static Map<String, Object> recall(String query, int k, boolean includeSuperseded) {
    Map<String, Object> request = new HashMap<>(Map.of("query", query, "k", k));
    if (includeSuperseded) {
      request.put("includeSuperseded", true);
    }
    return request;
  }

  @Test
  void anUpdateSupersedesItsPrevInEveryModeAndIncludeSupersededBringsItBackMarked() {
    String ns = "supersede";
    String tea = api.remember(ns, Map.of("text", "Bob's favourite drink is green tea"));
    for (int i = 0; i < 6; i++) {
      api.remember(ns, Map.of("text", "Bob mentioned drink number " + i + " at the party"));
    }
    String coffee = api.remember(ns, Map.of("text", "Bob's favourite drink is now black coffee", "prev", tea));

    for (String mode : List.of("hybrid", "keyword", "vector")) {
      Map<String, Object> request = new HashMap<>(recall("What is Bob's favourite drink?", 3, false));
      request.put("mode", mode);
      List<String> current = api.recallCids(ns, request);
      assertThat(current).as(mode).hasSize(3).doesNotContain(tea).contains(coffee);
      request.put("includeSuperseded", true);
      JsonNode all = api.recall(ns, request);
      assertThat(ApiClient.cids(all)).as(mode).contains(tea);
      for (JsonNode hit : all) {
        boolean isTea = hit.path("cid").asText().equals(tea);
        assertThat(hit.path("superseded").asBoolean()).as("%s: %s", mode, hit).isEqualTo(isTea);
        if (isTea) {
          assertThat(hit.path("supersededBy").get(0).asText()).isEqualTo(coffee);
        } else {
          assertThat(hit.has("supersededBy")).as("%s", hit).isFalse();
        }
      }
    }
    // Without includeSuperseded the result carries no marker at all.
    assertThat(api.recall(ns, recall("favourite drink", 3, false)).get(0).has("superseded")).isFalse();

    // Forgetting the update makes the old fact current again.
    assertThat(api.delete(memories(ns) + "/" + coffee).status()).isEqualTo(200);
    assertThat(api.recallCids(ns, recall("What is Bob's favourite drink?", 1, false))).containsExactly(tea);
  }

  @Test
  void twoUpdatesOfOneMemoryStayCurrentUntilOneIsUpdated() {
    String ns = "branches";
    String a = api.remember(ns, Map.of("text", "The launch is planned for March"));
    String b = api.remember(ns, Map.of("text", "The launch moved to April", "prev", a));
    String c = api.remember(ns, Map.of("text", "The launch moved to May", "prev", a));
    assertThat(api.recallCids(ns, recall("When is the launch?", 10, false))).containsExactlyInAnyOrder(b, c);
    String d = api.remember(ns, Map.of("text", "The launch moved to June", "prev", b));
    assertThat(api.recallCids(ns, recall("When is the launch?", 10, false))).containsExactlyInAnyOrder(c, d);
    JsonNode all = api.recall(ns, recall("When is the launch?", 10, true));
    Map<String, JsonNode> byCid = new HashMap<>();
    all.forEach(hit -> byCid.put(hit.path("cid").asText(), hit));
    assertThat(byCid.keySet()).containsExactlyInAnyOrder(a, b, c, d);
    List<String> supersedingA = new ArrayList<>();
    byCid.get(a).path("supersededBy").forEach(n -> supersedingA.add(n.asText()));
    assertThat(supersedingA).containsExactlyInAnyOrder(b, c);
    assertThat(byCid.get(c).path("superseded").asBoolean()).isFalse();
  }

  @Test
  void rememberingWhatALiveMemorySaysAnswersItWith200() {
    String ns = "idempotent";
    Map<String, Object> memory = Map.of("text", "Alice is allergic to peanuts", "metadata", Map.of("source", "chat"),
        "tags", List.of("health"));
    Response first = api.post(memories(ns), memory);
    assertThat(first.status()).as("%s", first).isEqualTo(201);
    assertThat(first.json().path("deduplicated").asBoolean()).isFalse();
    String cid = first.json().path("cid").asText();

    Response again = api.post(memories(ns), memory);
    assertThat(again.status()).as("%s", again).isEqualTo(200);
    assertThat(again.json().path("cid").asText()).isEqualTo(cid);
    assertThat(again.json().path("deduplicated").asBoolean()).isTrue();
    assertThat(api.listAll(ns)).containsExactly(cid);

    // Other metadata, or the client's own ts, or dedup "none": a memory of its own.
    Map<String, Object> otherSource = Map.of("text", "Alice is allergic to peanuts", "metadata", Map.of("source", "email"),
        "tags", List.of("health"));
    assertThat(api.post(memories(ns), otherSource).status()).isEqualTo(201);
    Map<String, Object> withTs = new HashMap<>(memory);
    withTs.put("ts", 1_700_000_000_000L);
    assertThat(api.post(memories(ns), withTs).status()).isEqualTo(201);
    Map<String, Object> none = new HashMap<>(memory);
    none.put("dedup", "none");
    assertThat(api.post(memories(ns), none).status()).isEqualTo(201);
    assertThat(api.listAll(ns)).hasSize(4);

    // A batch: each item alone, the call 201 if it stored any.
    Response batch = api.post(memories(ns), Map.of("memories", List.of(memory, Map.of("text", "Alice runs on Sundays"))));
    assertThat(batch.status()).as("%s", batch).isEqualTo(201);
    assertThat(batch.json().path("cids").get(0).asText()).isEqualTo(cid);
    assertThat(batch.json().path("deduplicated").toString()).isEqualTo("[true,false]");
    Response allKnown = api.post(memories(ns), Map.of("memories", List.of(memory, memory)));
    assertThat(allKnown.status()).as("%s", allKnown).isEqualTo(200);
    assertThat(allKnown.json().path("deduplicated").toString()).isEqualTo("[true,true]");

    // Forgotten, it answers no more: one of the live copies with its content does (the client's
    // ts and dedup "none" stored two), and with those forgotten too a new memory is stored.
    assertThat(api.delete(memories(ns) + "/" + cid).status()).isEqualTo(200);
    Response after = api.post(memories(ns), memory);
    assertThat(after.status()).as("%s", after).isEqualTo(200);
    String copy = after.json().path("cid").asText();
    assertThat(copy).isNotEqualTo(cid);
    assertThat(api.listAll(ns)).contains(copy);
    while (api.post(memories(ns), memory).status() == 200) {
      assertThat(api.delete(memories(ns) + "/" + api.post(memories(ns), memory).json().path("cid").asText()).status())
          .isEqualTo(200);
    }
    assertThat(api.listAll(ns)).as("the other source, Sundays, and the new copy").hasSize(3);
    assertThat(api.get("/metrics").text()).containsPattern("(?m)^mnemo_memories_deduplicated_total [1-9]");
  }

  @Test
  void concurrentIdenticalRemembersLeaveOneMemory() throws Exception {
    String ns = "racing";
    Map<String, Object> memory = Map.of("text", "The office wifi password changed on Monday", "vector",
        TestVectors.random(5));
    int clients = 12;
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<Response>> answers = new ArrayList<>();
      for (int i = 0; i < clients; i++) {
        answers.add(pool.submit(() -> {
          go.await();
          return api.post(memories(ns), memory);
        }));
      }
      go.countDown();
      Set<String> cids = new HashSet<>();
      int created = 0;
      for (Future<Response> f : answers) {
        Response r = f.get();
        assertThat(r.status()).as("%s", r).isIn(200, 201);
        created += r.status() == 201 ? 1 : 0;
        cids.add(r.json().path("cid").asText());
      }
      assertThat(cids).hasSize(1);
      assertThat(created).isEqualTo(1);
      assertThat(api.listAll(ns)).containsExactlyElementsOf(cids);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void nearDuplicatesFoldWhenAskedAndChangedFactsDoNot() throws Exception {
    String ns = "near";
    String cid = api.remember(ns, Map.of("text", "Caroline went to the LGBTQ support group on 7 May 2023",
        "metadata", Map.of("speaker", "Caroline")));
    Map<String, Object> punctuated = Map.of("text", "Caroline went to the LGBTQ support group on 7 May 2023.",
        "metadata", Map.of("speaker", "Caroline"), "dedup", "near");
    Response folded = api.post(memories(ns), punctuated);
    assertThat(folded.status()).as("%s", folded).isEqualTo(200);
    assertThat(folded.json().path("cid").asText()).isEqualTo(cid);
    assertThat(folded.json().path("deduplicated").asBoolean()).isTrue();

    // Exact by default: the same near duplicate is a memory of its own.
    Map<String, Object> byDefault = new HashMap<>(punctuated);
    byDefault.remove("dedup");
    assertThat(api.post(memories(ns), byDefault).status()).isEqualTo(201);

    // Another date (0.973 by the vector alone), other metadata, another fact: not folded.
    for (Map<String, Object> other : List.of(
        Map.of("text", "Caroline went to the LGBTQ support group on 8 May 2023", "metadata", Map.of("speaker", "Caroline")),
        Map.of("text", "Caroline went to the LGBTQ support group on 7 May 2023.", "metadata", Map.of("speaker", "Melanie")),
        Map.of("text", "Caroline went hiking with her family on 7 May 2023", "metadata", Map.of("speaker", "Caroline")))) {
      Map<String, Object> request = new HashMap<>(other);
      request.put("dedup", "near");
      Response r = api.post(memories(ns), request);
      assertThat(r.status()).as("%s for %s", r, other).isEqualTo(201);
    }

    // In a batch, an item folds into an earlier item too.
    Response batch = api.post(memories(ns), Map.of("dedup", "near", "memories", List.of(
        Map.of("text", "Melanie painted a lake sunrise in 2022"),
        Map.of("text", "Melanie painted a lake sunrise in 2022."))));
    assertThat(batch.status()).as("%s", batch).isEqualTo(201);
    assertThat(batch.json().path("deduplicated").toString()).isEqualTo("[false,true]");
    assertThat(batch.json().path("cids").get(1).asText()).isEqualTo(batch.json().path("cids").get(0).asText());
  }

  @Test
  void concurrentNearDuplicatesLeaveOneMemory() throws Exception {
    String ns = "near-racing";
    // The model is uncased and ignores extra spaces: cosine 1 between any two, and no two equal texts.
    List<String> variants = List.of("Bob prefers green tea over coffee", "bob prefers green tea over coffee",
        "Bob  prefers green tea over coffee", "BOB PREFERS GREEN TEA OVER COFFEE");
    ExecutorService pool = Executors.newFixedThreadPool(variants.size());
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<CompletableFuture<Response>> answers = new ArrayList<>();
      for (String text : variants) {
        answers.add(CompletableFuture.supplyAsync(() -> {
          try {
            go.await();
          } catch (InterruptedException e) {
            throw new IllegalStateException(e);
          }
          return api.post(memories(ns), Map.of("text", text, "dedup", "near"));
        }, pool));
      }
      go.countDown();
      Set<String> cids = new HashSet<>();
      for (CompletableFuture<Response> f : answers) {
        Response r = f.get();
        assertThat(r.status()).as("%s", r).isIn(200, 201);
        cids.add(r.json().path("cid").asText());
      }
      assertThat(cids).hasSize(1);
      assertThat(api.listAll(ns)).containsExactlyElementsOf(cids);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void badFieldsAre422() {
    ApiClient.assertError(api.post(memories("bad"), Map.of("text", "x", "dedup", "fuzzy")), 422, "validation_failed");
    ApiClient.assertError(api.post(memories("bad"), Map.of("text", "x", "dedup", true)), 422, "validation_failed");
    ApiClient.assertError(api.post(memories("bad"), Map.of("memories", List.of(Map.of("text", "x", "dedup", "near")))),
        422, "validation_failed");
    ApiClient.assertError(api.post("/v1/namespaces/bad/recall", Map.of("query", "x", "includeSuperseded", "yes")),
        422, "validation_failed");
  }
}
