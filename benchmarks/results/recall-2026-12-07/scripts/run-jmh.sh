#!/usr/bin/env bash
# run-jmh.sh BUILD(before|after) ROUND OUTFILE
set -uo pipefail
B=$1; R=$2; OUT=$3
JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
exec > "$OUT" 2>&1
echo "== JMH RecallBenchmark round $R build $B jar /tmp/benchmarks-$B.jar sha $(sha256sum /tmp/benchmarks-$B.jar | cut -c1-16) $(date -u +%FT%TZ)"
echo "loadavg: $(cat /proc/loadavg)  others: $(pgrep -fc "surefire|plexus-classworlds") maven/surefire JVMs"
cd /tmp/recall-bench
"$JAVA_HOME/bin/java" -jar /tmp/benchmarks-$B.jar RecallBenchmark -p merged=true -p docs=20000 -f 1 -wi 1 -w 5s -i 2 -r 5s \
  -jvmArgsAppend "-Xmx8g -Dmnemo.corpus=/tmp/recall-bench/wordnet-bge.corpus" -rf json -rff /tmp/recall-bench/jmh-r$R-$B.json
echo "loadavg: $(cat /proc/loadavg)  others: $(pgrep -fc "surefire|plexus-classworlds") maven/surefire JVMs"
echo "== done $(date -u +%FT%TZ)"
