#!/bin/bash
# Postern imapd vs Dovecot imap on this machine, in one run, with one client (imap_load).
#
#   tests/bench/imap_compare.sh BIN_DIR [SECS] [RUNS]          (root; loopback only)
#
# BIN_DIR is Postern's build (<build>/bin: mailctl, imapd, imap_load, pop3_populate).
# Defaults: SECS=10 per mix run, RUNS=3 (the median is reported).
# Environment:
#   SHARED=<repo>/../shared/bench   the peers' scripts (setup-dovecot.sh, populate.py, stop.sh)
#   BENCH_ROOT=/tmp/mailbench-imap  Dovecot's state and Maildirs (apart from other benchmarks')
#   IMAP_PORT=11143 POP3_PORT=11110 IMAPS_PORT=11993   Dovecot's ports (not the shared 1143/
#                                   1110, which another benchmark's Dovecot may hold)
#   CONCS="10 100"                  clients of the mix runs
#   MIX=...                         imap_load --mix (default: imap_load's own)
#   BIG_MSGS=100000 BIG_SIZE=1024   the folder of the SELECT / UID FETCH 1:* (FLAGS) cost (Dovecot's
#                                   u101, Postern's u1@big.test, the same files). Filling it takes a while on each side: Dovecot's
#                                   Maildir via populate.py (~1-2 min per 100,000 here), Postern's
#                                   store via pop3_populate (one durable delivery each, several
#                                   minutes per 100,000); both times are printed. BIG_MSGS=0 skips.
#   SELECT_REPS=5                   timed SELECT + UID FETCH rounds per run (after one warm-up)
#   IDLE_COUNTS="1000 10000"        idle IDLE connections for the memory figures ("" skips)
#   IDLE_RUNS=1 IDLE_SETTLE=5       rounds per memory cell; seconds from "all in IDLE" to the sample
#   DC_SCHEME=yescrypt|plain        Dovecot's password scheme (as pop3_compare.sh)
#   BENCH_LOCK=/tmp/bench.lock      every heavy phase runs under flock on it
#
# Steps: Dovecot via setup-dovecot.sh (its config generated, then extended here: ssl = yes
# with a self-signed certificate and an imaps listener on IMAPS_PORT, service imap
# process_limit above the largest IDLE count (Dovecot's default is one imap process per
# session, and setup-dovecot.sh allows 6,000), imap-login client_limit likewise; started
# with ulimit -n at its hard limit) + populate.py (u1..u100: 100 x ~4 KB; u101: BIG_MSGS).
# Postern: mailctl init in a temp dir, [imapd] allow_plaintext_auth = true and connection
# caps raised, the same files delivered through libmailstore (pop3_populate), mailctl start
# imapd, then a 1-second probe with imap_load. If imapd cannot run the workload, every
# Postern cell prints "postern: not available (<why>)" and Dovecot's side still runs.
# Runs: the mix at each of CONCS, RUNS rounds alternating which server goes first; the
# SELECT cost; memory (PSS summed over all of the server's processes, /proc/PID/smaps_rollup,
# taken 5 s after all connections are in IDLE, minus the figure before) for each IDLE count,
# plain and TLS. fs.inotify.max_user_instances is raised for the IDLE runs (Dovecot's IDLE
# uses one inotify instance per session) and put back at the end. Prints every run with the
# load average before it, then a Markdown table of medians with the ratio Postern / Dovecot.
set -euo pipefail
BIN=$(realpath "$1"); SECS=${2:-10}; RUNS=${3:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
SHARED=${SHARED:-$(cd "$HERE/../.." && pwd)/../shared/bench}
export BENCH_ROOT=${BENCH_ROOT:-/tmp/mailbench-imap}
export IMAP_PORT=${IMAP_PORT:-11143} POP3_PORT=${POP3_PORT:-11110}
IMAPS_PORT=${IMAPS_PORT:-11993}
CONCS=${CONCS:-"10 100"}
MIX=${MIX:-}
BIG_MSGS=${BIG_MSGS:-100000}; BIG_SIZE=${BIG_SIZE:-1024}
SELECT_REPS=${SELECT_REPS:-5}
IDLE_COUNTS=${IDLE_COUNTS-"1000 10000"}
IDLE_RUNS=${IDLE_RUNS:-1}; IDLE_SETTLE=${IDLE_SETTLE:-5}
DC_SCHEME=${DC_SCHEME:-yescrypt}
LOCK=${BENCH_LOCK:-/tmp/bench.lock}
export BENCH_USERS=101   # u1..u100 for the mix and IDLE, u101 holds the big folder
BIG_USER=101
LOAD=${IMAP_LOAD:-$BIN/imap_load}   # IMAP_LOAD: another imap_load binary
# shellcheck source=/dev/null
. "$SHARED/env.sh"
locked() { flock "$LOCK" "$@"; }
# timed_locked CMD...: like locked, and leaves the seconds CMD took (lock wait excluded) in $DIR/elapsed
timed_locked() { flock "$LOCK" bash -c 's=$(date +%s); "$@"; r=$?; echo $(( $(date +%s) - s )) > "$E"; exit $r' \
    _ "$@"; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg | tr ' ' ,; }

DIR=$(mktemp -d /tmp/postern-imapbench-XXXXXX)
RES="$DIR/results"; : > "$RES"
export E="$DIR/elapsed"
BASE=$(( 20000 + $$ % 20000 ))
PPORT=$(( BASE + 143 )); PTLS=$(( BASE + 993 ))
INOTIFY_OLD=$(cat /proc/sys/fs/inotify/max_user_instances)
POSTERN_NA=""
cleanup() {
    echo "$INOTIFY_OLD" > /proc/sys/fs/inotify/max_user_instances || true
    "$BIN/mailctl" -c "$DIR/postern.toml" stop >/dev/null 2>&1 || true
    "$SHARED/stop.sh" >/dev/null 2>&1 || true
    [ -n "${KEEP:-}" ] && echo "kept $DIR" || rm -rf "$DIR"
}
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)"
max_idle=0; for n in $IDLE_COUNTS; do [ "$n" -gt "$max_idle" ] && max_idle=$n; done

