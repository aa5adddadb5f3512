#!/usr/bin/env bash
# Foundation figures for BENCHMARKS.md: release binary size, cold start to /readyz on an empty
# database, idle memory, and /healthz and authenticated /api/v1/me throughput with wrk.
# Usage: bash bench/foundation.sh [path/to/release/caredesk]   (needs curl and wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
bin="$(release_bin "${1:-}")"
runs="${RUNS:-7}"
duration="${DURATION:-10s}"
port=18080
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
pid=0

echo "binary: $bin"
echo "size_bytes: $(stat -c %s "$bin")"
echo "size_mib: $(awk -v b="$(stat -c %s "$bin")" 'BEGIN {printf "%.1f", b/1048576}')"

starts=()
for i in $(seq 1 "$runs"); do
  dir="$work/cold-$i"
  t0=$(date +%s%N)
  "$bin" --data-dir "$dir" serve --listen "127.0.0.1:$port" >/dev/null 2>&1 &
  pid=$!
  until curl -fs -o /dev/null "http://127.0.0.1:$port/readyz"; do sleep 0.005; done
  t1=$(date +%s%N)
  starts+=($(( (t1 - t0) / 1000000 )))
  kill "$pid"; wait "$pid" 2>/dev/null || true
done
echo "cold_start_ms_runs: ${starts[*]}"
echo "cold_start_ms_median: $(printf '%s\n' "${starts[@]}" | median)"

dir="$work/steady"
printf '%s\n' 'bench-password-1' | "$bin" --data-dir "$dir" user add --username bench --role agent1 --password-stdin >/dev/null
"$bin" --data-dir "$dir" serve --listen "127.0.0.1:$port" >/dev/null 2>&1 &
pid=$!
until curl -fs -o /dev/null "http://127.0.0.1:$port/readyz"; do sleep 0.01; done
sleep 5
echo "idle_rss_mib: $(awk '/VmRSS/ {printf "%.1f", $2/1024}' /proc/$pid/status)"
token=$("$bin" --data-dir "$dir" user token --username bench 2>/dev/null)

wrk_rps() { wrk -t2 -c32 -d"$duration" "$@" | awk '/Requests\/sec/ {print $2}'; }
wrk_latency() { wrk -t2 -c32 -d"$duration" --latency "$@" | awk '/ 50%/ {print $2}'; }
for name in healthz me; do
  rates=()
  for i in 1 2 3; do
    if [ "$name" = healthz ]; then
      rates+=("$(wrk_rps "http://127.0.0.1:$port/healthz")")
    else
      rates+=("$(wrk_rps -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/me")")
    fi
  done
  echo "${name}_rps_runs: ${rates[*]}"
  echo "${name}_rps_median: $(printf '%s\n' "${rates[@]}" | median)"
done
echo "me_p50_latency: $(wrk_latency -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/me")"
echo "rss_after_load_mib: $(awk '/VmRSS/ {printf "%.1f", $2/1024}' /proc/$pid/status)"
