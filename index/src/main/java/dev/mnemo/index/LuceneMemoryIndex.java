package dev.mnemo.index;

import dev.mnemo.store.InvalidFormatException;
import dev.mnemo.store.cid.Cid;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.lucene.util.quantization.QuantizedByteVectorValues;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.codecs.Codec;
import org.apache.lucene.codecs.KnnVectorsFormat;
import org.apache.lucene.codecs.hnsw.HnswGraphProvider;
import org.apache.lucene.codecs.perfield.PerFieldKnnVectorsFormat;
import org.apache.lucene.index.CodecReader;
import org.apache.lucene.util.hnsw.HnswGraphSearcher;
import org.apache.lucene.codecs.lucene104.Lucene104Codec;
import org.apache.lucene.codecs.lucene104.Lucene104HnswScalarQuantizedVectorsFormat;
import org.apache.lucene.codecs.lucene99.Lucene99HnswVectorsFormat;
import org.apache.lucene.document.Document;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.FloatVectorValues;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.KnnVectorValues;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.BinaryDocValues;
import org.apache.lucene.index.NumericDocValues;
import org.apache.lucene.index.ReaderUtil;
import org.apache.lucene.index.SegmentInfos;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.BooleanClause.Occur;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.KnnFloatVectorQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.SearcherFactory;
import org.apache.lucene.search.UsageTrackingQueryCachingPolicy;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.QueryCachingPolicy;
import org.apache.lucene.search.QueryCache;
import org.apache.lucene.search.LRUQueryCache;
import org.apache.lucene.index.IndexReader;
import org.apache.lucene.search.SearcherManager;
import org.apache.lucene.search.TermInSetQuery;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.util.BytesRef;

/**
 * {@link MemoryIndex} on Lucene: one index a node, near-real-time search through a
 * {@link SearcherManager}, BM25 over text (English analysis), HNSW over unit vectors (dot product
 * = cosine), filters as FILTER clauses inside every search, hybrid by a weighted sum of the
 * signals' scores, each scaled to [0, 1] over its candidates (see {@link Fusion}). BM25 statistics
 * are each namespace's own (see {@link NamespaceText}), and each memory is also indexed with its
 * conversation context (see {@link ConversationContext}).
 * The applied log position and a schema version ride in each commit's user data.
 */
public final class LuceneMemoryIndex implements MemoryIndex {
  /** Bumped when the schema changes; an index of another version must be rebuilt (mnemo reindex). */
  public static final String SCHEMA_VERSION = "5";
  private static final String POSITION_KEY = "mnemo.position";
  private static final String VERSION_KEY = "mnemo.schema";
  private static final String DIMENSION_KEY = "mnemo.dimension";
  /**
   * The least share of the best possible BM25 score that a keyword list's best match is scaled
   * against. Measured on both development sets at the default weights (benchmarks/RECALL-QUALITY.md):
   * dividing by the best match alone let a question's name-only matches in the project's set
   * count fully (hybrid recall@5 0.863 there, against 0.911 for its vector mode); dividing by the
   * best possible alone starved LoCoMo's keyword signal (recall@5 0.740); 0.4 kept both (0.919
   * and 0.770).
   */
  static final double KEYWORD_FLOOR = 0.4;

  /**
   * With graphs built by merges, a flush writes at most this many memories, flat: an exact scan of
   * a segment this size takes a fraction of a millisecond, and merges of ten such segments build
   * their graphs. Writes to an index nobody is searching are not refreshed, so they flush only
   * when the buffer fills; a 64 MB buffer of 384-dimension memories held ~14,000, a flat segment
   * that size no longer cheap to scan, and Lucene would have built its graph on the writing thread.
   */
  static final int MERGE_MODE_FLUSH_DOCS = 8_192;

  private final IndexConfig config;
  private final Directory directory;
  private final Analyzer analyzer = MemoryDocuments.ANALYZER;
  private final IndexWriter writer;
  private final SearcherManager searchers;
  private final AtomicLong applied = new AtomicLong();
  private final AtomicLong refusedDocuments = new AtomicLong();
  private ExecutorService mergeExecutor;
  private final GraphPendingMergePolicy mergePolicy = new GraphPendingMergePolicy();
  /**
   * Set while {@link #optimize} force-merges. Lucene marks a merge as forced whenever it takes in
   * a segment that some earlier forced merge wrote, for the writer's whole life; only the merges
   * that optimize asks for may build the graphs that {@code indexGraphBuild idle} defers.
   */
  private volatile boolean forcing;

