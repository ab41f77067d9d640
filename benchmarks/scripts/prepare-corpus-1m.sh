#!/usr/bin/env bash
# Builds benchmarks/data/debian-1m-bge.corpus: about 1,000,000 distinct real English sentences
# from Debian text packages, embedded once with Mnemo's default embedder (BGE-small-en-v1.5),
# in the same Corpus file format as prepare-corpus.sh writes (wordnet only has ~160k sentences).
#
#   benchmarks/scripts/prepare-corpus-1m.sh [--count-only] [docs=1000000] [queries=1000] [out]
#
# 1. installs the text packages (apt, as root) and fetches apt's English package descriptions;
# 2. extracts each source (WordNet, GCIDE, FOLDOC, Jargon, fortunes, the package descriptions of
#    Debian main, man pages, the Perl, Python, PostgreSQL, Vim, Linux kernel, Django, GIMP,
#    SQLite and SciPy manuals, the Debian Administrator's Handbook and the JDK's Javadoc) to benchmarks/data/debian-text/<source>.{txt,lines} (kept; delete the
#    folder to extract again): .lines has one sentence per line, .txt has paragraphs separated by
#    blank lines;
# 3. DebianCorpusPrep cleans, splits into sentences, de-duplicates, holds out the queries, and
#    embeds with progress in benchmarks/data/debian-<docs>-q<queries>-work/ so that a stopped run resumes
#    where it stopped (embedding 1M sentences takes about an hour on 2 cores).
# --count-only stops after step 3's counting and prints how many sentences each source yields.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/java-home.sh

COUNT_ONLY=false
if [ "${1:-}" = "--count-only" ]; then COUNT_ONLY=true; shift; fi
DOCS=${1:-1000000}
QUERIES=${2:-1000}
OUT=${3:-}
SRC=benchmarks/data/debian-text
PACKAGES=(wordnet-base dict-gcide dict-foldoc dict-jargon fortunes fortunes-min perl-doc python3-doc
  postgresql-doc vim-runtime manpages manpages-dev linux-doc python-django-doc gimp-help-en debian-handbook
  default-jdk-doc sqlite3-doc python-scipy-doc html2text mandoc)

install_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  local translations
  translations=$(ls /var/lib/apt/lists/*_main_i18n_Translation-en* 2>/dev/null | head -1 || true)
  if [ ${#missing[@]} -eq 0 ] && [ -n "$translations" ]; then return; fi
  [ "$(id -u)" = 0 ] || { echo "run as root to install: ${missing[*]} (and apt's Translation-en)" >&2; exit 1; }
  # Package long descriptions live in Translation-en, which this image's apt config skips.
  apt-get update -qq -o Acquire::Languages=en
  [ ${#missing[@]} -eq 0 ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Each extractor prints its source's text on stdout; extract() keeps it only if it completed.
extract() { # name extension command...
  local file="$SRC/$1.$2"
  [ -s "$file" ] && return
  echo "extracting $1" >&2
  "${@:3}" > "$file.tmp"
  mv "$file.tmp" "$file"
}

# WordNet glosses: "definition; \"example\"; ..." -> the definition and each example, one per line.
wordnet() {
  for pos in noun verb adj adv; do
    perl -ne 'next if /^  /; next unless s/^.*? \| //; chomp;
      my @examples = /"([^"]+)"/g; s/;?\s*".*$//; print "$_\n";
      print "$_\n" for @examples;' "/usr/share/wordnet/data.$pos"
  done
}

# dictd databases: entries are an unindented headword line followed by indented text. Keep the
# text, drop bracketed tags ([1913 Webster], [R.]), citations (--Bailey.), sense numbers and
# field labels ((Anat.)), FOLDOC's {links}, <categories> and (dates).
dictionary() { # name
  zcat "/usr/share/dictd/$1.dict.dz" | perl -ne '
    if (/^\s*$/) { print "\n"; next }
    next unless s/^\s+//;
    s/\[[^\]]*\]//g; s/--\s*[A-Z][\w.\s]*?\.(\s|$)/ /g; s/^\d+\.\s*//; s/\((?:[A-Z][a-z]*\.\s*)+\)\s*//g;
    s/[{}]//g; s/<[^>]*>//g; s/\(\d{4}-\d\d-\d\d\)//g; s/\/[^\/\s][^\/]*\///g;
    print;'
}

fortunes() {
  find /usr/share/games/fortunes -maxdepth 1 -type f ! -name '*.dat' ! -name '*.u8' -print0 | sort -z \
    | xargs -0 cat | sed 's/^%$//'
}

