package dev.mnemo.index;

import java.io.IOException;
import org.apache.lucene.codecs.KnnVectorsFormat;
import org.apache.lucene.codecs.KnnVectorsReader;
import org.apache.lucene.codecs.KnnVectorsWriter;
import org.apache.lucene.index.SegmentReadState;
import org.apache.lucene.index.SegmentWriteState;
import org.apache.lucene.store.IOContext;

/**
 * An HNSW vector format that builds no graph when a segment is flushed, only when segments are
 * merged into one of at least a given size. Smaller segments keep their vectors flat, and Lucene
 * searches those exactly.
 *
 * <p>Why: every batch a writer has acknowledged is flushed into a segment so that recall sees it.
 * The graph built for that segment was thrown away when merges rebuilt it into a larger one,
 * and building it on the indexing thread was the largest cost of ingest (profiled). Merges run on
 * their own threads, so the graph is now built once, beside the writers rather than in their way.
 *
 * <p>Both writers write the wrapped format's files under its registered name, so segments are
 * read back through SPI by the shipped format; an index written with one setting opens under any
 * other.
 */
final class GraphOnMergeFormat extends KnnVectorsFormat {
  private final KnnVectorsFormat atFlush;
  private final KnnVectorsFormat atMerge;

  /**
   * @param atFlush the format for flushed segments (one that builds no graph)
   * @param atMerge the format for merged segments, and the one that reads every segment
   */
  GraphOnMergeFormat(KnnVectorsFormat atFlush, KnnVectorsFormat atMerge) {
    super(atMerge.getName());
    if (!atFlush.getName().equals(atMerge.getName())) {
      throw new IllegalArgumentException("flush and merge formats must write the same format");
    }
    this.atFlush = atFlush;
    this.atMerge = atMerge;
  }

  @Override
  public KnnVectorsWriter fieldsWriter(SegmentWriteState state) throws IOException {
    return (state.context.context() == IOContext.Context.MERGE ? atMerge : atFlush).fieldsWriter(state);
  }

  @Override
  public KnnVectorsReader fieldsReader(SegmentReadState state) throws IOException {
    return atMerge.fieldsReader(state);
  }

  @Override
  public int getMaxDimensions(String fieldName) {
    return atMerge.getMaxDimensions(fieldName);
  }

  @Override
  public String toString() {
    return "GraphOnMerge(flush=" + atFlush + ", merge=" + atMerge + ")";
  }
}
