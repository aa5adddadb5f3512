#!/usr/bin/env bash
# API payment figures for BENCHMARKS.md (issue 4) without the file imports: POST /api/v1/payments
# (card payments by phone with a bearer token, the wrk script of bench/payments.sh) against a
# fresh copy of the demo data set, at several connection counts, then `caredesk verify` on the
# database the load left (the audit chain and every ledger check; exits 1 on a problem).
# Usage: bash bench/payments_api.sh [path/to/release/caredesk]   (needs sqlite3 and wrk)
# Environment: CUSTOMERS (demo data set, default 100000), DEMO (a demo data directory to copy,
# default /tmp/caredesk-pay-demo-$CUSTOMERS, made if missing), CONNECTIONS (default "16 32 64"),
# RUNS (per connection count, default 3), DURATION (per wrk run, default 10s), VERIFY (default 1),
# RATE (unset by default): when set, each connection waits a random think time between its
# requests (exponential, mean connections / RATE seconds), so the connections together offer
# about RATE payments a second, as many cashiers and programs would, rather than each sending
# its next payment the moment the last is answered; the rate reported is the one achieved.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
bin="$(release_bin "${1:-}")"
customers="${CUSTOMERS:-100000}"
demo="${DEMO:-/tmp/caredesk-pay-demo-$customers}"
connections="${CONNECTIONS:-16 32 64}"
runs="${RUNS:-3}"
duration="${DURATION:-10s}"
port=18084
work=$(mktemp -d)
pid=0
trap 'if [ "$pid" != 0 ]; then kill $pid 2>/dev/null || true; fi; rm -rf "$work"' EXIT

if [ ! -f "$demo/caredesk.db" ]; then
  "$bin" --data-dir "$demo" demo --customers "$customers" >/dev/null 2>&1
fi
dir="$work/data"
cp -r "$demo" "$dir"
db="$dir/caredesk.db"
# Card payments: cash-only accounts would (rightly) refuse them.
sqlite3 "$db" "select account_id from account where cash_only = 0 order by account_id limit 10000" >"$work/ids.txt"
# The same wrk script as bench/payments.sh, taken from it so the two cannot drift apart.
sed -n '/^cat >"\$work\/post.lua" <<.LUA.$/,/^LUA$/p' bench/payments.sh | sed '1d;$d' >"$work/post.lua"
[ -s "$work/post.lua" ] || { echo "could not read the wrk script from bench/payments.sh" >&2; exit 1; }
"$bin" --data-dir "$dir" user add --username bench_cashier --role cashier --display-name "Bench Cashier" \
  --password-stdin <<<"bench-cashier-password" >/dev/null 2>&1 || true
"$bin" --data-dir "$dir" serve --listen "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
pid=$!
until curl -fs -o /dev/null "http://127.0.0.1:$port/readyz"; do sleep 0.05; done
token=$("$bin" --data-dir "$dir" user token --username bench_cashier 2>/dev/null)
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for c in $connections; do
  rps=(); p99=(); p50=()
  script="$work/post.lua"
  if [ -n "${RATE:-}" ]; then
    script="$work/paced-$c.lua"
    cp "$work/post.lua" "$script"
    printf 'local think_ms = %s * 1000 / %s\n%s\n' "$c" "$RATE" \
      'delay = function() return math.floor(-math.log(1 - math.random()) * think_ms + 0.5) end' >>"$script"
  fi
  for i in $(seq 1 "$runs"); do
    out=$(wrk -t2 -c"$c" -d"$duration" -s "$script" "http://127.0.0.1:$port" -- "$work/ids.txt" "$token")
    errors=$(awk '/^errors/ {print $2}' <<<"$out")
    [ "$errors" = 0 ] || echo "WARNING: $c connections, run $i had $errors errors"
    rps+=("$(awk '/^rps/ {print $2}' <<<"$out")")
    p50+=("$(awk '/^p50_ms/ {print $2}' <<<"$out")")
    p99+=("$(awk '/^p99_ms/ {print $2}' <<<"$out")")
  done
  echo "connections $c${RATE:+, offered about $RATE/s}: payments_per_s ${rps[*]} median $(printf '%s\n' "${rps[@]}" | median);" \
    "p50_ms ${p50[*]} median $(printf '%s\n' "${p50[@]}" | median);" \
    "p99_ms ${p99[*]} median $(printf '%s\n' "${p99[@]}" | median); load $(cut -d' ' -f1-3 /proc/loadavg)"
done
kill "$pid"
wait "$pid" 2>/dev/null || true
pid=0
echo "rows_payment: $(sqlite3 "$db" "select count(*) from payment")"
if [ "${VERIFY:-1}" = 1 ]; then
  if "$bin" --data-dir "$dir" verify >"$work/verify.log" 2>&1; then echo "verify: clean"; else
    echo "verify: PROBLEMS"; tail -20 "$work/verify.log"; fi
  grep -iE "audit|records|ok" "$work/verify.log" | head -5 || true
fi