echo "# $(date -u +%FT%TZ) $(uname -r) $(nproc) cores, load $(loadavg); args: $BIN $SECS $RUNS;" \
     "CONCS=$CONCS BIG_MSGS=$BIG_MSGS IDLE_COUNTS=$IDLE_COUNTS"

# ---- Dovecot
echo "== Dovecot (BENCH_ROOT=$BENCH_ROOT, imap $IMAP_PORT, imaps $IMAPS_PORT)"
"$SHARED/setup-dovecot.sh"   # writes the config only; extended and started below
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 7 \
    -subj /CN=bench.test -keyout "$DIR/dc-key.pem" -out "$DIR/dc-cert.pem" 2>/dev/null
DC_PROCS=$(( max_idle + 1000 > 6000 ? max_idle + 1000 : 6000 ))
cat >> "$DC_DIR/dovecot.conf" <<CF
# imap_compare.sh: TLS, and room for every IDLE session (one imap process each)
ssl = yes
ssl_cert = <$DIR/dc-cert.pem
ssl_key = <$DIR/dc-key.pem
service imap-login {
  inet_listener imaps {
    address = 127.0.0.1
    port = $IMAPS_PORT
  }
  client_limit = $DC_PROCS
}
service imap {
  process_limit = $DC_PROCS
}
CF
doveconf -c "$DC_DIR/dovecot.conf" -n > /dev/null
dovecot -c "$DC_DIR/dovecot.conf"
for _ in $(seq 50); do [ -s "$DC_DIR/run/master.pid" ] && break; sleep 0.1; done
echo "dovecot master pid $(cat "$DC_DIR/run/master.pid"), imap process_limit $DC_PROCS"
timed_locked "$SHARED/populate.py" --users 1-100 --msgs 100 --size 4096
echo "dovecot: populated u1..u100 in $(cat "$E") s"
if [ "$BIG_MSGS" -gt 0 ]; then
    timed_locked "$SHARED/populate.py" --users "$BIG_USER" --msgs "$BIG_MSGS" --size "$BIG_SIZE"
    echo "dovecot: populated u$BIG_USER ($BIG_MSGS x $BIG_SIZE B) in $(cat "$E") s"
else
    mkdir -p "$MAIL_BASE/$BENCH_DOMAIN/u$BIG_USER/cur"
fi

