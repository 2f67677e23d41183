#!/bin/bash
# Postern vs Postfix, SMTP in to Maildir, same machine, same run, same client (smtp-source).
#   tests/bench/smtp_compare.sh BIN_DIR
# Environment (defaults): SIZES="4096 102400" CONCS="1 10 50" RUNS=3
#   N_4096=2000 N_102400=1000 (messages per run for that size; N_<size> for others, else 1000)
#   BENCH_LOCK=/tmp/bench.lock (every timed run holds it: other benchmarks never overlap)
#   KEEP=1 keeps the Postern instance directory.
#   OLD_BIN=DIR also measures a second Postern build (e.g. an older commit) as target "old",
#   alternating with the two others, and prints it after each row: a regression check that
#   holds up on a busy machine, where only same-run figures compare.
# Builds nothing. Postfix comes from ../shared/bench/setup-postfix.sh (loopback only,
# virtual(8) into Maildirs); Postern is a `mailctl init` instance in a temp dir (smtpd +
# spoold, domain bench.test, user u1, per-IP cap raised for smtp-source -s 50). Each run:
# queues empty, Maildir emptied, sync; then the SAME smtp-source command against each
# (targets alternate which goes first); the clock stops when the N-th file is in
# Maildir/new. Median of RUNS per cell; each run is printed with the load average before it.
# Root (Postfix needs it); the peers come from ../shared/bench/install-peers.sh.
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
OLD_DIR=$DIR/old
OLD_BASE=$(( BASE > 30000 ? BASE - 5000 : BASE + 5000 ))
cleanup() {
    "${CTL[@]}" stop >/dev/null 2>&1 || true
    [ -n "${OLD_BIN:-}" ] && { "$OLD_BIN/mailctl" -c "$OLD_DIR/postern.toml" stop >/dev/null 2>&1 || true; }
    "$PEERS/stop.sh" >/dev/null 2>&1 || true
    if [ -n "${KEEP:-}" ]; then echo "# kept $DIR"; else rm -rf "$DIR"; fi
}
trap cleanup EXIT

# --- Postfix (private instance on 127.0.0.1:$SMTP_PORT)
"$PEERS/setup-postfix.sh" start >/dev/null
PF_MD="$MAIL_BASE/$BENCH_DOMAIN/u1"
PF_Q=("$PF_QUEUE/maildrop" "$PF_QUEUE/incoming" "$PF_QUEUE/active" "$PF_QUEUE/deferred")

# --- Postern (temp instance on 127.0.0.1:$((BASE + 25)))
instance() {  # BIN DIR PORT_BASE
    local ctl=("$1/mailctl" -c "$2/postern.toml")
    "$1/mailctl" init "$2" --port-base "$3" --hostname bench.test --listen 127.0.0.1 >/dev/null
    # smtp-source -s 50 opens 50 connections from one address: lift smtpd's per-IP cap (the
    # first max_connections_per_ip in the file is smtpd's). SIZE stays at 50 MB.
    sed -i '0,/^max_connections_per_ip = .*/s//max_connections_per_ip = 200/' "$2/postern.toml"
    grep -q '^max_connections_per_ip = 200' "$2/postern.toml"
    "${ctl[@]}" domain add bench.test >/dev/null
    echo pass-pass-1 | "${ctl[@]}" user add u1@bench.test --password-stdin >/dev/null
    "${ctl[@]}" start smtpd spoold >/dev/null
}
instance "$BIN" "$DIR" "$BASE"
PN_MD="$DIR/data/bench.test/u1/Maildir"
PN_Q=("$DIR/queue/active" "$DIR/queue/incoming")
TARGETS="postern postfix"
if [ -n "${OLD_BIN:-}" ]; then
    OLD_BIN=$(cd "$OLD_BIN" && pwd)
    mkdir "$OLD_DIR"
    instance "$OLD_BIN" "$OLD_DIR" "$OLD_BASE"
    TARGETS="postern postfix old"
fi

