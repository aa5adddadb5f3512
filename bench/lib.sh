#!/usr/bin/env bash
# Shared by the benchmark scripts (sourced after `cd` to the repository root).

# The release binary to measure: the script's first argument, or one built now.
release_bin() {
  if [ -n "${1:-}" ]; then
    echo "$1"
    return
  fi
  cargo build --release -p caredesk >&2
  echo "${CARGO_TARGET_DIR:-target}/release/caredesk"
}

# The median of the numbers on standard input, one a line.
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
