// Closed-loop query load over worker_threads, for synchronous libraries (better-sqlite3): each
// client is a thread with its own connection, so 16 clients really are 16 concurrent callers
// instead of 16 promises queued behind one blocked event loop.
import { Worker, parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';

const NEXT = 0; // shared query counter
const STOP = 1; // set to 1 by the main thread when the time budget is spent

/** Main thread: starts `clients` workers running workerUrl, waits until all are ready, then times the run. */
export async function runWorkerClients({ clients, count, maxSeconds, warmup, workerUrl, data }) {
  const shared = new Int32Array(new SharedArrayBuffer(8));
  const workers = Array.from({ length: clients }, (_, i) =>
    new Worker(workerUrl, { workerData: { ...data, shared, count, warmup: Math.ceil(warmup / clients), index: i } }));
  const outcomes = workers.map((w) => new Promise((resolve, reject) => {
    w.on('message', (m) => m.done && resolve(m));
    w.once('error', reject);
    w.once('exit', (code) => code !== 0 && reject(new Error(`worker exited with ${code}`)));
  }));
  await Promise.all(workers.map((w) => new Promise((resolve, reject) => {
    w.on('message', (m) => m.ready && resolve());
    w.once('error', reject);
  })));
  const start = performance.now();
  const timer = setTimeout(() => Atomics.store(shared, STOP, 1), maxSeconds * 1000);
  workers.forEach((w) => w.postMessage({ go: true }));
  const results = await Promise.all(outcomes);
  const seconds = (performance.now() - start) / 1000;
  clearTimeout(timer);
  await Promise.all(workers.map((w) => w.terminate()));
  return {
    answers: results.flatMap((r) => r.answers),
    latencies: results.flatMap((r) => r.latencies),
    seconds,
  };
}

/**
 * Worker thread: `search(q)` answers query q synchronously with its result ids. Warms up on its
 * own share of queries, reports ready, then pulls query numbers until they run out or STOP is set.
 */
export function serveQueries(search) {
  const { shared, count, warmup, index } = workerData;
  for (let i = 0; i < warmup; i++) search((index * warmup + i) % count);
  parentPort.once('message', () => {
    const answers = [];
    const latencies = [];
    while (Atomics.load(shared, STOP) === 0) {
      const q = Atomics.add(shared, NEXT, 1);
      if (q >= count) break;
      const t0 = performance.now();
      const ids = search(q);
      latencies.push(performance.now() - t0);
      answers.push({ q, ids: Array.from(ids) });
    }
    parentPort.postMessage({ done: true, answers, latencies });
  });
  parentPort.postMessage({ ready: true });
}
