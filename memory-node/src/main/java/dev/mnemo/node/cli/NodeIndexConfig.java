package dev.mnemo.node.cli;

import dev.mnemo.index.IndexConfig;
import dev.mnemo.node.config.ConfigLoader;
import dev.mnemo.node.config.NodeConfig;
import java.nio.file.Path;
import java.util.Map;

/**
 * The index settings a node with this config file and environment runs with, for the offline
 * commands that write its index: an index rebuilt with other settings (say float32 where the
 * node quantizes to int7) would hold segments of two kinds after the node next writes.
 */
final class NodeIndexConfig {
  private NodeIndexConfig() {}

  /** @param dimension an explicit vector dimension, or null for the node's */
  static IndexConfig load(Path configFile, Path data, Integer dimension) throws ConfigLoader.ConfigException {
    NodeConfig node = ConfigLoader.load(configFile, System.getenv(), Map.of("data", data.toString()));
    IndexConfig config = node.indexConfig();
    return dimension == null ? config : new IndexConfig(dimension, config.encoding(), config.hnswM(),
        config.hnswBeamWidth(), config.searchDepth(), config.graphBuild());
  }
}
