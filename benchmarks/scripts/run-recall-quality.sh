#!/usr/bin/env bash
# Recall quality through the HTTP API of a fresh node (default settings, text only), on LoCoMo's
# development half (../shared/eval/locomo-dev, read in place) and the project's own set.
#   benchmarks/scripts/run-recall-quality.sh [extra recall_quality.py flags, e.g. --fusion '{"context":0}']
# MNEMO_NODE_FLAGS adds flags to the node (e.g. "--embedder bge-small-en-v1.5"); MNEMO_JAR runs
# another build's node (e.g. one from before a change, for the "before" row).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/java-home.sh
JAR=${MNEMO_JAR:-memory-node/target/mnemo.jar}
[ -f "$JAR" ] || ./mvnw -q -B package -Dmaven.test.skip=true -pl memory-node -am
PORT=${MNEMO_PORT:-7796}
DATA=$(mktemp -d /tmp/mnemo-recall-quality.XXXXXX)
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -jar "$JAR" node --port "$PORT" \
  --gossip-port $((PORT + 1)) --data "$DATA" ${MNEMO_NODE_FLAGS:-} > "$DATA.log" 2>&1 &
NODE_PID=$!
trap 'kill $NODE_PID 2>/dev/null || true; wait $NODE_PID 2>/dev/null || true; rm -rf "$DATA" "$DATA.log"' EXIT
for _ in $(seq 1 600); do
  curl -sf "http://127.0.0.1:$PORT/health" > /dev/null && [ -f "$DATA/owner.token" ] && break
  sleep 0.5
done
echo "== $JAR ($(git rev-parse --short HEAD)) on $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
python3 benchmarks/scripts/recall_quality.py --url "http://127.0.0.1:$PORT" --token-file "$DATA/owner.token" "$@"
