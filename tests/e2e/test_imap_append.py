"""End-to-end APPEND against the real imapd with Python's imaplib: a 20 MB message appended
and read back byte for byte (FETCH when the daemon has it, and from the Maildir file), with
the daemon's RSS sampled during the append (the literal streams to disk, it is never held);
flags and internal date kept and APPENDUID answered; MULTIAPPEND; TRYCREATE; a client that
goes away mid-literal leaves no staged file; kill -9 mid-append leaves nothing in cur/ new/.
"""

import imaplib
import os
import re
import signal
import socket
import sys
import threading
import time
import unittest

from postern_instance import Instance, InstanceTestCase, daemon_exists, wait_for

ALICE = "alice@example.test"
PW = "correct horse"
BIG = 20 * 1024 * 1024


def big_message(size):
    head = ("From: sender@example.org\r\nTo: %s\r\nSubject: big\r\n\r\n" % ALICE).encode()
    line = b"".join(b"%07d the quick brown fox jumps over the lazy dog 0123456789\r\n" % i
                    for i in range(1000))
    body = bytearray(head)
    while len(body) < size:
        body += line
    return bytes(body[:size - 2]) + b"\r\n"


# Under AddressSanitizer (the CI's second build) freed buffers wait in the allocator's
# quarantine (256 MB by default), so every 256 KB spool buffer the APPEND used would count as
# growth; a small quarantine keeps the RSS bound about what imapd holds.
DAEMON_ENV = {"ASAN_OPTIONS": ":".join(
    o for o in (os.environ.get("ASAN_OPTIONS", ""), "quarantine_size_mb=1") if o)}


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def tmp_files(inst):
    d = os.path.join(inst.data_dir, "tmp")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


class RawImap:
    """A TLS IMAP connection without imaplib, for stopping mid-literal."""

    def __init__(self, inst):
        ctx = inst.client_tls_context(check_hostname=False)
        raw = socket.create_connection(("127.0.0.1", inst.port("imaps")), timeout=10)
        self.s = ctx.wrap_socket(raw, server_hostname="localhost")
        self.buf = b""
        self.line()  # greeting

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def command(self, text):
        self.s.sendall(text.encode() + b"\r\n")
        return self.line()

    def until_tagged(self, tag):
        while True:
            line = self.line()
            if line.startswith(tag.encode() + b" "):
                return line


