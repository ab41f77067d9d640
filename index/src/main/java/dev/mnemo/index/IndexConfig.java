package dev.mnemo.index;

/**
 * How the Lucene index is built. {@code dimension} is the one vector length the index accepts;
 * vectors of another length (say, from a peer with another model) are indexed for keywords only.
 */
public record IndexConfig(int dimension, VectorEncoding encoding, int hnswM, int hnswBeamWidth, int searchDepth,
    GraphBuild graphBuild) {

  /** How vectors are stored in the HNSW graph. */
  public enum VectorEncoding {
    /** 32-bit floats (Lucene99HnswVectorsFormat). */
    FLOAT32,
    /** 7-bit scalar quantization (Lucene104HnswScalarQuantizedVectorsFormat). */
    INT7
  }

  /** When the HNSW graphs are built; until then a segment's vectors are flat and searched exactly. */
  public enum GraphBuild {
    /**
     * When merges combine segments, on merge threads beside the writers (the default): recall
     * stays a graph search while writes go on.
     */
    MERGE,
    /**
     * Only when writes pause and the index is merged into one segment: for bulk loads, which then
     * go at the rate of the store and the text index, while vector recall in the meantime scans
     * every vector exactly (tens of milliseconds a query at 100k memories).
     */
    IDLE
  }

  /** An index whose graphs are built by merges ({@link GraphBuild#MERGE}). */
  /**
   * The longest vector Lucene's HNSW formats index (KnnVectorsFormat.getMaxDimensions); beyond it
   * every memory with a vector would be refused.
   */
  public static final int MAX_DIMENSION = 1024;

  public IndexConfig(int dimension, VectorEncoding encoding, int hnswM, int hnswBeamWidth, int searchDepth) {
    this(dimension, encoding, hnswM, hnswBeamWidth, searchDepth, GraphBuild.MERGE);
  }

  /**
   * Defaults chosen by measurement (benchmarks/README.md): float HNSW, m=16, beam width 100, and
   * at least 64 candidates a kNN search, which gives recall@10 of about 0.95 at 100k vectors.
   */
  public static IndexConfig defaults(int dimension) {
    return new IndexConfig(dimension, VectorEncoding.FLOAT32, 16, 100, 64);
  }

  public IndexConfig {
    if (dimension < 1 || dimension > MAX_DIMENSION) {
      throw new IllegalArgumentException("vector dimension must be 1-" + MAX_DIMENSION + " (Lucene's HNSW limit)");
    }
    if (hnswM < 2 || hnswBeamWidth < 1 || searchDepth < 1) {
      throw new IllegalArgumentException("HNSW parameters must be positive");
    }
    java.util.Objects.requireNonNull(graphBuild, "graphBuild");
  }
}
