#!/usr/bin/env bash
# One HTTP run: run-one.sh CONFIG ROUND OUTFILE
#   A: before jar, default embedder (bge-small-en-v1.5)
#   B: after jar, defaults (e5-small-v2, conversation context on)
#   C: after jar, --embedder bge-small-en-v1.5, MNEMO_RECALL_CONTEXT_WEIGHT=0
set -uo pipefail
CFG=$1; ROUND=$2; OUT=$3
JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
JAVA=("$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector)
CORPUS=/tmp/recall-bench/wordnet-bge.corpus
LOADJAR=/tmp/benchmarks-after.jar   # the load client; HttpLoad is identical in both builds
LOAD=("${JAVA[@]}" -Dmnemo.corpus=$CORPUS -cp "$LOADJAR" dev.mnemo.benchmarks.load.HttpLoad)
ENVS=()
case $CFG in
  A) JAR=/tmp/mnemo-before.jar; EMB=() ;;
  B) JAR=/tmp/mnemo-after.jar; EMB=() ;;
  C) JAR=/tmp/mnemo-after.jar; EMB=(--embedder bge-small-en-v1.5); ENVS=(MNEMO_RECALL_CONTEXT_WEIGHT=0) ;;
esac
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
PORT=$(freeport); GPORT=$(freeport)
while [ "$GPORT" = "$PORT" ]; do GPORT=$(freeport); done
DATA=$(mktemp -d /tmp/mnemo-recall-bench.XXXXXX)
URL=http://127.0.0.1:$PORT
la() { echo "loadavg: $(cat /proc/loadavg)  others: $(pgrep -fc "surefire|plexus-classworlds") maven/surefire JVMs"; }
now() { date +%s.%N; }
exec > "$OUT" 2>&1
echo "== round $ROUND config $CFG jar $JAR ${EMB[*]} ${ENVS[*]} port $PORT gossip $GPORT data $DATA  $(date -u +%FT%TZ)"
echo "jar sha: $(sha256sum $JAR | cut -c1-16)"
env "${ENVS[@]}" "${JAVA[@]}" -Xmx8g -jar "$JAR" node --host 127.0.0.1 --port $PORT --gossip-port $GPORT --data "$DATA" "${EMB[@]}" > "$DATA.log" 2>&1 &
NODE=$!
cleanup() { kill $NODE 2>/dev/null; wait $NODE 2>/dev/null; rm -rf "$DATA" "$DATA.log"; }
trap cleanup EXIT
T0=$(now)
for _ in $(seq 1 240); do curl -sf $URL/health >/dev/null && [ -s "$DATA/owner.token" ] && break; sleep 0.5; done
curl -sf $URL/health >/dev/null || { echo "node did not start"; cat "$DATA.log"; exit 1; }
TOKEN=$(cat "$DATA/owner.token")
AUTH=(-H "Authorization: Bearer $TOKEN")
echo "health after $(echo "$(now) - $T0" | bc) s"
# The before build loads its model on the first text call (no warm-up at start); the after build
# warms at start. One unmeasured text recall on the empty namespace makes both ready for text.
T1=$(now)
curl -s "${AUTH[@]}" -H 'Content-Type: application/json' -d '{"query":"warm up the embedder","k":10}' $URL/v1/namespaces/bench/recall -o /dev/null -w "warm-up recall: HTTP %{http_code} "
echo "in $(echo "$(now) - $T1" | bc) s (since start $(echo "$(now) - $T0" | bc) s)"
la
TR=$(now)
"${LOAD[@]}" --url $URL --token-file "$DATA/owner.token" --scenario remember-text --connections 4 --batch 32 --docs 6400 --seconds 600
TA=$(now)
# /v1/node waits until every acknowledged memory is indexed (the after build embeds contexts there).
curl -s "${AUTH[@]}" $URL/v1/node -o "$DATA.node.json"
TI=$(now)
echo "remember-text: load tool wall $(echo "$TA - $TR" | bc) s; index caught up $(echo "$TI - $TA" | bc) s later; launch-to-indexed $(echo "$TI - $TR" | bc) s"
echo "node: $(grep -o '"index":{[^}]*}' "$DATA.node.json")"
la
# The node merges its index into one segment 30 s after writes pause; wait for that so the merge
# does not land inside a measured recall run.
TM=$(now)
for _ in $(seq 1 300); do curl -s "${AUTH[@]}" $URL/v1/node | grep -q '"segments":1[,}]' && break; sleep 1; done
echo "one segment after $(echo "$(now) - $TM" | bc) s: $(curl -s "${AUTH[@]}" $URL/v1/node | grep -o '"segments":[0-9]*')"
la
echo "-- recall-text uncached (each held-out query once), 16 connections"
"${LOAD[@]}" --url $URL --token-file "$DATA/owner.token" --scenario recall-text --connections 16 --seconds 30 --warmup-seconds 0 --max-requests 1000
la
echo "-- recall-text cached, 16 connections"
"${LOAD[@]}" --url $URL --token-file "$DATA/owner.token" --scenario recall-text --connections 16 --seconds 30
la
echo "-- recall-text cached, 1 connection"
"${LOAD[@]}" --url $URL --token-file "$DATA/owner.token" --scenario recall-text --connections 1 --seconds 15
la
echo "data dir: $(du -sh "$DATA" | cut -f1)"
echo "-- node log (first lines)"
head -20 "$DATA.log"
echo "-- node log warnings/errors"
grep -iE "warn|error|exception" "$DATA.log" | head -20
echo "== done $(date -u +%FT%TZ)"
