#!/usr/bin/env bash
# Live chat figures for BENCHMARKS.md: one Caredesk node (SQLite) holds VISITORS open visitor
# WebSockets; AGENTS agents take them all; both sides trade messages; the load generator
# (bench/chat/load.mjs, Node with the `ws` package) measures delivery latency p50/p99, and this
# script prints each run and the medians of RUNS runs.
# Usage: bash bench/chat.sh [path/to/caredesk]   (needs node and npm)
# Environment: VISITORS (default 5000), AGENTS (default 50), MESSAGES (per visitor and direction,
# default 5), SPREAD_MS (default 20000), RUNS (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-}"
if [ -z "$bin" ]; then
  cargo build --release -p caredesk >&2
  bin="${CARGO_TARGET_DIR:-target}/release/caredesk"
fi
runs="${RUNS:-3}"
agents="${AGENTS:-50}"
export VISITORS="${VISITORS:-5000}"
# Every chat is one socket on each side of the loopback, plus the agents: lift the file limit.
ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt $((VISITORS * 2 + 1000)) ]; then
  echo "ulimit -n is $(ulimit -n); $((VISITORS * 2 + 1000)) descriptors are needed" >&2
  exit 1
fi
(cd bench/chat && npm install --no-audit --no-fund --silent >/dev/null)
password="chat-bench-password"
pid=0
dir=""
trap 'if [ "$pid" != 0 ]; then kill $pid 2>/dev/null || true; fi; [ -n "$dir" ] && rm -rf "$dir"' EXIT
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
user() { echo "$password" | "$bin" --data-dir "$dir" user add --username "$1" --role "$2" --display-name "$1" --password-stdin >/dev/null; }
# Tokens from the CLI: signing fifty agents in over HTTP would trip the sign-in throttle.
token() { "$bin" --data-dir "$dir" user token --username "$1" | tail -1; }

p50s=(); p99s=()
for run in $(seq 1 "$runs"); do
  dir=$(mktemp -d)
  user chatadmin admin
  for i in $(seq 1 "$agents"); do user "agent$i" agent1; done
  admin_token=$(token chatadmin)
  tokens=()
  for i in $(seq 1 "$agents"); do tokens+=("$(token "agent$i")"); done
  "$bin" --data-dir "$dir" serve --listen 127.0.0.1:0 >"$dir/serve.log" 2>&1 &
  pid=$!
  base=""
  for _ in $(seq 1 200); do
    base=$(grep -oE 'serving http://[0-9.:]+' "$dir/serve.log" | head -1 | cut -d' ' -f2 || true)
    [ -n "$base" ] && break
    sleep 0.1
  done
  [ -n "$base" ] || { echo "caredesk did not start" >&2; cat "$dir/serve.log" >&2; exit 1; }
  result=$(node bench/chat/load.mjs "$base" "$admin_token" "${tokens[@]}")
  echo "run $run: $result"
  p50s+=("$(echo "$result" | sed -E 's/.*"p50_ms":([0-9.]+).*/\1/')")
  p99s+=("$(echo "$result" | sed -E 's/.*"p99_ms":([0-9.]+).*/\1/')")
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=0
  rm -rf "$dir"; dir=""
done
echo "delivery_p50_ms_median: $(printf '%s\n' "${p50s[@]}" | median)"
echo "delivery_p99_ms_median: $(printf '%s\n' "${p99s[@]}" | median)"
