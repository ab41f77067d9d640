package dev.mnemo.benchmarks.data;

import dev.mnemo.node.embed.Embedder;
import dev.mnemo.node.embed.Embedders;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Builds the benchmark corpus from Debian's wordnet-base (installed by the prepare script):
 * every gloss definition and every quoted usage example becomes a sentence. Usage examples are
 * held out as queries (they are about the same things as the glosses, in other words), the rest
 * are documents. Embeds everything once with the default model, BGE-small-en-v1.5.
 *
 * <p>Usage: {@code CorpusPrep [docs=100000] [queries=1000] [out=benchmarks/data/wordnet-bge.corpus]}
 */
public final class CorpusPrep {
  private static final Pattern EXAMPLE = Pattern.compile("\"([^\"]{12,200})\"");

  public static void main(String[] args) throws Exception {
    int docs = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
    int queries = args.length > 1 ? Integer.parseInt(args[1]) : 1_000;
    Path out = args.length > 2 ? Path.of(args[2]) : Corpus.defaultPath();
    Path wordnet = Path.of(System.getProperty("mnemo.wordnet", "/usr/share/wordnet"));

    Set<String> definitions = new LinkedHashSet<>();
    Set<String> examples = new LinkedHashSet<>();
    for (String pos : List.of("noun", "verb", "adj", "adv")) {
      for (String line : Files.readAllLines(wordnet.resolve("data." + pos), StandardCharsets.UTF_8)) {
        int bar = line.indexOf(" | ");
        if (line.startsWith("  ") || bar < 0) {
          continue;
        }
        String gloss = line.substring(bar + 3).trim();
        Matcher m = EXAMPLE.matcher(gloss);
        while (m.find()) {
          examples.add(m.group(1).trim());
        }
        String definition = gloss.split(";\\s*\"", 2)[0].trim();
        if (definition.length() >= 12) {
          definitions.add(definition);
        }
      }
    }
    List<String> docTexts = new ArrayList<>(definitions);
    List<String> queryTexts = new ArrayList<>(examples);
    Random random = new Random(42);
    Collections.shuffle(docTexts, random);
    Collections.shuffle(queryTexts, random);
    // Examples beyond the held-out queries pad the documents when definitions run short.
    List<String> spare = queryTexts.subList(Math.min(queries, queryTexts.size()), queryTexts.size());
    while (docTexts.size() < docs && !spare.isEmpty()) {
      docTexts.add(spare.remove(spare.size() - 1));
    }
    docTexts = new ArrayList<>(docTexts.subList(0, Math.min(docs, docTexts.size())));
    queryTexts = new ArrayList<>(queryTexts.subList(0, Math.min(queries, queryTexts.size())));
    System.err.printf("wordnet: %d definitions, %d examples; embedding %d documents and %d queries%n",
        definitions.size(), examples.size(), docTexts.size(), queryTexts.size());

    try (Embedder embedder = Embedders.create("bge-small-en-v1.5", 0)) {
      float[][] docVectors = embed(embedder, docTexts, "documents");
      float[][] queryVectors = embed(embedder, queryTexts, "queries");
      new Corpus(docTexts, docVectors, queryTexts, queryVectors).write(out);
    }
    System.err.println("wrote " + out);
  }

  private static float[][] embed(Embedder embedder, List<String> texts, String what) throws IOException {
    float[][] vectors = new float[texts.size()][];
    long start = System.nanoTime();
    int batch = 256;
    for (int i = 0; i < texts.size(); i += batch) {
      List<float[]> out = embedder.embedPassages(texts.subList(i, Math.min(texts.size(), i + batch)));
      for (int j = 0; j < out.size(); j++) {
        vectors[i + j] = out.get(j);
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      int done = Math.min(texts.size(), i + batch);
      System.err.printf("\r%s: %d/%d, %.0f sentences/s   ", what, done, texts.size(), done / seconds);
    }
    System.err.println();
    return vectors;
  }
}