  private LuceneMemoryIndex(IndexConfig config, Directory directory) throws IOException {
    this.config = config;
    this.directory = directory;
    long position;
    try {
      position = readCommittedPosition(directory, config.dimension());
    } catch (UnreadableIndexException e) {
      // Derived state: an index that cannot be read (a damaged commit, another Lucene's format) is
      // rebuilt from the log, rather than keeping the node, and mnemo reindex, from starting.
      System.getLogger(LuceneMemoryIndex.class.getName()).log(System.Logger.Level.WARNING,
          "the recall index cannot be read (" + e.getCause() + "); rebuilding it from the log");
      // Even a writer that creates a new index reads the last commit for its generation. Under the
      // write lock, so that a process using the index (a running node) keeps it.
      try (org.apache.lucene.store.Lock lock = directory.obtainLock(IndexWriter.WRITE_LOCK_NAME)) {
        for (String file : directory.listAll()) {
          if (!file.equals(IndexWriter.WRITE_LOCK_NAME)) {
            directory.deleteFile(file);
          }
        }
      }
      position = -1;
    }
    // The index is derived state: one written with another schema or vector dimension is dropped
    // and rebuilt from the log (position 0), rather than read wrongly, refusing every new vector,
    // or left for an operator to notice. Memories whose vectors have another dimension than the
    // node's are indexed for keyword recall only.
    boolean rebuild = position < 0;
    if (rebuild) {
      System.getLogger(LuceneMemoryIndex.class.getName()).log(System.Logger.Level.WARNING,
          "the recall index has another schema or vector dimension than this node's (" + config.dimension()
              + "); rebuilding it from the log");
      position = 0;
    }
    IndexWriterConfig iwc = new IndexWriterConfig(analyzer)
        .setCodec(codec(config))
        .setOpenMode(rebuild ? IndexWriterConfig.OpenMode.CREATE : IndexWriterConfig.OpenMode.CREATE_OR_APPEND)
        .setRAMBufferSizeMB(64)
        .setMergePolicy(mergePolicy);
    if (config.graphBuild() == IndexConfig.GraphBuild.MERGE) {
      iwc.setMaxBufferedDocs(MERGE_MODE_FLUSH_DOCS);
    }
    this.writer = new IndexWriter(directory, iwc);
    this.searchers = new SearcherManager(writer, new FilterCachingSearcherFactory());
    this.applied.set(position);
  }

  /**
   * Searchers that cache the recall filters (namespace, and whatever else a recall filters on) per
   * segment. A filtered kNN search first turns its filter into a bitset of the accepted documents;
   * uncached, that walked the namespace's postings on every query, a cost that grows with the
   * index. Lucene's default policy never caches a term query, since one is cheap to run once.
   */
  private static final class FilterCachingSearcherFactory extends SearcherFactory {
    private static final QueryCache CACHE = new LRUQueryCache(1_000, 64L << 20);

    @Override
    public IndexSearcher newSearcher(IndexReader reader, IndexReader previous) {
      IndexSearcher searcher = new IndexSearcher(reader);
      searcher.setQueryCache(CACHE);
      searcher.setQueryCachingPolicy(new RecallFilterCachingPolicy());
      return searcher;
    }
  }

  /** Caches recall filters (conjunctions that include the namespace term); defers the rest to Lucene's policy. */
  private static final class RecallFilterCachingPolicy implements QueryCachingPolicy {
    private final UsageTrackingQueryCachingPolicy usage = new UsageTrackingQueryCachingPolicy();

    @Override
    public void onUse(Query query) {
      usage.onUse(query);
    }

    @Override
    public boolean shouldCache(Query query) throws IOException {
      if (MemoryDocuments.readsValidity(query)) {
        // Its time is usually "now", new every recall: cached, it would only push out the filters that repeat.
        return false;
      }
      return isRecallFilter(query) || usage.shouldCache(query);
    }

    private static boolean isRecallFilter(Query query) {
      if (query instanceof TermQuery term) {
        return term.getTerm().field().equals(MemoryDocuments.NS);
      }
      if (query instanceof BooleanQuery bool) {
        return bool.clauses().stream().allMatch(c -> c.occur() == Occur.FILTER || c.occur() == Occur.MUST_NOT)
            && bool.clauses().stream().anyMatch(c -> c.occur() == Occur.FILTER && isRecallFilter(c.query()));
      }
      return false;
    }
  }