src() {  # size conc n port
    echo smtp-source -s "$2" -m "$3" -l "$1" -f "bench@$BENCH_DOMAIN" -t "u1@$BENCH_DOMAIN" \
        "127.0.0.1:$4"
}
measure() {  # target size conc n -> "seconds accept_seconds"
    local md port q
    if [ "$1" = postern ]; then md=$PN_MD; port=$((BASE + 25)); q=("${PN_Q[@]}")
    elif [ "$1" = old ]; then
        md=$OLD_DIR/data/bench.test/u1/Maildir; port=$((OLD_BASE + 25))
        q=("$OLD_DIR/queue/active" "$OLD_DIR/queue/incoming")
    else md=$PF_MD; port=$SMTP_PORT; q=("${PF_Q[@]}"); fi
    local qa=()
    for d in "${q[@]}"; do qa+=(--queue "$d"); done
    # shellcheck disable=SC2046
    flock "$LOCK" python3 "$HERE/smtp_measure.py" --maildir "$md" --n "$4" "${qa[@]}" -- \
        $(src "$2" "$3" "$4" "$port")
}
loadavg() { cut -d' ' -f1-3 /proc/loadavg | tr ' ' ,; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

echo "# $(date -u +%FT%TZ) $(uname -r) $(nproc) cores, load $(loadavg); postern $BIN; postfix $(postconf -d -h mail_version 2>/dev/null)"
echo "# command: $(src SIZE CONC N PORT)   (PORT: postern $((BASE + 25)), postfix $SMTP_PORT${OLD_BIN:+, old $((OLD_BASE + 25)) = $OLD_BIN})"
echo "# clock: smtp-source start -> N-th file in Maildir/new; median of $RUNS runs, targets alternating"
printf '%-8s %-5s %-6s %14s %14s %7s   %s\n' size conc n "postern msg/s" "postfix msg/s" ratio \
    "runs (postern | postfix)"
for size in $SIZES; do
    nvar="N_$size"; n=${!nvar:-1000}
    for c in $CONCS; do
        pn=(); pf=(); po=()
        for r in $(seq "$RUNS"); do
            order=$TARGETS
            [ $((r % 2)) -eq 0 ] && order=$(echo "$TARGETS" | tr ' ' '\n' | tac | tr '\n' ' ')
            for t in $order; do
                la=$(loadavg)
                out=$(measure "$t" "$size" "$c" "$n") || { echo "$t size=$size c=$c failed" >&2; exit 1; }
                secs=${out%% *}
                rate=$(awk -v n="$n" -v s="$secs" 'BEGIN {printf "%.0f", n / s}')
                case $t in postern) pn+=("$rate") ;; old) po+=("$rate") ;; *) pf+=("$rate") ;; esac
                acc=$(awk -v n="$n" -v s="${out##* }" 'BEGIN {printf "%.0f", n / s}')
                echo "# run size=$size conc=$c r=$r $t $rate msg/s, accepted $acc msg/s (load before: $la)"
            done
        done
        mpn=$(printf '%s\n' "${pn[@]}" | median)
        mpf=$(printf '%s\n' "${pf[@]}" | median)
        printf '%-8s %-5s %-6s %14.0f %14.0f %7.2f   %s | %s\n' "$size" "$c" "$n" "$mpn" "$mpf" \
            "$(awk -v a="$mpn" -v b="$mpf" 'BEGIN {print a / b}')" "${pn[*]}" "${pf[*]}"
        if [ -n "${OLD_BIN:-}" ]; then
            mpo=$(printf '%s\n' "${po[@]}" | median)
            printf '# old    %-5s %-6s %14.0f   postern/old %.2f, old/postfix %.2f   runs %s\n' "$c" \
                "$n" "$mpo" "$(awk -v a="$mpn" -v b="$mpo" 'BEGIN {print a / b}')" \
                "$(awk -v a="$mpo" -v b="$mpf" 'BEGIN {print a / b}')" "${po[*]}"
        fi
    done
done
