#!/usr/bin/env bash
# Recall while writes come in: a node loads 100k memories (client vectors, 4 connections) and
# merges; then recall with client vectors at 16 connections, closed loop, alone and while
# another namespace takes 2,000 memories/s (open loop, 20 requests of 100 a second).
#   benchmarks/scripts/run-mixed.sh [node jar=memory-node/target/mnemo.jar] [label]
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/java-home.sh
JAR=${1:-memory-node/target/mnemo.jar}; LABEL=${2:-node}
J=$JAVA_HOME/bin/java
JO="--enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector"
PORT=7793
D=$(mktemp -d /tmp/mixed.XXXXXX)
MNEMO_INDEX_OPTIMIZE_IDLE_MS=2000 $J $JO -Xmx8g -jar $JAR node --port $PORT --gossip-port $((PORT+1)) --data $D/data --embedder none > $D/node.log 2>&1 &
NODE=$!
for i in $(seq 120); do curl -sf http://127.0.0.1:$PORT/health >/dev/null && break; sleep 0.5; done
LOAD="$J $JO -cp benchmarks/target/benchmarks.jar dev.mnemo.benchmarks.load.HttpLoad --url http://127.0.0.1:$PORT"
$LOAD --scenario remember --connections 4 --docs 100000 --ns bench --vectors base64 --seconds 600 | tail -1
# wait for the idle merge to one segment
for i in $(seq 600); do s=$(curl -s http://127.0.0.1:$PORT/v1/node | python3 -c "import json,sys;print(json.load(sys.stdin)['index']['segments'])"); [ "$s" = "1" ] && break; sleep 1; done
echo "$LABEL merged after ${i}s"
echo "$LABEL recall alone:"; $LOAD --scenario recall --connections 16 --seconds 20 --ns bench --vectors base64 --docs 100000 | tail -1
$LOAD --scenario remember --connections 4 --docs 100000 --ns other --vectors base64 --rate 20 --seconds 40 > $D/w.txt &
W=$!
sleep 5
echo "$LABEL recall while writing 2,000 memories/s:"; $LOAD --scenario recall --connections 16 --seconds 20 --ns bench --vectors base64 --docs 100000 --warmup-seconds 0 | tail -1
wait $W; echo "$LABEL writes:"; tail -1 $D/w.txt
kill $NODE; wait $NODE 2>/dev/null || true; rm -rf $D
