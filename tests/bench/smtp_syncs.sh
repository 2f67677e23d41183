#!/bin/bash
# Durability syscalls per message on Postern's SMTP-in-to-Maildir path: attaches strace -f -c
# to smtpd and spoold, sends N messages with smtp-source at concurrency C, divides.
#   tests/bench/smtp_syncs.sh BIN_DIR [N=500] [C=10] [SIZE=4096]
# Not a timing run (strace slows everything); loopback only; the instance is a temp dir.
set -euo pipefail
BIN=$(cd "${1:?usage: smtp_syncs.sh BIN_DIR [N] [C] [SIZE]}" && pwd)
N=${2:-500}; C=${3:-10}; SIZE=${4:-4096}
DIR=$(mktemp -d /tmp/postern-syncs-XXXXXX)
BASE=$(( 20000 + $$ % 20000 ))
CTL=("$BIN/mailctl" -c "$DIR/postern.toml")
trap '"${CTL[@]}" stop >/dev/null 2>&1 || true; rm -rf "$DIR"' EXIT
"$BIN/mailctl" init "$DIR" --port-base "$BASE" --hostname bench.test --listen 127.0.0.1 >/dev/null
sed -i '0,/^max_connections_per_ip = .*/s//max_connections_per_ip = 200/' "$DIR/postern.toml"
"${CTL[@]}" domain add bench.test >/dev/null
echo pass-pass-1 | "${CTL[@]}" user add u1@bench.test --password-stdin >/dev/null
"${CTL[@]}" start smtpd spoold >/dev/null
NEW="$DIR/data/bench.test/u1/Maildir/new"
calls=fsync,fdatasync,sync_file_range,rename,renameat,renameat2,link,linkat,unlink,unlinkat
for svc in smtpd spoold; do
    strace -f -c -e trace="$calls" -o "$DIR/$svc.strace" -p "$(cat "$DIR/run/$svc.pid")" 2>/dev/null &
    echo $! > "$DIR/$svc.tracer"
done
sleep 1
smtp-source -s "$C" -m "$N" -l "$SIZE" -f bench@bench.test -t u1@bench.test "127.0.0.1:$((BASE + 25))"
for _ in $(seq 600); do [ "$(ls "$NEW" | wc -l)" -ge "$N" ] && break; sleep 0.1; done
sleep 1
for svc in smtpd spoold; do kill -INT "$(cat "$DIR/$svc.tracer")"; done
wait || true
echo "# $N messages, c=$C, size=$SIZE: calls per message"
for svc in smtpd spoold; do
    # strace -c rows: % time, seconds, usecs/call, calls, [errors,] syscall
    awk -v n="$N" -v s="$svc" '$1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" {
        printf "%-7s %-16s %8.2f\n", s, $NF, $4 / n }' "$DIR/$svc.strace"
done
