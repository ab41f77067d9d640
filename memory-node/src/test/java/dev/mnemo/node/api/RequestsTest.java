package dev.mnemo.node.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mnemo.index.RecallMode;
import dev.mnemo.node.RecallRequest;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * Which recalls take the one-task path on the search pool: only a body whose text must be embedded
 * goes to the worker pool first. A wrong answer either way is not visible in a reply (the slow
 * path gives the same result), so it is checked here.
 */
class RequestsTest {
  private final Requests requests = new Requests(Limits.defaults(), 3);

  private RecallRequest recall(String json) {
    return requests.recall("ns", requests.parseObject(json.getBytes(StandardCharsets.UTF_8)));
  }

  private boolean needsEmbedding(String json) {
    return recall(json).needsEmbedding();
  }

  @Test
  void onlyTextWithoutAVectorOutsideKeywordModeNeedsAnEmbedding() {
    assertThat(needsEmbedding("{\"query\":\"what does Bob drink?\"}")).isTrue();
    assertThat(needsEmbedding("{\"query\":\"tea\",\"mode\":\"vector\"}")).isTrue();
    assertThat(needsEmbedding("{\"query\":\"tea\",\"mode\":\"hybrid\"}")).isTrue();

    assertThat(needsEmbedding("{\"query\":\"tea\",\"mode\":\"keyword\"}")).isFalse();
    assertThat(needsEmbedding("{\"query\":\"tea\",\"mode\":\"KEYWORD\"}")).isFalse();
    assertThat(needsEmbedding("{\"query\":\"tea\",\"vector\":[1,0,0]}")).isFalse();
    assertThat(needsEmbedding("{\"query\":\"tea\",\"vector\":[1,0,0],\"mode\":\"hybrid\"}")).isFalse();
    assertThat(needsEmbedding("{\"vector\":[1,0,0]}")).isFalse();
  }

  /** Validation is pure: a body whose text is to be embedded parses to a request without a vector. */
  @Test
  void parsingARecallNeverEmbeds() {
    assertThat(recall("{\"query\":\"tea\",\"mode\":\"keyword\",\"k\":3}").mode()).isEqualTo(RecallMode.KEYWORD);
    RecallRequest needs = recall("{\"query\":\"tea\"}");
    assertThat(needs.vector()).isNull();
    assertThat(needs.mode()).isEqualTo(RecallMode.HYBRID);
    assertThat(needs.withVector(new float[] {1, 0, 0}).needsEmbedding()).isFalse();
  }
}
