package dev.mnemo.benchmarks.data;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A benchmark corpus: real sentences and their BGE vectors, split into documents and held-out
 * queries, cached in one file so every benchmark reuses the same embeddings. File format
 * (little-endian): magic "MNCORPUS", version 1, dimension, document count, query count, then for
 * each text its UTF-8 length and bytes followed by its vector. Written by {@link CorpusPrep};
 * never committed (benchmarks/data/ is ignored).
 */
public record Corpus(List<String> docTexts, float[][] docVectors, List<String> queryTexts, float[][] queryVectors) {
  private static final byte[] MAGIC = "MNCORPUS".getBytes(StandardCharsets.US_ASCII);
  private static final int VERSION = 1;

  public int dimension() {
    return docVectors[0].length;
  }

  public static Path defaultPath() {
    return Path.of(System.getProperty("mnemo.corpus", "benchmarks/data/wordnet-bge.corpus"));
  }

  public void write(Path file) throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try (DataOutputStream out = new DataOutputStream(new java.io.BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20))) {
      out.write(MAGIC);
      out.writeInt(VERSION);
      out.writeInt(dimension());
      out.writeInt(docTexts.size());
      out.writeInt(queryTexts.size());
      writeAll(out, docTexts, docVectors);
      writeAll(out, queryTexts, queryVectors);
    }
    Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }

  private static void writeAll(DataOutputStream out, List<String> texts, float[][] vectors) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(vectors[0].length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < texts.size(); i++) {
      byte[] text = texts.get(i).getBytes(StandardCharsets.UTF_8);
      out.writeInt(text.length);
      out.write(text);
      buf.clear();
      buf.asFloatBuffer().put(vectors[i]);
      out.write(buf.array());
    }
  }

  /** Reads a corpus, keeping at most {@code maxDocs} documents. */
  public static Corpus read(Path file, int maxDocs) throws IOException {
    if (!Files.exists(file)) {
      throw new IOException("no corpus at " + file + ": run benchmarks/scripts/prepare-corpus.sh first");
    }
    try (DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(Files.newInputStream(file), 1 << 20))) {
      byte[] magic = in.readNBytes(MAGIC.length);
      if (!java.util.Arrays.equals(magic, MAGIC) || in.readInt() != VERSION) {
        throw new IOException(file + " is not a version " + VERSION + " Mnemo corpus");
      }
      int dim = in.readInt();
      int docs = in.readInt();
      int queries = in.readInt();
      List<String> docTexts = new ArrayList<>();
      List<float[]> docVectors = new ArrayList<>();
      readAll(in, docs, dim, docTexts, docVectors, maxDocs);
      List<String> queryTexts = new ArrayList<>();
      List<float[]> queryVectors = new ArrayList<>();
      readAll(in, queries, dim, queryTexts, queryVectors, Integer.MAX_VALUE);
      return new Corpus(docTexts, docVectors.toArray(float[][]::new), queryTexts, queryVectors.toArray(float[][]::new));
    }
  }

  private static void readAll(DataInputStream in, int count, int dim, List<String> texts, List<float[]> vectors, int keep) throws IOException {
    byte[] vec = new byte[dim * 4];
    for (int i = 0; i < count; i++) {
      String text = new String(in.readNBytes(in.readInt()), StandardCharsets.UTF_8);
      in.readFully(vec);
      if (i < keep) {
        float[] v = new float[dim];
        ByteBuffer.wrap(vec).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
        texts.add(text);
        vectors.add(v);
      }
    }
  }
}
