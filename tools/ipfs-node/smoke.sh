#!/usr/bin/env bash
# Smoke test of the offline js-ipfs node's Kubo-style RPC API, with curl only.
# Starts the node (start.sh, temp repo, free port), exercises block/put
# (dag-cbor, sha2-256), block/get, block/stat, dag/get, pin/add, pin/ls,
# dag/export, block/rm, dag/import, pin/rm, id, version, then stops it.
# Usage: tools/ipfs-node/smoke.sh [PORT]      exit 0 = all checks passed
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d)"
node_pid=""
launcher_pid=""
fails=0
passes=0

cleanup() {
  for pid in $node_pid $launcher_pid; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    fi
  done
  rm -rf "$work"
}
trap cleanup EXIT

ok()   { passes=$((passes + 1)); echo "PASS: $*"; }
fail() { fails=$((fails + 1)); echo "FAIL: $*"; }
check_eq() { # name expected actual
  if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: expected [$2] got [$3]"; fi
}
check_has() { # name needle haystack
  case "$3" in *"$2"*) ok "$1";; *) fail "$1: [$2] not in [$3]";; esac
}
rpc() { # path [curl args...]  -> body on stdout
  local path="$1"; shift
  curl -sS --max-time 30 -X POST "$@" "$api/api/v0/$path"
}

# --- the block: DAG-CBOR {"a":1} = a1 61 61 01 --------------------------------
printf '\xa1\x61\x61\x01' > "$work/block.bin"
# Expected CID computed independently: CIDv1 (0x01) + dag-cbor (0x71) +
# sha2-256 multihash (0x12 0x20 + digest), base32 lower, no padding, 'b' prefix.
expected_cid="$(python3 - "$work/block.bin" <<'EOF'
import base64, hashlib, sys
data = open(sys.argv[1], 'rb').read()
cid = bytes([0x01, 0x71, 0x12, 0x20]) + hashlib.sha256(data).digest()
print('b' + base64.b32encode(cid).decode().lower().rstrip('='))
EOF
)"
echo "block hex: $(od -An -tx1 "$work/block.bin" | tr -d ' \n')  sha256: $(sha256sum "$work/block.bin" | cut -d' ' -f1)"
echo "expected CID (python3 hashlib + base32): $expected_cid"

# --- start the node -------------------------------------------------------------
mkfifo "$work/out"
# The node's PID comes from IPFS_NODE_PIDFILE: start.sh execs node, but $! can
# be a wrapper subshell when the calling shell has traps set (as this one has).
IPFS_NODE_PIDFILE="$work/node.pid" "$here/start.sh" "${1:-0}" "" > "$work/out" 2> "$work/node.log" &
launcher_pid=$!
api=""
if read -r -t 300 api < "$work/out"; then :; fi
# keep draining the fifo so the node never blocks on stdout
cat "$work/out" > /dev/null &
if [ -z "$api" ]; then
  echo "node did not start; log:"; cat "$work/node.log"; exit 1
fi
node_pid="$(cat "$work/node.pid")"
echo "node pid $node_pid, API $api"
sed 's/^/  node: /' "$work/node.log"

# --- id / version ----------------------------------------------------------------
out="$(rpc id)"; echo "id -> $out"
check_has "id has ID" '"ID":"12D3Koo' "$out"
check_has "id has no swarm addresses (offline)" '"Addresses":[]' "$out"
out="$(rpc version)"; echo "version -> $out"
check_has "version" '"Version":"0.18.1"' "$out"

