#!/usr/bin/env bash
# Outbound email drain benchmark: enqueue N emails (default 5000), then time one drain of the
# queue to a local aiosmtpd sink (tests/smtp/dir_sink.py, started by the test) with CONCURRENCY
# senders (default 8), each keeping one SMTP connection open. Runs RUNS times (default 3) and
# prints each run and the median rate. Needs: pip install aiosmtpd. PostgreSQL: set
# TEST_DATABASE_URL. The release test binary is built once, then run directly, so a change to
# another crate's sources between runs cannot start a rebuild in the middle of a measurement.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/caredesk-target}"
export N="${N:-5000}" CONCURRENCY="${CONCURRENCY:-8}"
runs="${RUNS:-3}"
binary=$(cargo test --release -p correspondence --lib --no-run --message-format=json 2>/dev/null \
  | python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "correspondence":
        print(m["executable"])')
if [ -z "$binary" ]; then
  cargo test --release -p correspondence --lib --no-run  # shows the build error
  exit 1
fi
uptime
rates=()
for _ in $(seq "$runs"); do
  line=$(cd crates/correspondence && "$binary" bench_email_out --ignored --nocapture 2>&1 \
         | grep -E '^email_out|skipped' | head -1)
  echo "$line"
  rates+=("$(echo "$line" | sed -n 's/.*emails_per_s=\([0-9]*\).*/\1/p')")
done
echo "median emails_per_s=$(printf '%s\n' "${rates[@]}" | median)"
