package dev.mnemo.node.auth;

import dev.mnemo.store.identity.AgentKey;
import dev.mnemo.store.identity.NodeKeyFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * An agent's key in a file of its own, in the format of the node's {@code node.key}
 * ({@code {v: 1, type: "ed25519", seed, did}}, DAG-CBOR, owner-only): what an agent that keeps its
 * own key holds, what {@code mnemo delegate} signs with, and what {@code ownerKeyFile} names so
 * several nodes host the same owner.
 */
public final class AgentKeyFile {
  private AgentKeyFile() {}

  public static AgentKey read(Path file) throws IOException {
    return NodeKeyFile.read(file);
  }

  /** Writes {@code key} to a new file (owner-only); refuses to overwrite one. */
  public static void write(Path file, AgentKey key) throws IOException {
    if (Files.exists(file)) {
      throw new java.nio.file.FileAlreadyExistsException(file.toString());
    }
    NodeKeyFile.write(file, key);
  }
}
