package dev.mnemo.node.embed;

import static dev.mnemo.node.embed.TestModels.dot;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class EmbeddersTest {

  @Test
  void theDefaultIsE5BehindACacheAndABatcher() {
    assertThat(Embedders.DEFAULT).isEqualTo("e5-small-v2");
    assertThat(Embedders.names()).containsExactly("e5-small-v2", "bge-small-en-v1.5", "all-minilm-l6-v2", "none");
    Embedder embedder = Embedders.create(Embedders.DEFAULT, 384);
    try {
      assertThat(embedder).isInstanceOf(CachingEmbedder.class);
      assertThat(embedder.model()).isEqualTo("e5-small-v2-q");
      assertThat(embedder.dimension()).isEqualTo(384);
      List<float[]> memories =
          embedder.embedPassages(List.of("Bob prefers tea", "the car needs new tires"));
      float[] query = embedder.embedQuery("what does Bob drink?");
      assertThat(dot(query, memories.get(0))).isGreaterThan(dot(query, memories.get(1)));
    } finally {
      embedder.close();
    }
    assertThatThrownBy(() -> embedder.embedQuery("after close"))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void noneRefusesClearlyWithTheConfiguredDimension() {
    Embedder none = Embedders.create("none", 768);
    assertThat(none.dimension()).isEqualTo(768);
    assertThat(none.model()).isEqualTo("none");
    assertThatThrownBy(() -> none.embedPassages(List.of("Bob prefers tea")))
        .isInstanceOf(EmbedderUnavailableException.class)
        .hasMessage("this node has no embedder: send vectors (768 dimensions)");
    assertThatThrownBy(() -> none.embedQuery("what does Bob drink?"))
        .isInstanceOfSatisfying(
            EmbedderUnavailableException.class, e -> assertThat(e.dimension()).isEqualTo(768))
        .hasMessageContaining("this node has no embedder: send vectors");
    assertThatThrownBy(() -> none.embedQueries(List.of("q")))
        .isInstanceOf(EmbedderUnavailableException.class);
    none.close();
  }

  @Test
  void badConfigurationFailsAtStartupWithTheChoices() {
    assertThatThrownBy(() -> Embedders.create("none", 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("dimension");
    assertThatThrownBy(() -> Embedders.create("bge-large", 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unknown embedder 'bge-large'")
        .hasMessageContaining("all-minilm-l6-v2");
    assertThatThrownBy(() -> Embedders.create("all-minilm-l6-v2", 768))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("384")
        .hasMessageContaining("768");
  }
}
