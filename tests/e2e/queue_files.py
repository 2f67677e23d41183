"""Writes Postern queue entries directly (the on-disk format of docs/queue.md), so spoold can be
tested without smtpd. Stdlib only."""

import os
import random
import time


def _enc(value):
    """Percent-encodes control bytes, space and '%' (UTF-8 passes through); returns latin-1 text
    whose code points are the bytes."""
    data = value.encode("utf-8") if isinstance(value, str) else value
    return "".join("%%%02X" % b if (b <= 0x20 or b in (0x7F, 0x25)) else chr(b) for b in data)


def new_id():
    us = int(time.time() * 1_000_000) & 0xFFFFFFFFFFFFF
    return "%013X%05X" % (us, random.getrandbits(20))


def write_entry(queue_dir, sender, recipients, message, incoming_only=False):
    """Commits one entry (message: bytes) the way QueueWriter does. Returns its id.
    incoming_only: leave it half-written in incoming/ (as a crashed smtpd would)."""
    qid = new_id()
    lines = ["id " + qid, "from " + _enc(sender), "envid ", "ret 0", "body 0", "utf8 0",
             "ip 127.0.0.1", "helo test", "auth ", "arrival %d" % int(time.time())]
    for r in recipients:
        lines.append("rcpt 0  " + _enc(r))
    lines.append("end")
    env = ("\n".join(lines) + "\n").encode("latin-1")
    footer = b"POSTERN-QUEUE-1 %016X %08X\n" % (len(message), len(env))
    inc = os.path.join(queue_dir, "incoming", qid)
    for d in (os.path.dirname(inc), os.path.join(queue_dir, "active")):
        os.makedirs(d, exist_ok=True)
        _own_like_queue(queue_dir, d)
    with open(inc, "wb") as f:
        _own_like_queue(queue_dir, inc)
        if incoming_only:
            f.write(message[: len(message) // 2])
            return qid
        f.write(message + env + footer)
        f.flush()
        os.fsync(f.fileno())
    os.rename(inc, os.path.join(queue_dir, "active", qid))
    return qid


def _own_like_queue(queue_dir, path):
    """Run as root, gives path to the queue's owner (the run user), as smtpd would have made it."""
    if os.geteuid() == 0:
        st = os.stat(queue_dir)
        os.chown(path, st.st_uid, st.st_gid)


def active_ids(queue_dir):
    try:
        return sorted(os.listdir(os.path.join(queue_dir, "active")))
    except FileNotFoundError:
        return []
