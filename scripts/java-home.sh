# Sourced (POSIX sh) by ./mvnw, ./mnemo and .ci/run: makes JAVA_HOME point at a JDK 21 or newer.
# Keeps a JAVA_HOME that is already new enough; otherwise looks under /usr/lib/jvm and at the
# java on the PATH.

mnemo_java_major() {
  "$1/bin/java" -XshowSettings:properties -version 2>&1 \
    | awk -F'= ' '/java.specification.version/ {print $2}' | cut -d. -f1
}

mnemo_pick_java_home() {
  mnemo_path_java=$(command -v java 2>/dev/null || true)
  mnemo_path_home=""
  if [ -n "$mnemo_path_java" ]; then
    mnemo_path_home=$(dirname "$(dirname "$(readlink -f "$mnemo_path_java")")")
  fi
  # mvnw runs with globbing off (set -f); the JDK search needs it for a moment.
  case "$-" in *f*) mnemo_noglob=1; set +f ;; *) mnemo_noglob=0 ;; esac
  mnemo_candidates="${JAVA_HOME:-} $(ls -d /usr/lib/jvm/* 2>/dev/null | sort -rV | tr '\n' ' ') $mnemo_path_home"
  [ "$mnemo_noglob" = 1 ] && set -f
  for mnemo_candidate in $mnemo_candidates; do
    if [ -x "$mnemo_candidate/bin/java" ] && [ -x "$mnemo_candidate/bin/javac" ]; then
      mnemo_major=$(mnemo_java_major "$mnemo_candidate")
      if [ -n "$mnemo_major" ] && [ "$mnemo_major" -ge 21 ] 2>/dev/null; then
        echo "$mnemo_candidate"
        return 0
      fi
    fi
  done
  return 1
}

if ! JAVA_HOME=$(mnemo_pick_java_home); then
  echo "Mnemo needs a JDK 21 or newer. Install one (e.g. 'apt-get install openjdk-21-jdk' or Temurin) or set JAVA_HOME." >&2
  exit 1
fi
export JAVA_HOME
PATH="$JAVA_HOME/bin:$PATH"
export PATH
