#!/usr/bin/env bash
# Gives every fuzz target a short run on its seed corpus: a crash, leak or
# sanitizer report fails the run. Long campaigns are run by hand:
#   build-fuzz/bin/fuzz_smtp_command tests/fuzz/corpus/smtp_command
set -euo pipefail
bin=${1:?usage: run-smoke.sh BIN_DIR}
here=$(cd "$(dirname "$0")" && pwd)
secs=${FUZZ_SECONDS:-10}
status=0
for f in "$bin"/fuzz_*; do
    [ -x "$f" ] || continue
    name=$(basename "$f"); name=${name#fuzz_}
    corpus="$here/corpus/$name"
    work=$(mktemp -d)
    [ -d "$corpus" ] && cp -r "$corpus"/. "$work"/ 2>/dev/null || true
    if "$f" -max_total_time="$secs" -max_len=4096 -print_final_stats=1 "$work" >"$work.log" 2>&1; then
        echo "fuzz $name: ok ($(grep -o 'stat::number_of_executed_units: [0-9]*' "$work.log" | awk '{print $2}') runs)"
    else
        echo "fuzz $name: FAILED"; tail -40 "$work.log"; status=1
    fi
    rm -rf "$work" "$work.log"
done
exit $status
