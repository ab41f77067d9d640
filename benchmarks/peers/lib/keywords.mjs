// Turns a natural-language query into an OR of its terms for engines whose query syntax needs it
// (SQLite FTS5). English stop words are dropped, as Lucene's EnglishAnalyzer (Mnemo's BM25 side)
// drops them: otherwise "the" alone would match nearly every document.
const STOP_WORDS = new Set(['a', 'an', 'and', 'are', 'as', 'at', 'be', 'but', 'by', 'for', 'if', 'in', 'into', 'is',
  'it', 'no', 'not', 'of', 'on', 'or', 'such', 'that', 'the', 'their', 'then', 'there', 'these', 'they', 'this', 'to',
  'was', 'will', 'with']);

export function queryTerms(text) {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  return [...new Set(words.filter((w) => !STOP_WORDS.has(w)))];
}

/** FTS5 MATCH expression: each term quoted (so no word is read as an operator), joined by OR. */
export function fts5OrQuery(text) {
  const terms = queryTerms(text);
  return terms.length ? terms.map((t) => `"${t}"`).join(' OR ') : null;
}
