package dev.mnemo.node.auth;

import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.codec.DagCbor;
import dev.mnemo.store.identity.AgentKey;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * An agent's key in a file of its own, in the format of the node's {@code node.key}
 * ({@code {v: 1, type: "ed25519", seed, did}}, DAG-CBOR, owner-only): what an agent that keeps its
 * own key holds, what {@code mnemo delegate} signs with, and what {@code ownerKeyFile} names so
 * several nodes host the same owner.
 */
public final class AgentKeyFile {
  private static final String FORMAT = "agent key file";
  private static final long VERSION = 1;

  private AgentKeyFile() {}

  public static AgentKey read(Path file) throws IOException {
    Map<String, Object> map;
    try {
      map = DagCbor.decodeMap(Files.readAllBytes(file));
    } catch (InvalidFormatException e) {
      throw new InvalidFormatException(FORMAT, file + " is corrupt: " + e.getMessage(), e);
    }
    if (!Long.valueOf(VERSION).equals(map.get("v"))) {
      throw new InvalidFormatException(FORMAT, file + " has unsupported version " + map.get("v"));
    }
    if (!"ed25519".equals(map.get("type")) || !(map.get("seed") instanceof byte[] seed) || seed.length != 32) {
      throw new InvalidFormatException(FORMAT, file + " does not hold an Ed25519 seed");
    }
    AgentKey key = AgentKey.fromSeed(seed);
    if (!key.did().toString().equals(map.get("did"))) {
      // A flipped bit in the seed would otherwise quietly become another identity.
      throw new InvalidFormatException(FORMAT, file + ": the seed does not match the recorded did " + map.get("did"));
    }
    return key;
  }

  /** Writes {@code key} to a new file (owner-only); refuses to overwrite one. */
  public static void write(Path file, AgentKey key) throws IOException {
    if (Files.exists(file)) {
      throw new java.nio.file.FileAlreadyExistsException(file.toString());
    }
    PrivateFiles.writeAtomically(file, DagCbor.encode(Map.of(
        "v", VERSION, "type", "ed25519", "seed", key.seed(), "did", key.did().toString())));
  }
}
