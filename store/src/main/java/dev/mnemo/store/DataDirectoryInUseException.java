package dev.mnemo.store;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Another process (a running node, or an offline command such as {@code mnemo reindex}) holds the
 * data directory's store lock. Not a fault of the data: the command line says so in one line.
 */
public final class DataDirectoryInUseException extends IOException {
  private final Path dataDir;

  public DataDirectoryInUseException(Path dataDir, Throwable cause) {
    super("the data directory " + dataDir + " is in use by another Mnemo process", cause);
    this.dataDir = dataDir;
  }

  public Path dataDir() {
    return dataDir;
  }
}
