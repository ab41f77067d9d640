// Reads the neutral dataset directory written by ExportCorpus (see ../README.md for the layout).
// Documents are streamed in batches so that a 1M-document run does not hold 1.5 GB of vectors in
// the runner's heap: the peak RSS we report should be the store's, not the harness's.
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

export function loadMeta(dir) {
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8'));
  if (meta.v !== 1) throw new Error(`${dir}/meta.json: unsupported version ${meta.v}`);
  return meta;
}

/** Queries: vectors as one Float32Array (row q at q*dim) and their texts. */
export async function loadQueries(dir, meta) {
  const vectors = readFloat32(path.join(dir, 'queries.f32'), meta.queries * meta.dim);
  const texts = [];
  for await (const { text } of jsonLines(path.join(dir, 'queries.jsonl'))) texts.push(text);
  return { vectors, texts, count: meta.queries, dim: meta.dim, vector: (q) => vectors.subarray(q * meta.dim, (q + 1) * meta.dim) };
}

/** Exact top-truthK document ids per query, row-major. */
export function loadTruth(dir, meta) {
  const buf = fs.readFileSync(path.join(dir, 'truth.i32'));
  return new Int32Array(buf.buffer, buf.byteOffset, meta.queries * meta.truthK);
}

/** Yields {start, count, vectors: Float32Array(count*dim), texts: string[]} in id order. */
export async function* docBatches(dir, meta, batchSize) {
  const fh = await fs.promises.open(path.join(dir, 'docs.f32'), 'r');
  const rowBytes = meta.dim * 4;
  let texts = [];
  let start = 0;
  try {
    for await (const { id, text } of jsonLines(path.join(dir, 'docs.jsonl'))) {
      if (id !== start + texts.length) throw new Error(`docs.jsonl out of order at id ${id}`);
      texts.push(text);
      if (texts.length === batchSize) {
        yield await readBatch(fh, start, texts, rowBytes);
        start += texts.length;
        texts = [];
      }
    }
    if (texts.length > 0) yield await readBatch(fh, start, texts, rowBytes);
  } finally {
    await fh.close();
  }
}

async function readBatch(fh, start, texts, rowBytes) {
  const bytes = Buffer.alloc(texts.length * rowBytes);
  const { bytesRead } = await fh.read(bytes, 0, bytes.length, start * rowBytes);
  if (bytesRead !== bytes.length) throw new Error(`docs.f32 is short at row ${start}`);
  return { start, count: texts.length, vectors: new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4), texts };
}

function readFloat32(file, expected) {
  const buf = fs.readFileSync(file);
  const out = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
  if (out.length !== expected) throw new Error(`${file}: ${out.length} floats, expected ${expected}`);
  return out;
}

async function* jsonLines(file) {
  const lines = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  for await (const line of lines) if (line) yield JSON.parse(line);
}
