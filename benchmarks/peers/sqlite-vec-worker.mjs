// One query client of the sqlite-vec runner: its own read-only connection on its own thread.
import { workerData } from 'node:worker_threads';
import { loadMeta, loadQueries } from './lib/dataset.mjs';
import { serveQueries } from './lib/workers.mjs';
import { openStore, queries } from './sqlite-vec-store.mjs';

const { dbFile, dataDir, mode } = workerData;
const db = openStore(dbFile, { readonly: true });
const search = queries(db);
const qs = await loadQueries(dataDir, loadMeta(dataDir));
serveQueries(mode === 'vector' ? (q) => search.vector(qs.vector(q)) : (q) => search.keyword(qs.texts[q]));
