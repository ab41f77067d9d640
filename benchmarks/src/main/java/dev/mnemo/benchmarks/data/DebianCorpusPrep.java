package dev.mnemo.benchmarks.data;

import dev.mnemo.node.embed.Embedder;
import dev.mnemo.node.embed.Embedders;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.text.BreakIterator;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Builds a large benchmark corpus (about a million documents) from the Debian text that
 * benchmarks/scripts/prepare-corpus-1m.sh extracts: dictionaries, package descriptions, man
 * pages and manuals. Each source becomes clean English sentences, all are de-duplicated
 * (case and punctuation aside), shuffled with a fixed seed, a number are held out as queries and
 * the rest become documents; all are embedded with the default model, as {@link CorpusPrep} does.
 *
 * <p>Embedding a million sentences takes about an hour on two cores, so it resumes: the sentence
 * list is fixed in {@code <work>/sentences.txt} on the first run, vectors are appended to
 * {@code <work>/vectors.f32} batch by batch, and a restarted run continues after the last whole
 * vector. The finished corpus is written in {@link Corpus}'s format.
 *
 * <p>Usage: {@code DebianCorpusPrep --sources DIR [--docs 1000000] [--queries 1000]
 * [--out benchmarks/data/debian-1m-bge.corpus] [--work benchmarks/data/debian-<docs>-q<queries>-work]
 * [--count-only true] [--samples 0]}; --samples prints that many sentences of each source. Sources are {@code <name>.lines} (one sentence per line, kept as it is:
 * WordNet's glosses are lower-case phrases) and {@code <name>.txt} (paragraphs separated by blank
 * lines, split into sentences).
 */
public final class DebianCorpusPrep {
  /** Sources in the order they claim sentences: a duplicate counts for the first source that had it. */
  private static final List<String> SOURCES = List.of("wordnet", "gcide", "foldoc", "jargon", "fortunes",
      "apt-descriptions", "man-pages", "perl-doc", "python-doc", "postgresql-doc", "vim-doc", "linux-doc", "django-doc",
      "gimp-help", "debian-handbook", "javadoc", "sqlite-doc", "scipy-doc");
  private static final int BATCH = 256;
  private static final long SEED = 42;

  public static void main(String[] args) throws Exception {
    Map<String, String> opts = parse(args);
    Path sources = Path.of(required(opts, "sources"));
    int docs = Integer.parseInt(opts.getOrDefault("docs", "1000000"));
    int queries = Integer.parseInt(opts.getOrDefault("queries", "1000"));
    Path out = Path.of(opts.getOrDefault("out", "benchmarks/data/debian-" + label(docs) + "-bge.corpus"));
    Path work = Path.of(opts.getOrDefault("work", "benchmarks/data/debian-" + label(docs) + "-q" + queries + "-work"));

    Path sentenceFile = work.resolve("sentences.txt");
    List<String> sentences;
    if (Files.exists(sentenceFile) && !opts.containsKey("count-only")) {
      sentences = Files.readAllLines(sentenceFile, StandardCharsets.UTF_8);
      System.err.printf("resuming with the %d sentences fixed in %s%n", sentences.size(), sentenceFile);
    } else {
      List<String> distinct = collect(sources, Integer.parseInt(opts.getOrDefault("samples", "0")));
      if ("true".equals(opts.get("count-only"))) {
        return;
      }
      sentences = select(distinct, docs, queries);
      writeAtomically(sentenceFile, sentences);
    }
    List<String> queryTexts = sentences.subList(0, queries);
    List<String> docTexts = sentences.subList(queries, sentences.size());

    try (Embedder embedder = Embedders.create("bge-small-en-v1.5", 0)) {
      Path vectorFile = work.resolve("vectors.f32");
      embedResumably(embedder, sentences, vectorFile);
      float[][] vectors = readVectors(vectorFile, sentences.size(), embedder.dimension());
      float[][] queryVectors = java.util.Arrays.copyOfRange(vectors, 0, queries);
      float[][] docVectors = java.util.Arrays.copyOfRange(vectors, queries, vectors.length);
      new Corpus(docTexts, docVectors, queryTexts, queryVectors).write(out);
    }
    System.err.printf("wrote %s: %d documents, %d queries; %s can go%n", out, docTexts.size(), queryTexts.size(), work);
  }

  // ---- sentences

