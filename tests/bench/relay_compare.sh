#!/bin/bash
# Postern spoold vs Postfix smtp(8): messages/s relayed from a full queue to one smtp-sink on
# loopback, same machine, same run, same sink.
#   tests/bench/relay_compare.sh BIN_DIR
# Environment (defaults): SIZES="4096 102400" DESTS="1 10" RUNS=3
#   N_4096=10000 N_102400=2000 (messages per run; N_<size> for other sizes, else 1000)
#   FILL_CONC=10 (smtp-source sessions while filling; untimed)
#   HOST_LIMIT=  Postern delivery.host_concurrency_limit (unset: the default, 20)
#   PF_DEST_LIMIT=20 Postfix default_destination_concurrency_limit (20 is its default)
#   BENCH_LOCK=/tmp/bench.lock (held for each fill + timed relay: benchmarks never overlap)
#   KEEP=1 keeps the Postern instance and the private Postfix directories.
# Destinations: 1 = every message to r@d0.test; 10 = message i to r@d(i%10).test. Every dN.test
# is routed to the sink on both sides: Postern [delivery.routes] "dN.test" = "127.0.0.1:SINK",
# tls_policy_default "none"; Postfix transport_maps "dN.test smtp:[127.0.0.1]:SINK",
# smtp_tls_security_level = none. No DKIM on either (no keys for Postern; Postfix has none).
# Each run: (1) fill the queue through each server's own smtpd with its delivery side held
# (Postern: spoold not running; Postfix: smtpd_client_restrictions = check_client_access
# static:HOLD, so cleanup puts every message in hold/ and qmgr never sees it) and wait until all
# N are committed; (2) start a fresh smtp-sink and let the queue go (Postern `mailctl start
# spoold`; Postfix `postsuper -H ALL` (hold/ -> deferred/) then `postqueue -f`); the clock runs
# from that command until the sink has counted N messages; (3) the sink keeps answering until
# the queue is empty, and must have counted exactly N (no retry, no duplicate); Postern's spoold
# is stopped again. Targets alternate which goes first. Median of RUNS per cell.
# (Removing qmgr from master.cf instead made the fill crawl at ~10 msg/s: each cleanup waited
# ~1 s on its trigger to the missing qmgr.)
# Root (Postfix needs it); loopback only. Builds nothing.
set -euo pipefail
BIN=$(cd "${1:?usage: relay_compare.sh BIN_DIR}" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
PEERS=${PEERS:-$HERE/../../../shared/bench}
SIZES=${SIZES:-"4096 102400"}
DESTS=${DESTS:-"1 10"}
RUNS=${RUNS:-3}
FILL_CONC=${FILL_CONC:-10}
PF_DEST_LIMIT=${PF_DEST_LIMIT:-20}
LOCK=${BENCH_LOCK:-/tmp/bench.lock}
N_4096=${N_4096:-10000}
N_102400=${N_102400:-2000}

BASE=$(( 20000 + $$ % 20000 ))
SINK=$((BASE + 26))
# A private Postfix of our own (not the shared /tmp/mailbench one other benchmarks use).
export BENCH_ROOT=${BENCH_ROOT:-/tmp/mailbench-relay-$$}
export SMTP_PORT=$((BASE + 125))
. "$PEERS/env.sh"
DIR=$(mktemp -d /tmp/postern-relay-XXXXXX)
CTL=("$BIN/mailctl" -c "$DIR/postern.toml")
PN_PORT=$((BASE + 25))
cleanup() {
    "${CTL[@]}" stop >/dev/null 2>&1 || true
    "$PEERS/stop.sh" >/dev/null 2>&1 || true
    if [ -n "${KEEP:-}" ]; then echo "# kept $DIR $BENCH_ROOT"; else rm -rf "$DIR" "$BENCH_ROOT"; fi
}
trap cleanup EXIT

wait_until() {  # SECONDS WHAT COMMAND...: poll every 0.05 s
    local secs=$1 what=$2 end
    shift 2
    end=$(( $(date +%s) + secs ))
    until "$@"; do
        [ "$(date +%s)" -lt "$end" ] || { echo "timeout: $what" >&2; return 1; }
        sleep 0.05
    done
}

# --- Postfix: private instance on 127.0.0.1:$SMTP_PORT relaying dN.test to the sink
"$PEERS/setup-postfix.sh" >/dev/null
: > "$PF_CONF/transport"
for k in $(seq 0 9); do echo "d$k.test smtp:[127.0.0.1]:$SINK" >> "$PF_CONF/transport"; done
cat >> "$PF_CONF/main.cf" <<CF
# relay_compare.sh
transport_maps = texthash:$PF_CONF/transport
smtp_tls_security_level = none
default_destination_concurrency_limit = $PF_DEST_LIMIT
# every accepted message goes on hold: the timed part releases them (postsuper -H ALL)
smtpd_client_restrictions = check_client_access static:HOLD
CF
postfix -c "$PF_CONF" check
(ulimit -Sn "$(ulimit -Hn)"; postfix -c "$PF_CONF" start >/dev/null 2>&1)
wait_until 10 "postfix master" test -s "$PF_DATA/master.lock"
wait_until 10 "postfix smtpd" bash -c "exec 3<>/dev/tcp/127.0.0.1/$SMTP_PORT" 2>/dev/null

# --- Postern: temp instance, smtpd on 127.0.0.1:$PN_PORT, spoold started only to deliver
"$BIN/mailctl" init "$DIR" --port-base "$BASE" --hostname relay.test --listen 127.0.0.1 >/dev/null
conf=$DIR/postern.toml
# the first max_connections_per_ip in the file is smtpd's (FILL_CONC sessions from 127.0.0.1)
sed -i '0,/^max_connections_per_ip = .*/s//max_connections_per_ip = 200/' "$conf"
sed -i 's|^relay_networks = \[\]|relay_networks = ["127.0.0.0/8"]|' "$conf"
sed -i 's|^#tls_policy_default = .*|tls_policy_default = "none"|' "$conf"
[ -n "${HOST_LIMIT:-}" ] && sed -i "s|^#host_concurrency_limit = .*|host_concurrency_limit = $HOST_LIMIT|" "$conf"
grep -q '^relay_networks = \["127.0.0.0/8"\]' "$conf"
grep -q '^tls_policy_default = "none"' "$conf"
{
    echo
    echo "[delivery.routes]"
    for k in $(seq 0 9); do echo "\"d$k.test\" = \"127.0.0.1:$SINK\""; done
} >> "$conf"
"${CTL[@]}" check >/dev/null
"${CTL[@]}" start smtpd >/dev/null
PN_ACTIVE=$DIR/queue/active

count_files() {  # DIR [find tests...]: regular non-empty files below DIR
    local d=$1; shift
    find "$d" -type f -size +0 "$@" 2>/dev/null | wc -l
}
pf_queued() {  # files in Postfix's queues (any state)
    local n=0 q
    for q in maildrop incoming active deferred hold; do
        n=$(( n + $(count_files "$PF_QUEUE/$q") ))
    done
    echo "$n"
}
pn_queued() { count_files "$PN_ACTIVE"; }
PF_DRAIN=()
for q in maildrop incoming active deferred hold; do PF_DRAIN+=(--drain "$PF_QUEUE/$q"); done

fill() {  # PORT SIZE DESTS N: N messages through smtp-source, spread over DESTS domains
    local port=$1 size=$2 dests=$3 n=$4 k m
    for k in $(seq 0 $((dests - 1))); do
        m=$(( n / dests + (k < n % dests ? 1 : 0) ))
        [ "$m" -gt 0 ] || continue
        smtp-source -s "$FILL_CONC" -m "$m" -l "$size" -f "bench@relay.test" -t "r@d$k.test" \
            "127.0.0.1:$port" &
    done
    wait
}

measure() {  # target size dests n -> "seconds first_seconds cmd_seconds fill_seconds"
    local t=$1 size=$2 dests=$3 n=$4 out
    if [ "$t" = postern ]; then
        [ "$(pn_queued)" -eq 0 ] || { echo "postern queue not empty" >&2; return 1; }
        t0=$(date +%s.%N)
        fill "$PN_PORT" "$size" "$dests" "$n"
        wait_until 120 "postern queue has $n" test "$(pn_queued)" -eq "$n" || return 1
        t1=$(date +%s.%N)
        sync
        out=$(python3 "$HERE/relay_measure.py" --port "$SINK" --n "$n" --drain "$PN_ACTIVE" -- \
            "${CTL[@]}" start spoold) || return 1
        "${CTL[@]}" stop spoold >/dev/null || return 1
    else
        [ "$(pf_queued)" -eq 0 ] || { echo "postfix queue not empty" >&2; return 1; }
        t0=$(date +%s.%N)
        fill "$SMTP_PORT" "$size" "$dests" "$n"
        wait_until 120 "postfix hold has $n" test "$(count_files "$PF_QUEUE/hold")" -eq "$n" ||
            return 1
        t1=$(date +%s.%N)
        sync
        out=$(python3 "$HERE/relay_measure.py" --port "$SINK" --n "$n" "${PF_DRAIN[@]}" -- \
            sh -c "postsuper -c '$PF_CONF' -H ALL 2>/dev/null && postqueue -c '$PF_CONF' -f") ||
            return 1
    fi
    echo "$out $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')"
}
loadavg() { cut -d' ' -f1-3 /proc/loadavg | tr ' ' ,; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

hl=$(sed -n 's/^host_concurrency_limit = //p' "$conf"); hl=${hl:-20 (default)}
echo "# $(date -u +%FT%TZ) $(uname -r) $(nproc) cores, load $(loadavg); postern $BIN; postfix $(postconf -d -h mail_version 2>/dev/null)"
echo "# sink: smtp-sink -c -m 1000 -u nobody 127.0.0.1:$SINK 1000; fill: smtp-source -s $FILL_CONC -m N/DESTS -l SIZE -f bench@relay.test -t r@dK.test (untimed)"
echo "# postern: destination_concurrency_limit 20, host_concurrency_limit $hl, remote 100, tls none; postfix: default_destination_concurrency_limit $PF_DEST_LIMIT (one qmgr queue: nexthop [127.0.0.1]:$SINK), smtp_tls_security_level none"
echo "# clock: start of delivery (mailctl start spoold | postsuper -H ALL; postqueue -f) -> N-th message at the sink; median of $RUNS runs, targets alternating"
exec 9>>"$LOCK"
printf '%-8s %-5s %-6s %14s %14s %7s   %s\n' size dests n "postern msg/s" "postfix msg/s" ratio \
    "runs (postern | postfix)"
for size in $SIZES; do
    nvar="N_$size"; n=${!nvar:-1000}
    for d in $DESTS; do
        pn=(); pf=()
        for r in $(seq "$RUNS"); do
            order="postern postfix"
            [ $((r % 2)) -eq 0 ] && order="postfix postern"
            for t in $order; do
                la=$(loadavg)
                flock 9
                out=$(measure "$t" "$size" "$d" "$n") ||
                    { echo "$t size=$size dests=$d failed" >&2; exit 1; }
                flock -u 9
                read -r secs first cmd fills <<< "$out"
                rate=$(awk -v n="$n" -v s="$secs" 'BEGIN {printf "%.0f", n / s}')
                case $t in postern) pn+=("$rate") ;; *) pf+=("$rate") ;; esac
                steady=$(awk -v n="$n" -v s="$secs" -v f="$first" 'BEGIN {printf "%.0f", (n - 1) / (s - f)}')
                echo "# run size=$size dests=$d r=$r $t $rate msg/s (${secs} s; first at ${first} s, command ${cmd} s; first->last $steady msg/s; fill ${fills} s untimed; load before: $la)"
            done
        done
        mpn=$(printf '%s\n' "${pn[@]}" | median)
        mpf=$(printf '%s\n' "${pf[@]}" | median)
        printf '%-8s %-5s %-6s %14.0f %14.0f %7.2f   %s | %s\n' "$size" "$d" "$n" "$mpn" "$mpf" \
            "$(awk -v a="$mpn" -v b="$mpf" 'BEGIN {print a / b}')" "${pn[*]}" "${pf[*]}"
    done
done
