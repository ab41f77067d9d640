package dev.mnemo.node.api;

import static dev.mnemo.node.ApiClient.CAR_TYPE;
import static dev.mnemo.node.ApiClient.JSON_TYPE;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mnemo.node.ApiClient;
import dev.mnemo.node.ApiClient.Response;
import dev.mnemo.node.TestNode;
import dev.mnemo.node.TestVectors;
import dev.mnemo.node.auth.AgentKeyFile;
import dev.mnemo.node.ipfs.IpfsNode;
import dev.mnemo.store.block.Block;
import dev.mnemo.store.car.CarWriter;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.codec.DagCbor;
import dev.mnemo.store.identity.AgentKey;
import dev.mnemo.store.model.Embedding;
import dev.mnemo.store.model.LogEntry;
import dev.mnemo.store.model.Memory;
import dev.mnemo.store.model.Op;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A JavaScript client computes a memory's CID from the request it sent, with the real IPLD
 * libraries (@ipld/dag-cbor, multiformats from {@code tools/ipfs-node}) and the documented block
 * layout ({@code tools/ipfs-node/memory-cid.mjs}, README "Computing a memory's CID"), and gets
 * the CID the node answered; the same libraries decode and re-encode the node's block to the same
 * CID. That holds for whole numbers written as {@code 5.0} and for tags whose code point order is
 * not Java's UTF-16 order. Blocks with tags in either order move between nodes by CAR.
 */
class MemoryCidInteropTest {
  private static final String REPLACEMENT = "\uFFFD";
  private static final String GRINNING = "\uD83D\uDE00";
  private static final long TS = 1_700_000_000_000L;

  @TempDir Path dirA;
  @TempDir Path dirB;
  @TempDir Path keys;

  @Test
  void aJavaScriptClientComputesTheCidTheNodeAnswers() throws Exception {
    try (TestNode node = TestNode.start(dirA, TestNode.NONE)) {
      ApiClient api = node.api();
      String vector = ApiClient.JSON.valueToTree(TestVectors.random(1)).toString();
      // Written by hand: the number literals are the point (5.0, 1e3 and -0.0 are whole numbers).
      String body = "{\"memories\": ["
          + "{\"text\": \"integral floats\", \"ts\": " + TS + ", \"vector\": " + vector + ", \"metadata\": {"
          + "\"rating\": 5.0, \"thousand\": 1e3, \"negativeZero\": -0.0, \"tenth\": 0.1, \"huge\": 1e300, \"half\": -2.5,"
          + " \"count\": 7, \"big\": 9007199254740991, \"name\": \"caf\u00e9\", \"pinned\": true},"
          + " \"tags\": [\"" + REPLACEMENT + "\", \"" + GRINNING + "\", \"b\", \"a\", \"" + GRINNING + "\", \"\uE000\"]},"
          + "{\"text\": \"bounded, base64 vector\", \"ts\": " + (TS + 1) + ", \"vector\": \""
          + TestVectors.base64(TestVectors.random(2)) + "\", \"validFrom\": \"2024-03-02T10:00:00Z\", \"validTo\": "
          + 1_800_000_000_000L + ", \"tags\": [\"" + GRINNING + "\", \"" + REPLACEMENT + "\"]}"
          + "]}";
      List<String> answered = cids(api.postRaw("/v1/namespaces/js/memories", JSON_TYPE, body.getBytes(StandardCharsets.UTF_8)));
      assertThat(memoryCid("js", body)).isEqualTo(answered);

      // One that updates the first (prev), sent as a single memory.
      String update = "{\"text\": \"an update\", \"ts\": " + (TS + 2) + ", \"vector\": " + vector + ", \"prev\": \""
          + answered.get(0) + "\", \"metadata\": {\"rating\": 4.0}}";
      List<String> updated = cids(api.postRaw("/v1/namespaces/js/memories", JSON_TYPE, update.getBytes(StandardCharsets.UTF_8)));
      assertThat(memoryCid("js", update)).isEqualTo(updated);

      // A JavaScript IPLD tool that decodes the node's block and encodes it again gets its CID.
      for (String cid : concat(answered, updated)) {
        byte[] block = api.get("/v1/blocks/" + cid).body();
        assertThat(node(REENCODE, block)).as("re-encoded %s", cid).isEqualTo(cid);
      }
      JsonNode first = api.getJson("/v1/memories/" + answered.get(0));
      assertThat(first.path("metadata").path("rating").isIntegralNumber()).isTrue();
      assertThat(first.path("metadata").path("tenth").asDouble()).isEqualTo(0.1);
      assertThat(texts(first.path("tags"))).containsExactly("a", "b", "\uE000", REPLACEMENT, GRINNING);
    }
  }

