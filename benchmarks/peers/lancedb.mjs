// LanceDB peer (embedded, in-process; the native library ships inside the npm package).
//   node lancedb.mjs --data benchmarks/data/<name>-<N> --out results.jsonl --work /tmp/dir
//        [--batch 1000] [--max-seconds 30] [--warmup 100] [--clients 1,16] [--indexes hnsw-sq,ivf-pq]
//        [--keyword true] [--keep false]
// Ingests texts and vectors, compacts, builds an FTS index and a vector index, then measures
// vector search over a sweep of the index's recall knobs, full-text search and hybrid search.
// --keyword false skips the FTS index and the keyword and hybrid queries: at 1M documents
// LanceDB 0.31's FTS index build stopped making progress here (no CPU for 12 minutes, a 0-byte
// temp file in the index directory), and the vector measurements do not depend on it.
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { docBatches, loadMeta, loadQueries, loadTruth } from './lib/dataset.mjs';
import { runAsyncClients, warmUp } from './lib/load.mjs';
import { diskBytes, machine, packageVersion, parseArgs, peakRssBytes, resultWriter } from './lib/report.mjs';
import { latencySummary, recallAt10, round } from './lib/stats.mjs';
import { arrowBatch, memorySchema } from './lancedb-store.mjs';

// Lance logs deprecation warnings on every query at the default level; read before the native
// library loads, hence the dynamic import.
process.env.LANCEDB_LOG ??= 'error';
const lancedb = await import('@lancedb/lancedb');

/**
 * Vector indexes and the query-time knobs swept for each. HNSW-SQ (one IVF partition: LanceDB's
 * advice for HNSW at this scale; LanceDB's default m and ef_construction) is the headline, IVF-PQ
 * is LanceDB's classic index. refineFactor re-ranks refineFactor x 10 candidates with the
 * full-precision vectors. Keyword and hybrid queries run once, on the first index built.
 */
const VECTOR_INDEXES = {
  'hnsw-sq': {
    build: () => lancedb.Index.hnswSq({ distanceType: 'dot', numPartitions: 1 }),
    buildParams: () => ({ type: 'IVF_HNSW_SQ', numPartitions: 1, m: 'default (20)', efConstruction: 'default (300)' }),
    // Without refinement recall@10 stops rising early (candidates are ranked by their 8-bit
    // codes), so most points re-rank 2x or 5x the candidates with the stored float vectors.
    sweep: [
      { ef: 20 }, { ef: 80 }, { ef: 320 },
      // ef must be at least 10 x refineFactor (the candidates asked of the graph).
      { ef: 20, refineFactor: 2 }, { ef: 40, refineFactor: 2 }, { ef: 80, refineFactor: 2 }, { ef: 160, refineFactor: 2 },
      { ef: 50, refineFactor: 5 }, { ef: 100, refineFactor: 5 }, { ef: 320, refineFactor: 5 },
    ],
    hybrid: { ef: 80, refineFactor: 2 },
  },
  'ivf-pq': {
    // LanceDB's default partition count leaves a 10k table with one partition, where nprobes
    // does nothing; sqrt(N) partitions (100 at 10k, 1,000 at 1M) makes nprobes a real knob.
    // 48 sub-vectors of 8 dimensions: the more accurate of the usual dim/8 and dim/16 (default).
    build: () => lancedb.Index.ivfPq({ distanceType: 'dot', numPartitions: ivfPartitions(), numSubVectors: 48 }),
    buildParams: () => ({ type: 'IVF_PQ', numPartitions: ivfPartitions(), numSubVectors: 48, numBits: 8 }),
    sweep: [
      { nprobes: 10 }, { nprobes: 40 },
      { nprobes: 5, refineFactor: 10 }, { nprobes: 10, refineFactor: 10 }, { nprobes: 20, refineFactor: 10 },
      { nprobes: 40, refineFactor: 10 }, { nprobes: 80, refineFactor: 10 },
    ],
    hybrid: { nprobes: 20, refineFactor: 10 },
  },
};

const opts = parseArgs(process.argv.slice(2), {
  batch: '1000', 'max-seconds': '30', warmup: '100', clients: '1,16', indexes: 'hnsw-sq,ivf-pq', keyword: 'true', keep: 'false',
});
const meta = loadMeta(opts.data);
const clientCounts = opts.clients.split(',').map(Number);
const dir = path.join(opts.work, 'lancedb');
fs.rmSync(dir, { recursive: true, force: true });

const emit = resultWriter(opts.out, {
  system: 'lancedb',
  version: packageVersion('@lancedb/lancedb'),
  components: { 'apache-arrow': packageVersion('apache-arrow'), node: process.versions.node },
  dataset: path.basename(path.resolve(opts.data)),
  size: meta.docs,
  machine: machine(),
});

const db = await lancedb.connect(dir);
const schema = memorySchema(meta.dim);
const table = await db.createEmptyTable('memories', schema, { mode: 'overwrite' });

