package dev.mnemo.store.identity;

import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.codec.DagCbor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The node's own signing key, created on first start and kept in the data directory as a small
 * versioned DAG-CBOR file {@code {v: 1, type: "ed25519", seed: bytes, did: "did:key:…"}}, readable
 * by its owner only. The did is stored too so a damaged seed is caught rather than silently
 * turning the node into a different identity.
 */
public final class NodeKeyFile {
  public static final String FILE_NAME = "node.key";
  private static final String FORMAT = "key file";
  private static final long VERSION = 1;

  private NodeKeyFile() {}

  public static AgentKey loadOrCreate(Path dataDir) throws IOException {
    Path file = dataDir.resolve(FILE_NAME);
    if (Files.exists(file)) {
      return read(file);
    }
    PrivateFiles.createDirectories(dataDir);
    AgentKey key = AgentKey.generate();
    write(file, key);
    return key;
  }

  /**
   * Writes {@code key} to {@code file} in this format, owner-only from the first byte, through a
   * temporary file and a rename, so a crash leaves the old file or the whole new one. The same
   * format holds an agent's own key ({@code mnemo agent keygen}, {@code ownerKeyFile}).
   */
  public static void write(Path file, AgentKey key) throws IOException {
    PrivateFiles.writeAtomically(file, DagCbor.encode(Map.of(
        "v", VERSION, "type", "ed25519", "seed", key.seed(), "did", key.did().toString())));
  }

  /** Reads a key file, refusing a damaged one (a seed that does not match its recorded did) loudly. */
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
      throw new InvalidFormatException(FORMAT, file + ": seed does not match the recorded did " + map.get("did"));
    }
    return key;
  }
}
