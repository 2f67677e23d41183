#!/bin/bash
# Cold vs warm FETCH 1:* (ENVELOPE) on Maildir: structures cached with one cache_put_many
# per FetchJob round (now) vs one cache_put per message (before), each on a freshly
# populated store, with the fdatasync / fsync count of the FETCH process (strace -c).
#   tests/bench/imap_fetch_cold.sh BUILD_DIR [N]     (default N = 5000; needs imap_fetch_cold built)
set -euo pipefail
build=${1:?usage: imap_fetch_cold.sh BUILD_DIR [N]}
n=${2:-5000}
bin=$build/bin/imap_fetch_cold
dir=$(mktemp -d /tmp/imap-fetch-cold.XXXXXX)
trap 'rm -rf "$dir"' EXIT
for mode in "" --per-message; do
    "$bin" populate "$dir/data" "$n"
    if command -v strace >/dev/null; then
        strace -f -c -e trace=fdatasync,fsync -o "$dir/strace" "$bin" fetch "$dir/data" $mode
        awk '$NF == "fdatasync" || $NF == "fsync" {print "  " $NF ": " $4 " calls"}' "$dir/strace"
    else
        "$bin" fetch "$dir/data" $mode
    fi
done