  @Test
  void tagsInCodePointOrderOrTheOldOrderMoveBetweenNodes() throws Exception {
    Map<String, String> owner = TestNode.sharedOwner(keys);
    AgentKey key = AgentKeyFile.read(Path.of(owner.get("ownerKeyFile")));
    try (TestNode a = TestNode.start(dirA, TestNode.NONE, owner); TestNode b = TestNode.start(dirB, TestNode.NONE, owner)) {
      // Created through the API, exported, imported: same CIDs, same tags.
      String cid = a.api().remember("tags", Map.of("text", "tagged", "ts", TS, "vector", TestVectors.random(3),
          "tags", List.of(GRINNING, REPLACEMENT)));
      Response export = a.api().get("/v1/namespaces/tags/export");
      assertThat(export.status()).as("%s", export).isEqualTo(200);
      Response imported = b.api().postRaw("/v1/namespaces/tags/import", CAR_TYPE, export.body());
      assertThat(imported.status()).as("%s", imported).isEqualTo(200);
      assertThat(b.api().listAll("tags")).containsExactly(cid);
      assertThat(texts(b.api().getJson("/v1/memories/" + cid).path("tags"))).containsExactly(REPLACEMENT, GRINNING);

      // Signed elsewhere, as a JavaScript client writes it (code point order), and as a node
      // before this change wrote it (UTF-16 order): both import, each under its own CID.
      for (List<String> order : List.of(List.of(REPLACEMENT, GRINNING), List.of(GRINNING, REPLACEMENT))) {
        String ns = order.get(0).equals(REPLACEMENT) ? "code-point-order" : "utf16-order";
        byte[] block = memoryBlock(ns, order);
        Block memory = Block.dagCbor(block);
        Block entry = Block.dagCbor(LogEntry.signed(key, ns, Op.ADD, List.of(memory.cid()), List.of(), 1).encode());
        Response answer = b.api().postRaw("/v1/namespaces/" + ns + "/import", CAR_TYPE, car(entry, memory));
        assertThat(answer.status()).as("%s %s", ns, answer).isEqualTo(200);
        assertThat(answer.json().path("entriesApplied").asInt()).isEqualTo(1);
        assertThat(b.api().listAll(ns)).containsExactly(memory.cid().toString());
        assertThat(b.api().get("/v1/blocks/" + memory.cid()).body()).as("the block as signed").isEqualTo(block);
        assertThat(texts(b.api().getJson("/v1/memories/" + memory.cid()).path("tags"))).containsExactly(REPLACEMENT, GRINNING);
        // And on again, to a node that verifies it afresh.
        Response again = a.api().postRaw("/v1/namespaces/" + ns + "/import", CAR_TYPE,
            b.api().get("/v1/namespaces/" + ns + "/export").body());
        assertThat(again.status()).as("%s %s", ns, again).isEqualTo(200);
        assertThat(a.api().listAll(ns)).containsExactly(memory.cid().toString());
      }
    }
  }

  @Test
  void aCarSignedInJavaScriptWithTagsInCodePointOrderImports() throws Exception {
    Map<String, String> owner = TestNode.sharedOwner(keys);
    try (TestNode node = TestNode.start(dirA, TestNode.NONE, owner)) {
      String body = "{\"text\": \"signed in JavaScript\", \"ts\": " + TS + ", \"vector\": \""
          + TestVectors.base64(TestVectors.random(5)) + "\", \"metadata\": {\"rating\": 5.0},"
          + " \"tags\": [\"" + GRINNING + "\", \"" + REPLACEMENT + "\", \"x\"]}";
      Path bodyFile = keys.resolve("body.json");
      Files.writeString(bodyFile, body);
      Path carFile = keys.resolve("signed.car");
      String memoryCid = run(List.of("node", "--input-type=module", "--eval", SIGN_CAR, owner.get("ownerKeyFile"), "from-js",
          bodyFile.toString(), carFile.toString()), new byte[0]);

      Response imported = node.api().postRaw("/v1/namespaces/from-js/import", CAR_TYPE, Files.readAllBytes(carFile));
      assertThat(imported.status()).as("%s", imported).isEqualTo(200);
      assertThat(imported.json().path("entriesApplied").asInt()).isEqualTo(1);
      assertThat(node.api().listAll("from-js")).containsExactly(memoryCid);
      JsonNode memory = node.api().getJson("/v1/memories/" + memoryCid);
      assertThat(texts(memory.path("tags"))).containsExactly("x", REPLACEMENT, GRINNING);
      assertThat(memory.path("metadata").path("rating").isIntegralNumber()).isTrue();
      // The same memory remembered through the API is the same block.
      assertThat(cids(node.api().postRaw("/v1/namespaces/from-js/memories", JSON_TYPE, body.getBytes(StandardCharsets.UTF_8))))
          .containsExactly(memoryCid);
    }
  }