# ---- Postern
echo "== Postern ($DIR, imap $PPORT, imaps $PTLS)"
postern_setup() {
    "$BIN/mailctl" init "$DIR" --port-base "$BASE" --hostname bench.test --listen 127.0.0.1 \
        > "$DIR/init.log" 2>&1 || { POSTERN_NA="mailctl init failed: $(tail -1 "$DIR/init.log")"; return; }
    awk '/^\[/{s=$0} s=="[imapd]" && /^allow_plaintext_auth =/{$0="allow_plaintext_auth = true"}
         s=="[imapd]" && /^max_connections =/{$0="max_connections = 100000"}
         s=="[imapd]" && /^max_connections_per_ip =/{$0="max_connections_per_ip = 100000"} {print}' \
        "$DIR/postern.toml" > "$DIR/postern.toml.new" && mv "$DIR/postern.toml.new" "$DIR/postern.toml"
    local run_user
    run_user=$(awk -F' = ' '/^\[/{s=$0} s=="[server]" && $1=="user"{gsub(/"/, "", $2); print $2}' \
        "$DIR/postern.toml")
    if ! HASH=$(timed_locked runuser -u "${run_user:?no [server] user}" -- "$BIN/pop3_populate" \
            "$DIR/data" "$MAIL_BASE/$BENCH_DOMAIN" "$BENCH_DOMAIN" 100 2> "$DIR/populate.log"); then
        POSTERN_NA="pop3_populate failed: $(tail -1 "$DIR/populate.log")"; return
    fi
    echo "postern: populated u1..u100 in $(cat "$E") s"
    if ! "$BIN/mailctl" -c "$DIR/postern.toml" start imapd > "$DIR/start.log" 2>&1; then
        POSTERN_NA="mailctl start imapd failed: $(tail -1 "$DIR/start.log")"; return
    fi
    if ! "$LOAD" --port "$PPORT" --clients 1 --seconds 1 --msgs 100 --first 1 --users 1 \
            --show-errors 1 > /dev/null 2> "$DIR/probe.log"; then
        POSTERN_NA="imapd cannot run the workload yet: $(head -1 "$DIR/probe.log" |
            sed 's/^imap_load: error (client 0, \([^)]*\)): /\1: /' | cut -c1-120)"
        return
    fi
    # The big folder only once imapd works: it is user u1 of its own domain (pop3_populate
    # fills u1..uN of one domain from SRC/uN), made from Dovecot's u101.
    if [ "$BIG_MSGS" -gt 0 ]; then
        mkdir -p "$DIR/bigsrc" && ln -s "$MAIL_BASE/$BENCH_DOMAIN/u$BIG_USER" "$DIR/bigsrc/u1"
        if ! timed_locked runuser -u "$run_user" -- "$BIN/pop3_populate" "$DIR/data" "$DIR/bigsrc" \
                big.test 1 > /dev/null 2> "$DIR/populate.log"; then
            POSTERN_NA="pop3_populate of the big folder failed: $(tail -1 "$DIR/populate.log")"; return
        fi
        echo "postern: populated u1@big.test ($BIG_MSGS x $BIG_SIZE B) in $(cat "$E") s"
    fi
}
HASH=""
postern_setup
if [ -n "$POSTERN_NA" ]; then
    echo "postern: not available ($POSTERN_NA)"
elif [ "$DC_SCHEME" = yescrypt ] && [ -n "$HASH" ]; then
    # Same hash for Dovecot (libxcrypt's crypt() verifies $y$); passwd-file rereads on change.
    : > "$DC_DIR/users.new"
    for i in $(seq 1 "$BENCH_USERS"); do
        echo "u$i@$BENCH_DOMAIN:{CRYPT}$HASH::::::" >> "$DC_DIR/users.new"
    done
    chown root:dovecot "$DC_DIR/users.new"; chmod 640 "$DC_DIR/users.new"
    mv "$DC_DIR/users.new" "$DC_DIR/users"
    echo "== password scheme: both yescrypt ${HASH:0:12}..."
fi

port_of() {  # port_of SERVER TLS
    if [ "$1" = postern ]; then [ "$2" = tls ] && echo "$PTLS" || echo "$PPORT"
    else [ "$2" = tls ] && echo "$IMAPS_PORT" || echo "$IMAP_PORT"; fi
}
summary() {  # summary JSON_FILE KIND: one line of key=value from imap_load's JSON
    python3 - "$1" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); c = d["commands"]; kind = sys.argv[2]
