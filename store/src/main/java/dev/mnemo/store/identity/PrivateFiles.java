package dev.mnemo.store.identity;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/** Secrets on disk: owner-only from the first byte, replaced atomically, durable when this returns. */
public final class PrivateFiles {
  private PrivateFiles() {}

  /**
   * Writes {@code bytes} to a temporary file created mode 0600, syncs it, and renames it over
   * {@code file}: a crash leaves the old file or the new one, never half of either, and no other
   * user can read the secret even for a moment.
   */
  public static void writeAtomically(Path file, byte[] bytes) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    createDirectories(dir);
    Path tmp = dir.resolve(file.getFileName() + ".tmp");
    Files.deleteIfExists(tmp);
    try {
      Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } catch (UnsupportedOperationException e) {
      // Not a POSIX file system: the directory's own permissions are all there is.
      Files.createFile(tmp);
    }
    try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
      ByteBuffer buffer = ByteBuffer.wrap(bytes);
      while (buffer.hasRemaining()) {
        channel.write(buffer);
      }
      channel.force(true);
    }
    try {
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
    }
    syncDirectory(dir);
  }

  /**
   * Creates {@code dir} and its missing parents owner-only (0700), as a node's data directory and
   * the directories in it are: they hold memories, keys and tokens. A directory that exists is
   * left as it is. Returns whether {@code dir} had to be created.
   */
  public static boolean createDirectories(Path dir) throws IOException {
    if (Files.isDirectory(dir)) {
      return false;
    }
    try {
      Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    } catch (UnsupportedOperationException e) {
      // Not a POSIX file system: its own access rules apply.
      Files.createDirectories(dir);
    }
    return true;
  }

  /**
   * The POSIX permissions of {@code dir} when a user other than its owner may enter it (list it,
   * or read the files in it whose own mode lets them), else empty; empty as well where the file
   * system has no POSIX permissions.
   */
  public static java.util.Optional<String> sharedPermissions(Path dir) {
    try {
      java.util.Set<java.nio.file.attribute.PosixFilePermission> mode = Files.getPosixFilePermissions(dir);
      java.util.Set<java.nio.file.attribute.PosixFilePermission> shared = java.util.EnumSet.of(
          java.nio.file.attribute.PosixFilePermission.GROUP_READ, java.nio.file.attribute.PosixFilePermission.GROUP_EXECUTE,
          java.nio.file.attribute.PosixFilePermission.OTHERS_READ, java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE);
      shared.retainAll(mode);
      return shared.isEmpty() ? java.util.Optional.empty() : java.util.Optional.of(PosixFilePermissions.toString(mode));
    } catch (IOException | UnsupportedOperationException e) {
      return java.util.Optional.empty();
    }
  }

  /** Makes the rename itself durable; a file system that cannot open a directory has nothing to sync. */
  private static void syncDirectory(Path dir) {
    try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
      channel.force(true);
    } catch (IOException | UnsupportedOperationException e) {
      // best effort: the rename is atomic either way
    }
  }
}
