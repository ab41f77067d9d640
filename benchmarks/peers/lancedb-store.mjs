// The LanceDB table as the runner builds it: id, text and a fixed-size float32 vector column,
// written as Apache Arrow batches straight from the dataset's Float32Array (no per-row objects).
import { createRequire } from 'node:module';

// LanceDB's JS layer loads apache-arrow through require(); an ESM import would load a second copy
// whose Table class fails LanceDB's instanceof checks, so share its CommonJS instance.
const arrow = createRequire(import.meta.url)('apache-arrow');

export function memorySchema(dim) {
  return new arrow.Schema([
    new arrow.Field('id', new arrow.Int32(), false),
    new arrow.Field('text', new arrow.Utf8(), false),
    new arrow.Field('vector', new arrow.FixedSizeList(dim, new arrow.Field('item', new arrow.Float32(), true)), false),
  ]);
}

/** One dataset batch as an Arrow table. */
export function arrowBatch(schema, { start, count, vectors, texts }) {
  const [idField, textField, vectorField] = schema.fields;
  const ids = arrow.makeData({ type: idField.type, length: count, data: Int32Array.from({ length: count }, (_, i) => start + i) });
  const text = arrow.vectorFromArray(texts, textField.type).data[0];
  const items = arrow.makeData({ type: vectorField.type.children[0].type, length: vectors.length, data: vectors });
  const vector = arrow.makeData({ type: vectorField.type, length: count, child: items });
  const struct = arrow.makeData({ type: new arrow.Struct(schema.fields), length: count, children: [ids, text, vector] });
  return new arrow.Table(schema, [new arrow.RecordBatch(schema, struct)]);
}
