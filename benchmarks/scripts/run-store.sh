#!/usr/bin/env bash
# Runs the store benchmark suite with the settings used for benchmarks/results/store-<date>.txt.
#
#   benchmarks/scripts/run-store.sh [output-file]
#
# Needs benchmarks/target/benchmarks.jar (see benchmarks/README.md). Every benchmark method runs
# in its own JMH invocation so that each one can wait (up to QUIET_WAIT seconds) until the
# machine's CPU pressure is low: on a shared machine other processes distort the figures. Runs
# use `nice -n NICE` (default -10 when allowed) for the same reason, and a sampler prints how much
# CPU other processes still took during each run ("[foreign-cpu]" lines), so a noisy figure can be
# recognised afterwards. Set NICE=0 QUIET_WAIT=0 on a dedicated machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
OUT=${1:-benchmarks/results/store-$(date -u +%Y-%m-%d).txt}
QUIET_WAIT=${QUIET_WAIT:-300}
QUIET_PSI=${QUIET_PSI:-15}
NICE=${NICE:--10}
JAR=benchmarks/target/benchmarks.jar
JAVA=("$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -jar "$JAR")
if ! nice -n "$NICE" true 2>/dev/null; then NICE=0; fi
mkdir -p "$(dirname "$OUT")"

CID=(-f 1 -wi 2 -w 3s -i 3 -r 5s)
APPEND=(-f 1 -wi 1 -w 10s -i 3 -r 10s)
GET=(-f 1 -wi 2 -w 5s -i 3 -r 5s)

wait_quiet() {
  local waited=0 psi
  while :; do
    psi=$(awk '/^some/ { split($2, a, "="); print int(a[2]) }' /proc/pressure/cpu)
    if (( psi < QUIET_PSI )) || (( waited >= QUIET_WAIT )); then
      echo "[quiet-check] cpu pressure avg10=${psi}% after waiting ${waited}s; load: $(cut -d' ' -f1-3 /proc/loadavg)"
      return
    fi
    sleep 5; waited=$((waited + 5))
  done
}

run() {
  echo "=================== $* ==================="
  wait_quiet
  nice -n "$NICE" "${JAVA[@]}" "$@" &
  local pid=$!
  python3 benchmarks/scripts/foreign_cpu.py "$pid" 2 &
  local sampler=$!
  wait "$pid"; wait "$sampler"
}

# Only the final results table of each JMH invocation is kept in the summary at the end.
{
  echo "# Mnemo store benchmarks, $(date -u +%Y-%m-%dT%H:%M:%SZ), nice $NICE"
  echo "# host: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/ {print $2}') GiB RAM, kernel $(uname -r)"
  echo "# jdk: $("$JAVA_HOME/bin/java" -version 2>&1 | head -1)"
  echo "# git: $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet 2>/dev/null || echo ' (uncommitted changes in the tree)')"
  python3 benchmarks/scripts/fsync_rate.py || true
  for m in cidDagCbor sha256Reused memoryEncode memoryDecode memoryEncodeDecode memoryToBlock; do
    run "CidBenchmark\.$m\$" "${CID[@]}"
  done
  for m in fixtureOnly_batch100 single_1writer single_8writers_sharedNs single_8writers_ownNs \
           batch100_1writer batch100_8writers_sharedNs batch100_8writers_ownNs; do
    run "AppendBenchmark\.$m\$" "${APPEND[@]}"
  done
  for m in get_1thread get_2threads getUnverified_1thread getUnverified_2threads has_1thread has_2threads hasAbsent_1thread; do
    run "GetBenchmark\.$m\$" "${GET[@]}"
  done
  python3 benchmarks/scripts/fsync_rate.py || true
} 2>&1 | tee "$OUT"
