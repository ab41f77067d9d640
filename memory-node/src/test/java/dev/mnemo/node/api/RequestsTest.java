package dev.mnemo.node.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mnemo.index.RecallMode;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * Which recalls take the one-task path on the search pool: only a body whose text must be embedded
 * goes to the worker pool first. A wrong answer either way is not visible in a reply (the slow
 * path gives the same result), so it is checked here.
 */
class RequestsTest {
  private final Requests requests = new Requests(Limits.defaults(), 3);

  private boolean needsEmbedding(String json) {
    return requests.recallNeedsEmbedding(requests.parseObject(json.getBytes(StandardCharsets.UTF_8)));
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

  @Test
  void aBodyThatNeedsNoEmbeddingParsesWithoutAnEmbedder() {
    var body = requests.parseObject("{\"query\":\"tea\",\"mode\":\"keyword\",\"k\":3}".getBytes(StandardCharsets.UTF_8));
    assertThat(requests.recall("ns", body, Requests.NO_EMBEDDER).mode()).isEqualTo(RecallMode.KEYWORD);
    var needs = requests.parseObject("{\"query\":\"tea\"}".getBytes(StandardCharsets.UTF_8));
    assertThatThrownBy(() -> requests.recall("ns", needs, Requests.NO_EMBEDDER)).isInstanceOf(IllegalStateException.class);
  }
}
