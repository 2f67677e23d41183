#!/bin/bash
# Postern vs Postfix, SMTP in to Maildir, same machine, same run, same client (smtp-source).
#   tests/bench/smtp_compare.sh BIN_DIR
# Environment (defaults): SIZES="4096 102400" CONCS="1 10 50" RUNS=3
#   N_4096=2000 N_102400=1000 (messages per run for that size; N_<size> for others, else 1000)
#   BENCH_LOCK=/tmp/bench.lock (every timed run holds it: other benchmarks never overlap)
#   KEEP=1 keeps the Postern instance directory.
# Builds nothing. Postfix comes from ../shared/bench/setup-postfix.sh (loopback only,
# virtual(8) into Maildirs); Postern is a `mailctl init` instance in a temp dir (smtpd +
# spoold, domain bench.test, user u1, per-IP cap raised for smtp-source -s 50). Each run:
# queues empty, Maildir emptied, sync; then the SAME smtp-source command against each
# (targets alternate which goes first); the clock stops when the N-th file is in
# Maildir/new. Median of RUNS per cell. Root (Postfix needs it).
set -euo pipefail
BIN=$(cd "${1:?usage: smtp_compare.sh BIN_DIR}" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
PEERS=${PEERS:-$HERE/../../../shared/bench}
SIZES=${SIZES:-"4096 102400"}
CONCS=${CONCS:-"1 10 50"}
RUNS=${RUNS:-3}
LOCK=${BENCH_LOCK:-/tmp/bench.lock}
N_4096=${N_4096:-2000}
N_102400=${N_102400:-1000}

. "$PEERS/env.sh"
DIR=$(mktemp -d /tmp/postern-cmp-XXXXXX)
BASE=$(( 20000 + $$ % 20000 ))
CTL=("$BIN/mailctl" -c "$DIR/postern.toml")
cleanup() {
    "${CTL[@]}" stop >/dev/null 2>&1 || true
    "$PEERS/stop.sh" >/dev/null 2>&1 || true
    if [ -n "${KEEP:-}" ]; then echo "# kept $DIR"; else rm -rf "$DIR"; fi
}
trap cleanup EXIT

# --- Postfix (private instance on 127.0.0.1:$SMTP_PORT)
"$PEERS/setup-postfix.sh" start >/dev/null
PF_MD="$MAIL_BASE/$BENCH_DOMAIN/u1"
PF_Q=("$PF_QUEUE/maildrop" "$PF_QUEUE/incoming" "$PF_QUEUE/active" "$PF_QUEUE/deferred")

# --- Postern (temp instance on 127.0.0.1:$((BASE + 25)))
"$BIN/mailctl" init "$DIR" --port-base "$BASE" --hostname bench.test --listen 127.0.0.1 >/dev/null
# smtp-source -s 50 opens 50 connections from one address: lift smtpd's per-IP cap (the
# first max_connections_per_ip in the file is smtpd's). SIZE stays at 50 MB.
sed -i '0,/^max_connections_per_ip = .*/s//max_connections_per_ip = 200/' "$DIR/postern.toml"
grep -q '^max_connections_per_ip = 200' "$DIR/postern.toml"
"${CTL[@]}" domain add bench.test >/dev/null
echo pass-pass-1 | "${CTL[@]}" user add u1@bench.test --password-stdin >/dev/null
"${CTL[@]}" start smtpd spoold >/dev/null
PN_MD="$DIR/data/bench.test/u1/Maildir"
PN_Q=("$DIR/queue/active" "$DIR/queue/incoming")

src() {  # size conc n port
    echo smtp-source -s "$2" -m "$3" -l "$1" -f "bench@$BENCH_DOMAIN" -t "u1@$BENCH_DOMAIN" \
        "127.0.0.1:$4"
}
measure() {  # target size conc n -> "seconds accept_seconds"
    local md port q
    if [ "$1" = postern ]; then md=$PN_MD; port=$((BASE + 25)); q=("${PN_Q[@]}")
    else md=$PF_MD; port=$SMTP_PORT; q=("${PF_Q[@]}"); fi
    local qa=()
    for d in "${q[@]}"; do qa+=(--queue "$d"); done
    # shellcheck disable=SC2046
    flock "$LOCK" python3 "$HERE/smtp_measure.py" --maildir "$md" --n "$4" "${qa[@]}" -- \
        $(src "$2" "$3" "$4" "$port")
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

echo "# $(date -u +%FT%TZ) $(uname -r) $(nproc) cores; postern $BIN; postfix $(postconf -d -h mail_version 2>/dev/null)"
echo "# command: $(src SIZE CONC N PORT)   (PORT: postern $((BASE + 25)), postfix $SMTP_PORT)"
echo "# clock: smtp-source start -> N-th file in Maildir/new; median of $RUNS runs, targets alternating"
printf '%-8s %-5s %-6s %14s %14s %7s   %s\n' size conc n "postern msg/s" "postfix msg/s" ratio \
    "runs (postern | postfix)"
for size in $SIZES; do
    nvar="N_$size"; n=${!nvar:-1000}
    for c in $CONCS; do
        pn=(); pf=()
        for r in $(seq "$RUNS"); do
            if [ $((r % 2)) -eq 1 ]; then order="postern postfix"; else order="postfix postern"; fi
            for t in $order; do
                out=$(measure "$t" "$size" "$c" "$n") || { echo "$t size=$size c=$c failed" >&2; exit 1; }
                secs=${out%% *}
                rate=$(awk -v n="$n" -v s="$secs" 'BEGIN {printf "%.0f", n / s}')
                if [ "$t" = postern ]; then pn+=("$rate"); else pf+=("$rate"); fi
            done
        done
        mpn=$(printf '%s\n' "${pn[@]}" | median)
        mpf=$(printf '%s\n' "${pf[@]}" | median)
        printf '%-8s %-5s %-6s %14.0f %14.0f %7.2f   %s | %s\n' "$size" "$c" "$n" "$mpn" "$mpf" \
            "$(awk -v a="$mpn" -v b="$mpf" 'BEGIN {print a / b}')" "${pn[*]}" "${pf[*]}"
    done
done
