#!/usr/bin/env bash
# Outbound email drain benchmark: enqueue N emails (default 5000), then time one drain of the
# queue to a local aiosmtpd sink (tests/smtp/dir_sink.py, started by the test), with pooled SMTP
# connections and CONCURRENCY sends in flight (default 8). Runs RUNS times (default 3) and prints
# each run and the median rate. Needs: pip install aiosmtpd. PostgreSQL: set TEST_DATABASE_URL.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/caredesk-target}"
export N="${N:-5000}" CONCURRENCY="${CONCURRENCY:-8}"
runs="${RUNS:-3}"
cargo test --release -p correspondence --lib bench_email_out --no-run >/dev/null 2>&1 || \
  cargo test --release -p correspondence --lib bench_email_out --no-run
rates=()
for _ in $(seq "$runs"); do
  line=$(cargo test --release -q -p correspondence --lib bench_email_out -- --ignored --nocapture 2>&1 \
         | grep -E '^email_out|skipped' | head -1)
  echo "$line"
  rates+=("$(echo "$line" | sed -n 's/.*emails_per_s=\([0-9]*\).*/\1/p')")
done
printf '%s\n' "${rates[@]}" | sort -n | awk '{a[NR]=$1} END {if (NR) print "median emails_per_s=" a[int((NR+1)/2)]}'