  /**
   * The vector dimension the index at {@code dir} was last committed with, if it says: what the
   * offline commands check their settings against before opening it, which with another dimension
   * would rebuild it.
   */
  public static java.util.OptionalInt committedDimension(Path dir) throws IOException {
    if (!java.nio.file.Files.isDirectory(dir)) {
      // FSDirectory.open would create it, and its parents, from the umask (755).
      return java.util.OptionalInt.empty();
    }
    try (Directory directory = FSDirectory.open(dir)) {
      String dimension = lastCommitData(directory).get(DIMENSION_KEY);
      return dimension == null ? java.util.OptionalInt.empty() : java.util.OptionalInt.of(Integer.parseInt(dimension));
    } catch (UnreadableIndexException e) {
      return java.util.OptionalInt.empty();
    }
  }

  /** An index whose last commit cannot be read: damaged, or written by another Lucene's format. */
  private static final class UnreadableIndexException extends IOException {
    UnreadableIndexException(IOException cause) {
      super(cause);
    }
  }

  /** The user data of the last commit; empty when there is no index yet. */
  private static Map<String, String> lastCommitData(Directory directory) throws IOException {
    if (!DirectoryReader.indexExists(directory)) {
      return Map.of();
    }
    try {
      return SegmentInfos.readLatestCommit(directory).getUserData();
    } catch (org.apache.lucene.index.CorruptIndexException | org.apache.lucene.index.IndexFormatTooOldException
        | org.apache.lucene.index.IndexFormatTooNewException | java.nio.file.NoSuchFileException e) {
      throw new UnreadableIndexException(e);
    }
  }

  public static LuceneMemoryIndex open(Path dir, IndexConfig config) throws IOException {
    // Owner-only like the rest of the data directory: the index holds the memories' text. Lucene
    // would create it from the umask (755).
    dev.mnemo.store.identity.PrivateFiles.createDirectories(dir);
    return new LuceneMemoryIndex(config, FSDirectory.open(dir));
  }

  /**
   * The applied position of the last commit; -1 when that commit has another schema version or
   * vector dimension, since Lucene fixes a field's dimension for good once it holds a vector.
   */
  private static long readCommittedPosition(Directory directory, int dimension) throws IOException {
    Map<String, String> data = lastCommitData(directory);
    String version = data.get(VERSION_KEY);
    if (version != null && !version.equals(SCHEMA_VERSION)) {
      return -1;
    }
    String committedDimension = data.get(DIMENSION_KEY);
    if (committedDimension != null && Integer.parseInt(committedDimension) != dimension) {
      return -1;
    }
    String position = data.get(POSITION_KEY);
    return position == null ? 0 : Long.parseLong(position);
  }

  private Codec codec(IndexConfig config) {
    // HNSW merges build graphs, the costliest part of ingest (profiled); with more than one core
    // they run on a small pool of their own rather than one merge thread.
    int workers = Math.min(2, Runtime.getRuntime().availableProcessors());
    ExecutorService merges = workers > 1 ? mergeWorkers(workers) : null;
    KnnVectorsFormat graph = vectorFormat(config, Lucene99HnswVectorsFormat.HNSW_GRAPH_THRESHOLD, workers, merges);
    KnnVectorsFormat flat = vectorFormat(config, Integer.MAX_VALUE, workers, merges);
    KnnVectorsFormat format = switch (config.graphBuild()) {
      // Flushed segments stay flat (at most MERGE_MODE_FLUSH_DOCS memories); merges build graphs
      // above Lucene's own tiny-segment size.
      case MERGE -> new GraphOnMergeFormat(flat, graph, graph, () -> forcing);
      case IDLE -> new GraphOnMergeFormat(flat, flat, graph, () -> forcing);
    };
    return new Lucene104Codec() {
      @Override
      public KnnVectorsFormat getKnnVectorsFormatForField(String field) {
        return format;
      }
    };
  }

  /** The configured HNSW format, building a graph for a segment only above {@code threshold} (Lucene's "tiny segments" rule). */
  private static KnnVectorsFormat vectorFormat(IndexConfig config, int threshold, int workers, ExecutorService merges) {
    return switch (config.encoding()) {
      case FLOAT32 -> new Lucene99HnswVectorsFormat(config.hnswM(), config.hnswBeamWidth(), workers, merges, threshold);
      case INT7 -> new Lucene104HnswScalarQuantizedVectorsFormat(QuantizedByteVectorValues.ScalarEncoding.SEVEN_BIT,
          config.hnswM(), config.hnswBeamWidth(), workers, merges, threshold);
    };
  }

  private ExecutorService mergeWorkers(int workers) {
    mergeExecutor = Executors.newFixedThreadPool(workers, r -> Thread.ofPlatform().name("mnemo-hnsw-merge").daemon(true).unstarted(r));
    return mergeExecutor;
  }

  public IndexConfig config() {
    return config;
  }

