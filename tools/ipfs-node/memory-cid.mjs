// The CID a Mnemo node gives a memory, computed by a JavaScript client from the remember request
// it sent (README "Computing a memory's CID"), with @ipld/dag-cbor and multiformats.
//
// Usage: node memory-cid.mjs NAMESPACE < body.json
//   body.json is the POST /v1/namespaces/NAMESPACE/memories body exactly as sent: one memory, or
//   {"memories": [...]}. Prints one CID a line, in request order.
//
// Only a memory whose block follows from the request can be computed: it must carry its own
// "ts" (otherwise the node stamps its clock) and its "vector" (otherwise the node's model makes
// one). A memory that dedup folds into an earlier one answers with that one's CID instead.
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'

/** Tags as the node stores them: unique, sorted by code point (their UTF-8 bytes), not by JS's default UTF-16 sort. */
export function sortTags (tags) {
  const encoder = new TextEncoder()
  const unique = [...new Set(tags)]
  return unique
    .map((tag) => ({ tag, bytes: encoder.encode(tag) }))
    .sort((a, b) => Buffer.compare(a.bytes, b.bytes))
    .map(({ tag }) => tag)
}

/** An instant as the API takes it: epoch milliseconds, or an ISO-8601 string. */
function millis (value, field) {
  if (typeof value === 'number') return value
  const parsed = Date.parse(value)
  if (Number.isNaN(parsed)) throw new Error(`${field} is not an ISO-8601 instant: ${value}`)
  return parsed
}

/** The vector's bytes: float32 little-endian, from an array of numbers or the base64 form. */
function vectorBytes (vector) {
  if (typeof vector === 'string') return new Uint8Array(Buffer.from(vector, 'base64'))
  const floats = Float32Array.from(vector)
  const bytes = new Uint8Array(floats.length * 4)
  const view = new DataView(bytes.buffer)
  floats.forEach((f, i) => view.setFloat32(i * 4, f, true))
  return bytes
}

/** The memory block for one memory of a remember request. */
export function memoryBlock (ns, memory) {
  if (memory.ts === undefined) throw new Error('the memory has no "ts": the node stamps its own time, so its CID cannot be computed here')
  if (memory.vector === undefined) throw new Error('the memory has no "vector": the node embeds its text, so its CID cannot be computed here')
  const hasValidity = memory.validFrom != null || memory.validTo != null
  const vec = vectorBytes(memory.vector)
  const block = {
    // Version 2 only for a memory with a validity bound; every other memory is version 1.
    v: hasValidity ? 2 : 1,
    ns,
    text: memory.text,
    // JSON.parse makes 5.0 the number 5, which dag-cbor writes as an integer: so does the node.
    metadata: memory.metadata ?? {},
    tags: sortTags(memory.tags ?? []),
    ts: memory.ts,
    // A vector the client sent is recorded under the model name "client".
    embedding: { model: 'client', dim: vec.length / 4, vec }
  }
  if (memory.prev != null) block.prev = CID.parse(memory.prev)
  if (memory.validFrom != null) block.validFrom = millis(memory.validFrom, 'validFrom')
  if (memory.validTo != null) block.validTo = millis(memory.validTo, 'validTo')
  return block
}

/** CIDv1, dag-cbor (0x71), sha2-256: how the node names every block. */
export async function blockCid (block) {
  const bytes = dagCbor.encode(block)
  return CID.create(1, dagCbor.code, await sha256.digest(bytes))
}

async function main () {
  const ns = process.argv[2]
  if (!ns) throw new Error('usage: node memory-cid.mjs NAMESPACE < body.json')
  const chunks = []
  for await (const chunk of process.stdin) chunks.push(chunk)
  const body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
  const memories = body.memories ?? [body]
  for (const memory of memories) {
    console.log((await blockCid(memoryBlock(ns, memory))).toString())
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e) => {
    console.error(`memory-cid: ${e.message}`)
    process.exit(1)
  })
}