  /** Reads every source, prints what each yields, and returns the distinct sentences in source order. */
  static List<String> collect(Path dir, int samples) throws IOException {
    Set<String> seen = new HashSet<>();
    List<String> distinct = new ArrayList<>();
    System.err.printf("%-18s %12s %12s %12s%n", "source", "candidates", "clean", "new distinct");
    for (String source : SOURCES) {
      Path lines = dir.resolve(source + ".lines");
      Path text = dir.resolve(source + ".txt");
      List<String> candidates = Files.exists(lines) ? readLines(lines) : Files.exists(text) ? splitParagraphs(text) : null;
      if (candidates == null) {
        System.err.printf("%-18s missing%n", source);
        continue;
      }
      boolean phrases = Files.exists(lines);
      int clean = 0;
      int added = 0;
      for (String candidate : candidates) {
        String sentence = Sentences.normalize(candidate);
        if (!(phrases ? Sentences.isCleanPhrase(sentence) : Sentences.isCleanSentence(sentence))) {
          continue;
        }
        clean++;
        if (seen.add(Sentences.key(sentence))) {
          distinct.add(sentence);
          added++;
        }
      }
      System.err.printf("%-18s %12d %12d %12d%n", source, candidates.size(), clean, added);
      printSamples(distinct.subList(distinct.size() - added, distinct.size()), samples);
    }
    System.err.printf("%-18s %12s %12s %12d%n", "total", "", "", distinct.size());
    return distinct;
  }

  /** A few of a source's sentences, so that what a filter lets through can be looked at. */
  private static void printSamples(List<String> added, int samples) {
    Random random = new Random(SEED);
    for (int i = 0; i < samples && !added.isEmpty(); i++) {
      System.err.println("    | " + added.get(random.nextInt(added.size())));
    }
  }

  /** Shuffles with a fixed seed and keeps the queries first, then up to {@code docs} documents. */
  private static List<String> select(List<String> distinct, int docs, int queries) {
    List<String> shuffled = new ArrayList<>(distinct);
    Collections.shuffle(shuffled, new Random(SEED));
    if (shuffled.size() < queries + docs) {
      System.err.printf("only %d distinct sentences: %d queries and %d documents%n",
          shuffled.size(), queries, shuffled.size() - queries);
    }
    return new ArrayList<>(shuffled.subList(0, Math.min(shuffled.size(), queries + docs)));
  }

  private static List<String> readLines(Path file) throws IOException {
    try (BufferedReader in = reader(file)) {
      return in.lines().toList();
    }
  }