  @Override
  public void add(List<IndexedMemory> memories) throws IOException {
    for (IndexedMemory memory : memories) {
      try {
        Document doc = MemoryDocuments.toDocument(memory, config.dimension());
        writer.updateDocument(new Term(MemoryDocuments.CID, memory.cid().toString()), doc);
      } catch (IllegalArgumentException e) {
        refused(memory, e);
      }
    }
  }

  @Override
  public void addNew(List<IndexedMemory> memories) throws IOException {
    // Profiled at 100k in bulk mode, the delete term that updateDocument buffers for each memory
    // (and applies to the flushed and older segments) cost a sixth of the indexing thread.
    for (IndexedMemory memory : memories) {
      try {
        writer.addDocument(MemoryDocuments.toDocument(memory, config.dimension()));
      } catch (IllegalArgumentException e) {
        refused(memory, e);
      }
    }
  }

  /**
   * A document Lucene refuses (its writer stays usable: the exception is not an aborting one) is
   * left out of recall and logged. Thrown on, it would fail the indexer's page on every retry, so
   * that nothing after it was ever indexed and the node could not start. The known causes (an
   * infinite vector, an immense term, a metadata key sharing another's field) are kept out of
   * documents in {@link MemoryDocuments}; this is the last line against any other.
   */
  private void refused(IndexedMemory memory, IllegalArgumentException e) {
    refusedDocuments.incrementAndGet();
    System.getLogger(LuceneMemoryIndex.class.getName()).log(System.Logger.Level.WARNING,
        "memory " + memory.cid() + " in namespace " + memory.memory().ns() + " left out of the index: " + e.getMessage());
  }

  /** How many memories Lucene refused since this index was opened (see {@link #refused}). */
  public long refusedDocuments() {
    return refusedDocuments.get();
  }

  @Override
  public void remove(String ns, List<Cid> memories) throws IOException {
    if (memories.isEmpty()) {
      return;
    }
    Query cids = new TermInSetQuery(MemoryDocuments.CID, memories.stream().map(c -> new BytesRef(c.toString())).toList());
    writer.deleteDocuments(new BooleanQuery.Builder()
        .add(cids, Occur.FILTER)
        .add(new TermQuery(new Term(MemoryDocuments.NS, ns)), Occur.FILTER)
        .build());
  }

  @Override
  public List<Cid> contextDependents(String ns, List<Cid> predecessors) throws IOException {
    if (predecessors.isEmpty()) {
      return List.of();
    }
    // Forgets are rare next to adds: a refresh here (to see what this page added) costs little.
    searchers.maybeRefreshBlocking();
    IndexSearcher searcher = searchers.acquire();
    try {
      Query dependents = new BooleanQuery.Builder()
          .add(new TermInSetQuery(MemoryDocuments.CONTEXT_OF, predecessors.stream().map(c -> new BytesRef(c.toString())).toList()), Occur.FILTER)
          .add(new TermQuery(new Term(MemoryDocuments.NS, ns)), Occur.FILTER)
          .build();
      List<Cid> out = new ArrayList<>();
      for (ScoreDoc sd : searcher.search(dependents, Math.max(1, searcher.getIndexReader().maxDoc())).scoreDocs) {
        out.add(cidOf(searcher, sd.doc));
      }
      return out;
    } finally {
      searchers.release(searcher);
    }
  }

  @Override
  public void invalidated(Cid memory, long invalidatedAt) throws IOException {
    if (!writer.getFieldNames().contains(MemoryDocuments.INVALID_AT)) {
      // No document since the index was created or cleared: none to update, and Lucene refuses
      // an update of a field it does not know.
      return;
    }
    // A memory's CID names its namespace too (the block holds it), so the term finds only its document.
    writer.updateNumericDocValue(new Term(MemoryDocuments.CID, memory.toString()), MemoryDocuments.INVALID_AT, invalidatedAt);
  }

  @Override
  public boolean isEmpty() {
    // The writer's count includes documents added but not yet flushed, and deleted ones not yet merged away.
    return writer.getDocStats().maxDoc == 0;
  }

  @Override
  public void markApplied(long position) {
    applied.accumulateAndGet(position, Math::max);
  }

  @Override
  public long appliedPosition() {
    return applied.get();
  }

  @Override
  public void refresh() throws IOException {
    searchers.maybeRefreshBlocking();
  }

  private long committedPosition = -1;

