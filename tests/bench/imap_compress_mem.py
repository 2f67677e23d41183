#!/usr/bin/python3
"""What IMAP COMPRESS=DEFLATE costs imapd per connection: N sessions over 993 (LOGIN, SELECT,
NOOP) without COMPRESS, then N with it; imapd's PSS (/proc/PID/smaps_rollup) before and after
each set, divided by N. No peer: our before/after only.

    POSTERN_BIN=build/bin tests/bench/imap_compress_mem.py [N]      (default 25)
"""
import os
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from postern_instance import Instance  # noqa: E402
from test_imap_compress import ALICE, PW, DeflateImap, tls_context  # noqa: E402



def pss_kb(pid):
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    raise RuntimeError("no Pss in smaps_rollup")


def session(inst, compress):
    """One logged-in IMAPS session with INBOX selected, compressed when asked."""
    sock = socket.create_connection(("127.0.0.1", inst.port("imaps")), timeout=20)
    c = DeflateImap(tls_context().wrap_socket(sock))
    c.line()
    c.command(b'LOGIN "%s" "%s"' % (ALICE.encode(), PW.encode()))
    if compress:
        c.command(b"COMPRESS DEFLATE")
        c.start_compression()
    c.command(b"SELECT INBOX")
    c.command(b"NOOP")
    return c


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 25
    with Instance() as inst:  # started below, once the limits are set
        inst.add_domain("example.test")
        inst.add_user(ALICE, PW)
        inst.set_option("imapd", "max_connections_per_ip", "5000")
        inst.set_option("imapd", "max_connections", "5000")
        inst.start("imapd")
        pid = inst.pid("imapd")
        for compress in (False, True):
            time.sleep(1)
            base = pss_kb(pid)
            conns = [session(inst, compress) for _ in range(n)]
            time.sleep(2)
            after = pss_kb(pid)
            print("%-13s imapd PSS %d -> %d KB: %.1f KB per connection" % (
                "tls+compress" if compress else "tls", base, after, (after - base) / n),
                flush=True)
            for c in conns:
                c.sock.close()
            time.sleep(2)


if __name__ == "__main__":
    main()
