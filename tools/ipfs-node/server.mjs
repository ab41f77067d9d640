// Offline js-ipfs node (ipfs-core + ipfs-http-server) serving the Kubo-style
// RPC API (POST /api/v0/...) on 127.0.0.1 only, with no libp2p listeners, no
// bootstrap peers, no MDNS, no DHT, no pubsub, no preload, no NAT/relay.
//
// Usage: node server.mjs [PORT] [REPO_DIR]
//   PORT      RPC API port on 127.0.0.1 (0 or empty = pick a free one)
//   REPO_DIR  repo directory (empty = a fresh temp dir, deleted on exit)
//
// stdout: exactly one line, the API URL (e.g. http://127.0.0.1:5001), printed
// once POST /api/v0/id answers. Everything else goes to stderr.
// Stops cleanly on SIGTERM / SIGINT / SIGHUP.
import './polyfill.cjs'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { create } from 'ipfs-core'
import { HttpApi } from 'ipfs-http-server'
import * as dagJson from '@ipld/dag-json'
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'

const log = (...a) => console.error('[ipfs-node]', ...a)

const withLibp2p = process.env.IPFS_NODE_LIBP2P === '1'
const port = Number.parseInt(process.argv[2] || '0', 10) || 0
let repo = process.argv[3] || ''
let tempRepo = false
if (repo === '') {
  repo = fs.mkdtempSync(path.join(os.tmpdir(), 'mnemo-ipfs-repo-'))
  fs.rmdirSync(repo) // ipfs-core wants to create it itself
  tempRepo = true
}
repo = path.resolve(repo)

// Config applied at init and re-applied on every start (existing repos too).
const offlineConfig = {
  Addresses: {
    Swarm: [],
    Announce: [],
    NoAnnounce: [],
    API: `/ip4/127.0.0.1/tcp/${port}`,
    Gateway: [],
    RPC: [],
    Delegates: []
  },
  Bootstrap: [],
  Discovery: { MDNS: { Enabled: false, Interval: 10 }, webRTCStar: { Enabled: false } },
  Routing: { Type: 'none' },
  Pubsub: { Enabled: false, Router: 'gossipsub' },
  Swarm: { DisableNatPortMap: true, ConnMgr: { LowWater: 0, HighWater: 0 } },
  API: { HTTPHeaders: {} }
}

const createOptions = {
  repo,
  silent: true,
  // Default: never start libp2p/bitswap at all (true offline mode: missing
  // blocks fail at once instead of waiting for peers, like `ipfs --offline`).
  // IPFS_NODE_LIBP2P=1 starts libp2p with no listeners/peers instead.
  start: withLibp2p,
  offline: true,
  preload: { enabled: false },
  init: { emptyRepo: true, algorithm: 'Ed25519', allowNew: true },
  config: offlineConfig,
  relay: { enabled: false, hop: { enabled: false, active: false } },
  EXPERIMENTAL: { ipnsPubsub: false, sharding: false },
  // Merged into libp2p's options (used only with IPFS_NODE_LIBP2P=1). With no
  // listen addresses libp2p@0.42's transport manager would throw
  // "no valid addresses were provided for transports" (FATAL_ALL), so make
  // it tolerate having no listeners (FaultTolerance.NO_FATAL === 1).
  libp2p: {
    addresses: { listen: [], announce: [], noAnnounce: [] },
    transportManager: { faultTolerance: 1 },
    peerDiscovery: [],
    nat: { enabled: false },
    relay: { enabled: false, hop: { enabled: false, active: false } },
    connectionManager: { autoDial: false }
  }
}

