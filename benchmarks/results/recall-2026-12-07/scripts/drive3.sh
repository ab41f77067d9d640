#!/usr/bin/env bash
# round 6: HTTP only (A, B, C), with the restart step
RES=/work/main/benchmarks/results/recall-2026-12-07
for C in A B C; do
  echo "$(date -u +%T) round 6 http $C"
  /tmp/recall-bench/run-one-v2.sh $C 6 $RES/r6-http-$C.txt
done
echo "$(date -u +%T) all done"
