#!/bin/bash
# What one message costs smtpd and spoold, in CPU time and context switches, per build:
# numbers that hold on a busy machine, where msg/s do not (a regression check beside
# smtp_compare.sh, whose rates need a quiet machine).
#   tests/bench/smtp_cost.sh N SIZE BIN_DIR...      e.g. smtp_cost.sh 2000 4096 build/bin old/bin
# For each build: a `mailctl init` instance in a temp dir (loopback only), smtp-source -s 1
# sending N messages of SIZE bytes to one user; when all N are in Maildir/new, prints per
# message: CPU µs (user+sys, all threads) and voluntary/involuntary context switches of smtpd
# and of spoold, and the wall time. Needs Postfix's smtp-source (tests/bench/install-peers.sh).
set -euo pipefail
N=${1:?usage: smtp_cost.sh N SIZE BIN_DIR...}; SIZE=${2:?}; shift 2
TICK=$(getconf CLK_TCK)

# "<cpu ticks> <voluntary> <involuntary>" of a process, all its threads.
cost() {
    local pid=$1 t v=0 i=0
    t=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    for s in /proc/"$pid"/task/*/status; do
        v=$(( v + $(awk '/^voluntary_ctxt_switches/ {print $2}' "$s") ))
        i=$(( i + $(awk '/^nonvoluntary_ctxt_switches/ {print $2}' "$s") ))
    done
    echo "$t $v $i"
}

printf '%-40s %10s %8s %8s %10s %8s %8s %8s\n' build smtpd_us vcs ivcs spoold_us vcs ivcs wall_s
for BIN in "$@"; do
    BIN=$(cd "$BIN" && pwd)
    DIR=$(mktemp -d /tmp/postern-cost-XXXXXX)
    BASE=$(( 20000 + RANDOM % 20000 ))
    CTL=("$BIN/mailctl" -c "$DIR/postern.toml")
    "$BIN/mailctl" init "$DIR" --port-base $BASE --hostname bench.test --listen 127.0.0.1 >/dev/null
    "${CTL[@]}" domain add bench.test >/dev/null
    echo pass-pass-1 | "${CTL[@]}" user add u1@bench.test --password-stdin >/dev/null
    "${CTL[@]}" start smtpd spoold >/dev/null
    PORT=$(awk -F' = ' '/^mx_port/ {print $2; exit}' "$DIR/postern.toml")
    NEW="$DIR/data/bench.test/u1/Maildir/new"
    sp=$(cat "$DIR/run/smtpd.pid"); qp=$(cat "$DIR/run/spoold.pid")
    read -r s0 sv0 si0 < <(cost "$sp"); read -r q0 qv0 qi0 < <(cost "$qp")
    start=$(date +%s.%N)
    smtp-source -s 1 -m "$N" -l "$SIZE" -f bench@bench.test -t u1@bench.test "127.0.0.1:$PORT"
    for _ in $(seq 600); do
        [ "$(find "$NEW" -type f | wc -l)" -ge "$N" ] && break
        sleep 0.1
    done
    end=$(date +%s.%N)
    read -r s1 sv1 si1 < <(cost "$sp"); read -r q1 qv1 qi1 < <(cost "$qp")
    awk -v b="$BIN" -v n="$N" -v tick="$TICK" -v s="$((s1 - s0))" -v sv="$((sv1 - sv0))" \
        -v si="$((si1 - si0))" -v q="$((q1 - q0))" -v qv="$((qv1 - qv0))" -v qi="$((qi1 - qi0))" \
        -v w="$(echo "$end - $start" | bc)" 'BEGIN {
        printf "%-40s %10.1f %8.2f %8.2f %10.1f %8.2f %8.2f %8.2f\n", b, s * 1e6 / tick / n,
               sv / n, si / n, q * 1e6 / tick / n, qv / n, qi / n, w }'
    "${CTL[@]}" stop >/dev/null 2>&1 || true
    rm -rf "$DIR"
done