if kind == "mix":
    short = {"FETCH 1:* FLAGS": "flags", "UID FETCH ENVELOPE": "envelope", "FETCH BODY.PEEK[]": "body",
             "STORE \\Seen": "store", "APPEND": "append", "UID STORE \\Deleted": "deleted",
             "EXPUNGE": "expunge", "NOOP": "noop", "IDLE": "idle"}
    print(f"cmds_per_s={d['mix_per_s']:.1f} errors={d['errors']} client_cpu={d['client_cpu']*100:.0f}% p50_ms:" +
          ",".join(f"{short[k]}={v['p50_ms']:.2f}" for k, v in c.items() if k in short))
else:
    s, f = c.get("SELECT", {}), c.get("UID FETCH 1:* FLAGS", {})
    print(f"select_p50_ms={s.get('p50_ms', 0):.2f} select_max_ms={s.get('max_ms', 0):.2f} "
          f"uid_fetch_all_p50_ms={f.get('p50_ms', 0):.2f} uid_fetch_all_max_ms={f.get('max_ms', 0):.2f} "
          f"errors={d['errors']}")
PY
}
order_of() { [ $(( $1 % 2 )) -eq 1 ] && echo "postern dovecot" || echo "dovecot postern"; }
na() { echo "$1 run=$2 $3: postern: not available ($POSTERN_NA)"; }

# ---- the command mix
for c in $CONCS; do
    for r in $(seq 1 "$RUNS"); do
        for s in $(order_of "$r"); do
            if [ "$s" = postern ] && [ -n "$POSTERN_NA" ]; then na "$s" "$r" "mix conc=$c"; continue; fi
            la=$(loadavg)
            # shellcheck disable=SC2086
            locked "$LOAD" --port "$(port_of "$s" plain)" --clients "$c" --seconds "$SECS" \
                --first 1 --users 100 --msgs 100 ${MIX:+--mix "$MIX"} --json "$DIR/run.json" \
                > "$DIR/run.txt" 2> "$DIR/run.err" || true
            line=$(summary "$DIR/run.json" mix)
            echo "$s run=$r mix conc=$c load=$la $line"
            echo "$s mix_conc$c $(echo "$line" | sed 's/.*cmds_per_s=\([0-9.]*\).*/\1/')" >> "$RES"
            head -3 "$DIR/run.err" | sed "s/^/  $s: /"
        done
    done
done

# ---- SELECT and UID FETCH 1:* (FLAGS) on the big folder
if [ "$BIG_MSGS" -gt 0 ]; then
    for r in $(seq 1 "$RUNS"); do
        for s in $(order_of "$r"); do
            if [ "$s" = postern ] && [ -n "$POSTERN_NA" ]; then na "$s" "$r" "select-cost"; continue; fi
            la=$(loadavg)
            who=(--user-fmt "u%d@$BENCH_DOMAIN" --first "$BIG_USER")
            [ "$s" = postern ] && who=(--user-fmt "u%d@big.test" --first 1)
            locked "$LOAD" --port "$(port_of "$s" plain)" --select-cost INBOX "${who[@]}" \
                --users 1 --reps "$SELECT_REPS" --json "$DIR/run.json" > "$DIR/run.txt" 2> "$DIR/run.err" || true
            line=$(summary "$DIR/run.json" select)
            echo "$s run=$r select-cost msgs=$BIG_MSGS load=$la $line"
            echo "$s select_ms $(echo "$line" | sed 's/^select_p50_ms=\([0-9.]*\).*/\1/')" >> "$RES"
            echo "$s uid_fetch_all_ms $(echo "$line" | sed 's/.*uid_fetch_all_p50_ms=\([0-9.]*\).*/\1/')" >> "$RES"
            head -3 "$DIR/run.err" | sed "s/^/  $s: /"
        done
    done
fi