# Long descriptions of every package in Debian main: " ." separates paragraphs, the first line
# (the one-line synopsis) is no sentence.
apt_descriptions() {
  for f in /var/lib/apt/lists/*_main_i18n_Translation-en*; do /usr/lib/apt/apt-helper cat-file "$f"; done \
    | perl -ne 'if (/^Description-en:/) { print "\n"; $in = 1; next }
      if (/^ \.$/) { print "\n"; next } if ($in && s/^ //) { print; next } $in = 0;'
}

# English man pages of every installed package (sections 1-8), rendered by mandoc without line
# breaks inside paragraphs.
man_pages() {
  find /usr/share/man/man[1-8] -type f -print0 | sort -z \
    | xargs -0 -n 100 sh -c 'for page; do mandoc -T utf8 -O width=1000 "$page" 2>/dev/null; echo; done' sh | col -bx
}

perl_docs() {
  for pod in /usr/share/perl/*/pod/*.pod; do pod2text -w 1000 "$pod" 2>/dev/null; echo; done
}

# Python's reStructuredText sources: roles (:func:`open`) and inline markup reduced to their text.
python_docs() {
  find /usr/share/doc/python3.*-doc/html/_sources -name '*.rst.txt' -print0 | sort -z | xargs -0 cat \
    | perl -pe 's/:[\w:.-]+:`~?([^`<]*?)\s*(?:<[^>]*>)?`/$1/g; s/``?([^`]*)``?_?/$1/g; s/\*\*?([^*]+)\*\*?/$1/g'
}

# HTML manuals as text. html2text puts each paragraph on one line (given the width), without
# blank lines between them, so sed adds one after every line. Javadoc's class-use and index pages
# only repeat the summaries of the class pages.
html_pages() { # directory...
  find "$@" -name '*.html' ! -path '*/class-use/*' ! -path '*/index-files/*' -print0 | sort -z \
    | xargs -0 -n 100 sh -c 'for page; do html2text -utf8 -nobs -width 1000 "$page" | sed G; done' sh
}

# Vim's help files (vim-runtime): drop *tags*, |links| and `commands` markers, keep the prose.
vim_docs() {
  cat /usr/share/vim/vim*/doc/*.txt | perl -pe 's/\*[^*\s]+\*//g; s/\|([^|\s]+)\|/$1/g; s/`//g'
}

extract_all() {
  mkdir -p "$SRC"
  extract wordnet lines wordnet
  extract gcide txt dictionary gcide
  extract foldoc txt dictionary foldoc
  extract jargon txt dictionary jargon
  extract fortunes txt fortunes
  extract apt-descriptions txt apt_descriptions
  extract man-pages txt man_pages
  extract perl-doc txt perl_docs
  extract python-doc txt python_docs
  extract postgresql-doc txt html_pages /usr/share/doc/postgresql-doc-*/html
  extract vim-doc txt vim_docs
  extract linux-doc txt html_pages /usr/share/doc/linux-doc-*/html
  extract django-doc txt html_pages /usr/share/doc/python-django-doc/html
  extract gimp-help txt html_pages /usr/share/gimp/2.0/help/en
  extract debian-handbook txt html_pages /usr/share/doc/debian-handbook/html/en-US
  extract javadoc txt html_pages /usr/share/doc/openjdk-*/api
  extract sqlite-doc txt html_pages /usr/share/doc/sqlite3
  extract scipy-doc txt html_pages /usr/share/doc/python-scipy-doc/html
}

install_packages
extract_all

# BENCH_CP: a classpath to use instead of the benchmarks jar (built when missing or older than this tool).
JAR=benchmarks/target/benchmarks.jar
if [ -z "${BENCH_CP:-}" ] && ! { [ -f "$JAR" ] && "$JAVA_HOME/bin/jar" tf "$JAR" | grep -c 'dev/mnemo/benchmarks/data/DebianCorpusPrep.class' >/dev/null; }; then
  ./mvnw -q -B package -Dmaven.test.skip=true -pl benchmarks -am
fi
ARGS=(--sources "$SRC" --docs "$DOCS" --queries "$QUERIES")
[ -n "$OUT" ] && ARGS+=(--out "$OUT")
$COUNT_ONLY && ARGS+=(--count-only true)
exec "$JAVA_HOME/bin/java" -Xmx8g --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector \
  -cp "${BENCH_CP:-$JAR}" dev.mnemo.benchmarks.data.DebianCorpusPrep "${ARGS[@]}"
