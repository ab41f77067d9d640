#!/usr/bin/env bash
# HTTP benchmarks of a real node on loopback, on the cached corpus (prepare-corpus.sh):
#  1. remember 100k memories with client vectors, batches of 100 (4 connections), durable;
#  2. once the index merged: recall with client vectors, 1 and 16 connections, closed loop, then
#     open loop at 1,000/s and 1,500/s; the same ingest again with vectors sent as base64;
#  3. a node with the default embedder: remember and recall with text only (server-side embedding),
#     recall first with queries the node has not seen, then repeated (query-embedding cache).
# Every load is bounded in time and count and goes to 127.0.0.1 only.
#   benchmarks/scripts/run-http.sh [docs=100000] [seconds=30]
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/java-home.sh
DOCS=${1:-100000}
SECONDS_PER_RUN=${2:-30}
JAR=benchmarks/target/benchmarks.jar
[ -f "$JAR" ] || ./mvnw -q -B package -Dmaven.test.skip=true -pl benchmarks -am
[ -f memory-node/target/mnemo.jar ] || ./mvnw -q -B package -Dmaven.test.skip=true -pl memory-node -am
JAVA=("$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector)
LOAD=("${JAVA[@]}" -cp "$JAR" dev.mnemo.benchmarks.load.HttpLoad)

start_node() { # embedder port
  DATA=$(mktemp -d /tmp/mnemo-http-bench.XXXXXX)
  "${JAVA[@]}" -Xmx8g -jar memory-node/target/mnemo.jar node --port "$2" --gossip-port $(( $2 + 1 )) \
    --data "$DATA" --embedder "$1" > "$DATA.log" 2>&1 &
  NODE_PID=$!
  for _ in $(seq 1 120); do
    curl -sf "http://127.0.0.1:$2/health" > /dev/null && return 0
    sleep 0.5
  done
  echo "node did not start; log:" >&2; cat "$DATA.log" >&2; exit 1
}
stop_node() {
  kill "$NODE_PID" 2>/dev/null || true
  wait "$NODE_PID" 2>/dev/null || true
  du -sh "$DATA" | awk '{print "data dir: " $1}'
  rm -rf "$DATA" "$DATA.log"
}
trap 'kill $NODE_PID 2>/dev/null || true' EXIT

echo "== machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
wait_one_segment() { # port: the node merges its index once writes pause (indexOptimizeIdleMs, 30 s)
  for _ in $(seq 1 600); do
    curl -s "http://127.0.0.1:$1/v1/node" | grep -q '"segments":1[,}]' && return 0
    sleep 1
  done
  echo "index did not merge into one segment within 10 minutes" >&2
}

echo "== client vectors as JSON arrays (embedder none)"
start_node none 7790
"${LOAD[@]}" --url http://127.0.0.1:7790 --scenario remember --connections 4 --batch 100 --docs "$DOCS" --seconds 600
T0=$(date +%s); wait_one_segment 7790; echo "index merged into one segment $(( $(date +%s) - T0 )) s after the last write"
curl -s http://127.0.0.1:7790/v1/node | grep -o '"index":{[^}]*}'
"${LOAD[@]}" --url http://127.0.0.1:7790 --scenario recall --connections 1 --seconds "$SECONDS_PER_RUN"
"${LOAD[@]}" --url http://127.0.0.1:7790 --scenario recall --connections 16 --seconds "$SECONDS_PER_RUN"
"${LOAD[@]}" --url http://127.0.0.1:7790 --scenario recall --connections 16 --seconds "$SECONDS_PER_RUN" --vectors base64
"${LOAD[@]}" --url http://127.0.0.1:7790 --scenario recall --connections 16 --seconds "$SECONDS_PER_RUN" --vectors base64 --rate 1000
"${LOAD[@]}" --url http://127.0.0.1:7790 --scenario recall --connections 16 --seconds "$SECONDS_PER_RUN" --vectors base64 --rate 1500
stop_node

echo "== client vectors as base64 float32"
start_node none 7794
"${LOAD[@]}" --url http://127.0.0.1:7794 --scenario remember --connections 4 --batch 100 --docs "$DOCS" --seconds 600 --vectors base64
stop_node

echo "== server-side embedding (bge-small-en-v1.5)"
start_node bge-small-en-v1.5 7792
"${LOAD[@]}" --url http://127.0.0.1:7792 --scenario remember-text --connections 4 --batch 32 --docs 6400 --seconds "$SECONDS_PER_RUN"
# Each held-out query once, so none is in the node's query-embedding cache; then the same 1,000
# queries over and over, which the cache answers after their first time.
"${LOAD[@]}" --url http://127.0.0.1:7792 --scenario recall-text --connections 16 --seconds "$SECONDS_PER_RUN" --warmup-seconds 0 --max-requests 1000
"${LOAD[@]}" --url http://127.0.0.1:7792 --scenario recall-text --connections 16 --seconds "$SECONDS_PER_RUN"
stop_node
