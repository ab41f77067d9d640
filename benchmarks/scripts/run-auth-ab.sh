#!/usr/bin/env bash
# What authentication costs: the same build of the node with API tokens checked (the default) and
# with them off (--insecure-no-auth), alternated in one run, ROUNDS of each: on, off, off, on, on,
# off, ... (each round's pair in the other order than the last, so a drift in the machine's load
# over the run weighs on both alike).
# Each run starts a fresh node (--embedder none: client vectors) and
#  1. remembers the first DOCS memories of the cached corpus (prepare-corpus.sh) in batches of
#     100 from 4 connections: memories/s, every 201 a durable write;
#  2. waits until the node has merged its index into one segment (it merges 2 s after writes
#     pause here; 30 s by default), then recalls with client vectors, k=10, 1 connection, closed
#     loop, for RECALL_SECONDS after an unrecorded 5 s warm-up: p50, p99, requests/s;
#  3. the node's fixed cost per recall, where a token check weighs most: the same recall on a
#     namespace of 20 memories (written after the ingest), where the search is nearly free
#     (run-http-fixed-cost.sh), for RECALL_SECONDS / 2 after a 5 s warm-up.
# With auth on, the load sends the node's owner token (DATA/owner.token); with it off, no token.
# Both ways the node signs each entry as the writing agent (the owner) and checks the namespace's
# ACL on every write: only the token check and what comes with it (host check, rate limiter) is
# what differs. The machine's load average is printed beside every figure: other work on the
# machine shows in both modes alike because they alternate.
# Loopback only; every load is bounded; the node and its data directory are removed at the end.
#   benchmarks/scripts/run-auth-ab.sh [rounds=3] [recall-seconds=20] [docs=20000]
# NODE_JAR (memory-node/target/mnemo.jar), PORT (7796; PORT+1 for gossip), OUT (a directory to keep
# each run's HttpLoad output in; by default a temporary one, removed at the end).
# OFF_JAR: run the "off" column on this other build instead, as it is (no --insecure-no-auth): a
# build from before access control, to measure authentication and per-entry authorization together.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/java-home.sh
ROUNDS=${1:-3}
RECALL_SECONDS=${2:-20}
DOCS=${3:-20000}
JAR=benchmarks/target/benchmarks.jar
[ -f "$JAR" ] || ./mvnw -q -B package -Dmaven.test.skip=true -pl benchmarks -am
NODE_JAR=${NODE_JAR:-memory-node/target/mnemo.jar}
[ -f "$NODE_JAR" ] || ./mvnw -q -B package -Dmaven.test.skip=true -pl memory-node -am
JAVA=("$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector)
PORT=${PORT:-7796}
URL=http://127.0.0.1:$PORT
WORK=$(mktemp -d /tmp/mnemo-auth-ab.XXXXXX)
OUT=${OUT:-$WORK/out}
mkdir -p "$OUT"
NODE_PID=
stop_node() {
  if [ -n "$NODE_PID" ]; then
    kill "$NODE_PID" 2>/dev/null || true
    wait "$NODE_PID" 2>/dev/null || true
    NODE_PID=
  fi
}
trap 'stop_node; rm -rf "$WORK"' EXIT

loadavg() { cut -d' ' -f1-3 /proc/loadavg | tr ' ' '/'; }
# curl with the owner token when auth is on
api() { # path
  if [ "$MODE" = on ]; then
    curl -sf -H "Authorization: Bearer $(cat "$WORK/data/owner.token")" "$URL$1"
  else
    curl -sf "$URL$1"
  fi
}
start_node() { # on|off
  if ss -ltn "( sport = :$PORT or sport = :$((PORT + 1)) )" | grep -q LISTEN; then
    echo "port $PORT or $((PORT + 1)) is taken; set PORT" >&2; exit 1
  fi
  rm -rf "$WORK/data"
  local flags=()
  local jar=$NODE_JAR
  if [ "$1" = off ] && [ -n "${OFF_JAR:-}" ]; then
    jar=$OFF_JAR
  elif [ "$1" = off ]; then
    flags+=(--insecure-no-auth)
  fi
  env $(env | grep -o '^MNEMO_[A-Z_]*' | sed 's/^/-u /') MNEMO_INDEX_OPTIMIZE_IDLE_MS=2000 \
    "${JAVA[@]}" -Xmx2g -jar "$jar" node --host 127.0.0.1 --port "$PORT" --gossip-port $((PORT + 1)) \
    --data "$WORK/data" --embedder none ${flags[@]+"${flags[@]}"} > "$WORK/node.log" 2>&1 &
  NODE_PID=$!
  for _ in $(seq 1 120); do
    if curl -sf "$URL/health" > /dev/null; then
      # The start-up line (auth on, and where the token is, or off) is logged just after it listens.
      for _ in $(seq 1 20); do grep -q 'listening on' "$WORK/node.log" && break; sleep 0.25; done
      return 0
    fi
    kill -0 "$NODE_PID" 2>/dev/null || break
    sleep 0.5
  done
  echo "node did not start; log:" >&2; cat "$WORK/node.log" >&2; exit 1
}
wait_one_segment() {
  for _ in $(seq 1 600); do
    api /v1/node | grep -q '"segments":1[,}]' && return 0
    sleep 0.5
  done
  echo "index did not merge into one segment within 5 minutes" >&2; exit 1
}
load() { # extra HttpLoad options
  local token=()
  [ "$MODE" = on ] && token=(--token-file "$WORK/data/owner.token")
  "${JAVA[@]}" -cp "$JAR" dev.mnemo.benchmarks.load.HttpLoad --url "$URL" --docs "$DOCS" "${token[@]}" "$@"
}
# The figures of HttpLoad's result row: requests errors req/s items/s p50 p90 p99
row() { awk -F'|' '/^\| (remember|recall)/ {for (i = 5; i <= 11; i++) {gsub(/ /, "", $i); printf "%s ", $i}; print ""}' "$1"; }

echo "== machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), load $(loadavg) at $(date -u +%FT%TZ)"
echo "== node $NODE_JAR ($(sha256sum "$NODE_JAR" | cut -c1-12))${OFF_JAR:+, off: $OFF_JAR ($(sha256sum "$OFF_JAR" | cut -c1-12))}, git $(git rev-parse --short HEAD 2>/dev/null || echo '?'); $DOCS memories, $ROUNDS rounds"
printf 'mode round ingest_per_s ingest_p50_ms ingest_p99_ms ingest_errors load_ingest recall_per_s recall_p50_ms recall_p99_ms recall_errors load_recall fixed_per_s fixed_p50_ms fixed_p99_ms fixed_errors load_fixed\n' > "$OUT/rows.txt"
for round in $(seq 1 "$ROUNDS"); do
  order="on off"
  [ $((round % 2)) = 0 ] && order="off on"
  for MODE in $order; do
    start_node "$MODE"
    echo
    echo "== round $round, auth $MODE: $(grep -o 'owner token in [^ ]*\|AUTHENTICATION IS OFF[^:]*' "$WORK/node.log" | head -1)"
    if [ "$MODE" = on ] && [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/v1/namespaces/bench/recall")" != 401 ]; then
      echo "auth on but a call without a token was not 401" >&2; exit 1
    fi
    L1=$(loadavg)
    load --scenario remember --connections 4 --batch 100 --seconds 600 | tee "$OUT/ingest-$MODE-$round.txt"
    load --scenario remember --ns tiny --docs 20 --batch 20 --connections 1 --seconds 60 > "$OUT/tiny-$MODE-$round.txt"
    T0=$(date +%s.%N)
    wait_one_segment
    MERGED=$(echo "$(date +%s.%N) - $T0" | bc)
    echo "index merged $(printf '%.1f' "$MERGED") s after the last 201: $(api /v1/node | grep -o '"index":{[^}]*}')"
    L2=$(loadavg)
    load --scenario recall --connections 1 --seconds "$RECALL_SECONDS" | tee "$OUT/recall-$MODE-$round.txt"
    L3=$(loadavg)
    load --scenario recall --ns tiny --connections 1 --seconds $((RECALL_SECONDS / 2)) | tee "$OUT/fixed-$MODE-$round.txt"
    read -r _ i_err _ i_items i_p50 _ i_p99 <<< "$(row "$OUT/ingest-$MODE-$round.txt")"
    read -r _ r_err r_rps _ r_p50 _ r_p99 <<< "$(row "$OUT/recall-$MODE-$round.txt")"
    read -r _ f_err f_rps _ f_p50 _ f_p99 <<< "$(row "$OUT/fixed-$MODE-$round.txt")"
    echo "$MODE $round $i_items $i_p50 $i_p99 $i_err $L1 $r_rps $r_p50 $r_p99 $r_err $L2 $f_rps $f_p50 $f_p99 $f_err $L3" >> "$OUT/rows.txt"
    echo "load average (1/5/15 min) before ingest $L1, before recall $L2, before the fixed-cost recall $L3"
    stop_node
  done
done

echo
echo "== all runs (load = 1/5/15-minute load average when the measurement started)"
column -t "$OUT/rows.txt"
echo
python3 - "$OUT/rows.txt" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]).read().splitlines()]
head, rows = rows[0], rows[1:]
col = {name: i for i, name in enumerate(head)}
def values(mode, name):
    return [float(r[col[name]]) for r in rows if r[0] == mode]