  /**
   * Builds a memory block from a remember body (memory-cid.mjs), a root add entry signed with the
   * agent key file's Ed25519 seed ({@code {v, type, seed, did}} in DAG-CBOR), and a CAR v1 of both;
   * prints the memory's CID. Args: key file, namespace, body file, CAR file to write.
   */
  private static final String SIGN_CAR = """
      import * as dagCbor from '@ipld/dag-cbor'
      import { CID } from 'multiformats/cid'
      import { sha256 } from 'multiformats/hashes/sha2'
      import { varint } from 'multiformats'
      import { createPrivateKey, sign } from 'node:crypto'
      import { readFileSync, writeFileSync } from 'node:fs'
      import { memoryBlock, blockCid } from './memory-cid.mjs'
      const [keyFile, ns, bodyFile, carFile] = process.argv.slice(1)
      const key = dagCbor.decode(readFileSync(keyFile))
      // PKCS#8 wrapping of a raw Ed25519 seed (RFC 8410).
      const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(key.seed)])
      const privateKey = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })
      const memory = memoryBlock(ns, JSON.parse(readFileSync(bodyFile, 'utf8')))
      const memoryBytes = dagCbor.encode(memory)
      const memoryCid = await blockCid(memory)
      const entry = { v: 2, ns, op: 'add', refs: [memoryCid], parents: [], clock: 1, author: key.did }
      entry.sig = new Uint8Array(sign(null, dagCbor.encode(entry), privateKey))
      const entryBytes = dagCbor.encode(entry)
      const entryCid = CID.create(1, dagCbor.code, await sha256.digest(entryBytes))
      const uvarint = (n) => { const out = new Uint8Array(varint.encodingLength(n)); varint.encodeTo(n, out); return out }
      const parts = []
      const header = dagCbor.encode({ version: 1, roots: [entryCid] })
      parts.push(uvarint(header.length), header)
      for (const [cid, bytes] of [[entryCid, entryBytes], [memoryCid, memoryBytes]]) {
        parts.push(uvarint(cid.bytes.length + bytes.length), cid.bytes, bytes)
      }
      writeFileSync(carFile, Buffer.concat(parts))
      console.log(memoryCid.toString())
      """;

  /** A memory block with {@code tags} in exactly the order given, as another encoder would write it. */
  private static byte[] memoryBlock(String ns, List<String> tags) {
    Memory memory = new Memory(ns, "signed elsewhere", Map.of("n", 1L), List.of(), TS, new Embedding("client",
        TestVectors.random(4)), null);
    Map<String, Object> map = new LinkedHashMap<>(memory.toIpld());
    map.put("tags", tags);
    return DagCbor.encode(map);
  }

  private static byte[] car(Block root, Block... more) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    CarWriter writer = new CarWriter(out, List.of(root.cid()));
    writer.write(root);
    for (Block block : more) {
      writer.write(block);
    }
    return out.toByteArray();
  }

  // ---- JavaScript ----

  /** Decodes a block from stdin with @ipld/dag-cbor, encodes it again, and prints that CID. */
  private static final String REENCODE = """
      import * as dagCbor from '@ipld/dag-cbor'
      import { CID } from 'multiformats/cid'
      import { sha256 } from 'multiformats/hashes/sha2'
      const chunks = []
      for await (const chunk of process.stdin) chunks.push(chunk)
      const again = dagCbor.encode(dagCbor.decode(new Uint8Array(Buffer.concat(chunks))))
      console.log(CID.create(1, dagCbor.code, await sha256.digest(again)).toString())
      """;

  /** The CIDs {@code memory-cid.mjs} computes for a remember body. */
  private static List<String> memoryCid(String ns, String body) throws Exception {
    return List.of(run(List.of("node", "memory-cid.mjs", ns), body.getBytes(StandardCharsets.UTF_8)).split("\n"));
  }

  private static String node(String module, byte[] stdin) throws Exception {
    return run(List.of("node", "--input-type=module", "--eval", module), stdin);
  }

  /** Runs a command in {@code tools/ipfs-node}, where the IPLD libraries are installed. */
  private static String run(List<String> command, byte[] stdin) throws Exception {
    Path dir = toolsDir();
    Path out = Files.createTempFile("mnemo-js-", ".out");
    try {
      Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
          .redirectOutput(out.toFile()).start();
      try (var in = process.getOutputStream()) {
        in.write(stdin);
      }
      assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("%s finished", command).isTrue();
      String output = Files.readString(out).strip();
      assertThat(process.exitValue()).as("%s: %s", command, output).isZero();
      return output;
    } finally {
      Files.deleteIfExists(out);
    }
  }

  /** {@code tools/ipfs-node} with its node_modules ({@code npm ci} the first time, as its start.sh does). */
  private static synchronized Path toolsDir() throws Exception {
    Path dir = IpfsNode.repositoryRoot().resolve("tools/ipfs-node");
    if (!Files.isRegularFile(dir.resolve("node_modules/@ipld/dag-cbor/package.json"))) {
      Process npm = new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error").directory(dir.toFile())
          .inheritIO().start();
      assertThat(npm.waitFor(300, TimeUnit.SECONDS) && npm.exitValue() == 0)
          .as("npm ci in %s (Node.js and npm are needed, as for the IPFS tests)", dir).isTrue();
    }
    return dir;
  }

  // ---- helpers ----

  private static List<String> cids(Response r) {
    assertThat(r.status()).as("%s", r).isEqualTo(201);
    JsonNode json = r.json();
    List<String> out = new ArrayList<>();
    if (json.has("cids")) {
      json.path("cids").forEach(c -> out.add(c.asText()));
    } else {
      out.add(json.path("cid").asText());
    }
    return out;
  }

  private static List<String> texts(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }
}
