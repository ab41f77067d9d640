#!/usr/bin/env bash
# Start an offline js-ipfs node with a Kubo-compatible RPC API on 127.0.0.1.
#
# Usage: tools/ipfs-node/start.sh [PORT] [REPO_DIR]
#   PORT      RPC API port (default/0: a free port is picked)
#   REPO_DIR  IPFS repo dir, created if missing (default: a fresh temp dir,
#             deleted when the node stops)
#
# Installs node_modules with `npm ci` (npm registry only) if missing.
# Prints exactly one line on stdout, the API base URL (e.g.
# http://127.0.0.1:5001), once POST /api/v0/id answers; logs go to stderr.
# The node replaces this shell (exec), so the PID of the start.sh process is
# the node's PID; it runs until killed (SIGTERM/SIGINT stop it cleanly).
# Env: IPFS_NODE_PIDFILE=path  also write that PID there (use it from shells:
# a caller's $! may be a wrapper subshell, not this process).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

if ! command -v node >/dev/null 2>&1; then
  echo "start.sh: node (>= 18) is required" >&2
  exit 1
fi
major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$major" -lt 18 ]; then
  echo "start.sh: node >= 18 required, found $(node --version)" >&2
  exit 1
fi

if [ ! -f node_modules/.package-lock.json ] || [ ! -d node_modules/ipfs-core ] || [ ! -d node_modules/ipfs-http-server ]; then
  echo "start.sh: installing dependencies (npm ci)..." >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
fi

port="${1:-0}"
repo="${2:-}"
if [ -n "${IPFS_NODE_PIDFILE:-}" ]; then
  echo $$ > "$IPFS_NODE_PIDFILE"
fi
exec node --require "$here/polyfill.cjs" "$here/server.mjs" "$port" "$repo"
