#!/usr/bin/env python3
"""One timed SMTP-in-to-Maildir run (used by smtp_compare.sh; run it under flock).

Waits until the target's queue directories are empty, empties the Maildir, syncs, then
starts the given smtp-source command; the clock stops when the N-th file is in MAILDIR/new
(so it covers SMTP, queueing, the hand-off and the Maildir delivery). Prints one line:
"<seconds> <accept_seconds>" (accept = smtp-source exit).

  smtp_measure.py --maildir DIR --n N [--queue DIR ...] -- smtp-source ARGS...
"""
import argparse, os, subprocess, sys, time

from queue_files import queued  # tests/bench, beside this script


def count(d):
    try:
        with os.scandir(d) as it:
            return sum(1 for _ in it)
    except FileNotFoundError:
        return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--maildir", required=True)
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--queue", action="append", default=[], help="must be empty before the run")
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd

    t = time.monotonic()
    while queued(a.queue):
        if time.monotonic() - t > a.timeout:
            sys.exit("queue did not drain")
        time.sleep(0.1)
    for sub in ("new", "cur", "tmp"):
        d = os.path.join(a.maildir, sub)
        if os.path.isdir(d):
            with os.scandir(d) as it:
                for e in it:
                    os.unlink(e.path)
    os.sync()
    time.sleep(1)

    new = os.path.join(a.maildir, "new")
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    t_acc = None
    while True:
        if t_acc is None and p.poll() is not None:
            t_acc = time.monotonic()
            if p.returncode != 0:
                sys.exit(f"smtp-source failed rc={p.returncode}")
        if count(new) >= a.n:
            t1 = time.monotonic()
            break
        if time.monotonic() - t0 > a.timeout:
            p.kill()
            sys.exit(f"timeout: only {count(new)}/{a.n} delivered")
        time.sleep(0.01)
    if t_acc is None:
        p.wait()
        t_acc = time.monotonic()
        if p.returncode != 0:
            sys.exit(f"smtp-source failed rc={p.returncode}")
    print(f"{t1 - t0:.4f} {t_acc - t0:.4f}")


if __name__ == "__main__":
    main()
