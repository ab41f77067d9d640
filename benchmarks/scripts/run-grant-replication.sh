#!/usr/bin/env bash
# Replication of a namespace whose log carries 100 agents' grants: a first node holds a namespace
# with 1 create, 1,000 grant and revoke entries for 100 hosted agents, and 10,000 memories that
# 20 of the agents remembered (batches of 100, each agent with its own token); a fresh second
# node seeded with it (both --replication-peer '*') replicates it, timed from its start until it
# holds the same heads. Against the same memories remembered by the owner, with no grants. The two
# alternate, ROUNDS each. See GrantReplication's javadoc; loopback only, bounded, cleans up.
#   benchmarks/scripts/run-grant-replication.sh [rounds=3] [acl-via=http|store]
# acl-via store writes the grants straight into the stopped first node's store (NamespaceLog.grant),
# for a build without POST /v1/namespaces/{ns}/grants.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/java-home.sh
ROUNDS=${1:-3}
ACL_VIA=${2:-http}
JAR=benchmarks/target/benchmarks.jar
[ -f "$JAR" ] || ./mvnw -q -B package -Dmaven.test.skip=true -pl benchmarks -am
[ -f memory-node/target/mnemo.jar ] || ./mvnw -q -B package -Dmaven.test.skip=true -pl memory-node -am
echo "== machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg) at $(date -u +%FT%TZ)"
echo "== node memory-node/target/mnemo.jar ($(sha256sum memory-node/target/mnemo.jar | cut -c1-12)), git $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
WORK=$(mktemp -d /tmp/mnemo-grant-replication.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -cp "${CLASSES:+$CLASSES:}$JAR" \
  dev.mnemo.benchmarks.sync.GrantReplication --work "$WORK/run" --rounds "$ROUNDS" --acl-via "$ACL_VIA" \
  --agents 100 --acl-entries 1000 --writers 20 --memories 10000 --batch 100
