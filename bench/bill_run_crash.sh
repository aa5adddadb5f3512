#!/usr/bin/env bash
# Crash test of the bill run: a reference data set billed without interruption, and a copy of it
# whose bill run is killed with SIGKILL at random moments TRIALS times, then finished. The copy
# must end with the reference's bill count and total, no duplicate bill, journal lines summing to
# zero, and `caredesk verify` exiting 0.
# Usage: bash bench/bill_run_crash.sh [path/to/release/caredesk]   (needs sqlite3; without a path the
# release binary is built first, as for every script here)
# Environment: CUSTOMERS (default 5000), TRIALS (default 20), BATCH (accounts per batch, default 50).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
bin="$(release_bin "${1:-}")"
customers="${CUSTOMERS:-5000}"
trials="${TRIALS:-20}"
batch="${BATCH:-50}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" --data-dir "$work/ref" demo --customers "$customers" >/dev/null 2>&1
sqlite3 "$work/ref/caredesk.db" "update billing_setting set batch_size = $batch"
cp -r "$work/ref" "$work/crash"
figures() {
  sqlite3 "$1/caredesk.db" "select count(*), coalesce(sum(total_minor), 0), (select count(*) from (select distinct account_id, period from bill)),
    (select coalesce(sum(amount_minor), 0) from journal_line), (select count(*) from open_item where kind = 'bill') from bill"
}
"$bin" --data-dir "$work/ref" bill-run --cycle all --period 2026-11 --quiet >/dev/null
expected=$(figures "$work/ref")
mid=0
for i in $(seq 1 "$trials"); do
  "$bin" --data-dir "$work/crash" bill-run --cycle all --period 2026-11 --quiet >/dev/null 2>&1 &
  pid=$!
  sleep "0.$(printf '%03d' $((RANDOM % 400 + 20)))"
  if kill -0 "$pid" 2>/dev/null; then mid=$((mid + 1)); fi
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  IFS='|' read -r bills _ distinct lines _ <<<"$(figures "$work/crash")"
  [ "$bills" = "$distinct" ] || { echo "trial $i: duplicate bills ($bills vs $distinct)"; exit 1; }
  [ "$lines" = "0" ] || { echo "trial $i: journal lines sum to $lines"; exit 1; }
done
"$bin" --data-dir "$work/crash" bill-run --cycle all --period 2026-11 --quiet >/dev/null
got=$(figures "$work/crash")
echo "expected (bills|total|distinct|journal sum|open items): $expected"
echo "after $trials kills ($mid mid-run) and a restart:          $got"
[ "$got" = "$expected" ] || { echo "MISMATCH"; exit 1; }
"$bin" --data-dir "$work/crash" verify
check=$(sqlite3 "$work/crash/caredesk.db" "pragma integrity_check")
[ "$check" = "ok" ] || { echo "integrity check: $check"; exit 1; }
echo "crash test: ok (integrity check ok)"
