package dev.mnemo.node.embed;

import static dev.mnemo.node.embed.TestModels.cosine;
import static dev.mnemo.node.embed.TestModels.dot;
import static dev.mnemo.node.embed.TestModels.norm;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class OnnxEmbedderTest {

  @ParameterizedTest
  @EnumSource(OnnxEmbedder.Model.class)
  void vectorsHaveTheModelsDimensionAndUnitLength(OnnxEmbedder.Model model) {
    OnnxEmbedder embedder = TestModels.of(model);
    assertThat(embedder.model()).isEqualTo(model.modelName());
    assertThat(embedder.dimension()).isEqualTo(384);

    List<float[]> passages =
        embedder.embedPassages(List.of("Bob prefers tea.", "The car needs new tires.", "x"));
    assertThat(passages).hasSize(3);
    for (float[] vector : passages) {
      assertThat(vector).hasSize(384);
      assertThat(norm(vector)).isCloseTo(1.0, within(1e-5));
    }
    float[] query = embedder.embedQuery("what does Bob drink?");
    assertThat(query).hasSize(384);
    assertThat(norm(query)).isCloseTo(1.0, within(1e-5));
  }

  @Test
  void modelNamesAreTheQuantizedModels() {
    assertThat(TestModels.bge().model()).isEqualTo("bge-small-en-v1.5-q");
    assertThat(TestModels.miniLm().model()).isEqualTo("all-minilm-l6-v2-q");
    assertThat(OnnxEmbedder.Model.named("bge-small-en-v1.5"))
        .contains(OnnxEmbedder.Model.BGE_SMALL_EN_V15);
    assertThat(OnnxEmbedder.Model.named("all-minilm-l6-v2"))
        .contains(OnnxEmbedder.Model.ALL_MINILM_L6_V2);
    assertThat(OnnxEmbedder.Model.named("bge-small-en-v1.5-q")).isEmpty();
  }

  @ParameterizedTest
  @EnumSource(OnnxEmbedder.Model.class)
  void aQueryIsClosestToTheMemoryThatAnswersIt(OnnxEmbedder.Model model) {
    OnnxEmbedder embedder = TestModels.of(model);
    List<float[]> memories =
        embedder.embedPassages(
            List.of("Bob prefers tea", "the car needs new tires", "Alice is allergic to peanuts"));
    float[] drink = embedder.embedQuery("what does Bob drink?");
    float[] car = embedder.embedQuery("is any maintenance due on the vehicle?");

    assertThat(dot(drink, memories.get(0))).isGreaterThan(dot(drink, memories.get(1)));
    assertThat(dot(drink, memories.get(0))).isGreaterThan(dot(drink, memories.get(2)));
    assertThat(dot(car, memories.get(1))).isGreaterThan(dot(car, memories.get(0)));
    assertThat(dot(car, memories.get(1))).isGreaterThan(dot(car, memories.get(2)));
  }

  @ParameterizedTest
  @EnumSource(OnnxEmbedder.Model.class)
  void aTextsVectorDoesNotDependOnItsBatch(OnnxEmbedder.Model model) {
    OnnxEmbedder embedder = TestModels.of(model);
    String text = "Deploys are frozen every Friday after noon.";
    float[] alone = embedder.embedPassages(List.of(text)).get(0);
    List<float[]> batch =
        embedder.embedPassages(
            List.of("a much longer text that would be padded against " + text, text, "short"));
    assertThat(cosine(alone, batch.get(1))).isGreaterThan(0.9999);
    assertThat(embedder.embedPassages(List.of(text)).get(0)).isEqualTo(alone);
  }

  @Test
  void theBgeQueryPrefixChangesQueriesOnly() {
    OnnxEmbedder plain = TestModels.bge();
    assertThat(plain.usesQueryPrefix()).isFalse();
    try (OnnxEmbedder prefixed = new OnnxEmbedder(OnnxEmbedder.Model.BGE_SMALL_EN_V15, true, 2)) {
      assertThat(prefixed.usesQueryPrefix()).isTrue();
      assertThat(prefixed.model()).isEqualTo(plain.model());
      String text = "what does Bob drink?";
      assertThat(
              cosine(
                  prefixed.embedPassages(List.of(text)).get(0),
                  plain.embedPassages(List.of(text)).get(0)))
          .isGreaterThan(0.9999);
      assertThat(cosine(prefixed.embedQuery(text), plain.embedQuery(text))).isBetween(0.5, 0.999);
      assertThat(prefixed.embedQuery(text))
          .isEqualTo(prefixed.embedPassages(List.of(OnnxEmbedder.BGE_QUERY_PREFIX + text)).get(0));
    }
  }

  @Test
  void miniLmHasNoQueryPrefix() {
    String text = "what does Bob drink?";
    assertThat(TestModels.miniLm().embedQuery(text))
        .isEqualTo(TestModels.miniLm().embedPassages(List.of(text)).get(0));
  }

  @Test
  void aTextLongerThanTheModelWindowIsEmbeddedWhole() {
    String sentence =
        "The quarterly report covers revenue, churn and the hiring plan for the search team. ";
    String text = sentence.repeat(60); // about 1,000 tokens: two windows of 510
    float[] vector = TestModels.miniLm().embedPassages(List.of(text)).get(0);
    assertThat(norm(vector)).isCloseTo(1.0, within(1e-5));
    assertThat(cosine(vector, TestModels.miniLm().embedPassages(List.of(sentence)).get(0)))
        .isGreaterThan(0.8);
  }

  @Test
  void blankTextsAreRejectedByPosition() {
    OnnxEmbedder embedder = TestModels.miniLm();
    assertThatThrownBy(() -> embedder.embedPassages(List.of("fine", "  ")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("text 1 is blank");
    assertThatThrownBy(() -> embedder.embedQuery(""))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("query is blank");
    assertThatThrownBy(() -> embedder.embedPassages(Arrays.asList("fine", null)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(embedder.embedPassages(List.of())).isEmpty();
  }

  @Test
  void closeWaitsForNothingLeftRunningAndThenRefuses() throws Exception {
    Set<Thread> before = embedThreads();
    OnnxEmbedder embedder = new OnnxEmbedder(OnnxEmbedder.Model.ALL_MINILM_L6_V2, false, 2);
    embedder.embedPassages(List.of("one", "two", "three", "four"));
    Set<Thread> mine = embedThreads();
    mine.removeAll(before);
    assertThat(mine).isNotEmpty().allMatch(Thread::isDaemon);

    embedder.close();
    embedder.close();
    for (Thread thread : mine) {
      thread.join(5_000);
      assertThat(thread.isAlive()).as(thread.getName()).isFalse();
    }
    assertThatThrownBy(() -> embedder.embedQuery("anything"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed");
  }

  @Test
  void normalizeScalesToUnitLengthAndRejectsZero() {
    float[] v = {3, 4};
    assertThat(OnnxEmbedder.normalize(v, 2)).containsExactly(0.6f, 0.8f);
    assertThatThrownBy(() -> OnnxEmbedder.normalize(new float[2], 2))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> OnnxEmbedder.normalize(new float[3], 2))
        .hasMessageContaining("3 dimensions, not 2");
  }

  private static Set<Thread> embedThreads() {
    Set<Thread> threads = new HashSet<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().startsWith("mnemo-embed-")) {
        threads.add(t);
      }
    }
    return threads;
  }
}