# --- block/put dag-cbor sha2-256 ---------------------------------------------------
out="$(rpc 'block/put?cid-codec=dag-cbor&mhtype=sha2-256' -F "file=@$work/block.bin")"
echo "block/put -> $out"
cid="$(printf '%s' "$out" | sed -n 's/.*"Key":"\([^"]*\)".*/\1/p')"
check_eq "block/put CID == python-computed CIDv1 dag-cbor sha2-256" "$expected_cid" "$cid"
check_has "block/put Size" '"Size":4' "$out"

# --- block/get ---------------------------------------------------------------------
rpc "block/get?arg=$cid" -o "$work/got.bin"
check_eq "block/get bytes" "a1616101" "$(od -An -tx1 "$work/got.bin" | tr -d ' \n')"

# --- block/stat --------------------------------------------------------------------
out="$(rpc "block/stat?arg=$cid")"; echo "block/stat -> $out"
check_eq "block/stat" "{\"Key\":\"$cid\",\"Size\":4}" "$out"

# --- dag/get -----------------------------------------------------------------------
out="$(rpc "dag/get?arg=$cid")"; echo "dag/get -> $out"
check_eq "dag/get decodes dag-cbor to JSON" '{"a":1}' "$out"
out="$(rpc "dag/get?arg=$cid/a")"; echo "dag/get path /a -> $out"
check_eq "dag/get path" '1' "$out"

# --- pin/add + pin/ls -----------------------------------------------------------------
out="$(rpc "pin/add?arg=$cid")"; echo "pin/add -> $out"
check_eq "pin/add" "{\"Pins\":[\"$cid\"]}" "$out"
out="$(rpc 'pin/ls?type=recursive')"; echo "pin/ls -> $out"
check_eq "pin/ls" "{\"Keys\":{\"$cid\":{\"Type\":\"recursive\"}}}" "$out"
out="$(rpc "pin/ls?arg=$cid")"; echo "pin/ls arg -> $out"
check_has "pin/ls arg" "\"$cid\":{\"Type\":\"recursive\"}" "$out"

# --- block/rm refuses a pinned block -------------------------------------------------
out="$(rpc "block/rm?arg=$cid")"; echo "block/rm (pinned) -> $out"
check_has "block/rm refuses pinned block" 'pinned' "$out"

# --- dag/export (CAR) --------------------------------------------------------------
rpc "dag/export?arg=$cid" -o "$work/export.car"
echo "dag/export -> $(wc -c < "$work/export.car") bytes: $(od -An -tx1 "$work/export.car" | tr -d ' \n')"
car_hex="$(od -An -tx1 "$work/export.car" | tr -d ' \n')"
check_has "CAR contains the block" "a1616101" "$car_hex"
check_has "CAR v1 header with version 1" "6776657273696f6e01" "$car_hex"

# --- pin/rm + block/rm, then dag/import from the CAR -------------------------------
out="$(rpc "pin/rm?arg=$cid")"; echo "pin/rm -> $out"
check_eq "pin/rm" "{\"Pins\":[\"$cid\"]}" "$out"
out="$(rpc "block/rm?arg=$cid")"; echo "block/rm -> $out"
check_eq "block/rm" "{\"Hash\":\"$cid\"}" "$(printf '%s' "$out" | tr -d '\n')"
out="$(rpc "block/stat?arg=$cid")"; echo "block/stat after rm -> $out"
check_has "block gone (offline: fails fast, no network wait)" '"Type":"error"' "$out"
out="$(rpc 'dag/import' -F "file=@$work/export.car")"; echo "dag/import -> $out"
check_eq "dag/import root" "{\"Root\":{\"Cid\":{\"/\":\"$cid\"},\"PinErrorMsg\":\"\"}}" "$(printf '%s' "$out" | tr -d '\n')"
out="$(rpc "dag/get?arg=$cid")"; echo "dag/get after import -> $out"
check_eq "dag/get after import" '{"a":1}' "$out"
out="$(rpc 'pin/ls?type=recursive')"; echo "pin/ls after import -> $out"
check_has "dag/import pinned the root" "\"$cid\":{\"Type\":\"recursive\"}" "$out"

# --- a linked DAG-CBOR node: dag/get keeps links as {"/":cid} (dag-json) ------------
printf '{"child":{"/":"%s"},"n":2}' "$cid" > "$work/parent.json"
out="$(rpc 'dag/put?store-codec=dag-cbor&input-codec=dag-json' -F "file=@$work/parent.json")"
echo "dag/put parent -> $out"
parent="$(printf '%s' "$out" | sed -n 's/.*"Cid":{"\/":"\([^"]*\)"}.*/\1/p')"
out="$(rpc "dag/get?arg=$parent")"; echo "dag/get parent -> $out"
check_eq "dag/get link as dag-json" "{\"child\":{\"/\":\"$cid\"},\"n\":2}" "$out"
out="$(rpc "dag/get?arg=$parent/child/a")"; echo "dag/get parent/child/a -> $out"
check_eq "dag/get path through link" '1' "$out"
rpc "dag/export?arg=$parent" -o "$work/parent.car"
car_hex="$(od -An -tx1 "$work/parent.car" | tr -d ' \n')"
echo "dag/export parent -> $(wc -c < "$work/parent.car") bytes"
check_has "parent CAR contains the child block" "a1616101" "$car_hex"

# --- stop ----------------------------------------------------------------------
temp_repo="$(sed -n 's/.* repo \([^ ]*\) (temp).*/\1/p' "$work/node.log" | head -1)"
kill -TERM "$node_pid"
for _ in $(seq 1 50); do kill -0 "$node_pid" 2>/dev/null || break; sleep 0.2; done
if kill -0 "$node_pid" 2>/dev/null; then fail "node still running after SIGTERM"; else ok "node stopped on SIGTERM"; fi
if [ -n "$temp_repo" ] && [ ! -e "$temp_repo" ]; then ok "temp repo $temp_repo removed"; else fail "temp repo [$temp_repo] not removed"; fi

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