  @Override
  public synchronized void commit() throws IOException {
    // The commit task runs every few seconds; with nothing new, a commit would still write and
    // sync a new commit point for its user data.
    if (applied.get() == committedPosition && !writer.hasUncommittedChanges()) {
      return;
    }
    long position = applied.get();
    Map<String, String> data = new HashMap<>();
    data.put(POSITION_KEY, Long.toString(position));
    data.put(VERSION_KEY, SCHEMA_VERSION);
    data.put(DIMENSION_KEY, Integer.toString(config.dimension()));
    writer.setLiveCommitData(data.entrySet());
    writer.commit();
    committedPosition = position;
  }

  @Override
  public synchronized void clear() throws IOException {
    writer.deleteAll();
    applied.set(0);
    commit();
    refresh();
  }

  @Override
  public int size() throws IOException {
    IndexSearcher searcher = searchers.acquire();
    try {
      return searcher.getIndexReader().numDocs();
    } finally {
      searchers.release(searcher);
    }
  }

  @Override
  public int segmentCount() throws IOException {
    IndexSearcher searcher = searchers.acquire();
    try {
      return searcher.getIndexReader().leaves().size();
    } finally {
      searchers.release(searcher);
    }
  }

  /**
   * One segment: measured at 100k memories, a vector recall over the 9-16 segments that Lucene's
   * merge policy leaves after ingest ran at a third of the rate of one over a single segment at
   * the same recall@10 (benchmarks/README.md), and merging took 26 s. An index that is one
   * segment already is rewritten when that segment's vectors are flat, which builds its graph.
   */
  @Override
  public synchronized boolean optimize() throws IOException {
    searchers.maybeRefreshBlocking();
    int segments = segmentCount();
    if (segments == 0 || (segments == 1 && !hasFlatSegmentWorthAGraph())) {
      return false;
    }
    forceMergeIntoOne(segments == 1);
    searchers.maybeRefreshBlocking();
    // A natural merge of every segment that was already running when the forced merge began
    // was written as such (flat, in idle mode), and Lucene counts its output as merged.
    if (segmentCount() == 1 && hasFlatSegmentWorthAGraph()) {
      forceMergeIntoOne(true);
      searchers.maybeRefreshBlocking();
    }
    return true;
  }

  private void forceMergeIntoOne(boolean rewriteLoneSegment) throws IOException {
    forcing = true;
    mergePolicy.rewriteLoneSegment(rewriteLoneSegment);
    try {
      writer.forceMerge(1, true);
    } finally {
      mergePolicy.rewriteLoneSegment(false);
      forcing = false;
    }
  }

  /**
   * Whether a segment keeps its vectors flat although it holds more than Lucene would search
   * exactly (its own rule for tiny segments); such a segment gets its graph only by a merge.
   */
  private boolean hasFlatSegmentWorthAGraph() throws IOException {
    IndexSearcher searcher = searchers.acquire();
    try {
      for (LeafReaderContext leaf : searcher.getIndexReader().leaves()) {
        FloatVectorValues vectors = leaf.reader().getFloatVectorValues(MemoryDocuments.VECTOR);
        // Lucene's own rule for a graph (Lucene99HnswVectorsWriter.shouldCreateGraph), over the
        // live documents: a segment below it is searched exactly by design.
        int live = vectors == null ? 0 : Math.min(vectors.size(), leaf.reader().numDocs());
        int expected = HnswGraphSearcher.expectedVisitedNodes(Lucene99HnswVectorsFormat.HNSW_GRAPH_THRESHOLD, live);
        if (live <= expected || expected <= 0) {
          continue;
        }
        if (leaf.reader() instanceof CodecReader codec
            && codec.getVectorReader() instanceof PerFieldKnnVectorsFormat.FieldsReader perField
            && perField.getFieldReader(MemoryDocuments.VECTOR) instanceof HnswGraphProvider graphs
            && graphs.getGraph(MemoryDocuments.VECTOR).size() == 0) {
          return true;
        }
      }
      return false;
    } finally {
      searchers.release(searcher);
    }
  }

  @Override
  public RecallResult recall(RecallQuery query) throws IOException {
    long start = System.nanoTime();
    IndexSearcher searcher = searchers.acquire();
    try {
      List<RecallHit> hits = new Recall(searcher, query).run();
      return new RecallResult(hits, (System.nanoTime() - start) / 1e6);
    } catch (IndexSearcher.TooManyClauses e) {
      // Each distinct word of a keyword query is a clause; a bad request, not a failure.
      throw new IllegalArgumentException("the query has more distinct words than a keyword recall takes ("
          + IndexSearcher.getMaxClauseCount() + ")", e);
    } finally {
      searchers.release(searcher);
    }
  }

  /** One recall against one searcher snapshot. */
  private final class Recall {
    private final IndexSearcher searcher;
    private final RecallQuery query;
    private final Query filter;
    private final int depth;
    private final float[] vector;