@unittest.skipUnless(all(daemon_exists(d) for d in ("imapd", "mailctl")), "imapd not built")
class ImapAppendTest(InstanceTestCase):
    SERVICES = ("imapd",)
    USERS = ((ALICE, PW),)
    INSTANCE_ENV = DAEMON_ENV
    IMAP_TIMEOUT = 60

    def test_capabilities(self):
        c = self.imaps()
        typ, data = c.capability()  # after login: the greeting's list is the pre-login one
        caps = data[0].split()
        self.assertIn(b"MULTIAPPEND", caps)
        self.assertTrue(any(x.startswith(b"APPENDLIMIT=") for x in caps), caps)
        self.assertIn(b"UIDPLUS", caps)
        c.logout()

    def test_flags_date_appenduid(self):
        c = self.imaps()
        c.create("Kept")
        msg = b"From: a@example.org\r\nSubject: kept\r\n\r\nbody\r\n"
        typ, data = c.append("Kept", r"(\Seen \Flagged $Work)", '"14-Jul-2020 02:44:25 -0700"',
                             msg)
        self.assertEqual(typ, "OK")
        m = re.search(rb"\[APPENDUID (\d+) (\d+)\]", data[0])
        self.assertIsNotNone(m, data)
        uid = int(m.group(2))
        files = self.inst.messages(ALICE, "Kept")
        self.assertEqual(len(files), 1)
        self.assertIn(",U=%d," % uid, os.path.basename(files[0]))
        with open(files[0], "rb") as f:
            self.assertEqual(f.read(), msg)
        # The internal date is the file's mtime.
        self.assertEqual(int(os.stat(files[0]).st_mtime), 1594719865)
        typ, data = c.select("Kept")
        self.assertEqual(typ, "OK")
        typ, data = c.status("Kept", "(MESSAGES UIDNEXT)")
        self.assertIn(b"MESSAGES 1", data[0])
        self.assertIn(b"UIDNEXT %d" % (uid + 1), data[0])
        c.logout()

    def test_multiappend_and_trycreate(self):
        c = self.imaps()
        c.create("Multi")
        one = b"Subject: one\r\n\r\n1\r\n"
        two = b"Subject: two\r\n\r\n22\r\n"
        tag = c._new_tag().decode()
        c.send(("%s APPEND Multi (\\Seen) {%d}\r\n" % (tag, len(one))).encode())
        self.assertTrue(c.readline().startswith(b"+"))
        c.send(one + b" {%d}\r\n" % len(two))
        self.assertTrue(c.readline().startswith(b"+"))
        c.send(two + b"\r\n")
        reply = c.readline()
        self.assertRegex(reply, rb"^%s OK \[APPENDUID \d+ 1:2\]" % tag.encode())
        self.assertEqual(len(self.inst.messages(ALICE, "Multi")), 2)
        typ, data = c.append("NoSuchFolder", None, None, one)
        self.assertEqual(typ, "NO")
        self.assertIn(b"TRYCREATE", data[0])
        c.logout()

    def test_20mb_append_streams(self):
        msg = big_message(BIG)
        pid = self.inst.pid("imapd")
        self.assertIsNotNone(pid)
        c = self.imaps()
        c.create("Big")
        before = rss_kb(pid)
        peak = [before]
        done = threading.Event()

        def sample():
            while not done.is_set():
                try:
                    peak[0] = max(peak[0], rss_kb(pid))
                except OSError:
                    return
                time.sleep(0.005)

        t = threading.Thread(target=sample)
        t.start()
        try:
            typ, data = c.append("Big", None, None, msg)
        finally:
            done.set()
            t.join()
        self.assertEqual(typ, "OK", data)
        m = re.search(rb"\[APPENDUID \d+ (\d+)\]", data[0])
        self.assertIsNotNone(m, data)
        uid = int(m.group(1))
        grown_kb = peak[0] - before
        sys.stderr.write("imapd RSS before %d KB, peak %d KB during a %d MB APPEND\n" %
                         (before, peak[0], BIG >> 20))
        self.assertLess(grown_kb, 8 * 1024, "imapd's RSS grew by %d KB" % grown_kb)
        files = self.inst.messages(ALICE, "Big")
        self.assertEqual(len(files), 1)
        with open(files[0], "rb") as f:
            self.assertTrue(f.read() == msg, "the stored file differs")
        # Read back by FETCH when the daemon has it.
        c.select("Big", readonly=True)
        typ, data = c.uid("FETCH", str(uid), "(BODY.PEEK[])")
        if typ == "OK" and data and isinstance(data[0], tuple):
            self.assertTrue(data[0][1] == msg, "FETCH gave other bytes")
        c.logout()
        self.assertEqual(tmp_files(self.inst), [])

    def test_disconnect_mid_literal_removes_the_staged_file(self):
        before = tmp_files(self.inst)
        r = RawImap(self.inst)
        self.assertIn(b"OK", r.command("a LOGIN %s \"%s\"" % (ALICE, PW)))
        r.command("b CREATE Gone")
        self.assertTrue(r.command("c APPEND Gone {%d}" % BIG).startswith(b"+"))
        r.s.sendall(b"x" * (3 * 1024 * 1024))
        self.assertTrue(wait_for(lambda: len(tmp_files(self.inst)) > len(before), 10),
                        "no staged file while the literal comes")
        r.s.close()
        self.assertTrue(wait_for(lambda: tmp_files(self.inst) == before, 10),
                        "staged file left: %s" % tmp_files(self.inst))
        self.assertEqual(self.inst.messages(ALICE, "Gone"), [])
        # The daemon still serves.
        c = self.imaps()
        self.assertEqual(c.noop()[0], "OK")
        c.logout()


@unittest.skipUnless(all(daemon_exists(d) for d in ("imapd", "mailctl")), "imapd not built")
class ImapAppendKillTest(unittest.TestCase):
    def test_kill_9_mid_append_leaves_nothing_in_the_folder(self):
        with Instance(services=["imapd"]) as inst:
            inst.add_domain("example.test")
            inst.add_user(ALICE, PW)
            r = RawImap(inst)
            self.assertIn(b"OK", r.command("a LOGIN %s \"%s\"" % (ALICE, PW)))
            self.assertTrue(r.command("b APPEND INBOX {%d}" % BIG).startswith(b"+"))
            r.s.sendall(b"y" * (5 * 1024 * 1024))
            self.assertTrue(wait_for(lambda: len(tmp_files(inst)) > 0, 10))
            pid = inst.pid("imapd")
            os.kill(pid, signal.SIGKILL)
            self.assertTrue(wait_for(lambda: not os.path.exists("/proc/%d" % pid), 10))
            r.s.close()
            self.assertEqual(inst.messages(ALICE), [])
            # A restarted daemon shows an empty INBOX (the staged file in DATA/tmp is
            # swept at store open once it is old).
            inst.start("imapd")
            inst.wait_port("imaps")
            c = imaplib.IMAP4_SSL("127.0.0.1", inst.port("imaps"),
                                  ssl_context=inst.client_tls_context(check_hostname=False),
                                  timeout=10)
            c.login(ALICE, PW)
            typ, data = c.select("INBOX")
            self.assertEqual(typ, "OK")
            self.assertEqual(data[0], b"0")
            c.logout()


if __name__ == "__main__":
    unittest.main(verbosity=2)
