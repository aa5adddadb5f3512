#!/usr/bin/env bash
# Payments figures for BENCHMARKS.md (issue 4), on SQLite: lockbox payment file import
# (payments/second through `caredesk payments import`, one transaction, every line posted to the
# ledger and settled) and POST /api/v1/payments throughput and latency (wrk, card payments by
# phone with a bearer token, concurrent requests sharing group commits).
# Usage: bash bench/payments.sh [path/to/release/caredesk]   (needs sqlite3; wrk for the API part)
# Environment: CUSTOMERS (demo data set, default 100000), DIR (default /tmp/caredesk-pay-$CUSTOMERS),
# LINES (lines per payment file, default 1000000), RUNS (default 3), DURATION (per wrk run,
# default 10s), CONNECTIONS (default 64), VERIFY (default 1: run `caredesk verify` after the imports).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
bin="$(release_bin "${1:-}")"
customers="${CUSTOMERS:-100000}"
dir="${DIR:-/tmp/caredesk-pay-$customers}"
lines="${LINES:-1000000}"
runs="${RUNS:-3}"
duration="${DURATION:-10s}"
connections="${CONNECTIONS:-64}"
port=18082
work=$(mktemp -d)
pid=0
trap 'if [ "$pid" != 0 ]; then kill $pid 2>/dev/null || true; fi; rm -rf "$work"' EXIT

if [ ! -f "$dir/caredesk.db" ]; then
  "$bin" --data-dir "$dir" demo --customers "$customers" >/dev/null 2>&1
fi
db="$dir/caredesk.db"
sqlite3 "$db" "select account_number from account order by account_id" >"$work/accounts.txt"
echo "accounts: $(wc -l <"$work/accounts.txt")"

# One file per run: LINES lines cycling over every account, references unique across runs.
rates=()
for i in $(seq 1 "$runs"); do
  file="$work/lockbox-$i.csv"
  awk -v n="$lines" -v run="$i-$$" 'BEGIN {print "account_number,amount,reference,date"}
    {acct[NR] = $1} END {for (k = 0; k < n; k++) printf "%s,%d.%02d,LBX-%s-%d,2026-11-30\n",
      acct[k % NR + 1], 5 + k % 90, k % 100, run, k}' "$work/accounts.txt" >"$file"
  t0=$(date +%s%N)
  "$bin" --data-dir "$dir" payments import "$file" >"$work/import-$i.log"
  t1=$(date +%s%N)
  cat "$work/import-$i.log"
  rates+=("$(awk -v n="$lines" -v ns=$((t1 - t0)) 'BEGIN {printf "%.0f", n / (ns / 1e9)}')")
done
echo "load_average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "import_payments_per_s_runs (wall clock, process start to commit): ${rates[*]}"
echo "import_payments_per_s_median: $(printf '%s\n' "${rates[@]}" | median)"
echo "rows_payment: $(sqlite3 "$db" "select count(*) from payment")"
echo "unbalanced_entries: $(sqlite3 "$db" "select count(*) from (select entry_id from journal_line
  group by entry_id having sum(amount_minor) <> 0)")"
# The whole book re-checked from the lines: balances, day totals, open items (exits 1 on a problem).
# VERIFY=0 skips it: on 100,000 accounts it ran for over 14 minutes on 2026-11-30.
if [ "${VERIFY:-1}" = 1 ]; then
  if "$bin" --data-dir "$dir" verify >"$work/verify.log" 2>&1; then echo "verify: clean"; else
    echo "verify: PROBLEMS"; tail -20 "$work/verify.log"; fi
fi

if ! command -v wrk >/dev/null 2>&1; then
  echo "wrk not installed: API figures skipped"
  exit 0
fi
# Card payments: cash-only accounts would (rightly) refuse them.
sqlite3 "$db" "select account_id from account where cash_only = 0 order by account_id limit 10000" >"$work/ids.txt"
cat >"$work/post.lua" <<'LUA'
local ids = {}
local auth = ""
function init(args)
  for line in io.lines(args[1]) do ids[#ids + 1] = line end
  auth = "Bearer " .. args[2]
end
request = function()
  local id = ids[math.random(#ids)]
  local body = '{"account_id":' .. id .. ',"amount":"12.34","tender":"card","channel":"phone",' ..
    '"processor_token":"tok_bench","card_brand":"visa","last_four":"4242","log_contact":false}'
  return wrk.format("POST", "/api/v1/payments", {["Content-Type"] = "application/json", ["Authorization"] = auth}, body)
end
done = function(summary, latency, requests)
  io.write(string.format("rps %.0f\n", summary.requests / (summary.duration / 1e6)))
  io.write(string.format("p50_ms %.2f\np99_ms %.2f\n", latency:percentile(50) / 1000, latency:percentile(99) / 1000))
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write
  io.write(string.format("errors %d\n", errors))
end
LUA
"$bin" --data-dir "$dir" user add --username bench_cashier --role cashier --display-name "Bench Cashier" \
  --password-stdin <<<"bench-cashier-password" >/dev/null 2>&1 || true
"$bin" --data-dir "$dir" serve --listen "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
pid=$!
until curl -fs -o /dev/null "http://127.0.0.1:$port/readyz"; do sleep 0.05; done
token=$("$bin" --data-dir "$dir" user token --username bench_cashier 2>/dev/null)
rps=(); p99=()
for i in $(seq 1 "$runs"); do
  # The script sets every header itself (a headers table replaces wrk's -H ones).
  out=$(wrk -t2 -c"$connections" -d"$duration" -s "$work/post.lua" "http://127.0.0.1:$port" -- "$work/ids.txt" "$token")
  errors=$(awk '/^errors/ {print $2}' <<<"$out")
  [ "$errors" = 0 ] || echo "WARNING: run $i had $errors errors"
  rps+=("$(awk '/^rps/ {print $2}' <<<"$out")")
  p99+=("$(awk '/^p99_ms/ {print $2}' <<<"$out")")
done
echo "api_payments_per_s_runs: ${rps[*]}  median: $(printf '%s\n' "${rps[@]}" | median)"
echo "api_p99_ms_runs: ${p99[*]}  median: $(printf '%s\n' "${p99[@]}" | median)"
