#!/usr/bin/env bash
# Live chat figures for BENCHMARKS.md: one Caredesk node (SQLite) holds VISITORS open visitor
# WebSockets; AGENTS agents take them all; both sides trade messages; the load generator
# (bench/chat/load.mjs, Node with the `ws` package) measures delivery latency p50/p99, and this
# script prints each run and the medians of RUNS runs.
# With NODES=2 a second node serves the same database: the visitors connect to the first, the
# agents' consoles to the second, so every message crosses the relay between the nodes.
# Usage: bash bench/chat.sh [path/to/caredesk]   (needs node and npm; psql with PG_URL)
# Environment: VISITORS (default 5000), AGENTS (default 50), MESSAGES (per visitor and direction,
# default 5), SPREAD_MS (default 20000), RUNS (default 3), NODES (1 or 2, default 1),
# PG_URL (e.g. postgres://postgres@127.0.0.1:5432: each run gets a fresh database on that server
# instead of a SQLite file).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
bin="$(release_bin "${1:-}")"
runs="${RUNS:-3}"
agents="${AGENTS:-50}"
nodes="${NODES:-1}"
pg="${PG_URL:-}"
export VISITORS="${VISITORS:-5000}"
case "$nodes" in 1 | 2) ;; *) echo "NODES must be 1 or 2" >&2; exit 1 ;; esac
# Every chat is one socket on each side of the loopback, plus the agents: lift the file limit.
ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt $((VISITORS * 2 + 1000)) ]; then
  echo "ulimit -n is $(ulimit -n); $((VISITORS * 2 + 1000)) descriptors are needed" >&2
  exit 1
fi
(cd bench/chat && npm install --no-audit --no-fund --silent >/dev/null)
password="chat-bench-password"
pids=()
dir=""
dbname=""
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -n "$dir" ] && rm -rf "$dir"
  [ -n "$dbname" ] && psql "$pg/postgres" -qc "drop database if exists $dbname" >/dev/null 2>&1 || true
}
trap cleanup EXIT
db_args() { if [ -n "$pg" ]; then echo --data-dir "$dir" --database-url "$pg/$dbname"; else echo --data-dir "$dir"; fi; }
# The paths are mktemp and generated database names: no spaces, so word splitting is safe here.
# shellcheck disable=SC2046
cd_bin() { "$bin" $(db_args) "$@"; }
user() {
  echo "$password" | cd_bin user add --username "$1" --role "$2" --display-name "$1" --password-stdin >/dev/null
}
# Tokens from the CLI: signing fifty agents in over HTTP would trip the sign-in throttle.
token() { cd_bin user token --username "$1" | tail -1; }
# Starts one node and sets `served` to its base URL once it serves.
serve() {
  # shellcheck disable=SC2046
  "$bin" $(db_args) serve --listen 127.0.0.1:0 >"$dir/serve$1.log" 2>&1 &
  pids+=($!)
  served=""
  for _ in $(seq 1 200); do
    served=$(grep -oE 'serving http://[0-9.:]+' "$dir/serve$1.log" | head -1 | cut -d' ' -f2 || true)
    [ -n "$served" ] && break
    sleep 0.1
  done
  [ -n "$served" ] || { echo "caredesk did not start" >&2; cat "$dir/serve$1.log" >&2; exit 1; }
}

p50s=(); p99s=()
for run in $(seq 1 "$runs"); do
  dir=$(mktemp -d)
  if [ -n "$pg" ]; then
    dbname="caredesk_chat_bench_$$_$run"
    psql "$pg/postgres" -qc "create database $dbname" >/dev/null
    cd_bin migrate >/dev/null
  fi
  user chatadmin admin
  for i in $(seq 1 "$agents"); do user "agent$i" agent1; done
  admin_token=$(token chatadmin)
  tokens=()
  for i in $(seq 1 "$agents"); do tokens+=("$(token "agent$i")"); done
  serve 1
  base="$served"
  agent_base="$base"
  # The second node starts after the first has migrated the database.
  if [ "$nodes" = 2 ]; then serve 2; agent_base="$served"; fi
  result=$(AGENT_BASE="$agent_base" node bench/chat/load.mjs "$base" "$admin_token" "${tokens[@]}")
  echo "run $run (nodes $nodes, load $(cut -d' ' -f1-3 /proc/loadavg)): $result"
  p50s+=("$(echo "$result" | sed -E 's/.*"p50_ms":([0-9.]+).*/\1/')")
  p99s+=("$(echo "$result" | sed -E 's/.*"p99_ms":([0-9.]+).*/\1/')")
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  pids=()
  rm -rf "$dir"; dir=""
  if [ -n "$dbname" ]; then psql "$pg/postgres" -qc "drop database if exists $dbname" >/dev/null; dbname=""; fi
done
echo "delivery_p50_ms_median: $(printf '%s\n' "${p50s[@]}" | median)"
echo "delivery_p99_ms_median: $(printf '%s\n' "${p99s[@]}" | median)"
