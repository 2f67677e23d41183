#!/bin/bash
# Postern pop3d vs Dovecot pop3 on this machine, in one run, with one client (pop3_load).
#
#   tests/bench/pop3_compare.sh BIN_DIR [SECS] [RUNS] [CONC...]     (root; loopback only)
#
# Defaults: SECS=10 per run, RUNS=3 (the median is reported), CONC="1 10 100".
# Environment:
#   SHARED=<repo>/../shared/bench   the peers' scripts (setup-dovecot.sh, populate.py, stop.sh)
#   BENCH_ROOT                  Dovecot's state and Maildirs (default /tmp/mailbench-pop3, kept
#                               apart from /tmp/mailbench where a colleague's Postfix may run)
#   DC_SCHEME=yescrypt|plain    Dovecot's password scheme. yescrypt (default): the very hash
#                               Postern's users have, as {CRYPT}, so both pay the same
#                               verification per login; plain: the shared setup's {PLAIN}.
#   BENCH_LOCK=/tmp/bench.lock  every heavy phase runs under flock on it (no overlap with
#                               other benchmarks on the machine)
#   FIRST_USERS=100 FIRST_CONC=10  the first-read pass: RUNS rounds, each on FIRST_USERS
#                               mailboxes nobody has opened yet, FIRST_CONC sessions at once
#
# Steps: Dovecot via setup-dovecot.sh + populate.py (100 x ~4 KB in each of u1..u100 for the
# steady state, plus RUNS x FIRST_USERS fresh ones); a Postern instance (mailctl init in a
# temp dir, pop3d.allow_plaintext_auth = true, caps raised above 100) filled with the same
# files through libmailstore (pop3_populate). First-read pass: RUNS rounds, alternating which
# server goes first, of pop3_load --once over that round's fresh mailboxes on each server
# (every RETR is the message's first: both set \Seen, Dovecot builds its index). Then one
# untimed pass over u1..u100 on each server, and for each workload and concurrency, RUNS
# rounds alternating Postern and Dovecot (the steady state). Prints every run with the load
# average before it, and a Markdown table of medians with the ratio Postern / Dovecot. Both
# servers are stopped at the end.
set -euo pipefail
BIN=$(realpath "$1"); SECS=${2:-10}; RUNS=${3:-3}
shift $(( $# < 3 ? $# : 3 ))
CONCS=${*:-"1 10 100"}
SHARED=${SHARED:-$(cd "$(dirname "$0")/../.." && pwd)/../shared/bench}
export BENCH_ROOT=${BENCH_ROOT:-/tmp/mailbench-pop3}
DC_SCHEME=${DC_SCHEME:-yescrypt}
FIRST_USERS=${FIRST_USERS:-100}
FIRST_CONC=${FIRST_CONC:-10}
STEADY_USERS=100
# u1..u100: the steady state; then RUNS blocks of FIRST_USERS fresh mailboxes.
export BENCH_USERS=$(( STEADY_USERS + RUNS * FIRST_USERS ))
LOCK=${BENCH_LOCK:-/tmp/bench.lock}
# shellcheck source=/dev/null
. "$SHARED/env.sh"
locked() { flock "$LOCK" "$@"; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg | tr ' ' ,; }

DIR=$(mktemp -d /tmp/postern-pop3bench-XXXXXX)
RES="$DIR/results"
BASE=$(( 20000 + $$ % 20000 ))
PPORT=$(( BASE + 110 ))
cleanup() {
    "$BIN/mailctl" -c "$DIR/postern.toml" stop >/dev/null 2>&1 || true
    "$SHARED/stop.sh" >/dev/null 2>&1 || true
    [ -n "${KEEP:-}" ] && echo "kept $DIR" || rm -rf "$DIR"
}
trap cleanup EXIT

echo "# $(date -u +%FT%TZ) $(uname -r) $(nproc) cores, load $(loadavg); args: $BIN $SECS $RUNS $CONCS"
echo "== Dovecot (BENCH_ROOT=$BENCH_ROOT, port $POP3_PORT)"
"$SHARED/setup-dovecot.sh" start
locked "$SHARED/populate.py" --users "1-$BENCH_USERS" --msgs 100 --size 4096

echo "== Postern ($DIR, port $PPORT)"
"$BIN/mailctl" init "$DIR" --port-base "$BASE" --hostname bench.test --listen 127.0.0.1 >/dev/null
# Only the [pop3d] section: plaintext USER/PASS on loopback (as Dovecot's bench setup), and
# room for 100 concurrent sessions from one address.
awk '/^\[/{s=$0} s=="[pop3d]" && /^allow_plaintext_auth =/{$0="allow_plaintext_auth = true"}
     s=="[pop3d]" && /^max_connections =/{$0="max_connections = 1000"}
     s=="[pop3d]" && /^max_connections_per_ip =/{$0="max_connections_per_ip = 1000"} {print}' \
    "$DIR/postern.toml" > "$DIR/postern.toml.new" && mv "$DIR/postern.toml.new" "$DIR/postern.toml"
# As the instance's run user ([server] user, which the daemons run as): files root made in the
# store would be out of pop3d's reach (every login "-ERR [SYS/TEMP]").
RUN_USER=$(awk -F' = ' '/^\[/{s=$0} s=="[server]" && $1=="user"{gsub(/"/, "", $2); print $2}' \
    "$DIR/postern.toml")
HASH=$(locked runuser -u "${RUN_USER:?no [server] user in postern.toml}" -- "$BIN/pop3_populate" \
    "$DIR/data" "$MAIL_BASE/$BENCH_DOMAIN" "$BENCH_DOMAIN" "$BENCH_USERS")
"$BIN/mailctl" -c "$DIR/postern.toml" start pop3d

if [ "$DC_SCHEME" = yescrypt ]; then
    # Same hash for Dovecot (libxcrypt's crypt() verifies $y$); passwd-file rereads on change.
    : > "$DC_DIR/users.new"
    for i in $(seq 1 "$BENCH_USERS"); do
        echo "u$i@$BENCH_DOMAIN:{CRYPT}$HASH::::::" >> "$DC_DIR/users.new"
    done
    chown root:dovecot "$DC_DIR/users.new"; chmod 640 "$DC_DIR/users.new"
    mv "$DC_DIR/users.new" "$DC_DIR/users"
fi
echo "== password scheme: Postern yescrypt ${HASH:0:12}..., Dovecot $DC_SCHEME"

load() {  # load SERVER MODE CONC SECS [pop3_load options...]
    local port=$POP3_PORT
    [ "$1" = postern ] && port=$PPORT
    locked "$BIN/pop3_load" --port "$port" --mode "$2" --conc "$3" --secs "$4" \
        --user-fmt "u%d@$BENCH_DOMAIN" --password "$BENCH_PASS" "${@:5}"
}

: > "$RES"
echo "== first-read pass: $RUNS rounds of $FIRST_USERS fresh mailboxes, conc $FIRST_CONC"
for r in $(seq 1 "$RUNS"); do
    first=$(( STEADY_USERS + (r - 1) * FIRST_USERS + 1 ))
    order="postern dovecot"; [ $(( r % 2 )) -eq 0 ] && order="dovecot postern"
    for s in $order; do
        la=$(loadavg)
        line=$(load "$s" retr "$FIRST_CONC" 60 --once --first "$first" --users "$FIRST_USERS")
        line=${line/mode=retr/mode=first}
        echo "$s run=$r users=u$first.. load=$la $line"
        echo "$s $line" >> "$RES"
    done
done

echo "== warm-up: u1..u$STEADY_USERS once on each server (untimed)"
for s in postern dovecot; do
    load "$s" retr "$STEADY_USERS" 3 --users "$STEADY_USERS" | sed "s/^/$s warm-up: /"
done

for mode in retr login; do
    for c in $CONCS; do
        for r in $(seq 1 "$RUNS"); do
            for s in postern dovecot; do
                la=$(loadavg)
                line=$(load "$s" "$mode" "$c" "$SECS" --users "$STEADY_USERS")
                echo "$s run=$r load=$la $line"
                echo "$s $line" >> "$RES"
            done
        done
    done
done

echo
echo "== medians of $RUNS runs of ${SECS}s (Dovecot password scheme: $DC_SCHEME)"
python3 - "$RES" <<'PY'
import sys, statistics, collections
runs = collections.defaultdict(list)
for ln in open(sys.argv[1]):
    server, *kv = ln.split()
    d = dict(x.split("=", 1) for x in kv)
    runs[(server, d["mode"], int(d["conc"]))].append(d)
def med(server, mode, conc, key):
    v = [float(d[key].rstrip("%")) for d in runs[(server, mode, conc)]]
    return statistics.median(v) if v else float("nan")
concs = sorted({k[2] for k in runs})
print("| workload | conc | Postern | Dovecot | Postern / Dovecot |")
print("|---|---:|---:|---:|---:|")
for mode, key, unit in (("first", "sessions_per_s", "sessions/s"), ("first", "msgs_per_s", "msgs/s"),
                        ("retr", "sessions_per_s", "sessions/s"), ("retr", "msgs_per_s", "msgs/s"),
                        ("retr", "MB_per_s", "MB/s"), ("login", "logins_per_s", "logins/s")):
    for c in concs:
        if not runs[("postern", mode, c)]:
            continue
        p, d = med("postern", mode, c, key), med("dovecot", mode, c, key)
        name = "first-read retr" if mode == "first" else mode
        print(f"| {name} {unit} | {c} | {p:,.1f} | {d:,.1f} | {p / d if d else float('nan'):.2f} |")
PY
