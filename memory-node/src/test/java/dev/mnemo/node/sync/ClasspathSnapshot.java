package dev.mnemo.node.sync;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The test's classpath for node processes, with its class directories (the modules'
 * {@code target/classes}) copied once to a temporary directory: a node started or restarted late
 * in a run loads the same classes as the first, even if a build recompiles the modules meanwhile.
 * Jars are used where they are.
 */
final class ClasspathSnapshot {
  private static String snapshot;

  private ClasspathSnapshot() {}

  static synchronized String get() {
    if (snapshot == null) {
      snapshot = take();
    }
    return snapshot;
  }

  private static String take() {
    try {
      Path root = Files.createTempDirectory("mnemo-node-classpath-");
      Runtime.getRuntime().addShutdownHook(new Thread(() -> delete(root)));
      List<String> entries = new ArrayList<>();
      int i = 0;
      for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
        Path path = Path.of(entry);
        if (Files.isDirectory(path)) {
          Path copy = root.resolve(Integer.toString(i++));
          copyTree(path, copy);
          entries.add(copy.toString());
        } else {
          entries.add(entry);
        }
      }
      return String.join(File.pathSeparator, entries);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot snapshot the classpath", e);
    }
  }

  private static void copyTree(Path from, Path to) throws IOException {
    Files.walkFileTree(from, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
        Files.createDirectories(to.resolve(from.relativize(dir).toString()));
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        Files.copy(file, to.resolve(from.relativize(file).toString()), StandardCopyOption.REPLACE_EXISTING);
        return FileVisitResult.CONTINUE;
      }
    });
  }

  private static void delete(Path root) {
    try (Stream<Path> walk = Files.walk(root)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // best effort at exit
    }
  }
}
