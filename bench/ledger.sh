#!/usr/bin/env bash
# Ledger figures for BENCHMARKS.md (issue 4), on SQLite: fill a journal of LINES journal lines
# (default 10,000,000) spread over DAYS business days and every ledger account, with matching
# daily totals, then time `caredesk ledger trial-balance` (the trial balance sums daily totals,
# not lines) and the general-ledger export of one month, as medians of RUNS runs; last, run
# `caredesk verify` once over the whole journal and time it.
# Usage: bash bench/ledger.sh [path/to/release/caredesk]   (needs sqlite3)
# Environment: LINES (default 10000000), DAYS (default 3650), DIR (data set, default
# /tmp/caredesk-ledger-$LINES), FILL (1 refills DIR, 0 reuses it; default 1), RUNS (default 7),
# VERIFY (1 times verify, default 1).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
bin="$(release_bin "${1:-}")"
lines="${LINES:-10000000}"
days="${DAYS:-3650}"
dir="${DIR:-/tmp/caredesk-ledger-$lines}"
fill="${FILL:-1}"
runs="${RUNS:-7}"
verify="${VERIFY:-1}"

seconds() { awk -v ns="$1" 'BEGIN {printf "%.3f", ns/1e9}'; }

if [ "$fill" = 1 ]; then
  rm -rf "$dir"
  "$bin" --data-dir "$dir" migrate >/dev/null
  t0=$(date +%s%N)
  "$bin" --data-dir "$dir" ledger fill-demo --lines "$lines" --days "$days"
  t1=$(date +%s%N)
  echo "fill_s: $(seconds $((t1 - t0)))"
fi
db="$dir/caredesk.db"
for table in journal_entry journal_line ledger_day_total ledger_account; do
  echo "rows_$table: $(sqlite3 "$db" "select count(*) from $table")"
done
echo "db_size_mib: $(du -sm "$dir" | cut -f1)"

as_of=$(date -u +%F)
"$bin" --data-dir "$dir" ledger trial-balance --as-of "$as_of" | tail -4
tbs=()
for i in $(seq 1 "$runs"); do
  t0=$(date +%s%N)
  "$bin" --data-dir "$dir" ledger trial-balance --as-of "$as_of" >/dev/null
  t1=$(date +%s%N)
  tbs+=("$(seconds $((t1 - t0)))")
done
echo "trial_balance_s_runs: ${tbs[*]}"
echo "trial_balance_s_median: $(printf '%s\n' "${tbs[@]}" | median)"

from=$(date -u -d "$as_of - 30 days" +%F)
exports=()
for i in $(seq 1 "$runs"); do
  t0=$(date +%s%N)
  "$bin" --data-dir "$dir" ledger export --from "$from" --to "$as_of" --out /dev/null
  t1=$(date +%s%N)
  exports+=("$(seconds $((t1 - t0)))")
done
echo "export_30_days_s_runs: ${exports[*]}"
echo "export_30_days_s_median: $(printf '%s\n' "${exports[@]}" | median)"

if [ "$verify" = 1 ]; then
  t0=$(date +%s%N)
  "$bin" --data-dir "$dir" verify
  t1=$(date +%s%N)
  echo "verify_s: $(seconds $((t1 - t0)))"
fi
