package dev.mnemo.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node refuses to start on memories another model embedded (their vectors and its query
 * vectors would not compare), and says which embedder to start with; the embedder that made
 * them, and a node with no embedder, start as before.
 */
class EmbedderModelGuardTest {
  @TempDir Path dir;

  @Test
  void aNodeStartedWithAnotherModelThanItsMemoriesRefusesToStartAndNamesTheOne() {
    try (TestNode bge = TestNode.start(dir, TestNode.BGE)) {
      bge.api().rememberAll("notes", List.of(Map.of("text", "Bob prefers green tea")));
    }
    assertThatThrownBy(() -> TestNode.start(dir, "e5-small-v2"))
        .hasMessageContaining("embedded with bge-small-en-v1.5-q")
        .hasMessageContaining("--embedder bge-small-en-v1.5");
    try (TestNode again = TestNode.start(dir, TestNode.BGE)) {
      assertThat(again.api().recall("notes", Map.of("query", "what does Bob drink?", "k", 1))).hasSize(1);
    }
    try (TestNode none = TestNode.start(dir, TestNode.NONE)) {
      assertThat(none.node().config().embedder()).isEqualTo("none");
    }
  }
}
