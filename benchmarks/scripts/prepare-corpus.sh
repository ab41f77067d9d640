#!/usr/bin/env bash
# Builds benchmarks/data/wordnet-bge.corpus: WordNet glosses (Debian's wordnet-base) embedded once
# with BGE-small-en-v1.5. Installs wordnet-base when missing. About 10 minutes on 2 cores.
#   benchmarks/scripts/prepare-corpus.sh [docs=100000] [queries=1000]
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/java-home.sh
if [ ! -f /usr/share/wordnet/data.noun ]; then
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq wordnet-base; else sudo apt-get install -y wordnet-base; fi
fi
[ -f benchmarks/target/benchmarks.jar ] || ./mvnw -q -B package -Dmaven.test.skip=true -pl benchmarks -am
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector \
  -cp benchmarks/target/benchmarks.jar dev.mnemo.benchmarks.data.CorpusPrep "${1:-100000}" "${2:-1000}"