// A node killed with SIGKILL leaves <repo>/repo.lock behind; js-ipfs takes it
// over once its mtime is older than 20 s (a live node refreshes it every
// 10 s). Wait for that here: failing inside create() would leave the repo's
// leveldb open in this process, so retrying create() does not work.
{
  const lockPath = path.join(repo, 'repo.lock')
  const deadline = Date.now() + 40000
  let warned = false
  for (;;) {
    let mtime
    try { mtime = fs.statSync(lockPath).mtimeMs } catch { break }
    if (Date.now() - mtime > 21000) break
    if (Date.now() > deadline) {
      throw new Error(`repo ${repo} is locked by a running node (${lockPath} keeps being refreshed)`)
    }
    if (!warned) log(`repo ${repo} is locked (a running node, or a stale lock from a killed one); waiting up to 40 s`)
    warned = true
    await new Promise(resolve => setTimeout(resolve, 1000))
  }
}
const ipfs = await create(createOptions)

// Existing repos keep their old config: force the offline/API settings.
for (const [k, v] of Object.entries({
  'Addresses.API': offlineConfig.Addresses.API,
  'Addresses.Gateway': [],
  'Addresses.RPC': [],
  'Addresses.Swarm': [],
  'Addresses.Delegates': [],
  Bootstrap: [],
  'Discovery.MDNS.Enabled': false,
  'Routing.Type': 'none'
})) {
  await ipfs.config.set(k, v)
}

const MAX_PAYLOAD = 64 * 1024 * 1024

// Pseudo multibase "kubo": CIDv0 -> base58btc ("Qm..."), CIDv1 -> base32 ("b...").
// CID.toString(encoder) requires prefix "z" for CIDv0 and only uses the prefix
// as a cache key for CIDv1, so one encoder can serve both.
const KUBO_BASE = 'kubo'
const KUBO_BASE_PATHS = new Set([
  '/api/v0/block/stat', '/api/v0/block/rm',
  '/api/v0/pin/add', '/api/v0/pin/rm', '/api/v0/pin/ls',
  '/api/v0/dag/resolve'
])
{
  const b58 = await ipfs.bases.getBase('base58btc')
  const b32 = await ipfs.bases.getBase('base32')
  const isV0 = (bytes) => bytes.length === 34 && bytes[0] === 0x12 && bytes[1] === 0x20
  const encode = (bytes) => isV0(bytes) ? b58.encoder.encode(bytes) : b32.encoder.encode(bytes)
  const kubo = {
    name: KUBO_BASE,
    prefix: 'z',
    encoder: { name: KUBO_BASE, prefix: 'z', encode },
    encode
  }
  const getBase = ipfs.bases.getBase.bind(ipfs.bases)
  ipfs.bases.getBase = async (nameOrPrefix) => nameOrPrefix === KUBO_BASE ? kubo : getBase(nameOrPrefix)
}

// Kubo compatibility shim, applied to the query string before js-ipfs'
// handlers see it (README.md lists what differs from Kubo).
function kuboCompat (request, h) {
  const url = new URL(request.url.href)
  const q = url.searchParams
  let changed = false
  if (request.path === '/api/v0/dag/get' && request.method === 'post') {
    return dagGet(request, h, q)
  }
  if (request.path === '/api/v0/block/put') {
    // Kubo >= 0.13 takes cid-codec (default raw) and always makes CIDv1; js-ipfs
    // only knows the legacy format (default dag-pb, CIDv0 for dag-pb+sha2-256).
    // An explicit legacy format (format=v0 etc.) is passed through unchanged.
    if (q.has('cid-codec') || !q.has('format')) {
      q.set('format', q.get('cid-codec') || 'raw')
      q.delete('cid-codec')
      if (!q.has('version')) q.set('version', '1')
      changed = true
    }
  }
  // Kubo prints CIDv1 in base32 and CIDv0 in base58btc; js-ipfs defaults to
  // base58btc for these commands (CIDv1 as "z..."), and an explicit
  // cid-base=base32 makes js-ipfs fail on CIDv0 ("Cannot string encode V0 in
  // base32 encoding"). So default them to the pseudo-base "kubo" (below).
  if (KUBO_BASE_PATHS.has(request.path) && !q.has('cid-base')) {
    q.set('cid-base', KUBO_BASE)
    changed = true
  }
  if (changed) request.setUrl(url.pathname + url.search)
  return h.continue
}

