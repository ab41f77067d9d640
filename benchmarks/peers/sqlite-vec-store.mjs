// The sqlite-vec store as the runner and its query workers open it: one SQLite file in WAL mode,
// texts in a table, vectors in a vec0 virtual table (exact, brute-force KNN), FTS5 for keywords.
import Database from 'better-sqlite3';
import * as sqliteVec from 'sqlite-vec';
import { fts5OrQuery } from './lib/keywords.mjs';

export function openStore(file, { readonly = false } = {}) {
  const db = new Database(file, { readonly });
  sqliteVec.load(db);
  if (!readonly) {
    db.pragma('journal_mode = WAL');
    // FULL: every commit fsyncs the WAL, so an acknowledged batch survives power loss.
    db.pragma('synchronous = FULL');
  }
  return db;
}

export function createSchema(db, dim) {
  db.exec(`
    CREATE TABLE memories (id INTEGER PRIMARY KEY, text TEXT NOT NULL);
    -- Default L2 distance: on unit vectors it ranks exactly as inner product does.
    CREATE VIRTUAL TABLE memory_vectors USING vec0(embedding float[${dim}]);
    CREATE VIRTUAL TABLE memory_fts USING fts5(text, content='memories', content_rowid='id', tokenize='porter unicode61');
  `);
}

/** Returns insert(batch): one transaction (one WAL fsync) per batch of texts and vectors. */
export function batchInserter(db, dim) {
  const text = db.prepare('INSERT INTO memories (id, text) VALUES (?, ?)');
  const vector = db.prepare('INSERT INTO memory_vectors (rowid, embedding) VALUES (?, ?)');
  return db.transaction(({ start, count, vectors, texts }) => {
    for (let i = 0; i < count; i++) {
      text.run(start + i, texts[i]);
      // vec0 wants an integer rowid: a JS number would bind as REAL, so pass a BigInt.
      vector.run(BigInt(start + i), asBlob(vectors.subarray(i * dim, (i + 1) * dim)));
    }
  });
}

/** Fills the external-content FTS5 index from the memories table. */
export function buildFullText(db) {
  db.exec("INSERT INTO memory_fts (memory_fts) VALUES ('rebuild')");
}

export function queries(db) {
  const knn = db.prepare('SELECT rowid AS id FROM memory_vectors WHERE embedding MATCH ? AND k = 10 ORDER BY distance').pluck();
  const bm25 = db.prepare('SELECT rowid AS id FROM memory_fts WHERE memory_fts MATCH ? ORDER BY rank LIMIT 10').pluck();
  return {
    vector: (v) => knn.all(asBlob(v)),
    keyword: (text) => {
      const match = fts5OrQuery(text);
      return match ? bm25.all(match) : [];
    },
  };
}

function asBlob(floats) {
  return Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength);
}
