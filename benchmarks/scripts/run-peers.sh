#!/usr/bin/env bash
# Runs the peer stores on one exported corpus, one after the other on this machine, into
# benchmarks/results/peers-<date>/peers-<SIZE>.jsonl (schema: benchmarks/peers/README.md):
# LanceDB and sqlite-vec in Node (in-process), PostgreSQL + pgvector over JDBC, then Mnemo
# (in-process, raw Lucene, brute force, and a node over HTTP: MnemoRunner). Then
#   java -cp benchmarks/target/benchmarks.jar dev.mnemo.benchmarks.report.PeerReport OUT_DIR
# writes OUT_DIR/REPORT.md and the PNG plots.
#
#   benchmarks/scripts/run-peers.sh SIZE [corpus=benchmarks/data/wordnet-bge.corpus]
#
# Environment: PEERS (lancedb,sqlite-vec,pgvector,mnemo), MAX_SECONDS per measurement (30),
# BATCH ingest batch size (1000), CLIENTS (1,16), WARMUP queries (100), OUT_DIR,
# LANCEDB_INDEXES (hnsw-sq,ivf-pq: LanceDB's vector indexes, built and swept in turn),
# LANCEDB_KEYWORD (true; false skips LanceDB's FTS index, keyword and hybrid queries),
# MNEMO_SYSTEMS (mnemo,lucene,brute-force,mnemo-http; also mnemo-bulk and mnemo-http-bulk:
# graphs built once ingest ends, indexGraphBuild idle), MNEMO_DEPTHS (Mnemo's depths and raw
# Lucene's k, swept: 10,20,40,64,100,160,250,400), MNEMO_HTTP_DEPTHS (the node's recallDepth,
# swept by restarting it: 64,100), NODE_MEMORY_CACHE_MB (the node's memoryCacheMb, 64; 0 makes
# every recall read its memories from RocksDB),
# NODE_JAVA_OPTS (extra JVM options for the node process of mnemo-http, e.g. a flight recording),
# PGVECTOR_SETUP (../shared/peers/pgvector-setup.sh), BENCH_CP (a classpath to use instead of
# benchmarks/target/benchmarks.jar, which is otherwise built when missing). Installs what is missing: the Node
# packages (npm ci, pinned by package-lock.json), the benchmarks jar, the dataset export, and
# PostgreSQL + pgvector (as root). Stops PostgreSQL and drops the benchmark tables at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/java-home.sh

SIZE=${1:?usage: run-peers.sh SIZE [corpus]}
CORPUS=${2:-benchmarks/data/wordnet-bge.corpus}
PEERS=${PEERS:-lancedb,sqlite-vec,pgvector,mnemo}
MAX_SECONDS=${MAX_SECONDS:-30}
BATCH=${BATCH:-1000}
CLIENTS=${CLIENTS:-1,16}
WARMUP=${WARMUP:-100}
LANCEDB_INDEXES=${LANCEDB_INDEXES:-hnsw-sq,ivf-pq}
LANCEDB_KEYWORD=${LANCEDB_KEYWORD:-true}
MNEMO_SYSTEMS=${MNEMO_SYSTEMS:-mnemo,lucene,brute-force,mnemo-http}
MNEMO_DEPTHS=${MNEMO_DEPTHS:-10,20,40,64,100,160,250,400}
MNEMO_HTTP_DEPTHS=${MNEMO_HTTP_DEPTHS:-64,100}
NODE_MEMORY_CACHE_MB=${NODE_MEMORY_CACHE_MB:-64}
OUT_DIR=${OUT_DIR:-benchmarks/results/peers-$(date -u +%Y-%m-%d)}
PGVECTOR_SETUP=${PGVECTOR_SETUP:-../shared/peers/pgvector-setup.sh}
PG_VERSION=15
PG_URL=jdbc:postgresql://127.0.0.1:5432/mnemo_bench

