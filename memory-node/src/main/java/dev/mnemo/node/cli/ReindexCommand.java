package dev.mnemo.node.cli;

import dev.mnemo.index.IndexConfig;
import dev.mnemo.index.LogIndexer;
import dev.mnemo.index.LuceneMemoryIndex;
import dev.mnemo.node.MemoryNode;
import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.rocks.RocksStorage;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.rocksdb.RocksIterator;
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
    // A bad setting is the first thing to say (exit 2), before anything is looked at or opened.
    dev.mnemo.node.config.ConfigLoader.load(config, System.getenv(), java.util.Map.of("data", data.toString()));
    if (!OfflineStore.exists(data)) {
      System.err.println(OfflineStore.noDataDirectory(data));
      return 2;
    }
    // The store first: its lock says whether a node holds the directory, before the index is read.
    try (OfflineStore offline = OfflineStore.open(config, data)) {
      return rebuild(offline, NodeIndexConfig.load(config, data, dimension));
    }
  }

  private int rebuild(OfflineStore offline, IndexConfig indexConfig) throws Exception {
    try (LuceneMemoryIndex index = LuceneMemoryIndex.open(MemoryNode.indexDir(data), indexConfig);
         LogIndexer indexer = new LogIndexer(offline.store().log(), index, 60_000);
         dev.mnemo.node.embed.Embedder embedder = NodeIndexConfig.embedder(config, data)) {
      indexer.useContextEmbedder(NodeIndexConfig.contextEmbedder(config, data, embedder));
      // Memories, not log entries: one entry may add a thousand memories, or none (a forget, a
      // grant), so a bar of entries moved in jumps and ended at a count no user knows.
      long memories = liveMemories(offline.store());
      ProgressBar bar = new ProgressBar("reindex", "memories");
      bar.start(memories);
      long applied = indexer.rebuild((indexed, entries, entriesTotal) -> bar.update(indexed, memories));
      bar.finish();
      System.err.printf("reindexed %d log entries into %d memories%n", applied, index.size());
    }
    return 0;
  }

  /** The live memories of every namespace: what a rebuild indexes (a key scan, no block read). */
  private static long liveMemories(MnemoStore store) {
    long count = 0;
    try (RocksIterator it = store.storage().iterator(RocksStorage.Family.MEMORIES)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        count++;
      }
    }
    return count;
  }
}
