package dev.mnemo.node.cli;

import dev.mnemo.index.IndexConfig;
import dev.mnemo.index.LogIndexer;
import dev.mnemo.index.LuceneMemoryIndex;
import dev.mnemo.node.MemoryNode;
import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.car.NamespaceCar;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code mnemo import}: verifies and applies a CAR v1 file, then brings the index up to date. */
@Command(name = "import", mixinStandardHelpOptions = true,
    description = "Import a CAR v1 file: every block hash-checked, every entry's signature verified, all or nothing.")
final class ImportCommand implements Callable<Integer> {
  @Option(names = "--data", required = true, description = "data directory") Path data;
  @Option(names = "--in", required = true, description = "CAR file to read") Path in;
  @Option(names = "--config", description = "the node's JSON config file, for its block store and index settings") Path config;
  @Option(names = "--create", description = "make a new data directory at --data if there is none") boolean create;

  @Override
  public Integer call() throws Exception {
    if (!Files.isReadable(in)) {
      System.err.println("mnemo: cannot read " + in);
      return 2;
    }
    // A bad setting is the first thing to say (exit 2), before anything is looked at or opened.
    dev.mnemo.node.config.ConfigLoader.load(config, System.getenv(), java.util.Map.of("data", data.toString()));
    if (!create && !OfflineStore.exists(data)) {
      // A mistyped --data once made a new store and imported into it, silently.
      System.err.println(OfflineStore.noDataDirectory(data) + ", or pass --create to make a new one");
      return 2;
    }
    // The store first: its lock says whether a node holds the directory, before the index is read.
    try (OfflineStore offline = OfflineStore.open(config, data)) {
      IndexConfig indexConfig = NodeIndexConfig.load(config, data, null);
      MnemoStore store = offline.store();
      NamespaceCar.Imported imported;
      try (InputStream is = new BufferedInputStream(Files.newInputStream(in))) {
        imported = NamespaceCar.importCar(store.log(), is);
      } catch (IOException e) {
        System.err.println("mnemo: import refused, nothing stored: " + e.getMessage());
        return 1;
      }
      try (LuceneMemoryIndex index = LuceneMemoryIndex.open(MemoryNode.indexDir(data), indexConfig);
           LogIndexer indexer = new LogIndexer(store.log(), index, 60_000);
           dev.mnemo.node.embed.Embedder embedder = NodeIndexConfig.embedder(config, data)) {
        indexer.useContextEmbedder(NodeIndexConfig.contextEmbedder(config, data, embedder));
        indexer.catchUp(null);
      }
      System.err.printf("imported %d blocks, %d new entries, roots %s%n", imported.blocks(), imported.entriesApplied(), imported.roots());
    }
    return 0;
  }
}
