// Closed-loop query load: `clients` callers, each sending its next query as soon as its last one
// answered, drawing query numbers 0..count-1 from one shared counter. Bounded by maxSeconds, so a
// slow configuration (brute force over 1M) answers a prefix of the queries instead of running long.
import { performance } from 'node:perf_hooks';

/**
 * For libraries whose calls are asynchronous (work happens on the library's own native threads):
 * `clients` promises in flight on this thread. search(q) resolves to the result ids.
 */
export async function runAsyncClients({ clients, count, maxSeconds, search }) {
  let next = 0;
  const answers = [];
  const latencies = [];
  const start = performance.now();
  const deadline = start + maxSeconds * 1000;
  async function client() {
    while (next < count && performance.now() < deadline) {
      const q = next++;
      const t0 = performance.now();
      const ids = await search(q);
      latencies.push(performance.now() - t0);
      answers.push({ q, ids });
    }
  }
  await Promise.all(Array.from({ length: clients }, client));
  return { answers, latencies, seconds: (performance.now() - start) / 1000 };
}

/** Runs the first `count` queries once at the given concurrency and discards the results. */
export async function warmUp({ clients, count, search }) {
  await runAsyncClients({ clients, count, maxSeconds: 60, search });
}