    Recall(IndexSearcher searcher, RecallQuery query) {
      this.searcher = searcher;
      this.query = query;
      this.filter = MemoryDocuments.filterQuery(query.ns(), query.filter(), query.includeSuperseded());
      // Fusion and HNSW recall both want more candidates than the k asked for; the HNSW default
      // of 64 serves both (benchmarks/RECALL-QUALITY.md measures 64 against 200).
      this.depth = query.fusion().depth() > 0 ? query.fusion().depth()
          : Math.min(Math.max(query.k() * 4, config.searchDepth()), Fusion.MAX_DEPTH);
      this.vector = query.vector() == null ? null : MemoryDocuments.normalized(query.vector());
    }

    List<RecallHit> run() throws IOException {
      double context = query.fusion().context();
      Map<Integer, Double> keyword = new LinkedHashMap<>();
      Map<Integer, Double> keywordContext = new LinkedHashMap<>();
      Map<Integer, Double> semantic = new LinkedHashMap<>();
      Map<Integer, Double> semanticContext = new LinkedHashMap<>();
      if (query.mode() != RecallMode.VECTOR) {
        Query text = keywordQuery(MemoryDocuments.TEXT);
        if (text != null) {
          collect(textSearcher().search(withFilter(text), depth), keyword, false);
          if (context > 0) {
            collect(textSearcher().search(withFilter(keywordQuery(MemoryDocuments.CONTEXT_TEXT)), depth), keywordContext, false);
          }
        }
      }
      if (query.mode() != RecallMode.KEYWORD && vector != null) {
        collect(searcher.search(new KnnFloatVectorQuery(MemoryDocuments.VECTOR, vector, depth, filter), depth), semantic, true);
        if (context > 0) {
          collect(searcher.search(new KnnFloatVectorQuery(MemoryDocuments.CONTEXT_VECTOR, vector, depth, filter), depth),
              semanticContext, true);
        }
      }
      Map<Integer, Double> fused = fuse(keyword, keywordContext, semantic, semanticContext);
      List<Integer> top = rankWithRecency(fused);
      if (query.mode() == RecallMode.HYBRID) {
        fillMissingKeywordScores(top, keyword);
        fillMissingVectorScores(top, semantic);
      }
      List<RecallHit> hits = new ArrayList<>(top.size());
      for (int doc : top) {
        hits.add(new RecallHit(cidOf(doc), finalScores.get(doc), keyword.get(doc), semantic.get(doc), timestampOf(doc)));
      }
      return hits;
    }

    private final Map<Integer, Double> finalScores = new HashMap<>();
    private IndexSearcher textSearcher;

    /** The same snapshot, with BM25 statistics of the query's namespace only (see NamespaceText). */
    private IndexSearcher textSearcher() throws IOException {
      if (textSearcher == null) {
        textSearcher = NamespaceText.searcher(searcher.getIndexReader(), query.ns(), searcher);
      }
      return textSearcher;
    }

    private Query keywordQuery(String field) {
      return NamespaceText.query(field, query.ns(), query.text(), analyzer);
    }

    private Query withFilter(Query scored) {
      return new BooleanQuery.Builder().add(scored, Occur.MUST).add(filter, Occur.FILTER).build();
    }

    private void collect(TopDocs top, Map<Integer, Double> into, boolean vectorScores) {
      for (ScoreDoc sd : top.scoreDocs) {
        // Lucene scores DOT_PRODUCT as (1 + cos) / 2; report the cosine itself.
        into.put(sd.doc, vectorScores ? 2.0 * sd.score - 1 : (double) sd.score);
      }
    }

    /**
     * Each signal's scores scaled to [0, 1], then summed with the weights of {@link Fusion}: the
     * keyword family (the memory's BM25, and BM25 of the memory with its predecessor's text) and
     * the vector family (its cosine, and the cosine of the vector of both texts), each family
     * splitting its weight between the memory's own signal and its context's. A memory missing
     * from a list gets 0 from it, except that a memory with no context vector counts its own
     * cosine in its family's context share, so memories without a predecessor (or whose vectors
     * came from a client) are not ranked below the rest. BM25 is divided by its best score;
     * cosine is scaled min-max over its candidates, since cosines sit in a narrow band where
     * dividing by the best would flatten them (recall@5 0.831 against 0.935 on the project's set).
     */
    private Map<Integer, Double> fuse(Map<Integer, Double> keyword, Map<Integer, Double> keywordContext,
        Map<Integer, Double> semantic, Map<Integer, Double> semanticContext) throws IOException {
      double keywordShare = switch (query.mode()) {
        case KEYWORD -> 1;
        case VECTOR -> 0;
        case HYBRID -> query.fusion().keyword();
      };
      double context = query.fusion().context();
      Map<Integer, Double> fused = new LinkedHashMap<>();
      addWeighted(fused, keywordScaled(keyword, MemoryDocuments.TEXT), keywordShare * (1 - context));
      addWeighted(fused, keywordScaled(keywordContext, MemoryDocuments.CONTEXT_TEXT), keywordShare * context);
      Map<Integer, Double> own = minMaxScaled(semantic);
      addWeighted(fused, own, (1 - keywordShare) * (1 - context));
      Map<Integer, Double> withContext = minMaxScaled(semanticContext);
      if (context > 0) {
        for (Map.Entry<Integer, Double> e : own.entrySet()) {
          if (!withContext.containsKey(e.getKey()) && !hasContextVector(e.getKey())) {
            withContext.put(e.getKey(), e.getValue());
          }
        }
      }
      addWeighted(fused, withContext, (1 - keywordShare) * context);
      return fused;
    }

