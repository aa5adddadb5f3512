#!/usr/bin/env bash
# Bill run throughput for BENCHMARKS.md (issue 4), on SQLite: generate the demo data set once
# (`caredesk demo --customers N`: 80% of customers have an electric agreement, bill cycles 1–28
# spread evenly), then, RUNS times, copy the data directory afresh and time
# `caredesk bill-run --cycle all --period 2026-11`: bills per second, median. `--cycle all` bills
# the 28 cycles' runs together in one pass over the account ids (`billing::run::bill_runs`).
# Each batch (12,000 accounts, over all cycles) is one durable commit (synchronous=FULL).
# Usage: bash bench/billing.sh [path/to/release/caredesk]   (needs sqlite3)
# Environment: CUSTOMERS (default 1000000), DIR (generated data, default /tmp/caredesk-bill-$CUSTOMERS;
# reused if it exists), RUNS (default 3), WORK (where copies go, default /tmp/caredesk-bill-work).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
bin="$(release_bin "${1:-}")"
customers="${CUSTOMERS:-1000000}"
dir="${DIR:-/tmp/caredesk-bill-$customers}"
runs="${RUNS:-3}"
work="${WORK:-/tmp/caredesk-bill-work}"
trap 'rm -rf "$work"' EXIT

if [ ! -f "$dir/caredesk.db" ]; then
  t0=$(date +%s%N)
  "$bin" --data-dir "$dir" demo --customers "$customers" >/dev/null 2>&1
  t1=$(date +%s%N)
  echo "generate_s: $(awk -v ns=$((t1 - t0)) 'BEGIN {printf "%.1f", ns/1e9}')"
fi

rates=()
for i in $(seq 1 "$runs"); do
  rm -rf "$work"
  cp -r "$dir" "$work"
  sync
  t0=$(date +%s%N)
  "$bin" --data-dir "$work" bill-run --cycle all --period 2026-11 --quiet >"$work.out"
  t1=$(date +%s%N)
  bills=$(sqlite3 "$work/caredesk.db" "select count(*) from bill")
  check=$(sqlite3 "$work/caredesk.db" "select coalesce(sum(amount_minor), 0) from journal_line")
  secs=$(awk -v ns=$((t1 - t0)) 'BEGIN {printf "%.2f", ns/1e9}')
  rate=$(awk -v b="$bills" -v s="$secs" 'BEGIN {printf "%.0f", b/s}')
  echo "run $i: $bills bills in $secs s = $rate bills/s (journal lines sum to $check)"
  rates+=("$rate")
  rm -f "$work.out"
done
echo "load_average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "bills_per_second_runs: ${rates[*]}"
echo "bills_per_second_median: $(printf '%s\n' "${rates[@]}" | median)"