  /** UTF-8, with the odd Latin-1 byte (GCIDE has some) read as U+FFFD, which then fails the prose test. */
  private static BufferedReader reader(Path file) throws IOException {
    var decoder = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPLACE)
        .onUnmappableCharacter(CodingErrorAction.REPLACE);
    return new BufferedReader(new InputStreamReader(Files.newInputStream(file), decoder), 1 << 16);
  }

  /**
   * Joins the lines of each paragraph and splits it into sentences. A paragraph ends at a blank
   * line or where the indentation changes: rendered man pages and POD put a heading or an
   * option's name right above its indented text, and must not run into it.
   */
  private static List<String> splitParagraphs(Path file) throws IOException {
    List<String> out = new ArrayList<>();
    BreakIterator sentences = BreakIterator.getSentenceInstance(Locale.ENGLISH);
    StringBuilder paragraph = new StringBuilder();
    int indent = -1;
    try (BufferedReader in = reader(file)) {
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        int lineIndent = line.length() - line.stripLeading().length();
        if (line.isBlank() || lineIndent != indent) {
          split(paragraph, sentences, out);
        }
        indent = line.isBlank() ? -1 : lineIndent;
        if (!line.isBlank()) {
          paragraph.append(line.strip()).append(' ');
        }
      }
    }
    split(paragraph, sentences, out);
    return out;
  }

  private static void split(StringBuilder paragraph, BreakIterator sentences, List<String> out) {
    String text = paragraph.toString().replaceAll("\\s+", " ").trim();
    paragraph.setLength(0);
    if (text.isEmpty()) {
      return;
    }
    sentences.setText(text);
    for (int start = sentences.first(), end = sentences.next(); end != BreakIterator.DONE; start = end, end = sentences.next()) {
      out.add(text.substring(start, end));
    }
  }

  /** What makes a candidate a clean English sentence, and when two are the same. */
  static final class Sentences {
    // Markup, code and paths: a sentence with any of these is not prose.
    private static final Pattern CODE = Pattern.compile("[{}<>|\\\\=_@#$^~*`\\[\\]\uFFFD]|::|\\(\\)|https?:|www\\.|\\.\\w+/|/\\w+/|--");
    private static final Pattern SENTENCE_SHAPE = Pattern.compile("[A-Z][^.!?]*[a-z].*[.!?][\"')]?");

    private Sentences() {}

    static String normalize(String s) {
      return s.replace('\u00a0', ' ').replaceAll("\\s+", " ").trim();
    }

    /** Prose sentence: 25 to 300 characters, 5 or more words, a capital first and a full stop last. */
    static boolean isCleanSentence(String s) {
      return s.length() >= 25 && s.length() <= 300 && words(s) >= 5 && SENTENCE_SHAPE.matcher(s).matches() && isProse(s);
    }

    /** A line kept whole (WordNet): 12 to 300 characters, as {@link CorpusPrep} takes glosses. */
    static boolean isCleanPhrase(String s) {
      return s.length() >= 12 && s.length() <= 300 && isProse(s);
    }

    private static boolean isProse(String s) {
      if (CODE.matcher(s).find()) {
        return false;
      }
      int letters = 0;
      int visible = 0;
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        if (!Character.isWhitespace(c)) {
          visible++;
          if (Character.isLetter(c)) {
            letters++;
          }
        }
      }
      return letters >= 0.8 * visible;
    }

    private static int words(String s) {
      return s.split(" ").length;
    }

    /** Sentences equal once lower-cased and stripped of everything but letters and digits are duplicates. */
    static String key(String s) {
      return s.toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}\\p{N}]+", " ").trim();
    }
  }

  // ---- embedding, resumable

  private static void embedResumably(Embedder embedder, List<String> sentences, Path vectorFile) throws IOException {
    int dim = embedder.dimension();
    long rowBytes = (long) dim * Float.BYTES;
    try (FileChannel channel = FileChannel.open(vectorFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      int done = (int) Math.min(sentences.size(), channel.size() / rowBytes);
      channel.truncate(done * rowBytes); // a half-written last vector from a killed run goes
      channel.position(done * rowBytes);
      if (done > 0) {
        System.err.printf("resuming after %d of %d sentences%n", done, sentences.size());
      }
      ByteBuffer buf = ByteBuffer.allocate(BATCH * dim * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
      long start = System.nanoTime();
      int startDone = done;
      while (done < sentences.size()) {
        List<float[]> vectors = embedder.embedPassages(sentences.subList(done, Math.min(sentences.size(), done + BATCH)));
        buf.clear();
        for (float[] v : vectors) {
          buf.asFloatBuffer().put(v);
          buf.position(buf.position() + (int) rowBytes);
        }
        buf.flip();
        while (buf.hasRemaining()) {
          channel.write(buf);
        }
        done += vectors.size();
        progress(done - startDone, done, sentences.size(), System.nanoTime() - start);
      }
      channel.force(false);
      System.err.println();
    }
  }

  private static void progress(int embeddedNow, int done, int total, long nanos) {
    double rate = embeddedNow / (nanos / 1e9);
    double etaMinutes = (total - done) / Math.max(rate, 1e-9) / 60;
    System.err.printf("\rembedded %d/%d, %.0f sentences/s, about %.0f min left   ", done, total, rate, etaMinutes);
  }

  private static float[][] readVectors(Path file, int rows, int dim) throws IOException {
    float[][] out = new float[rows][dim];
    try (FileChannel channel = FileChannel.open(file)) {
      ByteBuffer buf = ByteBuffer.allocate(dim * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
      for (float[] v : out) {
        buf.clear();
        while (buf.hasRemaining()) {
          if (channel.read(buf) < 0) {
            throw new IOException(file + " ends early");
          }
        }
        buf.flip();
        buf.asFloatBuffer().get(v);
      }
    }
    return out;
  }

  // ---- small helpers

  private static void writeAtomically(Path file, List<String> lines) throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try (OutputStream out = Files.newOutputStream(tmp)) {
      for (String line : lines) {
        out.write(line.getBytes(StandardCharsets.UTF_8));
        out.write('\n');
      }
    }
    Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  private static String label(int docs) {
    return docs % 1_000_000 == 0 ? docs / 1_000_000 + "m" : docs % 1000 == 0 ? docs / 1000 + "k" : Integer.toString(docs);
  }

  private static Map<String, String> parse(String[] args) {
    Map<String, String> opts = new LinkedHashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      if (!args[i].startsWith("--")) {
        throw new IllegalArgumentException("expected --name value, got " + args[i]);
      }
      opts.put(args[i].substring(2), args[i + 1]);
    }
    return opts;
  }

  private static String required(Map<String, String> opts, String name) {
    String value = opts.get(name);
    if (value == null) {
      throw new IllegalArgumentException("--" + name + " is required");
    }
    return value;
  }
}
