#!/bin/sh
# Postern SMTP-in-to-Maildir rate with Postfix's smtp-source (same client as
# ../shared/bench/smtp_bench.py uses for Postfix). The clock runs from smtp-source start
# until the N-th file is in the user's Maildir/new.
#   tests/bench/smtp_bench.sh BIN_DIR [N] [SIZE] [CONC...]
# Loopback only; the instance lives in a temp dir and is removed afterwards.
set -eu
BIN=$1; N=${2:-2000}; SIZE=${3:-4096}; shift 3 2>/dev/null || shift $#
CONCS=${*:-"1 10 50"}
DIR=$(mktemp -d /tmp/postern-bench-XXXXXX)
BASE=$(( 20000 + $$ % 20000 ))
trap '[ -n "${KEEP:-}" ] && for f in "$DIR"/log/*.log; do echo "== $f"; grep -v "info:" "$f" | sort -k3 | head -n 12; done; "$BIN/mailctl" -c "$DIR/postern.toml" stop >/dev/null 2>&1 || true; rm -rf "$DIR"' EXIT
"$BIN/mailctl" init "$DIR" --port-base $BASE --hostname bench.test --listen 127.0.0.1 >/dev/null
# smtp-source -s 50 opens 50 connections from one address: lift smtpd's per-IP cap (the first
# max_connections_per_ip in the file is smtpd's).
sed -i '0,/^max_connections_per_ip = .*/s//max_connections_per_ip = 200/' "$DIR/postern.toml"
"$BIN/mailctl" -c "$DIR/postern.toml" domain add bench.test >/dev/null
echo pass-pass-1 | "$BIN/mailctl" -c "$DIR/postern.toml" user add u1@bench.test --password-stdin >/dev/null
"$BIN/mailctl" -c "$DIR/postern.toml" start smtpd spoold >/dev/null
NEW="$DIR/data/bench.test/u1/Maildir/new"
for c in $CONCS; do
    rm -f "$NEW"/*; sync; sleep 1
    t0=$(date +%s.%N)
    smtp-source -s "$c" -m "$N" -l "$SIZE" -f bench@bench.test -t u1@bench.test 127.0.0.1:$((BASE + 25))
    i=0
    while [ "$(ls "$NEW" | wc -l)" -lt "$N" ] && [ $i -lt 6000 ]; do sleep 0.05; i=$((i + 1)); done
    t1=$(date +%s.%N)
    got=$(ls "$NEW" | wc -l)
    echo "postern size=$SIZE conc=$c n=$N delivered=$got msg/s=$(echo "$got / ($t1 - $t0)" | bc -l | cut -c1-7)"
done
