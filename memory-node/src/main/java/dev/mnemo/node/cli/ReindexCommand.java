package dev.mnemo.node.cli;

import dev.mnemo.index.IndexConfig;
import dev.mnemo.index.LogIndexer;
import dev.mnemo.index.LuceneMemoryIndex;
import dev.mnemo.node.MemoryNode;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code mnemo reindex}: rebuilds the recall index from the store, with a progress bar. */
@Command(name = "reindex", mixinStandardHelpOptions = true,
    description = "Rebuild the recall index from the namespace logs (the node must be stopped).")
final class ReindexCommand implements Callable<Integer> {
  @Option(names = "--data", required = true, description = "data directory") Path data;
  @Option(names = "--config", description = "the node's JSON config file, for its block store and index settings") Path config;
  @Option(names = "--dimension", description = "vector dimension (default: the node's, 384)") Integer dimension;

  @Override
  public Integer call() throws Exception {
    IndexConfig indexConfig = NodeIndexConfig.load(config, data, dimension);
    try (OfflineStore offline = OfflineStore.open(config, data);
         LuceneMemoryIndex index = LuceneMemoryIndex.open(MemoryNode.indexDir(data), indexConfig);
         LogIndexer indexer = new LogIndexer(offline.store().log(), index, 60_000);
         dev.mnemo.node.embed.Embedder embedder = NodeIndexConfig.embedder(config, data)) {
      indexer.useContextEmbedder(NodeIndexConfig.contextEmbedder(config, data, embedder));
      ProgressBar bar = new ProgressBar("reindex", "entries");
      long applied = indexer.rebuild(bar::update);
      bar.finish();
      System.err.printf("reindexed %d log entries into %d memories%n", applied, index.size());
    }
    return 0;
  }
}