# ---- memory with idle IDLE connections
cat > "$DIR/pss.py" <<'PY'
# pss.py ROOT_PID: "<processes> <PSS kB>" over ROOT_PID and all its descendants
import os, sys
kids = {}
for p in os.listdir("/proc"):
    if p.isdigit():
        try:
            ppid = int(open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
        kids.setdefault(ppid, []).append(int(p))
todo, seen, pss = [int(sys.argv[1])], set(), 0
while todo:
    p = todo.pop()
    if p in seen:
        continue
    seen.add(p)
    todo += kids.get(p, [])
    try:
        for ln in open(f"/proc/{p}/smaps_rollup"):
            if ln.startswith("Pss:"):
                pss += int(ln.split()[1])
                break
    except OSError:
        pass
print(len(seen), pss)
PY
root_pid() { [ "$1" = postern ] && cat "$DIR/run/imapd.pid" || cat "$DC_DIR/run/master.pid"; }
if [ -n "$IDLE_COUNTS" ]; then
    want=$(( max_idle + 1000 ))
    [ "$INOTIFY_OLD" -lt "$want" ] && echo "$want" > /proc/sys/fs/inotify/max_user_instances
fi
for tls in plain tls; do
    for n in $IDLE_COUNTS; do
        for r in $(seq 1 "$IDLE_RUNS"); do
            for s in $(order_of "$r"); do
                if [ "$s" = postern ] && [ -n "$POSTERN_NA" ]; then na "$s" "$r" "idle n=$n $tls"; continue; fi
                la=$(loadavg)
                root=$(root_pid "$s")
                read -r procs0 pss0 < <(python3 "$DIR/pss.py" "$root")
                rm -f "$DIR/ready"
                tlsopt=(); [ "$tls" = tls ] && tlsopt=(--tls)
                exec 9> "$LOCK"; flock 9
                "$LOAD" --port "$(port_of "$s" "$tls")" "${tlsopt[@]}" --idle "$n" --seconds $(( IDLE_SETTLE + 10 )) \
                    --first 1 --users 100 --ready-file "$DIR/ready" --open-seconds 600 \
                    --json "$DIR/run.json" > "$DIR/run.txt" 2> "$DIR/run.err" &
                lpid=$!
                for _ in $(seq 1300); do [ -e "$DIR/ready" ] || ! kill -0 "$lpid" 2>/dev/null && break; sleep 0.5; done
                sleep "$IDLE_SETTLE"
                read -r procs1 pss1 < <(python3 "$DIR/pss.py" "$root")
                wait "$lpid" || true
                exec 9>&-
                idle=$(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(d.get('idle', 0))" "$DIR/run.json" 2>/dev/null || echo 0)
                open_s=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1])).get('open_s', 0))" "$DIR/run.json" 2>/dev/null || echo 0)
                per=$(( idle > 0 ? (pss1 - pss0) / idle : 0 ))
                echo "$s run=$r idle n=$n $tls load=$la idle=$idle open_s=$open_s procs=$procs0->$procs1" \
                     "pss_MB=$(( pss0 / 1024 ))->$(( pss1 / 1024 )) per_conn_KB=$per"
                echo "$s idle_${tls}_$n $per" >> "$RES"
                head -3 "$DIR/run.err" | sed "s/^/  $s: /"
                # Dovecot's imap processes exit after LOGOUT: wait (bounded) for the count to drop.
                for _ in $(seq 120); do
                    read -r pn _ < <(python3 "$DIR/pss.py" "$root")
                    [ "$pn" -le $(( procs0 + 2 )) ] && break; sleep 1
                done
            done
        done
    done
done

echo
echo "== medians of $RUNS runs (mix ${SECS}s; idle: $IDLE_RUNS run(s), PSS per connection)"
python3 - "$RES" "$POSTERN_NA" "$BIG_MSGS" <<'PY'
import sys, statistics, collections
vals = collections.defaultdict(list)
for ln in open(sys.argv[1]):
    server, key, v = ln.split()
    vals[(server, key)].append(float(v))
na, big = sys.argv[2], int(sys.argv[3])
keys = list(dict.fromkeys(k for _, k in vals))
def label(k):
    if k.startswith("mix_conc"): return f"mix commands/s, {k[8:]} clients", "{:,.0f}"
    if k == "select_ms": return f"SELECT of {big:,} messages, p50 ms", "{:,.2f}"
    if k == "uid_fetch_all_ms": return f"UID FETCH 1:* (FLAGS) of {big:,}, p50 ms", "{:,.2f}"
    _, tls, n = k.split("_")
    return f"memory, {int(n):,} idle IDLE ({tls}), KB PSS per connection", "{:,.0f}"
print("| measure | Postern | Dovecot | Postern / Dovecot |")
print("|---|---:|---:|---:|")
for k in keys:
    name, fmt = label(k)
    d = statistics.median(vals[("dovecot", k)]) if vals[("dovecot", k)] else float("nan")
    if na or not vals[("postern", k)]:
        print(f"| {name} | postern: not available ({na or 'no run'}) | {fmt.format(d)} | - |")
        continue
    p = statistics.median(vals[("postern", k)])
    print(f"| {name} | {fmt.format(p)} | {fmt.format(d)} | {p / d if d else float('nan'):.2f} |")
PY
