#!/usr/bin/env python3
"""One timed relay run (used by relay_compare.sh; run it under flock).

Starts a fresh `smtp-sink -c` on 127.0.0.1:PORT, then the given command (the one that lets
the queue go: `mailctl start spoold`, `postfix reload` with qmgr back in master.cf); the clock
runs from the command's start until the sink has counted N messages ("." received). Prints
one line: "<seconds> <first_seconds> <cmd_seconds>" (first = the first message at the sink,
cmd = the command's exit). The sink keeps answering until the --drain directories hold no
non-empty file (the sender has its last 250s and has removed every queue file: stopping the
sink at the N-th "." would leave the last replies unread and those messages deferred), then
it is stopped (SIGTERM to the pid this script started).

  relay_measure.py --port PORT --n N [--timeout S] [--drain DIR ...] -- COMMAND ARGS...
"""
import argparse, os, re, select, signal, socket, subprocess, sys, time

from queue_files import queued  # tests/bench, beside this script

COUNTER = re.compile(rb"mesg=(\d+)")


def last_count(data):
    m = COUNTER.findall(data)
    return int(m[-1]) if m else 0


def drain(dirs, fd, timeout, count):
    """Waits until `dirs` hold no queue file, reading the sink's counter output meanwhile
    (a full pipe would block the sink); then 0.2 s more. Returns the sink's final count."""
    end = time.monotonic() + timeout
    quiet = None
    while True:
        now = time.monotonic()
        if quiet is None and not queued(dirs):
            quiet = now + 0.2
        if quiet is not None and now > quiet:
            return count
        if now > end:
            sys.exit("timeout: %d queue files left after the sink got them all" % queued(dirs))
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            count = max(count, last_count(os.read(fd, 65536)))


def wait_listening(port, sink, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if sink.poll() is not None:
            sys.exit("smtp-sink exited with %d" % sink.returncode)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    sys.exit("smtp-sink is not listening on 127.0.0.1:%d" % port)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--sink-user", default="nobody")
    ap.add_argument("--drain", action="append", default=[],
                    help="queue directory that must be empty before the sink stops")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    if not cmd:
        sys.exit("no command")

    # -c: counters on stdout after every "." (and session end); backlog 1000; -m 1000 so
    # that no connection waits in the kernel (both clients stay far below).
    sink = subprocess.Popen(["smtp-sink", "-c", "-m", "1000", "-u", a.sink_user,
                             "127.0.0.1:%d" % a.port, "1000"], stdout=subprocess.PIPE)
    try:
        wait_listening(a.port, sink, 10)
        fd = sink.stdout.fileno()
        os.set_blocking(fd, False)
        buf = b""
        count = 0
        first = None
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
        cmd_secs = None
        deadline = t0 + a.timeout
        while count < a.n:
            now = time.monotonic()
            if now > deadline:
                sys.exit("timeout: the sink has %d of %d messages after %.0f s"
                         % (count, a.n, a.timeout))
            if cmd_secs is None and proc.poll() is not None:
                if proc.returncode != 0:
                    sys.exit("%s exited with %d" % (cmd, proc.returncode))
                cmd_secs = now - t0
            r, _, _ = select.select([fd], [], [], 0.05)
            if not r:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                sys.exit("smtp-sink closed its output at %d messages" % count)
            buf += chunk
            parts = buf.split(b"\r")
            buf = parts.pop()
            for p in parts:
                m = COUNTER.search(p)
                if m:
                    count = max(count, int(m.group(1)))
            if first is None and count > 0:
                first = time.monotonic() - t0
        secs = time.monotonic() - t0
        if cmd_secs is None:
            proc.wait(timeout=60)
            cmd_secs = time.monotonic() - t0
        total = drain(a.drain, fd, a.timeout, count)
        if total != a.n:
            sys.exit("the sink counted %d messages, not %d (a retry or a duplicate)" % (total, a.n))
        print("%.3f %.3f %.3f" % (secs, first, cmd_secs))
    finally:
        sink.send_signal(signal.SIGTERM)
        try:
            sink.wait(timeout=10)
        except subprocess.TimeoutExpired:
            sink.kill()
            sink.wait()


if __name__ == "__main__":
    main()
