package dev.mnemo.node.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mnemo.node.MemoryNode;
import dev.mnemo.node.TestVectors;
import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.model.Embedding;
import dev.mnemo.store.model.Memory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.lucene.codecs.lucene104.Lucene104HnswScalarQuantizedVectorsFormat;
import org.apache.lucene.codecs.lucene99.Lucene99HnswVectorsFormat;
import org.apache.lucene.codecs.perfield.PerFieldKnnVectorsFormat;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.FieldInfo;
import org.apache.lucene.store.FSDirectory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mnemo reindex} rebuilds the index with the node's own index settings, not the defaults. */
class ReindexCommandTest {
  @TempDir Path dir;

  @Test
  void rebuildsWithTheVectorEncodingOfTheNodesConfig() throws Exception {
    Path data = dir.resolve("data");
    List<Memory> memories = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      memories.add(new Memory("ns", "memory " + i, Map.of(), List.of(), 1_000 + i,
          new Embedding("test", TestVectors.random(i)), null));
    }
    try (MnemoStore store = MnemoStore.open(data)) {
      store.log().append("ns", memories);
    }

    assertThat(Main.run("reindex", "--data", data.toString())).isZero();
    assertThat(vectorFormat(data)).isEqualTo(new Lucene99HnswVectorsFormat().getName());

    Path config = dir.resolve("mnemo.json");
    Files.writeString(config, "{\"vectorEncoding\": \"int7\"}");
    assertThat(Main.run("reindex", "--data", data.toString(), "--config", config.toString())).isZero();
    assertThat(vectorFormat(data)).isEqualTo(new Lucene104HnswScalarQuantizedVectorsFormat().getName());
  }

  @Test
  void aBadConfigIsAClearErrorAndLeavesTheIndexAlone() throws Exception {
    Path config = dir.resolve("bad.json");
    Files.writeString(config, "{\"vectorEncoding\": \"int4\"}");
    assertThat(Main.run("reindex", "--data", dir.resolve("data").toString(), "--config", config.toString())).isEqualTo(2);
    assertThat(Files.exists(MemoryNode.indexDir(dir.resolve("data")))).isFalse();
  }

  /**
   * Run without the node's --config, an offline command took the default dimension, and, the index
   * being of another, rebuilt it at that one: every vector of the node's became keyword-only.
   */
  @Test
  void withoutTheNodesConfigAnIndexOfAnotherDimensionIsRefusedNotRebuilt() throws Exception {
    Path data = dir.resolve("data");
    List<Memory> memories = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      float[] v = new float[8];
      v[i % 8] = 1;
      memories.add(new Memory("ns", "memory " + i, Map.of(), List.of(), 1_000 + i, new Embedding("test", v), null));
    }
    try (MnemoStore store = MnemoStore.open(data)) {
      store.log().append("ns", memories);
    }
    Path config = dir.resolve("mnemo.json");
    Files.writeString(config, "{\"embedder\": \"none\", \"dimension\": 8}");
    assertThat(Main.run("reindex", "--data", data.toString(), "--config", config.toString())).isZero();

    assertThat(Main.run("reindex", "--data", data.toString())).as("the default 384 against an index of 8").isEqualTo(2);
    assertThat(dev.mnemo.index.LuceneMemoryIndex.committedDimension(MemoryNode.indexDir(data))).hasValue(8);
    assertThat(Main.run("reindex", "--data", data.toString(), "--dimension", "8")).isZero();
  }

  /** The vector format every segment's vector field was written with (one, or the test fails). */
  private static String vectorFormat(Path data) throws Exception {
    try (var directory = FSDirectory.open(MemoryNode.indexDir(data)); DirectoryReader reader = DirectoryReader.open(directory)) {
      assertThat(reader.numDocs()).isEqualTo(200);
      List<String> formats = reader.leaves().stream()
          .map(leaf -> leaf.reader().getFieldInfos().fieldInfo("vec"))
          .map((FieldInfo field) -> field.getAttribute(PerFieldKnnVectorsFormat.PER_FIELD_FORMAT_KEY))
          .distinct().toList();
      assertThat(formats).hasSize(1);
      return formats.get(0);
    }
  }
}