print("| figure | auth on: median (min-max) | auth off: median (min-max) | on vs off (medians) | ranges overlap |")
print("|---|---|---|---|---|")
for name, better in [("ingest_per_s", "higher"), ("ingest_p50_ms", "lower"), ("recall_p50_ms", "lower"),
                     ("recall_p99_ms", "lower"), ("recall_per_s", "higher"), ("fixed_p50_ms", "lower"),
                     ("fixed_p99_ms", "lower"), ("fixed_per_s", "higher")]:
    on, off = values("on", name), values("off", name)
    mon, moff = statistics.median(on), statistics.median(off)
    overlap = min(on) <= max(off) and min(off) <= max(on)
    fmt = (lambda v: "%.0f" % v) if name.endswith("per_s") else (lambda v: "%.3f" % v)
    print("| %s | %s (%s-%s) | %s (%s-%s) | %+.1f%% | %s |" % (name, fmt(mon), fmt(min(on)), fmt(max(on)),
          fmt(moff), fmt(min(off)), fmt(max(off)), (mon - moff) / moff * 100, "yes" if overlap else "no"))
errors = sum(int(r[col[c]]) for r in rows for c in ("ingest_errors", "recall_errors", "fixed_errors"))
print("\nerrors in all runs: %d" % errors)
PY
