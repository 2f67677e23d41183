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
#
# Steps: Dovecot via setup-dovecot.sh + populate.py (u1..u100@bench.test, 100 x ~4 KB each);
# a Postern instance (mailctl init in a temp dir, pop3d.allow_plaintext_auth = true, caps
# raised above 100) filled with the same files through libmailstore (pop3_populate); one
# untimed pass over every mailbox on each server (both set \Seen on first RETR and Dovecot
# builds its index); then for each workload and concurrency, RUNS rounds alternating
# Postern and Dovecot. Prints every run and a Markdown table of medians with the ratio
# Postern / Dovecot. Both servers are stopped at the end.
set -euo pipefail
BIN=$(realpath "$1"); SECS=${2:-10}; RUNS=${3:-3}
shift $(( $# < 3 ? $# : 3 ))
CONCS=${*:-"1 10 100"}
SHARED=${SHARED:-$(cd "$(dirname "$0")/../.." && pwd)/../shared/bench}
export BENCH_ROOT=${BENCH_ROOT:-/tmp/mailbench-pop3}
DC_SCHEME=${DC_SCHEME:-yescrypt}
LOCK=${BENCH_LOCK:-/tmp/bench.lock}
# shellcheck source=/dev/null
. "$SHARED/env.sh"
locked() { flock "$LOCK" "$@"; }

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
HASH=$(locked "$BIN/pop3_populate" "$DIR/data" "$MAIL_BASE/$BENCH_DOMAIN" "$BENCH_DOMAIN" "$BENCH_USERS")
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

load() {  # load SERVER MODE CONC SECS
    local port=$POP3_PORT
    [ "$1" = postern ] && port=$PPORT
    locked "$BIN/pop3_load" --port "$port" --mode "$2" --conc "$3" --secs "$4" \
        --user-fmt "u%d@$BENCH_DOMAIN" --users "$BENCH_USERS" --password "$BENCH_PASS"
}

echo "== warm-up: every mailbox once on each server (untimed)"
for s in postern dovecot; do load "$s" retr "$BENCH_USERS" 3 | sed "s/^/$s warm-up: /"; done

: > "$RES"
for mode in retr login; do
    for c in $CONCS; do
        for r in $(seq 1 "$RUNS"); do
            for s in postern dovecot; do
                line=$(load "$s" "$mode" "$c" "$SECS")
                echo "$s run=$r $line"
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
for mode, key, unit in (("retr", "sessions_per_s", "sessions/s"), ("retr", "msgs_per_s", "msgs/s"),
                        ("retr", "MB_per_s", "MB/s"), ("login", "logins_per_s", "logins/s")):
    for c in concs:
        p, d = med("postern", mode, c, key), med("dovecot", mode, c, key)
        print(f"| {mode} {unit} | {c} | {p:,.1f} | {d:,.1f} | {p / d if d else float('nan'):.2f} |")
PY
