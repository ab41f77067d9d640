// sqlite-vec peer: SQLite (better-sqlite3, in-process) with the sqlite-vec vec0 table, the
// brute-force baseline: every KNN query scans all vectors, so recall@10 is 1 by construction.
//   node sqlite-vec.mjs --data benchmarks/data/<name>-<N> --out results.jsonl --work /tmp/dir
//        [--batch 1000] [--max-seconds 30] [--warmup 100] [--clients 1,16] [--keep false]
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { docBatches, loadMeta, loadTruth } from './lib/dataset.mjs';
import { diskBytes, machine, packageVersion, parseArgs, peakRssBytes, resultWriter } from './lib/report.mjs';
import { latencySummary, recallAt10, round } from './lib/stats.mjs';
import { runWorkerClients } from './lib/workers.mjs';
import { batchInserter, buildFullText, createSchema, openStore } from './sqlite-vec-store.mjs';

const opts = parseArgs(process.argv.slice(2), { batch: '1000', 'max-seconds': '30', warmup: '100', clients: '1,16', keep: 'false' });
const meta = loadMeta(opts.data);
const dir = path.join(opts.work, 'sqlite-vec');
const dbFile = path.join(dir, 'memories.db');
fs.rmSync(dir, { recursive: true, force: true });
fs.mkdirSync(dir, { recursive: true });

const db = openStore(dbFile);
const versions = db.prepare('SELECT sqlite_version() AS sqlite, vec_version() AS vec').get();
const emit = resultWriter(opts.out, {
  system: 'sqlite-vec',
  version: versions.vec.replace(/^v/, ''),
  components: { sqlite: versions.sqlite, 'better-sqlite3': packageVersion('better-sqlite3'), node: process.versions.node },
  dataset: path.basename(path.resolve(opts.data)),
  size: meta.docs,
  machine: machine(),
});

createSchema(db, meta.dim);
const ingest = await timed(async () => {
  const insert = batchInserter(db, meta.dim);
  for await (const batch of docBatches(opts.data, meta, Number(opts.batch))) insert(batch);
});
const fts = await timed(async () => buildFullText(db));
db.pragma('wal_checkpoint(TRUNCATE)'); // fold the WAL into the main file so its bytes count once
db.close();
const bytes = diskBytes(dir);
emit({
  phase: 'ingest',
  memoriesPerSec: round(meta.docs / ingest, 1),
  ingestSeconds: round(ingest, 3),
  batchSize: Number(opts.batch),
  buildSeconds: 0,
  index: { vector: 'none (vec0 brute force)', keyword: 'fts5 porter unicode61' },
  ftsBuildSeconds: round(fts, 3),
  diskBytes: bytes,
  diskBytesPerMemory: round(bytes / meta.docs, 1),
  peakRssBytes: peakRssBytes(),
  durability: 'fsync per batch: WAL journal, synchronous=FULL, one transaction per batch',
});

const truth = loadTruth(opts.data, meta);
const clientCounts = opts.clients.split(',').map(Number);
for (const mode of ['vector', 'keyword']) {
  for (const clients of clientCounts) {
    const run = await runWorkerClients({
      clients,
      count: meta.queries,
      maxSeconds: Number(opts['max-seconds']),
      warmup: Number(opts.warmup),
      workerUrl: new URL('./sqlite-vec-worker.mjs', import.meta.url),
      data: { dbFile, dataDir: opts.data, mode },
    });
    emit({
      phase: mode,
      params: mode === 'vector' ? { exact: true } : { query: 'fts5 OR of terms, bm25 rank' },
      clients,
      concurrency: 'worker_threads, one read-only connection each',
      ...latencySummary(run.latencies, run.seconds),
      recallAt10: mode === 'vector' ? recallAt10(run.answers, truth, meta.truthK) : null,
      peakRssBytes: peakRssBytes(),
    });
  }
}
if (opts.keep !== 'true') fs.rmSync(dir, { recursive: true, force: true });

async function timed(fn) {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}
