package dev.mnemo.benchmarks.peers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The dataset directory written by {@link ExportCorpus}, read the way every peer runner reads it:
 * queries and truth in memory, documents streamed in batches (so the runner's own heap does not
 * grow with the corpus).
 */
record PeerDataset(Path dir, int dim, int docs, int queries, int truthK, List<String> queryTexts, float[][] queryVectors, int[] truth) {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** A run of consecutive documents, ids {@code start .. start + texts.size() - 1}. */
  record Batch(int start, List<String> texts, float[][] vectors) {}

  static PeerDataset open(Path dir) throws IOException {
    JsonNode meta = JSON.readTree(dir.resolve("meta.json").toFile());
    if (meta.path("v").asInt() != 1) {
      throw new IOException(dir + "/meta.json: unsupported version " + meta.path("v"));
    }
    int dim = meta.path("dim").asInt();
    int queries = meta.path("queries").asInt();
    int truthK = meta.path("truthK").asInt();
    List<String> texts = readTexts(dir.resolve("queries.jsonl"));
    float[][] vectors = readVectors(dir.resolve("queries.f32"), queries, dim);
    int[] truth = readInts(dir.resolve("truth.i32"), queries * truthK);
    return new PeerDataset(dir, dim, meta.path("docs").asInt(), queries, truthK, texts, vectors, truth);
  }

  String name() {
    return dir.toAbsolutePath().normalize().getFileName().toString();
  }

  /** Exact top-10 document ids of query q. */
  int[] truthTop10(int q) {
    return java.util.Arrays.copyOfRange(truth, q * truthK, q * truthK + Math.min(10, truthK));
  }

  /** Hands every document to {@code sink} in id order, {@code size} at a time. */
  void forEachBatch(int size, Consumer<Batch> sink) throws IOException {
    try (BufferedReader texts = Files.newBufferedReader(dir.resolve("docs.jsonl"), StandardCharsets.UTF_8);
         FileChannel vectors = FileChannel.open(dir.resolve("docs.f32"))) {
      ByteBuffer rows = ByteBuffer.allocate(size * dim * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
      for (int start = 0; start < docs; start += size) {
        int count = Math.min(size, docs - start);
        List<String> batchTexts = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
          batchTexts.add(JSON.readTree(texts.readLine()).path("text").asText());
        }
        rows.clear().limit(count * dim * Float.BYTES);
        while (rows.hasRemaining()) {
          if (vectors.read(rows) < 0) {
            throw new IOException("docs.f32 ends before document " + (start + count));
          }
        }
        rows.flip();
        float[][] batchVectors = new float[count][dim];
        for (float[] v : batchVectors) {
          rows.asFloatBuffer().get(v);
          rows.position(rows.position() + dim * Float.BYTES);
        }
        sink.accept(new Batch(start, batchTexts, batchVectors));
      }
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }

  private static List<String> readTexts(Path file) throws IOException {
    List<String> texts = new ArrayList<>();
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      if (!line.isEmpty()) {
        texts.add(JSON.readTree(line).path("text").asText());
      }
    }
    return texts;
  }

  private static float[][] readVectors(Path file, int rows, int dim) throws IOException {
    ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
    if (bytes.remaining() != rows * dim * Float.BYTES) {
      throw new IOException(file + " holds " + bytes.remaining() + " bytes, expected " + rows * dim * Float.BYTES);
    }
    float[][] out = new float[rows][dim];
    for (float[] v : out) {
      bytes.asFloatBuffer().get(v);
      bytes.position(bytes.position() + dim * Float.BYTES);
    }
    return out;
  }

  private static int[] readInts(Path file, int count) throws IOException {
    ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
    int[] out = new int[count];
    bytes.asIntBuffer().get(out);
    return out;
  }
}
