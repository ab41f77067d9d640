package dev.mnemo.index;

import java.io.IOException;
import java.util.function.BooleanSupplier;
import org.apache.lucene.codecs.KnnVectorsFormat;
import org.apache.lucene.codecs.KnnVectorsReader;
import org.apache.lucene.codecs.KnnVectorsWriter;
import org.apache.lucene.index.SegmentReadState;
import org.apache.lucene.index.SegmentWriteState;
import org.apache.lucene.store.IOContext;

/**
 * An HNSW vector format that picks, per segment written, whether to build the graph: one format
 * for flushed segments, one for merges, one for forced merges (the index merged into one segment
 * when writes pause). A segment written without a graph keeps its vectors flat, and Lucene
 * searches those exactly.
 *
 * <p>Why: a flushed segment is small (a refresh makes one, and a flush holds at most a few
 * thousand memories). The graph built for it was thrown away when a merge rebuilt it into a
 * larger one, and building it on the indexing thread was the largest cost of ingest (profiled).
 * Merges run on their own threads, so the graph is built there, beside the writers rather than
 * in their way.
 *
 * <p>All three write the same format under its registered name, so segments are read back
 * through SPI by the shipped format, and an index written with one setting opens under any other.
 */
final class GraphOnMergeFormat extends KnnVectorsFormat {
  private final KnnVectorsFormat atFlush;
  private final KnnVectorsFormat atMerge;
  private final KnnVectorsFormat atForcedMerge;
  private final BooleanSupplier forcing;

  /**
   * @param forcing whether the index's owner is force-merging now: Lucene also marks as forced
   *     any later natural merge that takes in a segment an earlier forced merge wrote
   */
  GraphOnMergeFormat(KnnVectorsFormat atFlush, KnnVectorsFormat atMerge, KnnVectorsFormat atForcedMerge,
      BooleanSupplier forcing) {
    super(atForcedMerge.getName());
    if (!atFlush.getName().equals(getName()) || !atMerge.getName().equals(getName())) {
      throw new IllegalArgumentException("every stage must write the same format");
    }
    this.atFlush = atFlush;
    this.atMerge = atMerge;
    this.atForcedMerge = atForcedMerge;
    this.forcing = forcing;
  }

  @Override
  public KnnVectorsWriter fieldsWriter(SegmentWriteState state) throws IOException {
    return formatFor(state.context).fieldsWriter(state);
  }

  private KnnVectorsFormat formatFor(IOContext context) {
    if (context.context() != IOContext.Context.MERGE) {
      return atFlush;
    }
    // A forced merge (IndexWriter.forceMerge) carries its target segment count; a natural one -1.
    boolean forced = forcing.getAsBoolean() && context.mergeInfo() != null
        && context.mergeInfo().mergeMaxNumSegments() > 0;
    return forced ? atForcedMerge : atMerge;
  }

  @Override
  public KnnVectorsReader fieldsReader(SegmentReadState state) throws IOException {
    return atForcedMerge.fieldsReader(state);
  }

  @Override
  public int getMaxDimensions(String fieldName) {
    return atForcedMerge.getMaxDimensions(fieldName);
  }

  @Override
  public String toString() {
    return "GraphOnMerge(flush=" + atFlush + ", merge=" + atMerge + ", forcedMerge=" + atForcedMerge + ")";
  }
}
