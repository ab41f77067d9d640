package dev.mnemo.benchmarks.peers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mnemo.index.IndexConfig;
import dev.mnemo.index.LogIndexer;
import dev.mnemo.index.LuceneMemoryIndex;
import dev.mnemo.index.RecallHit;
import dev.mnemo.index.RecallMode;
import dev.mnemo.index.RecallQuery;
import dev.mnemo.node.MemoryNode;
import dev.mnemo.store.MnemoStore;
import dev.mnemo.store.cid.Cid;
import dev.mnemo.store.log.Appended;
import dev.mnemo.store.model.Embedding;
import dev.mnemo.store.model.Memory;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import dev.mnemo.benchmarks.load.RawHttpConnection;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.apache.lucene.codecs.KnnVectorsFormat;
import org.apache.lucene.codecs.lucene104.Lucene104Codec;
import org.apache.lucene.codecs.lucene99.Lucene99HnswVectorsFormat;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.KnnFloatVectorField;
import org.apache.lucene.document.NumericDocValuesField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.NumericDocValues;
import org.apache.lucene.index.ReaderUtil;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.KnnFloatVectorQuery;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.store.FSDirectory;

/**
 * Mnemo's side of the comparison with its peers, on the same dataset directories and writing the
 * same records (schema in benchmarks/peers/README.md). The systems, chosen with {@code --systems}:
 *
 * <ul>
 *   <li>{@code mnemo}: the node's storage and recall path in-process, without HTTP. Memories with
 *       their vectors are appended durably to the namespace log (RocksDB, WAL synced per batch)
 *       and indexed through {@link LogIndexer} into {@link LuceneMemoryIndex}, as the node does for
 *       a write while nobody searches: behind the log, up to {@code --max-behind} memories (the
 *       node's default); the timing ends with the catch-up and searcher refresh that a recall
 *       would run first. Recall
 *       goes through the MemoryIndex SPI; the candidate depth (HNSW k) is swept.
 *   <li>{@code mnemo-bulk}: the same with {@code indexGraphBuild idle}: no graph while ingesting,
 *       one built by the merge into one segment after it; measured at depth 100 only, since the
 *       merged index is the same as {@code mnemo}'s.
 *   <li>{@code lucene}: raw Lucene on the same vectors, Mnemo's ceiling: one float HNSW field with
 *       the same m and beam width, {@link KnnFloatVectorQuery} with k swept, nothing else.
 *   <li>{@code brute-force}: an exact scan in Java with Lucene's SIMD dot product: the quality
 *       oracle and the rate at which a scan can go.
 *   <li>{@code mnemo-http}: a node process ({@code memory-node/target/mnemo.jar}) on 127.0.0.1;
 *       remember over HTTP with client vectors, then recall with client vectors; the node's
 *       {@code recallDepth} is swept with {@code --http-depths}, restarting it on the same data;
 *       {@code mnemo-http-bulk} is the same node with {@code indexGraphBuild idle}, measured at the
 *       first depth only.
 *   <li>{@code mnemo-http-warm}, {@code mnemo-http-bulk-warm}: ingest only, into a node that has
 *       just remembered the same memories into another namespace, so the JIT has compiled the
 *       write path: how much of a fresh node's ingest goes to warming up. Write these records to a
 *       file of their own: the index holds twice the memories.
 * </ul>
 *
 * <p>Usage: {@code MnemoRunner --data benchmarks/data/<name>-<N> --out results.jsonl
 * [--systems mnemo,lucene,brute-force,mnemo-http] [--work /tmp/mnemo-runner] [--batch 1000]
 * [--http-batch 100] [--http-connections 4] [--max-seconds 30] [--warmup 100] [--clients 1,16]
 * [--depths 10,20,40,64,100,160,250,400] [--http-depths 64] [--jar memory-node/target/mnemo.jar]}
 */
public final class MnemoRunner {
  private static final String NS = "bench";
  private static final int M = 16;
  private static final int BEAM_WIDTH = 100;
  private static final int K = 10;
  /** The node under test merges its index this soon after writes pause (30 s by default). */
  private static final int OPTIMIZE_IDLE_MS = 2_000;

  private final Map<String, String> opts;
  private final PeerDataset data;
  private final Path work;
  private final int maxSeconds;
  private final int warmup;
  private final List<Integer> clientCounts;
  private final List<Integer> depths;
  /** The node's memoryCacheMb: 0 makes every recall read its memories from the block store. */
  private final int nodeMemoryCacheMb;

  private MnemoRunner(Map<String, String> opts) throws IOException {
    this.opts = opts;
    this.data = PeerDataset.open(Path.of(Args.required(opts, "data")));
    this.work = Path.of(opts.getOrDefault("work", "/tmp/mnemo-runner"));
    this.maxSeconds = Integer.parseInt(opts.getOrDefault("max-seconds", "30"));
    this.warmup = Integer.parseInt(opts.getOrDefault("warmup", "100"));
    this.clientCounts = ints(opts.getOrDefault("clients", "1,16"));
    this.depths = ints(opts.getOrDefault("depths", "10,20,40,64,100,160,250,400"));
    this.nodeMemoryCacheMb = Integer.parseInt(opts.getOrDefault("node-memory-cache-mb",
        Integer.toString(dev.mnemo.node.config.NodeConfig.DEFAULT_MEMORY_CACHE_MB)));
  }