const ingestSeconds = await timed(async () => {
  for await (const batch of docBatches(opts.data, meta, Number(opts.batch))) await table.add(arrowBatch(schema, batch));
});
// One fragment per batch is what appends leave; LanceDB's advice is to compact them.
const compactSeconds = await timed(() => compactAndPrune(table));
const keyword = opts.keyword !== 'false';
const ftsSeconds = !keyword ? null : await timed(() => buildIndex('text', 'text_idx',
  // English stemming and stop words, as Mnemo's Lucene EnglishAnalyzer; no positions (no phrase queries).
  lancedb.Index.fts({ withPosition: false, stem: true, removeStopWords: true, language: 'English' })));

const indexNames = opts.indexes.split(',');
const queries = await loadQueries(opts.data, meta);
const truth = loadTruth(opts.data, meta);
for (const [n, name] of indexNames.entries()) {
  const spec = VECTOR_INDEXES[name];
  if (!spec) throw new Error(`unknown index ${name}; known: ${Object.keys(VECTOR_INDEXES)}`);
  const buildSeconds = await timed(() => buildIndex('vector', 'vector_idx', spec.build()));
  await compactAndPrune(table); // drop the replaced index's files before measuring disk
  const bytes = diskBytes(dir);
  const footprint = {
    index: { vector: name, ...spec.buildParams(), stats: await table.indexStats('vector_idx'), keyword: keyword ? 'fts english stem stopwords' : 'none (--keyword false)' },
    buildSeconds: round(buildSeconds, 3),
    diskBytes: bytes,
    diskBytesPerMemory: round(bytes / meta.docs, 1),
    peakRssBytes: peakRssBytes(),
  };
  if (n === 0) {
    emit({
      phase: 'ingest',
      memoriesPerSec: round(meta.docs / ingestSeconds, 1),
      ingestSeconds: round(ingestSeconds, 3),
      batchSize: Number(opts.batch),
      compactSeconds: round(compactSeconds, 3),
      ftsBuildSeconds: ftsSeconds === null ? null : round(ftsSeconds, 3),
      ...footprint,
      durability: 'no fsync: each add commits atomically (temp file + rename, manifest by link), '
        + 'so it survives a process crash but not an OS crash or power loss (strace shows no fsync/fdatasync)',
    });
  } else {
    emit({ phase: 'build', ...footprint });
  }
  for (const params of spec.sweep) await measure('vector', { index: name, ...params }, (q) => vectorQuery(q, params));
  if (n === 0 && keyword) {
    await measure('keyword', { query: 'fts match (OR of terms), bm25' }, (q) => keywordQuery(q));
    await measure('hybrid', { index: name, ...spec.hybrid, fusion: 'RRF (LanceDB default reranker, k=60)' },
      (q) => hybridQuery(q, spec.hybrid));
  }
}
if (opts.keep !== 'true') fs.rmSync(dir, { recursive: true, force: true });

function vectorQuery(q, knobs) {
  return ids(withKnobs(table.vectorSearch(queries.vector(q)), knobs));
}

function keywordQuery(q) {
  return ids(table.query().fullTextSearch(queries.texts[q], { columns: 'text' }).limit(10).select(['id']));
}

function hybridQuery(q, knobs) {
  return ids(withKnobs(table.query().fullTextSearch(queries.texts[q], { columns: 'text' }).nearestTo(queries.vector(q)), knobs));
}

function withKnobs(vectorQuery, { ef, nprobes, refineFactor }) {
  let query = vectorQuery.column('vector').distanceType('dot').limit(10).select(['id']);
  if (ef) query = query.ef(ef);
  if (nprobes) query = query.nprobes(nprobes);
  if (refineFactor) query = query.refineFactor(refineFactor);
  return query;
}

async function ids(query) {
  // A query with no match (a keyword query of stop words only) comes back without columns.
  const column = (await query.toArrow()).getChild('id');
  return column ? column.toArray() : [];
}

/**
 * LanceDB's calls are asynchronous and run on its own Rust (tokio) thread pool, so concurrency
 * here is `clients` queries in flight from this one thread: the native pool uses every core, and
 * worker threads only add runtimes competing for the same cores (at 10k, 16 in flight gave ~550
 * QPS, 16 worker threads with a connection each ~440).
 */
async function measure(phase, params, search) {
  const warmupCount = Math.min(Number(opts.warmup), meta.queries);
  for (const clients of clientCounts) {
    await warmUp({ clients, count: warmupCount, search });
    const run = await runAsyncClients({ clients, count: meta.queries, maxSeconds: Number(opts['max-seconds']), search });
    emit({
      phase,
      params,
      clients,
      concurrency: 'async, queries in flight on one thread',
      ...latencySummary(run.latencies, run.seconds),
      recallAt10: phase === 'vector' ? recallAt10(run.answers, truth, meta.truthK) : null,
      peakRssBytes: peakRssBytes(),
    });
  }
}

function ivfPartitions() {
  return Math.max(1, Math.round(Math.sqrt(meta.docs)));
}

/** Builds (or replaces) an index and returns once it covers every row. */
async function buildIndex(column, name, config) {
  await table.createIndex(column, { config, replace: true, name });
  await table.waitForIndex([name], 7000); // LanceDB caps the wait below 7,200 s
}

/** Compacts fragments and deletes every version but the current one (nothing else uses this table). */
async function compactAndPrune(t) {
  await t.optimize({ cleanupOlderThan: new Date(), deleteUnverified: true });
}

async function timed(fn) {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}
