#!/usr/bin/env bash
# Runs each fuzz target for a given time and reports executions and crashes.
#
#   fuzz/run.sh [SECONDS] [TARGET...]     # default: 120 s, every target
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`). Works on stable Rust: the
# default is `--sanitizer none` (coverage only); SANITIZER=address turns on
# AddressSanitizer through RUSTC_BOOTSTRAP=1, since -Zsanitizer is
# nightly-only. Each target grows its corpus in fuzz/corpus/TARGET (not
# checked in) from the checked-in seeds in fuzz/seeds/TARGET; a crash lands
# in fuzz/artifacts/TARGET and makes the script fail.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

seconds="${1:-120}"
shift || true
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  targets=(access_verify refresh_parse store_ops)
fi
sanitizer="${SANITIZER:-none}"
if [[ "$sanitizer" != none ]]; then
  export RUSTC_BOOTSTRAP=1
fi

summary=()
failed=0
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target" "artifacts/$target"
  before=$(find "artifacts/$target" -type f | wc -l)
  log="artifacts/$target.log"
  echo "=== $target: ${seconds}s, sanitizer $sanitizer"
  status=0
  cargo fuzz run --sanitizer "$sanitizer" "$target" "corpus/$target" "seeds/$target" -- \
    -max_total_time="$seconds" -max_len=20000 -print_final_stats=1 >"$log" 2>&1 || status=$?
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -n 1)
  crashes=$(( $(find "artifacts/$target" -type f | wc -l) - before ))
  corpus=$(find "corpus/$target" -type f | wc -l)
  tail -n 3 "$log"
  summary+=("$target: ${runs:-?} executions in ${seconds}s, $crashes new crash files, exit $status, corpus $corpus")
  if [[ $status -ne 0 || $crashes -ne 0 ]]; then
    failed=1
  fi
done

printf '\n=== summary\n'
printf '%s\n' "${summary[@]}"
exit "$failed"