  public static void main(String[] args) throws Exception {
    new MnemoRunner(Args.parse(args)).run();
  }

  private void run() throws Exception {
    for (String system : opts.getOrDefault("systems", "mnemo,lucene,brute-force,mnemo-http").split(",")) {
      deleteTree(work);
      Files.createDirectories(work);
      ResultLog log = new ResultLog(Path.of(Args.required(opts, "out")), common(system));
      jitWarm = false;
      switch (system) {
        case "mnemo" -> mnemoInProcess(log, IndexConfig.GraphBuild.MERGE);
        case "mnemo-bulk" -> mnemoInProcess(log, IndexConfig.GraphBuild.IDLE);
        case "lucene" -> rawLucene(log);
        case "brute-force" -> bruteForce(log);
        case "mnemo-http" -> mnemoOverHttp(log, IndexConfig.GraphBuild.MERGE);
        case "mnemo-http-bulk" -> mnemoOverHttp(log, IndexConfig.GraphBuild.IDLE);
        case "mnemo-http-warm" -> mnemoOverHttp(log, IndexConfig.GraphBuild.MERGE, true);
        case "mnemo-http-bulk-warm" -> mnemoOverHttp(log, IndexConfig.GraphBuild.IDLE, true);
        default -> throw new IllegalArgumentException("unknown system " + system);
      }
    }
    deleteTree(work);
  }

  // ---- mnemo, in-process ----