DATA=benchmarks/data/$(basename "$CORPUS" .corpus)-$SIZE
OUT=$OUT_DIR/peers-$SIZE.jsonl
JAR=benchmarks/target/benchmarks.jar
JAVA=("$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -cp "${BENCH_CP:-$JAR}")
WORK=$(mktemp -d /tmp/mnemo-peers.XXXXXX)
STARTED_POSTGRES=false

ensure_jar() {
  [ -z "${BENCH_CP:-}" ] || return 0
  if [ ! -f "$JAR" ] || ! "$JAVA_HOME/bin/jar" tf "$JAR" | grep -c 'dev/mnemo/benchmarks/peers/PgvectorRunner.class' >/dev/null; then
    ./mvnw -q -B package -Dmaven.test.skip=true -pl benchmarks -am
  fi
}

ensure_node_modules() {
  # npm ci installs exactly package-lock.json; skip it when that install is already in place.
  if ! cmp -s benchmarks/peers/package-lock.json benchmarks/peers/node_modules/.mnemo-installed-lock 2>/dev/null; then
    (cd benchmarks/peers && npm ci --no-audit --no-fund && cp package-lock.json node_modules/.mnemo-installed-lock)
  fi
}

ensure_dataset() {
  [ -f "$DATA/meta.json" ] || "${JAVA[@]}" dev.mnemo.benchmarks.peers.ExportCorpus --corpus "$CORPUS" --docs "$SIZE"
}

start_postgres() {
  if [ "$(id -u)" = 0 ]; then
    bash "$PGVECTOR_SETUP"   # idempotent: installs, configures and (re)starts PostgreSQL with pgvector
    STARTED_POSTGRES=true
  elif ! pg_isready -h 127.0.0.1 -q; then
    echo "PostgreSQL is not running on 127.0.0.1 and only root can set it up ($PGVECTOR_SETUP)" >&2
    exit 1
  fi
}

teardown() {
  rm -rf "$WORK"
  if $STARTED_POSTGRES; then
    su postgres -c "PGOPTIONS='-c client_min_messages=warning' psql -h 127.0.0.1 -d mnemo_bench -qc 'DROP TABLE IF EXISTS bench_memories, memory_chunk_smoke'" || true
    pg_ctlcluster "$PG_VERSION" main stop || true
  fi
}
trap teardown EXIT

run_peer() { # name
  echo "== $1 on $DATA ($(cut -d' ' -f1-3 /proc/loadavg) load)"
  local common=(--data "$DATA" --out "$OUT" --batch "$BATCH" --max-seconds "$MAX_SECONDS" --clients "$CLIENTS" --warmup "$WARMUP")
  case "$1" in
    lancedb) node benchmarks/peers/lancedb.mjs "${common[@]}" --work "$WORK" --indexes "$LANCEDB_INDEXES" --keyword "$LANCEDB_KEYWORD" ;;
    sqlite-vec) node benchmarks/peers/sqlite-vec.mjs "${common[@]}" --work "$WORK" ;;
    pgvector)
      start_postgres
      "${JAVA[@]}" dev.mnemo.benchmarks.peers.PgvectorRunner "${common[@]}" --url "$PG_URL" ;;
    mnemo)   # Mnemo in-process, raw Lucene, brute force, and a node process over HTTP
      [ -f memory-node/target/mnemo.jar ] || ./mvnw -q -B package -Dmaven.test.skip=true -pl memory-node -am
      "${JAVA[@]}" -Xmx8g dev.mnemo.benchmarks.peers.MnemoRunner "${common[@]}" --work "$WORK/mnemo" \
        --systems "$MNEMO_SYSTEMS" --depths "$MNEMO_DEPTHS" --http-depths "$MNEMO_HTTP_DEPTHS" \
        --node-memory-cache-mb "$NODE_MEMORY_CACHE_MB" ;;
    *) echo "unknown peer $1" >&2; exit 1 ;;
  esac
}

echo "== machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
ensure_jar
ensure_node_modules
ensure_dataset
mkdir -p "$OUT_DIR"
for peer in ${PEERS//,/ }; do
  run_peer "$peer" > "$WORK/$peer.log" 2>&1 || { cat "$WORK/$peer.log" >&2; exit 1; }
  echo "   $(grep -c '"phase"' "$WORK/$peer.log") records"
done
echo "results: $OUT"
