#!/usr/bin/env bash
# Gives every fuzz target a short run on its seed corpus, as many at once as there are
# cores: a crash, leak or sanitizer report fails the run. Long campaigns are run by hand:
#   build-fuzz/bin/fuzz_smtp_command tests/fuzz/corpus/smtp_command
set -euo pipefail
bin=${1:?usage: run-smoke.sh BIN_DIR}
here=$(cd "$(dirname "$0")" && pwd)
export FUZZ_SECONDS=${FUZZ_SECONDS:-10} FUZZ_CORPORA=$here/corpus

# smoke_one TARGET: one target's run; prints one line, or the log's tail when it fails.
smoke_one() {
    local f=$1 name work status=0
    name=$(basename "$f"); name=${name#fuzz_}
    work=$(mktemp -d)
    [ -d "$FUZZ_CORPORA/$name" ] && cp -r "$FUZZ_CORPORA/$name"/. "$work"/ 2>/dev/null || true
    if "$f" -max_total_time="$FUZZ_SECONDS" -max_len=4096 -print_final_stats=1 "$work" \
        >"$work.log" 2>&1; then
        echo "fuzz $name: ok ($(grep -o 'stat::number_of_executed_units: [0-9]*' "$work.log" |
            awk '{print $2}') runs)"
    else
        echo "fuzz $name: FAILED"; tail -40 "$work.log"; status=1
    fi
    rm -rf "$work" "$work.log"
    return $status
}
export -f smoke_one

targets=()
for f in "$bin"/fuzz_*; do
    [ -x "$f" ] && targets+=("$f")
done
[ ${#targets[@]} -gt 0 ] || { echo "run-smoke: no fuzz_* targets in $bin" >&2; exit 1; }
# xargs exits non-zero when any run failed; each run's output is one block.
printf '%s\n' "${targets[@]}" | xargs -P"$(nproc)" -I{} bash -c 'smoke_one "$1"' _ {}