    private static void addWeighted(Map<Integer, Double> fused, Map<Integer, Double> scaled, double weight) {
      if (weight <= 0) {
        for (Integer doc : scaled.keySet()) {
          fused.putIfAbsent(doc, 0.0);
        }
        return;
      }
      for (Map.Entry<Integer, Double> e : scaled.entrySet()) {
        fused.merge(e.getKey(), weight * e.getValue(), Double::sum);
      }
    }

    /**
     * BM25 divided by the larger of its best score and {@link #KEYWORD_FLOOR} times the best
     * score possible for the query (see {@link NamespaceText#bestPossibleScore}): a best match
     * that shares only a name with the question then counts for little rather than for 1.
     */
    private Map<Integer, Double> keywordScaled(Map<Integer, Double> list, String field) throws IOException {
      Map<Integer, Double> out = new LinkedHashMap<>();
      if (list.isEmpty()) {
        return out;
      }
      double best = list.values().stream().mapToDouble(Double::doubleValue).max().orElse(0);
      double divisor = Math.max(best,
          KEYWORD_FLOOR * NamespaceText.bestPossibleScore(searcher.getIndexReader(), field, query.ns(), query.text(), analyzer));
      for (Map.Entry<Integer, Double> e : list.entrySet()) {
        out.put(e.getKey(), divisor > 0 ? e.getValue() / divisor : 1);
      }
      return out;
    }

    /** {@code (score - min) / (max - min)} of each candidate; 1 when all tie. */
    private static Map<Integer, Double> minMaxScaled(Map<Integer, Double> list) {
      Map<Integer, Double> out = new LinkedHashMap<>();
      double max = Double.NEGATIVE_INFINITY;
      double min = Double.POSITIVE_INFINITY;
      for (double score : list.values()) {
        max = Math.max(max, score);
        min = Math.min(min, score);
      }
      for (Map.Entry<Integer, Double> e : list.entrySet()) {
        out.put(e.getKey(), max > min ? (e.getValue() - min) / (max - min) : 1);
      }
      return out;
    }

    private boolean hasContextVector(int doc) throws IOException {
      List<LeafReaderContext> leaves = searcher.getIndexReader().leaves();
      LeafReaderContext leaf = leaves.get(ReaderUtil.subIndex(doc, leaves));
      FloatVectorValues values = leaf.reader().getFloatVectorValues(MemoryDocuments.CONTEXT_VECTOR);
      if (values == null) {
        return false;
      }
      int local = doc - leaf.docBase;
      return values.iterator().advance(local) == local;
    }

    private List<Integer> rankWithRecency(Map<Integer, Double> fused) throws IOException {
      double w = query.recencyWeight();
      for (Map.Entry<Integer, Double> e : fused.entrySet()) {
        double score = e.getValue();
        if (w > 0) {
          double age = Math.max(0, query.nowMillis() - timestampOf(e.getKey()));
          double recency = Math.pow(0.5, age / query.recencyHalfLifeMillis());
          score = (1 - w) * score + w * recency;
        }
        finalScores.put(e.getKey(), score);
      }
      List<Map.Entry<Integer, Double>> ranked = finalScores.entrySet().stream()
          .sorted(Map.Entry.<Integer, Double>comparingByValue().reversed())
          .toList();
      return topWithTiesByCid(ranked);
    }

