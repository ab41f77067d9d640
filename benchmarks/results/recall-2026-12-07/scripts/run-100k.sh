#!/usr/bin/env bash
set -uo pipefail
cd /work/main
exec > /tmp/b100k/out.txt 2>&1
echo "== start $(date -u +%FT%TZ) load $(cat /proc/loadavg)"
benchmarks/scripts/prepare-corpus.sh 100000 1000 || { echo "corpus failed"; exit 1; }
echo "== corpus done $(date -u +%FT%TZ)"
cp benchmarks/data/wordnet-bge.corpus /tmp/b100k/wordnet-bge.corpus
JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
JAVA=("$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector)
LOAD=("${JAVA[@]}" -Dmnemo.corpus=/tmp/b100k/wordnet-bge.corpus -cp /tmp/benchmarks-after.jar dev.mnemo.benchmarks.load.HttpLoad)
PORT=7921; GPORT=7922; URL=http://127.0.0.1:$PORT
DATA=$(mktemp -d /tmp/mnemo-100k.XXXXXX)
"${JAVA[@]}" -Xmx8g -jar /tmp/mnemo-after.jar node --host 127.0.0.1 --port $PORT --gossip-port $GPORT --data "$DATA" > "$DATA.log" 2>&1 &
NODE=$!
trap 'kill $NODE 2>/dev/null; wait $NODE 2>/dev/null; rm -rf "$DATA" "$DATA.log"' EXIT
for _ in $(seq 1 240); do curl -sf $URL/health >/dev/null && [ -s "$DATA/owner.token" ] && break; sleep 0.5; done
AUTH=(-H "Authorization: Bearer $(cat $DATA/owner.token)")
curl -s "${AUTH[@]}" -H 'Content-Type: application/json' -d '{"query":"warm up","k":10}' $URL/v1/namespaces/bench/recall -o /dev/null
echo "loadavg $(cat /proc/loadavg)"
T0=$(date +%s)
"${LOAD[@]}" --url $URL --token-file "$DATA/owner.token" --scenario remember-text --connections 4 --batch 32 --docs 100000 --seconds 3000
curl -s "${AUTH[@]}" $URL/v1/node | grep -o '"index":{[^}]*}'
echo "ingest+index $(( $(date +%s) - T0 )) s; loadavg $(cat /proc/loadavg)"
for _ in $(seq 1 900); do curl -s "${AUTH[@]}" $URL/v1/node | grep -q '"segments":1[,}]' && break; sleep 1; done
echo "merged $(( $(date +%s) - T0 )) s: $(curl -s "${AUTH[@]}" $URL/v1/node | grep -o '"segments":[0-9]*')"
echo "-- recall-text cached, 1 connection"; echo "loadavg $(cat /proc/loadavg)"
"${LOAD[@]}" --url $URL --token-file "$DATA/owner.token" --scenario recall-text --connections 1 --seconds 15
kill $NODE; wait $NODE 2>/dev/null
"${JAVA[@]}" -Xmx8g -jar /tmp/mnemo-after.jar node --host 127.0.0.1 --port $PORT --gossip-port $GPORT --data "$DATA" >> "$DATA.log" 2>&1 &
NODE=$!
for _ in $(seq 1 240); do curl -sf $URL/health >/dev/null && break; sleep 0.5; done
curl -s "${AUTH[@]}" -H 'Content-Type: application/json' -d '{"query":"warm up again","k":10}' $URL/v1/namespaces/bench/recall -o /dev/null
echo "-- recall-text uncached after restart, 1 connection"; echo "loadavg $(cat /proc/loadavg)"
"${LOAD[@]}" --url $URL --token-file "$DATA/owner.token" --scenario recall-text --connections 1 --seconds 60 --warmup-seconds 0 --max-requests 1000
echo "loadavg $(cat /proc/loadavg)"
echo "data dir $(du -sh $DATA | cut -f1)"
echo "== done $(date -u +%FT%TZ)"
