#!/usr/bin/env bash
# drive.sh FIRST_ROUND LAST_ROUND: rounds of A, B, C (HTTP) then JMH before, after
set -uo pipefail
RES=/work/main/benchmarks/results/recall-2026-12-07
for R in $(seq $1 $2); do
  for C in A B C; do
    echo "$(date -u +%T) round $R http $C"
    /tmp/recall-bench/run-one.sh $C $R $RES/r$R-http-$C.txt
  done
  for B in before after; do
    echo "$(date -u +%T) round $R jmh $B"
    /tmp/recall-bench/run-jmh.sh $B $R $RES/r$R-jmh-$B.txt
  done
done
echo "$(date -u +%T) all done"