    /**
     * The first k of {@code ranked}, with memories of equal score ordered by CID. Doc ids depend
     * on the order a node applied its entries, so two replicas holding the same memories would
     * otherwise break ties (common in BM25: "trip number 5" and "trip number 105") differently.
     * Only the runs of ties that reach into the top k pay for a CID lookup.
     */
    private List<Integer> topWithTiesByCid(List<Map.Entry<Integer, Double>> ranked) throws IOException {
      List<Integer> top = new ArrayList<>(Math.min(query.k(), ranked.size()));
      int i = 0;
      while (top.size() < query.k() && i < ranked.size()) {
        double score = ranked.get(i).getValue();
        int end = i + 1;
        while (end < ranked.size() && ranked.get(end).getValue() == score) {
          end++;
        }
        List<Integer> run = new ArrayList<>(end - i);
        ranked.subList(i, end).forEach(e -> run.add(e.getKey()));
        if (run.size() > 1) {
          Map<Integer, Cid> cids = new HashMap<>();
          for (int doc : run) {
            cids.put(doc, cidOf(doc));
          }
          run.sort(java.util.Comparator.comparing(cids::get));
        }
        top.addAll(run.subList(0, Math.min(run.size(), query.k() - top.size())));
        i = end;
      }
      return top;
    }

    /** BM25 of hits that only the vector search found, by scoring the text query on just them. */
    private void fillMissingKeywordScores(List<Integer> top, Map<Integer, Double> keyword) throws IOException {
      List<BytesRef> missing = new ArrayList<>();
      for (int doc : top) {
        if (!keyword.containsKey(doc)) {
          missing.add(new BytesRef(cidOf(doc).toString()));
        }
      }
      Query text = keywordQuery(MemoryDocuments.TEXT);
      if (missing.isEmpty() || text == null) {
        return;
      }
      Query only = new BooleanQuery.Builder()
          .add(text, Occur.MUST)
          .add(new TermInSetQuery(MemoryDocuments.CID, missing), Occur.FILTER)
          .build();
      for (ScoreDoc sd : textSearcher().search(only, missing.size()).scoreDocs) {
        keyword.put(sd.doc, (double) sd.score);
      }
    }

    /** Cosine of hits that only the keyword search found, from their stored vectors. */
    private void fillMissingVectorScores(List<Integer> top, Map<Integer, Double> semantic) throws IOException {
      if (vector == null) {
        return;
      }
      List<LeafReaderContext> leaves = searcher.getIndexReader().leaves();
      for (int doc : top) {
        if (semantic.containsKey(doc)) {
          continue;
        }
        LeafReaderContext leaf = leaves.get(ReaderUtil.subIndex(doc, leaves));
        FloatVectorValues values = leaf.reader().getFloatVectorValues(MemoryDocuments.VECTOR);
        if (values == null) {
          continue;
        }
        KnnVectorValues.DocIndexIterator it = values.iterator();
        int local = doc - leaf.docBase;
        if (it.advance(local) == local) {
          float[] v = values.vectorValue(it.index());
          double dot = 0;
          for (int i = 0; i < v.length; i++) {
            dot += v[i] * vector[i];
          }
          semantic.put(doc, dot);
        }
      }
    }

    private Cid cidOf(int doc) throws IOException {
      return LuceneMemoryIndex.cidOf(searcher, doc);
    }

    private long timestampOf(int doc) throws IOException {
      List<LeafReaderContext> leaves = searcher.getIndexReader().leaves();
      LeafReaderContext leaf = leaves.get(ReaderUtil.subIndex(doc, leaves));
      NumericDocValues ts = leaf.reader().getNumericDocValues(MemoryDocuments.TS);
      int local = doc - leaf.docBase;
      return ts != null && ts.advanceExact(local) ? ts.longValue() : 0;
    }
  }


  private static Cid cidOf(IndexSearcher searcher, int doc) throws IOException {
    List<LeafReaderContext> leaves = searcher.getIndexReader().leaves();
    LeafReaderContext leaf = leaves.get(ReaderUtil.subIndex(doc, leaves));
    BinaryDocValues cids = leaf.reader().getBinaryDocValues(MemoryDocuments.CID);
    if (cids == null || !cids.advanceExact(doc - leaf.docBase)) {
      throw new IOException("index document " + doc + " has no CID: run 'mnemo reindex'");
    }
    BytesRef bytes = cids.binaryValue();
    try {
      return Cid.fromBytes(java.util.Arrays.copyOfRange(bytes.bytes, bytes.offset, bytes.offset + bytes.length));
    } catch (InvalidFormatException e) {
      throw new IOException("index holds a malformed CID: run 'mnemo reindex'", e);
    }
  }

  @Override
  public void close() throws IOException {
    try {
      commit();
    } finally {
      searchers.close();
      writer.close();
      directory.close();
      if (mergeExecutor != null) {
        mergeExecutor.shutdown();
      }
    }
  }
}
