// Latency percentiles (nearest rank over the sorted samples: exact, no histogram buckets) and recall.

export function latencySummary(latenciesMs, seconds) {
  const sorted = Float64Array.from(latenciesMs).sort();
  const at = (p) => sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] : null;
  return {
    queries: sorted.length,
    seconds: round(seconds, 3),
    qps: round(sorted.length / seconds, 1),
    p50Ms: round(at(0.50), 3),
    p95Ms: round(at(0.95), 3),
    p99Ms: round(at(0.99), 3),
  };
}

/** Mean over answered queries of |returned top-10 ∩ exact top-10| / 10. */
export function recallAt10(answers, truth, truthK) {
  let sum = 0;
  for (const { q, ids } of answers) {
    const exact = new Set(truth.subarray(q * truthK, q * truthK + 10));
    let hits = 0;
    for (const id of Array.from(ids).slice(0, 10)) if (exact.has(Number(id))) hits++;
    sum += hits / 10;
  }
  return answers.length ? round(sum / answers.length, 4) : null;
}

export function round(x, digits) {
  if (x === null || x === undefined) return null;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
