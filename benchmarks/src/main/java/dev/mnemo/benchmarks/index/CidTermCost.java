package dev.mnemo.benchmarks.index;

import dev.mnemo.benchmarks.data.Corpus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.apache.lucene.analysis.en.EnglishAnalyzer;
import org.apache.lucene.document.BinaryDocValuesField;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.LongPoint;
import org.apache.lucene.document.NumericDocValuesField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.document.TextField;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.util.BytesRef;

/**
 * What the indexed CID term costs Lucene's indexing: the index's documents without their vectors
 * (text with English analysis, namespace, timestamp point and doc values, position and CID doc
 * values), written with and without the CID as an indexed term, in alternating rounds in one JVM.
 * Forgets delete by that term, so it is one unique term per memory in the terms dictionary.
 * Prints a Markdown table; the first round of each is JIT warm-up.
 *
 * <p>Usage: {@code CidTermCost [docs=100000] [rounds=4]}; needs the corpus (prepare-corpus.sh).
 */
public final class CidTermCost {
  private static final String BASE32 = "abcdefghijklmnopqrstuvwxyz234567";

  public static void main(String[] args) throws Exception {
    int docs = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 4;
    Corpus corpus = Corpus.read(Corpus.defaultPath(), docs);
    // CIDv1 dag-cbor sha2-256 in base32 is "bafyrei" and 52 more characters; random ones are as unique.
    Random random = new Random(1);
    String[] cids = new String[corpus.docTexts().size()];
    for (int i = 0; i < cids.length; i++) {
      StringBuilder cid = new StringBuilder("bafyrei");
      for (int k = 0; k < 52; k++) {
        cid.append(BASE32.charAt(random.nextInt(BASE32.length())));
      }
      cids[i] = cid.toString();
    }
    System.out.printf("%d documents; index to a 64 MB buffer and commit%n%n", cids.length);
    System.out.println("| round | CID term | seconds | µs per document |");
    System.out.println("|---|---|---|---|");
    for (int round = 1; round <= rounds; round++) {
      for (boolean cidTerm : new boolean[] {true, false}) {
        double seconds = index(corpus, cids, cidTerm);
        System.out.printf("| %d | %s | %.2f | %.1f |%n", round, cidTerm ? "yes" : "no", seconds, seconds * 1e6 / cids.length);
      }
    }
  }

  private static double index(Corpus corpus, String[] cids, boolean cidTerm) throws IOException {
    Path dir = Files.createTempDirectory("mnemo-cid-term-cost");
    try {
      long start = System.nanoTime();
      try (Directory directory = FSDirectory.open(dir);
           IndexWriter writer = new IndexWriter(directory, new IndexWriterConfig(new EnglishAnalyzer()).setRAMBufferSizeMB(64))) {
        for (int i = 0; i < cids.length; i++) {
          Document doc = new Document();
          if (cidTerm) {
            doc.add(new StringField("cid", cids[i], Field.Store.NO));
          }
          doc.add(new BinaryDocValuesField("cid", new BytesRef(cids[i])));
          doc.add(new StringField("ns", "bench", Field.Store.NO));
          doc.add(new TextField("text", corpus.docTexts().get(i), Field.Store.NO));
          doc.add(new LongPoint("ts", 1_700_000_000_000L + i));
          doc.add(new NumericDocValuesField("ts", 1_700_000_000_000L + i));
          doc.add(new NumericDocValuesField("pos", i));
          writer.addDocument(doc);
        }
        writer.commit();
      }
      return (System.nanoTime() - start) / 1e9;
    } finally {
      IndexFixture.delete(dir);
    }
  }
}
