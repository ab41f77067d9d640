package dev.mnemo.node.cli;

import dev.mnemo.index.IndexConfig;
import dev.mnemo.index.LuceneMemoryIndex;
import dev.mnemo.node.MemoryNode;
import dev.mnemo.node.config.ConfigLoader;
import dev.mnemo.node.config.NodeConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * The index settings a node with this config file and environment runs with, for the offline
 * commands that write its index: an index rebuilt with other settings (say float32 where the
 * node quantizes to int7) would hold segments of two kinds after the node next writes.
 */
final class NodeIndexConfig {
  private NodeIndexConfig() {}

  /**
   * @param dimension an explicit vector dimension, or null for the node's. Without one, an index
   *     of another dimension than the config's is refused: opened, it would be rebuilt at the
   *     config's (the usual cause is a command run without the node's --config).
   */
  static IndexConfig load(Path configFile, Path data, Integer dimension) throws IOException, ConfigLoader.ConfigException {
    NodeConfig node = ConfigLoader.load(configFile, System.getenv(), Map.of("data", data.toString()));
    IndexConfig config = node.indexConfig();
    if (dimension != null) {
      return new IndexConfig(dimension, config.encoding(), config.hnswM(), config.hnswBeamWidth(), config.searchDepth(),
          config.graphBuild());
    }
    java.util.OptionalInt committed = LuceneMemoryIndex.committedDimension(MemoryNode.indexDir(data));
    if (committed.isPresent() && committed.getAsInt() != config.dimension()) {
      throw new ConfigLoader.ConfigException("the index holds " + committed.getAsInt() + "-dimension vectors, the settings"
          + " give " + config.dimension() + ": pass the node's --config (or --dimension to rebuild it with another)");
    }
    return config;
  }

  /**
   * The node's text embedder, for the memories' context vectors an offline rebuild must
   * reproduce (see ConversationContext); none when the node embeds nothing.
   */
  static dev.mnemo.node.embed.Embedder embedder(Path configFile, Path data) throws ConfigLoader.ConfigException {
    NodeConfig node = ConfigLoader.load(configFile, System.getenv(), Map.of("data", data.toString()));
    return dev.mnemo.node.embed.Embedders.create(node.embedder(), node.dimension());
  }

  static dev.mnemo.index.ContextEmbedder contextEmbedder(Path configFile, Path data, dev.mnemo.node.embed.Embedder embedder)
      throws ConfigLoader.ConfigException {
    NodeConfig node = ConfigLoader.load(configFile, System.getenv(), Map.of("data", data.toString()));
    return dev.mnemo.node.embed.ContextEmbedders.of(embedder, node.fusion().context());
  }
}
