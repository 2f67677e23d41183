"""smtpd streams DATA and BDAT into the queue file: ten concurrent 40 MB messages leave
smtpd's peak RSS (VmHWM) under 64 MB, and every queued message is byte-exact."""

import hashlib
import os
import smtplib
import socket
import threading
import unittest

from postern_instance import Instance

DOMAIN = "example.test"
RCPT = "alice@" + DOMAIN
SESSIONS = 10
MESSAGE_MB = 40
RSS_LIMIT_KB = 64 * 1024
# Under AddressSanitizer smtpd starts near 48 MB (shadow memory, the allocator's quarantine):
# there the bound is on what the 400 MB of mail add, which is what streaming keeps small.
ASAN_GROWTH_LIMIT_KB = 32 * 1024


def sanitized(pid):
    """True when the daemon runs with AddressSanitizer (the CI's second build)."""
    with open("/proc/%d/maps" % pid) as f:
        return "libasan" in f.read()


def make_body():
    """About 40 MB: base64-like lines, dot-leading lines, a few long (100 KB) lines."""
    line = (b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/" * 2)[:76]
    block = (line + b"\r\n") * 1000 + b".dot-leading line\r\n" + b"L" * 100000 + b"\r\n"
    n = MESSAGE_MB * 1024 * 1024 // len(block)
    return b"Subject: big\r\n\r\n" + block * n


def vm_kb(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for ln in f:
            if ln.startswith(key + ":"):
                return int(ln.split()[1])
    return 0


def queued_message(queue_dir, qid):
    """The message bytes of a committed entry (the footer gives their size)."""
    with open(os.path.join(queue_dir, "active", qid), "rb") as f:
        data = f.read()
    footer = data[-42:]  # "POSTERN-QUEUE-1 ", 16 hex size, " ", 8 hex, "\n"
    size = int(footer[16:32], 16)
    return data[:size]


def send_bdat(port, body, marker):
    """The message in 3 BDAT chunks (smtplib has no BDAT); returns the queue id."""
    msg = marker + body
    with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
        f = s.makefile("rb")

        def reply():
            while True:
                ln = f.readline()
                if len(ln) < 4 or ln[3:4] == b" ":
                    return ln

        reply()
        s.sendall(b"EHLO c\r\n")
        reply()
        s.sendall(b"MAIL FROM:<bdat@client.test>\r\nRCPT TO:<%s>\r\n" % RCPT.encode())
        assert reply().startswith(b"250") and reply().startswith(b"250")
        third = len(msg) // 3
        parts = [msg[:third], msg[third:2 * third], msg[2 * third:]]
        for i, p in enumerate(parts):
            last = b" LAST" if i == 2 else b""
            s.sendall(b"BDAT %d%s\r\n" % (len(p), last))
            s.sendall(p)
            r = reply()
            assert r.startswith(b"250"), r
        s.sendall(b"QUIT\r\n")
        return r.split()[-1].decode()


class SmtpMemoryTest(unittest.TestCase):
    def test_concurrent_large_messages_stay_bounded_and_exact(self):
        body = make_body()
        with Instance() as inst:
            inst.set_option("smtpd", "max_message_size", 64 * 1024 * 1024)
            inst.add_domain(DOMAIN)
            inst.add_user(RCPT, "pw-not-used")
            inst.start("smtpd")  # no spoold: the messages stay in the queue
            pid = inst.pid("smtpd")
            self.assertIsNotNone(pid)
            base_kb = vm_kb(pid, "VmRSS")
            results = {}
            errors = []

            def session(i):
                marker = b"X-Session: %d\r\n" % i
                try:
                    if i == 0:
                        results[i] = (send_bdat(inst.port("smtp"), body, marker), marker)
                        return
                    with smtplib.SMTP("127.0.0.1", inst.port("smtp"), timeout=60) as s:
                        s.ehlo("client.test")
                        code, resp = s.mail("s%d@client.test" % i)
                        self.assertEqual(code, 250)
                        s.rcpt(RCPT)
                        code, resp = s.data(marker + body)
                        self.assertEqual(code, 250, resp)
                        results[i] = (resp.split()[-1].decode(), marker)
                except Exception as e:  # reported below, with the log
                    errors.append("session %d: %r" % (i, e))

            threads = [threading.Thread(target=session, args=(i,)) for i in range(SESSIONS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(120)
            hwm_kb = vm_kb(pid, "VmHWM")
            print("smtpd VmRSS at start %d KiB, VmHWM after %d x %d MB: %d KiB"
                  % (base_kb, SESSIONS, MESSAGE_MB, hwm_kb))
            if errors:
                inst.dump_logs()
            self.assertEqual(errors, [])
            self.assertEqual(len(results), SESSIONS)
            want = hashlib.sha256(body).hexdigest()
            for i, (qid, marker) in sorted(results.items()):
                msg = queued_message(inst.queue_dir, qid)
                self.assertTrue(msg.startswith(b"Received: "), i)  # the Received header first
                at = msg.index(marker)
                self.assertEqual(hashlib.sha256(msg[at + len(marker):]).hexdigest(), want, i)
                os.unlink(os.path.join(inst.queue_dir, "active", qid))
            if sanitized(pid):
                self.assertLess(hwm_kb - base_kb, ASAN_GROWTH_LIMIT_KB)
            else:
                self.assertLess(hwm_kb, RSS_LIMIT_KB)


if __name__ == "__main__":
    unittest.main()
