package dev.mnemo.node.cli;

import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.car.NamespaceCar;
import dev.mnemo.store.model.Namespace;
import java.io.BufferedOutputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code mnemo export}: writes a namespace as a CAR v1 file any IPFS tool can read. */
@Command(name = "export", mixinStandardHelpOptions = true, description = "Export a namespace to a CAR v1 file.")
final class ExportCommand implements Callable<Integer> {
  @Option(names = "--data", required = true, description = "data directory") Path data;
  @Option(names = "--ns", required = true, description = "namespace") String ns;
  @Option(names = "--out", required = true, description = "CAR file to write") Path out;
  @Option(names = "--config", description = "the node's JSON config file, for its block store") Path config;

  @Override
  public Integer call() throws Exception {
    if (!Namespace.isValid(ns)) {
      System.err.println("mnemo: invalid namespace name '" + ns + "'");
      return 2;
    }
    if (!OfflineStore.exists(data)) {
      System.err.println(OfflineStore.noDataDirectory(data));
      return 2;
    }
    Path tmp = out.resolveSibling(out.getFileName() + ".tmp");
    try (OfflineStore offline = OfflineStore.open(config, data)) {
      MnemoStore store = offline.store();
      if (store.log().heads(ns).isEmpty()) {
        // A CAR of no entries has no root: go-car and `ipfs dag import` refuse it, and the HTTP
        // export answers 404. Refused before any file is opened, so none is left behind.
        System.err.println("mnemo: namespace '" + ns + "' has no entries in " + data + ": nothing to export");
        return 1;
      }
      NamespaceCar.Exported exported;
      try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(tmp))) {
        exported = NamespaceCar.export(store.log(), ns, os);
      }
      Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      System.err.printf("exported %s: %d entries, %d memories, roots %s -> %s%n", ns, exported.entries(),
          exported.memories(), exported.roots(), out);
    } finally {
      Files.deleteIfExists(tmp);
    }
    return 0;
  }
}
