#!/usr/bin/env bash
# The node's fixed cost per HTTP recall: a namespace of 20 memories, where the search itself is
# nearly free, recalled with client vectors (base64) over one connection, closed loop. What is
# left is parsing, the thread hand-offs, fetching and hash-checking 10 blocks, the JSON reply and
# the loopback round trip with the client: the floor under every figure of Mnemo over HTTP.
#   benchmarks/scripts/run-http-fixed-cost.sh [seconds=20]
# NODE_JAR (memory-node/target/mnemo.jar): another build of the node, to compare two builds;
# CONNECTIONS (1): concurrent connections; NODE_JAVA_OPTS: extra JVM options for the node;
# NODE_CPU=1: after a first, unrecorded load (the JIT's warm-up), measure again and print the
# node's CPU time per request by thread (event loop, search pool, the rest; user and kernel
# time, from /proc), to tell work from waiting in the latency.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/java-home.sh
SECONDS_PER_RUN=${1:-20}
JAR=benchmarks/target/benchmarks.jar
[ -f "$JAR" ] || ./mvnw -q -B package -Dmaven.test.skip=true -pl benchmarks -am
NODE_JAR=${NODE_JAR:-memory-node/target/mnemo.jar}
[ -f "$NODE_JAR" ] || ./mvnw -q -B package -Dmaven.test.skip=true -pl memory-node -am
JAVA=("$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector)
PORT=${PORT:-7791}
DATA=$(mktemp -d /tmp/mnemo-fixed-cost.XXXXXX)
"${JAVA[@]}" -Xmx2g ${NODE_JAVA_OPTS:-} -jar "$NODE_JAR" node --port "$PORT" --gossip-port $((PORT + 1)) \
  --data "$DATA/data" --embedder none > "$DATA/node.log" 2>&1 &
NODE_PID=$!
trap 'kill $NODE_PID 2>/dev/null; wait $NODE_PID 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$PORT/health" > /dev/null && break
  sleep 0.5
done
python3 - "$PORT" <<'PY'
import json, random, sys, urllib.request
random.seed(1)
memories = [{"text": "memory number %d about things" % i, "vector": [random.gauss(0, 1) for _ in range(384)]}
            for i in range(20)]
request = urllib.request.Request("http://127.0.0.1:%s/v1/namespaces/tiny/memories" % sys.argv[1],
                                 data=json.dumps({"memories": memories}).encode(),
                                 headers={"Content-Type": "application/json"})
assert urllib.request.urlopen(request).status == 201
PY
load() { # extra HttpLoad options
  "${JAVA[@]}" -cp "$JAR" dev.mnemo.benchmarks.load.HttpLoad --url "http://127.0.0.1:$PORT" --scenario recall \
    --connections "${CONNECTIONS:-1}" --ns tiny --vectors base64 --docs 1000 "$@"
}
# CPU ticks (user, kernel) of the node's threads, summed by role: "role user kernel" lines.
node_cpu() {
  for task in /proc/$NODE_PID/task/*; do
    local stat comm
    stat=$(cat "$task/stat" 2>/dev/null) || continue
    comm=$(cat "$task/comm" 2>/dev/null) || continue
    case "$comm" in vert.x-eventloo*) comm=event-loop ;; mnemo-search*) comm=search-pool ;; *) comm=other ;; esac
    set -- ${stat##*) }
    echo "$comm ${12} ${13}"
  done | awk '{u[$1] += $2; k[$1] += $3} END {for (r in u) print r, u[r], k[r]}' | sort
}
if [ "${NODE_CPU:-0}" = 1 ]; then
  load --seconds "$SECONDS_PER_RUN" > /dev/null
  before=$(node_cpu)
  load --seconds "$SECONDS_PER_RUN" --warmup-seconds 0 | tee "$DATA/load.out"
  after=$(node_cpu)
  requests=$(awk -F'|' '/^\| recall/ {gsub(/ /, "", $5); print $5}' "$DATA/load.out")
  ticks=$(getconf CLK_TCK)
  echo
  echo "| node threads | user µs/request | kernel µs/request |"
  echo "|---|---|---|"
  join <(echo "$before") <(echo "$after") | awk -v n="$requests" -v hz="$ticks" \
    '{u = ($4 - $2) * 1e6 / hz / n; k = ($5 - $3) * 1e6 / hz / n; tu += u; tk += k
      printf "| %s | %.0f | %.0f |\n", $1, u, k} END {printf "| all | %.0f | %.0f |\n", tu, tk}'
else
  load --seconds "$SECONDS_PER_RUN"
fi