  private void mnemoInProcess(ResultLog log, IndexConfig.GraphBuild graphBuild) throws Exception {
    // As the node: writers may leave this many memories to the background indexer while no recall comes.
    int maxBehind = Integer.parseInt(opts.getOrDefault("max-behind",
        Integer.toString(dev.mnemo.node.config.NodeConfig.DEFAULT_INDEX_MAX_BEHIND)));
    int batchSize = Integer.parseInt(opts.getOrDefault("batch", "1000"));
    Map<Cid, Integer> ids = new HashMap<>(data.docs() * 2);
    Path indexDir = work.resolve("index");
    double ingestSeconds;
    double ackSeconds;
    double commitSeconds;
    int segments;
    try (MnemoStore store = MnemoStore.open(work.resolve("data"))) {
      LuceneMemoryIndex index = LuceneMemoryIndex.open(indexDir,
          new IndexConfig(384, IndexConfig.VectorEncoding.FLOAT32, M, BEAM_WIDTH, 64, graphBuild));
      LogIndexer indexer = new LogIndexer(store.log(), index, 5_000, 0, maxBehind);
      long start = System.nanoTime();
      data.forEachBatch(batchSize, batch -> {
        List<Memory> memories = new ArrayList<>(batch.texts().size());
        for (int i = 0; i < batch.texts().size(); i++) {
          memories.add(new Memory(NS, batch.texts().get(i), Map.of(), List.of(), 1_700_000_000_000L + batch.start() + i,
              new Embedding("bge-small-en-v1.5", batch.vectors()[i]), null));
        }
        try {
          Appended appended = store.log().append(NS, memories);
          // As the node's remember does: the indexer takes the memories from the writer's hands.
          indexer.awaitApplied(appended.position(), appended.memories(), memories);
          for (int i = 0; i < appended.memories().size(); i++) {
            ids.put(appended.memories().get(i), batch.start() + i);
          }
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      ackSeconds = seconds(start);
      // The recall that follows an ingest catches the index up and refreshes the searcher first:
      // that is part of the ingest.
      indexer.beforeSearch();
      ingestSeconds = seconds(start);
      // What the node does once writes pause (indexOptimizeIdleMs): merge into one segment.
      segments = index.segmentCount();
      long buildStart = System.nanoTime();
      index.optimize();
      indexer.close();
      index.close();
      commitSeconds = seconds(buildStart);
    }
    long disk = treeBytes(work);
    ObjectNode ingest = ingestRecord(ingestSeconds, ackSeconds, batchSize)
        .put("maxBehind", maxBehind)
        .put("buildSeconds", ResultLog.round(commitSeconds, 3))
        .put("diskBytes", disk)
        .put("diskBytesPerMemory", ResultLog.round(disk / (double) data.docs(), 1))
        .put("peakRssBytes", peakRss())
        .put("durability", "fsync per batch: memories, signed log entry and heads in one RocksDB batch with the WAL synced;"
            + (graphBuild == IndexConfig.GraphBuild.MERGE
                ? " the HNSW graph is built by merges while ingesting (a flushed segment stays flat, searched exactly),"
                : " no HNSW graph while ingesting (indexGraphBuild idle: vector recall scans exactly until the merge),")
            + (maxBehind > 0
                ? " a batch is acknowledged once durable, while up to " + maxBehind + " acknowledged memories wait for the"
                    + " background indexer, and the next recall first waits until they are indexed (acknowledgedSeconds"
                    + " ends with the last acknowledgement; ingestSeconds with the catch-up and refresh that make the last"
                    + " batch recallable);"
                : " each batch is indexed before it is acknowledged and searchable from the next recall (ingestSeconds ends"
                    + " with the refresh that makes the last batch searchable);")
            + " buildSeconds is the merge into one segment that a node runs once writes pause, and the commit");
    ingest.set("index", ResultLog.object().put("vector", "hnsw").put("m", M).put("beamWidth", BEAM_WIDTH)
        .put("encoding", "float32").put("graphBuild", graphBuild.name().toLowerCase(java.util.Locale.ROOT))
        .put("segmentsAfterIngest", segments).put("segments", segmentCount(indexDir))
        .put("keyword", "BM25, English analysis"));
    log.emit(ingest);

    if (graphBuild == IndexConfig.GraphBuild.IDLE) {
      // The merged index is the same as the default's; one depth shows that its graph was built.
      try (LuceneMemoryIndex index = LuceneMemoryIndex.open(indexDir, config(100))) {
        measure(log, "vector", ResultLog.object().put("index", "hnsw").put("depth", 100), () -> client(q -> ids(
            index.recall(RecallQuery.of(NS, null, data.queryVectors()[q], K, RecallMode.VECTOR)).hits(), ids)));
      }
      return;
    }
    // The index searches at least 4k candidates (LuceneMemoryIndex), so smaller depths are one point.
    java.util.Set<Integer> effectiveDepths = new java.util.TreeSet<>();
    depths.forEach(d -> effectiveDepths.add(Math.min(Math.max(K * 4, d), 1000)));
    for (int depth : effectiveDepths) {
      try (LuceneMemoryIndex index = LuceneMemoryIndex.open(indexDir, config(depth))) {
        ObjectNode params = ResultLog.object().put("index", "hnsw").put("depth", depth);
        measure(log, "vector", params, () -> client(q -> ids(index.recall(RecallQuery.of(NS, null, data.queryVectors()[q], K,
            RecallMode.VECTOR)).hits(), ids)));
      }
    }
    try (LuceneMemoryIndex index = LuceneMemoryIndex.open(indexDir, config(64))) {
      measure(log, "keyword", ResultLog.object().put("query", "BM25, English analysis, OR of terms"),
          () -> client(q -> ids(index.recall(RecallQuery.of(NS, data.queryTexts().get(q), null, K, RecallMode.KEYWORD)).hits(), ids)));
      measure(log, "hybrid", ResultLog.object().put("depth", 64).put("fusion", "0.25 BM25/max + 0.75 cosine min-max"),
          () -> client(q -> ids(index.recall(RecallQuery.of(NS, data.queryTexts().get(q), data.queryVectors()[q], K,
              RecallMode.HYBRID)).hits(), ids)));
    }
  }

  /** One in-process searcher as a client of the query load; nothing to close. */
  private interface Search {
    int[] search(int q) throws Exception;
  }

  private static QueryLoad.Client client(Search search) {
    return new QueryLoad.Client() {
      @Override
      public int[] search(int q) throws Exception {
        return search.search(q);
      }

      @Override
      public void close() {}
    };
  }

  private static IndexConfig config(int depth) {
    return new IndexConfig(384, IndexConfig.VectorEncoding.FLOAT32, M, BEAM_WIDTH, Math.max(1, depth));
  }

  private static int[] ids(List<RecallHit> hits, Map<Cid, Integer> ids) {
    return hits.stream().mapToInt(h -> ids.getOrDefault(h.cid(), -1)).toArray();
  }

  private static int segmentCount(Path dir) throws IOException {
    try (DirectoryReader reader = DirectoryReader.open(FSDirectory.open(dir))) {
      return reader.leaves().size();
    }
  }

  // ---- raw Lucene ----

  private void rawLucene(ResultLog log) throws Exception {
    Path dir = work.resolve("lucene");
    // Merge workers as the Mnemo index has; shut down at the end, or their threads keep the JVM alive.
    ExecutorService mergeWorkers = Executors.newFixedThreadPool(2);
    try {
      rawLucene(log, dir, new Lucene99HnswVectorsFormat(M, BEAM_WIDTH, 2, mergeWorkers));
    } finally {
      mergeWorkers.shutdownNow();
    }
  }

  private void rawLucene(ResultLog log, Path dir, KnnVectorsFormat format) throws Exception {
    IndexWriterConfig iwc = new IndexWriterConfig().setRAMBufferSizeMB(64).setCodec(new Lucene104Codec() {
      @Override
      public KnnVectorsFormat getKnnVectorsFormatForField(String field) {
        return format;
      }
    });
    long start = System.nanoTime();
    double ingestSeconds;
    double buildSeconds;
    try (FSDirectory directory = FSDirectory.open(dir); IndexWriter writer = new IndexWriter(directory, iwc)) {
      data.forEachBatch(1000, batch -> {
        try {
          for (int i = 0; i < batch.texts().size(); i++) {
            Document doc = new Document();
            doc.add(new KnnFloatVectorField("v", batch.vectors()[i], VectorSimilarityFunction.DOT_PRODUCT));
            doc.add(new NumericDocValuesField("id", batch.start() + i));
            writer.addDocument(doc);
          }
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      ingestSeconds = seconds(start);
      // One graph, as the Mnemo index has once merged: the ceiling is a single-segment search.
      long mergeStart = System.nanoTime();
      writer.forceMerge(1);
      writer.commit();
      buildSeconds = seconds(mergeStart);
    }
    double seconds = ingestSeconds;
    long disk = treeBytes(dir);
    try (FSDirectory directory = FSDirectory.open(dir); DirectoryReader reader = DirectoryReader.open(directory)) {
      ObjectNode ingest = ResultLog.object().put("phase", "ingest")
          .put("memoriesPerSec", ResultLog.round(data.docs() / seconds, 1))
          .put("ingestSeconds", ResultLog.round(seconds, 3))
          .put("batchSize", data.docs())
          .put("buildSeconds", ResultLog.round(buildSeconds, 3))
          .put("diskBytes", disk)
          .put("diskBytesPerMemory", ResultLog.round(disk / (double) data.docs(), 1))
          .put("peakRssBytes", peakRss())
          .put("durability", "one commit (fsync) at the end; vectors and ids only, no text; buildSeconds is the merge into one segment");
      ingest.set("index", ResultLog.object().put("vector", "hnsw").put("m", M).put("beamWidth", BEAM_WIDTH)
          .put("segments", reader.leaves().size()));
      log.emit(ingest);
      IndexSearcher searcher = new IndexSearcher(reader);
      for (int k : depths) {
        if (k < K) {
          continue;
        }
        measure(log, "vector", ResultLog.object().put("index", "hnsw").put("k", k),
            () -> client(q -> luceneIds(searcher, searcher.search(new KnnFloatVectorQuery("v", data.queryVectors()[q], k), K).scoreDocs)));
      }
    }
  }

  private static int[] luceneIds(IndexSearcher searcher, ScoreDoc[] docs) throws IOException {
    List<LeafReaderContext> leaves = searcher.getIndexReader().leaves();
    int[] ids = new int[docs.length];
    for (int i = 0; i < docs.length; i++) {
      LeafReaderContext leaf = leaves.get(ReaderUtil.subIndex(docs[i].doc, leaves));
      NumericDocValues values = leaf.reader().getNumericDocValues("id");
      values.advanceExact(docs[i].doc - leaf.docBase);
      ids[i] = (int) values.longValue();
    }
    return ids;
  }

  // ---- brute force ----

  private void bruteForce(ResultLog log) throws Exception {
    float[][] docs = new float[data.docs()][];
    long start = System.nanoTime();
    data.forEachBatch(10_000, batch -> System.arraycopy(batch.vectors(), 0, docs, batch.start(), batch.vectors().length));
    double seconds = seconds(start);
    ObjectNode ingest = ResultLog.object().put("phase", "ingest")
        .put("memoriesPerSec", ResultLog.round(data.docs() / seconds, 1))
        .put("ingestSeconds", ResultLog.round(seconds, 3))
        .put("batchSize", 10_000)
        .put("buildSeconds", 0)
        .put("diskBytes", 0)
        .put("diskBytesPerMemory", 0)
        .put("peakRssBytes", peakRss())
        .put("durability", "none: vectors in memory only (the exact oracle, not a store)");
    ingest.set("index", ResultLog.object().put("vector", "none (exact scan, SIMD dot product)"));
    log.emit(ingest);
    measure(log, "vector", ResultLog.object().put("index", "exact"), () -> client(q -> dev.mnemo.benchmarks.index.IndexFixture.exactTopK(docs, data.queryVectors()[q], K)));
  }

  // ---- mnemo over HTTP ----

  private void mnemoOverHttp(ResultLog log, IndexConfig.GraphBuild graphBuild) throws Exception {
    mnemoOverHttp(log, graphBuild, false);
  }

  /**
   * @param warmIngest first remember the whole dataset into another namespace of the same node,
   *     so the measured ingest runs on JIT-compiled code (ingest figures only: the index then holds
   *     twice the memories, so no recall is measured)
   */
  private void mnemoOverHttp(ResultLog log, IndexConfig.GraphBuild graphBuild, boolean warmIngest) throws Exception {
    int batchSize = Integer.parseInt(opts.getOrDefault("http-batch", "100"));
    int connections = Integer.parseInt(opts.getOrDefault("http-connections", "4"));
    Path jar = Path.of(opts.getOrDefault("jar", "memory-node/target/mnemo.jar"));
    // The node's recallDepth is a start-up setting, so each further depth restarts it on the same data.
    List<Integer> httpDepths = ints(opts.getOrDefault("http-depths", "64"));
    NodeUnderTest node = NodeUnderTest.start(jar, work.resolve("node"), httpDepths.get(0), graphBuild, nodeMemoryCacheMb);
    try {
      String[] cidsById = new String[data.docs()];
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      ExecutorService senders = Executors.newFixedThreadPool(connections);
      if (warmIngest) {
        // The same load into a namespace of its own first, so the measured one meets compiled code.
        httpIngest(http, senders, node.url("/v1/namespaces/" + NS + "-warmup/memories"), node.token(), batchSize,
            connections, new String[data.docs()]);
        post(http, node.url("/v1/namespaces/" + NS + "-warmup/recall"), node.token(), vectorBody(0, "vector"), 200);
      }
      long start = System.nanoTime();
      httpIngest(http, senders, node.url("/v1/namespaces/" + NS + "/memories"), node.token(), batchSize, connections,
          cidsById);
      double ackSeconds = seconds(start);
      senders.shutdown();
      // The first recall after the load waits until the node has indexed every acknowledged memory.
      post(http, node.url("/v1/namespaces/" + NS + "/recall"), node.token(), vectorBody(0, "vector"), 200);
      double seconds = seconds(start);
      if (warmIngest) {
        log.emit(ingestRecord(seconds, ackSeconds, batchSize)
            .put("connections", connections)
            .put("graphBuild", graphBuild.name().toLowerCase(java.util.Locale.ROOT))
            .put("warmedBy", "the same " + data.docs() + " memories remembered into another namespace of the same node"
                + " just before, so this load runs on JIT-compiled code into an index that already holds them"));
        return;
      }
      long buildStart = System.nanoTime();
      int segments = node.awaitOneSegment(http);
      double buildSeconds = seconds(buildStart);
      Map<String, Integer> ids = new HashMap<>(data.docs() * 2);
      for (int i = 0; i < cidsById.length; i++) {
        ids.put(cidsById[i], i);
      }
      long disk = treeBytes(node.dataDir());
      ObjectNode ingest = ingestRecord(seconds, ackSeconds, batchSize)
          .put("connections", connections)
          .put("buildSeconds", ResultLog.round(buildSeconds, 3))
          .put("diskBytes", disk)
          .put("diskBytesPerMemory", ResultLog.round(disk / (double) data.docs(), 1))
          .put("peakRssBytes", node.peakRss())
          .put("durability", "fsync per request before the 201 (as the in-process mnemo); the node's default indexMaxBehind:"
              + " acknowledged memories may wait for the background indexer while no recall comes, and the first recall"
              + " waits for them (acknowledgedSeconds ends with the last 201, ingestSeconds with the answer to one recall after it);"
              + " buildSeconds is the wait until the node merged its index into one segment (indexOptimizeIdleMs="
              + OPTIMIZE_IDLE_MS + " here, 30000 by default)");
      ingest.set("index", ResultLog.object().put("vector", "hnsw").put("m", M).put("beamWidth", BEAM_WIDTH)
          .put("depth", httpDepths.get(0)).put("graphBuild", graphBuild.name().toLowerCase(java.util.Locale.ROOT))
          .put("segmentsBeforeMerge", segments).put("transport", "HTTP/1.1 JSON, client vectors as base64 float32"));
      log.emit(ingest);

      URI recall = node.url("/v1/namespaces/" + NS + "/recall");
      String token = node.token();
      int depth = httpDepths.get(0);
      measureHttp(log, "vector", ResultLog.object().put("index", "hnsw").put("depth", depth), node,
          () -> httpClient(recall, token, q -> vectorBody(q, "vector"), ids));
      if (graphBuild == IndexConfig.GraphBuild.IDLE) {
        return; // the merged index is the same as the default node's; one depth shows the graph was built
      }
      measureHttp(log, "keyword", ResultLog.object().put("query", "BM25, English analysis, OR of terms"), node,
          () -> httpClient(recall, token, q -> textBody(q), ids));
      measureHttp(log, "hybrid", ResultLog.object().put("depth", depth).put("fusion", "0.25 BM25/max + 0.75 cosine min-max"),
          node, () -> httpClient(recall, token, q -> vectorBody(q, "hybrid"), ids));
      for (int further : httpDepths.subList(1, httpDepths.size())) {
        node.close();
        node = NodeUnderTest.start(jar, work.resolve("node"), further, graphBuild, nodeMemoryCacheMb);
        jitWarm = false; // a new node process
        URI again = node.url("/v1/namespaces/" + NS + "/recall");
        String againToken = node.token();
        measureHttp(log, "vector", ResultLog.object().put("index", "hnsw").put("depth", further), node,
            () -> httpClient(again, againToken, q -> vectorBody(q, "vector"), ids));
      }
    } finally {
      node.close();
    }
  }

  /**
   * The rates of an ingest that acknowledges writes before they are recallable: to the last
   * acknowledgement, and to the point where the last memory can be recalled.
   */
  private ObjectNode ingestRecord(double recallableSeconds, double acknowledgedSeconds, int batchSize) {
    return ResultLog.object().put("phase", "ingest")
        .put("memoriesPerSec", ResultLog.round(data.docs() / recallableSeconds, 1))
        .put("ingestSeconds", ResultLog.round(recallableSeconds, 3))
        .put("acknowledgedPerSec", ResultLog.round(data.docs() / acknowledgedSeconds, 1))
        .put("acknowledgedSeconds", ResultLog.round(acknowledgedSeconds, 3))
        .put("batchSize", batchSize);
  }

  /** Remembers the whole dataset in batches over {@code connections} concurrent requests. */
  private void httpIngest(HttpClient http, ExecutorService senders, URI remember, String token, int batchSize,
      int connections, String[] cidsById) throws IOException {
    List<Future<?>> inFlight = new ArrayList<>();
    data.forEachBatch(batchSize, batch -> {
      byte[] body = rememberBody(batch);
      inFlight.add(senders.submit(() -> {
        JsonNode answer = post(http, remember, token, body, 201);
        JsonNode cids = answer.path("cids");
        for (int i = 0; i < cids.size(); i++) {
          cidsById[batch.start() + i] = cids.get(i).asText();
        }
        return null;
      }));
      // Bound what is queued: at most two batches a connection waiting.
      while (inFlight.size() > connections * 2) {
        join(inFlight.remove(0));
      }
    });
    for (Future<?> f : inFlight) {
      join(f);
    }
  }

  private QueryLoad.Client httpClient(URI uri, String token, java.util.function.IntFunction<byte[]> body,
      Map<String, Integer> ids) {
    // A raw keep-alive socket, and the CIDs picked out of the answer without a JSON tree: the client
    // shares the node's cores, and what it spends per request is taken from the node measured.
    RawHttpConnection connection = new RawHttpConnection(uri, token);
    return new QueryLoad.Client() {
      @Override
      public int[] search(int q) throws Exception {
        int status = connection.post(body.apply(q));
        String answer = new String(connection.lastBody(), StandardCharsets.UTF_8);
        if (status != 200) {
          throw new IOException(uri + " answered " + status + ": " + answer.substring(0, Math.min(300, answer.length())));
        }
        List<Integer> out = new ArrayList<>(K);
        for (int at = answer.indexOf(CID_FIELD); at >= 0; at = answer.indexOf(CID_FIELD, at + 1)) {
          int from = at + CID_FIELD.length();
          out.add(ids.getOrDefault(answer.substring(from, answer.indexOf('"', from)), -1));
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
      }

      @Override
      public void close() {
        connection.close();
      }
    };
  }

  private static final String CID_FIELD = "\"cid\":\"";

  private byte[] vectorBody(int q, String mode) {
    StringBuilder sb = new StringBuilder("{\"k\":").append(K).append(",\"mode\":\"").append(mode).append('"');
    if (mode.equals("hybrid")) {
      sb.append(",\"query\":").append(ResultLog.JSON.valueToTree(data.queryTexts().get(q)).toString());
    }
    sb.append(",\"vector\":");
    appendVector(sb, data.queryVectors()[q]);
    return sb.append('}').toString().getBytes(StandardCharsets.UTF_8);
  }

  private byte[] textBody(int q) {
    ObjectNode body = ResultLog.object().put("k", K).put("mode", "keyword").put("query", data.queryTexts().get(q));
    return body.toString().getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] rememberBody(PeerDataset.Batch batch) {
    StringBuilder sb = new StringBuilder("{\"memories\":[");
    for (int i = 0; i < batch.texts().size(); i++) {
      sb.append(i > 0 ? "," : "").append("{\"text\":").append(ResultLog.JSON.valueToTree(batch.texts().get(i)).toString())
          .append(",\"ts\":").append(1_700_000_000_000L + batch.start() + i).append(",\"vector\":");
      appendVector(sb, batch.vectors()[i]);
      sb.append('}');
    }
    return sb.append("]}").toString().getBytes(StandardCharsets.UTF_8);
  }

  /** Vectors go as base64 little-endian float32, the API's compact form (what OpenAI's clients request). */
  private static void appendVector(StringBuilder sb, float[] v) {
    java.nio.ByteBuffer bytes = java.nio.ByteBuffer.allocate(v.length * Float.BYTES).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    bytes.asFloatBuffer().put(v);
    sb.append('"').append(java.util.Base64.getEncoder().encodeToString(bytes.array())).append('"');
  }

  private static JsonNode post(HttpClient http, URI uri, String token, byte[] body, int expected)
      throws IOException, InterruptedException {
    HttpResponse<byte[]> response = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(120))
        .header("Content-Type", "application/json").header("Authorization", "Bearer " + token).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
        HttpResponse.BodyHandlers.ofByteArray());
    if (response.statusCode() != expected) {
      throw new IOException(uri + " answered " + response.statusCode() + ": "
          + new String(response.body(), 0, Math.min(300, response.body().length), StandardCharsets.UTF_8));
    }
    return ResultLog.JSON.readTree(response.body());
  }

  private static void join(Future<?> f) {
    try {
      f.get();
    } catch (Exception e) {
      throw new IllegalStateException("a remember request failed: " + e.getMessage(), e);
    }
  }

  // ---- measuring ----

  /** Whether this system's code has been through {@link #warmUpJit} yet. */
  private boolean jitWarm;

  /** A warm-up pass ends the warm-up when the JIT compilers used less than this share of a core. */
  private static final double JIT_QUIET_SHARE = 0.05;
  private static final int MAX_WARMUP_PASSES = 30;

  /**
   * Before each measurement of a JVM system: passes over every query, untimed, until the JVM that
   * answers ({@code pid}: this one, or the node's) has stopped compiling, so that what is measured
   * is compiled code, as in a server that has been up for a while. At least three passes before a
   * JVM's first measurement; after that, until a pass leaves the compilers quiet (a new phase,
   * such as keyword after vector, runs code not compiled yet). Three fixed passes were not enough
   * for the node: its C2 thread still took 70-90% of a core during the measurement that followed.
   * The per-measurement warm-up ({@code --warmup}, shared with the Node and JDBC runners) is too
   * short for the JIT. LanceDB, sqlite-vec and PostgreSQL run native code that needs none.
   */
  private void warmUpJit(QueryLoad.ClientFactory factory, long pid) throws Exception {
    int minimum = jitWarm ? 1 : 3;
    double share = Double.NaN;
    int pass = 0;
    while (pass < MAX_WARMUP_PASSES) {
      double before = JitCompilers.cpuSeconds(pid);
      long start = System.nanoTime();
      QueryLoad.run(factory, 2, data.queries(), 0, 15);
      pass++;
      share = (JitCompilers.cpuSeconds(pid) - before) / seconds(start);
      if (pass >= minimum && (before < 0 || share < JIT_QUIET_SHARE)) {
        break;
      }
    }
    System.err.printf("[warm-up] %d passes; the JIT compilers took %.0f%% of a core in the last%n", pass, share * 100);
    jitWarm = true;
  }

  private void measure(ResultLog log, String phase, ObjectNode params, QueryLoad.ClientFactory factory) throws Exception {
    warmUpJit(factory, ProcessHandle.current().pid());
    for (int clients : clientCounts) {
      QueryLoad.Run run = QueryLoad.run(factory, clients, data.queries(), warmup, maxSeconds);
      emitRun(log, phase, params, clients, run, peakRss());
    }
  }

  private void measureHttp(ResultLog log, String phase, ObjectNode params, NodeUnderTest node, QueryLoad.ClientFactory factory)
      throws Exception {
    params.put("memoryCacheMb", nodeMemoryCacheMb);
    warmUpJit(factory, node.process().pid());
    for (int clients : clientCounts) {
      QueryLoad.Run run = QueryLoad.run(factory, clients, data.queries(), warmup, maxSeconds);
      emitRun(log, phase, params, clients, run, node.peakRss());
    }
  }

  private void emitRun(ResultLog log, String phase, ObjectNode params, int clients, QueryLoad.Run run, long rss)
      throws IOException {
    ObjectNode record = ResultLog.object().put("phase", phase);
    record.set("params", params);
    record.put("clients", clients).put("concurrency", clients == 1 ? "one thread" : clients + " threads");
    record.setAll(ResultLog.latencySummary(run));
    if (phase.equals("vector")) {
      record.put("recallAt10", ResultLog.recallAt10(run.answers(), data));
    } else {
      record.putNull("recallAt10");
    }
    record.put("peakRssBytes", rss);
    log.emit(record);
  }

  private ObjectNode common(String system) {
    ObjectNode components = ResultLog.object().put("lucene", org.apache.lucene.util.Version.LATEST.toString())
        .put("java", System.getProperty("java.version"));
    ObjectNode machine = ResultLog.object().put("cores", Runtime.getRuntime().availableProcessors());
    ObjectNode common = ResultLog.object().put("system", system)
        .put("version", system.startsWith("mnemo") ? MemoryNode.VERSION : org.apache.lucene.util.Version.LATEST.toString());
    common.set("components", components);
    common.put("dataset", data.name()).put("size", data.docs());
    common.set("machine", machine);
    return common;
  }

  // ---- small things ----

  /** This JVM's peak resident set (VmHWM), or -1 where /proc is not there. */
  static long peakRss() {
    return NodeUnderTest.vmHwm(ProcessHandle.current().pid());
  }

  private static double seconds(long startNanos) {
    return (System.nanoTime() - startNanos) / 1e9;
  }

  static long treeBytes(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return 0;
    }
    // A node merging or committing deletes files while this walks; walk again when that happens.
    for (int attempt = 1; ; attempt++) {
      try (Stream<Path> files = Files.walk(dir)) {
        return files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
      } catch (java.io.UncheckedIOException | java.nio.file.NoSuchFileException e) {
        if (attempt == 5) {
          throw e;
        }
      }
    }
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  private static List<Integer> ints(String csv) {
    return Arrays.stream(csv.split(",")).map(String::trim).map(Integer::parseInt).toList();
  }

  /**
   * A node process on a free loopback port with client vectors only (embedder none), and its
   * owner's API token, which the node wrote to DATA/owner.token on its first start (every /v1 call
   * but /health needs a token; the owner may write and read every namespace and ask /v1/node).
   */
  private record NodeUnderTest(Process process, Path dataDir, int port, String token) implements AutoCloseable {
    static NodeUnderTest start(Path jar, Path dataDir, int recallDepth, IndexConfig.GraphBuild graphBuild, int memoryCacheMb)
        throws IOException, InterruptedException {
      if (!Files.exists(jar)) {
        throw new IOException(jar + " is missing: ./mvnw -q -B package -Dmaven.test.skip=true -pl memory-node -am");
      }
      int port = freePort();
      List<String> command = new ArrayList<>(List.of(
          Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx8g",
          // Out of heap, the node exits (status 3) and the run fails, rather than hang it.
          "-XX:+ExitOnOutOfMemoryError"));
      // NODE_JAVA_OPTS: extra JVM options for the node, e.g. a flight recording to profile it.
      String extra = System.getenv().getOrDefault("NODE_JAVA_OPTS", "").trim();
      if (!extra.isEmpty()) {
        command.addAll(List.of(extra.split("\\s+")));
      }
      command.addAll(List.of("-jar", jar.toString(), "node", "--port", Integer.toString(port), "--gossip-port", Integer.toString(freePort()),
          "--data", dataDir.toString(), "--embedder", "none"));
      ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(dataDir.resolveSibling("node.log").toFile()));
      builder.environment().keySet().removeIf(k -> k.startsWith("MNEMO_"));
      builder.environment().put("MNEMO_INDEX_OPTIMIZE_IDLE_MS", Integer.toString(OPTIMIZE_IDLE_MS));
      builder.environment().put("MNEMO_RECALL_DEPTH", Integer.toString(recallDepth));
      builder.environment().put("MNEMO_INDEX_GRAPH_BUILD", graphBuild.name().toLowerCase(java.util.Locale.ROOT));
      builder.environment().put("MNEMO_MEMORY_CACHE_MB", Integer.toString(memoryCacheMb));
      Process process = builder.start();
      NodeUnderTest node = new NodeUnderTest(process, dataDir, port, null);
      HttpClient http = HttpClient.newHttpClient();
      long deadline = System.nanoTime() + 120_000_000_000L;
      while (System.nanoTime() < deadline) {
        try {
          if (http.send(HttpRequest.newBuilder(node.url("/health")).build(), HttpResponse.BodyHandlers.discarding())
              .statusCode() == 200) {
            // The node opens its agents (writing the token on a first start) before it listens.
            Path tokenFile = dataDir.resolve("owner.token");
            if (!Files.exists(tokenFile)) {
              node.close();
              throw new IOException("the node answers but wrote no " + tokenFile + "; see " + dataDir.resolveSibling("node.log"));
            }
            return new NodeUnderTest(process, dataDir, port, Files.readString(tokenFile).strip());
          }
        } catch (IOException e) {
          // not up yet
        }
        if (!process.isAlive()) {
          break;
        }
        Thread.sleep(250);
      }
      node.close();
      throw new IOException("the node did not start; see " + dataDir.resolveSibling("node.log"));
    }

    URI url(String path) {
      return URI.create("http://127.0.0.1:" + port + path);
    }

    /** Waits until the node's index is one segment (it merges once writes pause); returns the count seen first. */
    int awaitOneSegment(HttpClient http) throws IOException, InterruptedException {
      int first = -1;
      long deadline = System.nanoTime() + 3_600_000_000_000L;
      while (System.nanoTime() < deadline) {
        HttpResponse<byte[]> info = http.send(HttpRequest.newBuilder(url("/v1/node"))
                .header("Authorization", "Bearer " + token).build(),
            HttpResponse.BodyHandlers.ofByteArray());
        int segments = ResultLog.JSON.readTree(info.body()).path("index").path("segments").asInt(-1);
        if (first < 0) {
          first = segments;
        }
        if (segments == 1) {
          return first;
        }
        Thread.sleep(200);
      }
      throw new IOException("the node did not merge its index within an hour");
    }

    long peakRss() {
      return vmHwm(process.pid());
    }

    static long vmHwm(long pid) {
      try {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
          if (line.startsWith("VmHWM:")) {
            return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
          }
        }
      } catch (IOException e) {
        return -1;
      }
      return -1;
    }

    private static int freePort() throws IOException {
      try (ServerSocket socket = new ServerSocket(0)) {
        return socket.getLocalPort();
      }
    }

    @Override
    public void close() throws InterruptedException {
      process.destroy();
      if (!process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    }
  }

}
