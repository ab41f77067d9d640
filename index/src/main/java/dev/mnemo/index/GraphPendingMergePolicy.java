package dev.mnemo.index;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.apache.lucene.index.FilterMergePolicy;
import org.apache.lucene.index.MergePolicy;
import org.apache.lucene.index.SegmentCommitInfo;
import org.apache.lucene.index.SegmentInfos;
import org.apache.lucene.index.TieredMergePolicy;

/**
 * Lucene's tiered merge policy, except that a forced merge into one segment also rewrites an
 * index that is one segment already, while {@link #rewriteLoneSegment} is set.
 *
 * <p>Why: a segment whose vectors were kept flat (see {@link GraphOnMergeFormat}) gets its graph
 * only by being merged, and Lucene skips a forced merge of an index that is one segment. With
 * {@code indexGraphBuild idle}, natural merges could leave a whole bulk load in one flat segment,
 * which every vector recall would then scan.
 */
final class GraphPendingMergePolicy extends FilterMergePolicy {
  private volatile boolean rewriteLoneSegment;

  GraphPendingMergePolicy() {
    super(new TieredMergePolicy());
  }

  void rewriteLoneSegment(boolean rewrite) {
    this.rewriteLoneSegment = rewrite;
  }

  @Override
  public MergeSpecification findForcedMerges(SegmentInfos infos, int maxSegmentCount,
      Map<SegmentCommitInfo, Boolean> segmentsToMerge, MergeContext context) throws IOException {
    MergeSpecification spec = super.findForcedMerges(infos, maxSegmentCount, segmentsToMerge, context);
    if (spec != null || !rewriteLoneSegment || maxSegmentCount != 1 || infos.size() != 1) {
      return spec;
    }
    SegmentCommitInfo lone = infos.info(0);
    // TRUE marks a segment that was there when the forced merge began; the rewritten one is
    // FALSE, and asking again after the rewrite finishes must not rewrite it once more.
    if (!Boolean.TRUE.equals(segmentsToMerge.get(lone)) || context.getMergingSegments().contains(lone)) {
      return null;
    }
    MergeSpecification rewrite = new MergeSpecification();
    rewrite.add(new MergePolicy.OneMerge(List.of(lone)));
    return rewrite;
  }
}
