package dev.mnemo.benchmarks.peers;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mnemo.benchmarks.data.Corpus;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;

/**
 * Exports the first N documents of a Mnemo corpus file, its held-out queries and their exact
 * top-K neighbours to a neutral directory that every peer runner (Node, JDBC, Mnemo itself) reads
 * the same way:
 *
 * <pre>
 * docs.f32      N x dim float32, little-endian, row-major, unit vectors
 * docs.jsonl    {"id": i, "text": "..."} per line, line i is document i
 * queries.f32   Q x dim float32, same layout
 * queries.jsonl {"id": q, "text": "..."} per line
 * truth.i32     Q x K int32 little-endian: document ids by descending inner product (ties: lower id)
 * meta.json     {"v":1,"dim":..,"docs":N,"queries":Q,"model":..,"truthK":K,"metric":"ip","source":..}
 * </pre>
 *
 * <p>The directory is written under a temporary name and renamed at the end, so a directory with
 * a meta.json is always complete.
 *
 * <p>Usage: {@code ExportCorpus --docs N [--corpus benchmarks/data/wordnet-bge.corpus]
 * [--name wordnet-bge] [--out-dir benchmarks/data] [--truth-k 100] [--model bge-small-en-v1.5]}
 * writes {@code <out-dir>/<name>-<N>/}.
 */
public final class ExportCorpus {
  private static final ObjectMapper JSON = new ObjectMapper();

  public static void main(String[] args) throws Exception {
    Map<String, String> opts = Args.parse(args);
    int docs = Integer.parseInt(Args.required(opts, "docs"));
    Path corpusFile = Path.of(opts.getOrDefault("corpus", Corpus.defaultPath().toString()));
    String name = opts.getOrDefault("name", corpusFile.getFileName().toString().replaceFirst("\\.corpus$", ""));
    Path outDir = Path.of(opts.getOrDefault("out-dir", "benchmarks/data")).resolve(name + "-" + docs);
    int truthK = Integer.parseInt(opts.getOrDefault("truth-k", "100"));
    String model = opts.getOrDefault("model", "bge-small-en-v1.5");

    if (Files.exists(outDir.resolve("meta.json"))) {
      System.err.println(outDir + " already exported");
      return;
    }
    Corpus corpus = Corpus.read(corpusFile, docs);
    if (corpus.docTexts().size() < docs) {
      throw new IllegalArgumentException(corpusFile + " holds only " + corpus.docTexts().size() + " documents, not " + docs);
    }
    int k = Math.min(truthK, docs);
    Path tmp = outDir.resolveSibling(outDir.getFileName() + ".tmp");
    deleteRecursively(tmp);
    Files.createDirectories(tmp);

    writeVectors(tmp.resolve("docs.f32"), corpus.docVectors());
    writeTexts(tmp.resolve("docs.jsonl"), corpus.docTexts());
    writeVectors(tmp.resolve("queries.f32"), corpus.queryVectors());
    writeTexts(tmp.resolve("queries.jsonl"), corpus.queryTexts());
    long start = System.nanoTime();
    int[][] truth = GroundTruth.topK(corpus.docVectors(), corpus.queryVectors(), k);
    System.err.printf("ground truth: %d queries x %d docs, top-%d in %.1f s%n",
        truth.length, docs, k, (System.nanoTime() - start) / 1e9);
    writeInts(tmp.resolve("truth.i32"), truth);
    writeMeta(tmp.resolve("meta.json"), corpus, k, model, corpusFile);

    deleteRecursively(outDir);
    Files.move(tmp, outDir, StandardCopyOption.ATOMIC_MOVE);
    System.err.println("wrote " + outDir);
  }

  /**
   * Writes vectors as raw float32 LE. The embedder returns unit vectors; a vector that is not
   * one (beyond rounding) would make inner-product truth disagree with cosine peers, so refuse.
   */
  private static void writeVectors(Path file, float[][] vectors) throws IOException {
    ByteBuffer row = ByteBuffer.allocate(vectors[0].length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    try (OutputStream out = new java.io.BufferedOutputStream(Files.newOutputStream(file), 1 << 20)) {
      for (int i = 0; i < vectors.length; i++) {
        requireUnit(vectors[i], i);
        row.clear();
        row.asFloatBuffer().put(vectors[i]);
        out.write(row.array());
      }
    }
  }

  private static void requireUnit(float[] v, int index) {
    double norm2 = 0;
    for (float x : v) {
      norm2 += (double) x * x;
    }
    if (Math.abs(norm2 - 1) > 1e-3) {
      throw new IllegalStateException("vector " + index + " is not a unit vector: |v|^2 = " + norm2);
    }
  }

  private static void writeTexts(Path file, List<String> texts) throws IOException {
    try (BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      for (int i = 0; i < texts.size(); i++) {
        ObjectNode line = JSON.createObjectNode().put("id", i).put("text", texts.get(i));
        out.write(JSON.writeValueAsString(line));
        out.write('\n');
      }
    }
  }

  private static void writeInts(Path file, int[][] rows) throws IOException {
    ByteBuffer row = ByteBuffer.allocate(rows[0].length * Integer.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    try (OutputStream out = new java.io.BufferedOutputStream(Files.newOutputStream(file), 1 << 20)) {
      for (int[] ids : rows) {
        row.clear();
        row.asIntBuffer().put(ids);
        out.write(row.array());
      }
    }
  }

  private static void writeMeta(Path file, Corpus corpus, int truthK, String model, Path source) throws IOException {
    ObjectNode meta = JSON.createObjectNode()
        .put("v", 1)
        .put("dim", corpus.dimension())
        .put("docs", corpus.docTexts().size())
        .put("queries", corpus.queryTexts().size())
        .put("model", model)
        .put("truthK", truthK)
        .put("metric", "ip")
        .put("source", source.getFileName().toString());
    Files.writeString(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(meta) + "\n");
  }

  private static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