// Kubo-style dag/get: the node (or the value at a path inside it, following
// links) encoded with output-codec (default dag-json, so links come out as
// {"/":"<cid>"} and bytes as {"/":{"bytes":"<base64>"}}). js-ipfs' own
// handler returns plain JSON with bytes as strings, has no output-codec, and
// answers 500 for any node that contains a link (it mangles the CID object).
const DAG_GET_CODECS = {
  'dag-json': { encode: dagJson.encode, type: 'application/json' },
  json: { encode: dagJson.encode, type: 'application/json' },
  'dag-cbor': { encode: dagCbor.encode, type: 'application/octet-stream' },
  cbor: { encode: dagCbor.encode, type: 'application/octet-stream' }
}
function rpcError (h, message, status = 500) {
  return h.response({ Message: message, Code: 0, Type: 'error' }).code(status).takeover()
}
async function dagGet (request, h, q) {
  let arg = q.get('arg')
  if (!arg) return rpcError(h, "argument 'ref' is required", 400)
  const outputCodec = q.get('output-codec') || 'dag-json'
  const codec = DAG_GET_CODECS[outputCodec]
  if (!codec) return rpcError(h, `unsupported output-codec ${outputCodec} (supported: ${Object.keys(DAG_GET_CODECS).join(', ')})`, 400)
  arg = arg.replace(/^\/ipfs\//, '')
  const slash = arg.indexOf('/')
  const cidStr = slash === -1 ? arg : arg.slice(0, slash)
  const path = slash === -1 ? undefined : arg.slice(slash)
  let cid
  try {
    cid = CID.parse(cidStr)
  } catch (e) {
    return rpcError(h, `invalid path "${arg}": ${e.message}`, 400)
  }
  try {
    const result = await ipfs.dag.get(cid, { path })
    const bytes = codec.encode(result.value)
    return h.response(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).type(codec.type).takeover()
  } catch (e) {
    return rpcError(h, e.message)
  }
}

const api = new HttpApi(ipfs)
const origCreate = api._createApiServer
api._createApiServer = async (...args) => {
  const server = await origCreate.apply(api, args)
  server.ext('onRequest', kuboCompat)
  // hapi's default payload limit (1 MiB, multipart overhead included) would
  // refuse a 1 MiB block in block/put; Kubo accepts blocks up to 1 MiB.
  for (const route of server.table()) {
    const payload = route.settings.payload
    if (payload && payload.maxBytes === 1048576) payload.maxBytes = MAX_PAYLOAD
  }
  return server
}
await api.start()

const uri = api._apiServers[0].info.uri.replace('0.0.0.0', '127.0.0.1')

let stopping = false
async function stop (sig) {
  if (stopping) return
  stopping = true
  log(`received ${sig}, stopping`)
  const hardExit = setTimeout(() => process.exit(0), 10000)
  hardExit.unref()
  try { await api.stop() } catch (e) { log('api.stop:', e.message) }
  try { await ipfs.stop() } catch (e) { log('ipfs.stop:', e.message) }
  if (tempRepo) fs.rmSync(repo, { recursive: true, force: true })
  process.exit(0)
}
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(sig, () => { stop(sig) })

// Self-check: the RPC API must answer POST /api/v0/id before we announce it.
const res = await fetch(`${uri}/api/v0/id`, { method: 'POST' })
if (!res.ok) throw new Error(`POST /api/v0/id returned ${res.status}`)
const id = await res.json()
const ver = await ipfs.version()
log(`js-ipfs ${ver.version} (repo v${ver.repo}) peer ${id.ID} repo ${repo}${tempRepo ? ' (temp)' : ''}, ${withLibp2p ? 'libp2p started with no listeners/peers' : 'offline (libp2p not started)'}`)
log(`RPC API ${uri}/api/v0 (pid ${process.pid})`)
process.stdout.write(uri + '\n')
