// Appends result records (one JSON object per line) to the --out file; schema in ../README.md.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function resultWriter(outFile, common) {
  fs.mkdirSync(path.dirname(path.resolve(outFile)), { recursive: true });
  return (record) => {
    const line = JSON.stringify({ ...common, ...record, ts: new Date().toISOString() });
    fs.appendFileSync(outFile, line + '\n');
    console.log(line);
  };
}

export function machine() {
  return { cores: os.cpus().length, memBytes: os.totalmem(), loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100) };
}

/** Bytes allocated on disk under dir (st_blocks, like du), following no symlinks. */
export function diskBytes(dir) {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) total += diskBytes(p);
    else if (entry.isFile()) total += fs.statSync(p).blocks * 512;
  }
  return total;
}

/** Peak resident set size of this process (all its threads) so far, in bytes. */
export function peakRssBytes() {
  return process.resourceUsage().maxRSS * 1024;
}

export function parseArgs(argv, defaults) {
  const opts = { ...defaults };
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || i + 1 >= argv.length) throw new Error(`expected --name value, got ${argv[i]}`);
    opts[argv[i].slice(2)] = argv[i + 1];
  }
  for (const required of ['data', 'out', 'work']) if (!opts[required]) throw new Error(`--${required} is required`);
  return opts;
}

export function packageVersion(name) {
  const file = new URL(`../node_modules/${name}/package.json`, import.meta.url);
  return JSON.parse(fs.readFileSync(file, 'utf8')).version;
}
