"""End-to-end tests of pop3d with real clients: Python poplib (STLS and POP3S) and fetchmail.

Messages are put in place the way a Maildir MDA does it (write tmp/, rename into new/);
the store gives them UIDs when the maildrop is opened (docs/store.md).
"""

import base64
import getpass
import os
import poplib
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

from postern_instance import Instance, daemon_exists, tool_exists
from scram_client import ScramClient

ALICE = "alice@example.test"
ALICE_PW = "correct horse"
BOB = "bob@example.test"
BOB_PW = "battery staple"

_counter = [0]


def message(subject, body_lines):
    """A CRLF message with the given subject and body lines."""
    head = "From: sender@example.org\r\nTo: %s\r\nSubject: %s\r\n" % (ALICE, subject)
    return (head + "\r\n" + "".join(l + "\r\n" for l in body_lines)).encode()


def drop(inst, addr, data):
    """Delivers bytes into addr's INBOX like a Maildir MDA; returns the file name."""
    md = inst.maildir(addr)
    _counter[0] += 1
    name = "%d.M%dP%dQ%d.e2e" % (time.time(), _counter[0], os.getpid(), _counter[0])
    tmp = os.path.join(md, "tmp", name)
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, os.path.join(md, "new", name))
    return name


def find_file(inst, addr, unique):
    """Path of the message file whose name starts with `unique` (it may gain U=, flags)."""
    for p in inst.messages(addr):
        if os.path.basename(p).startswith(unique):
            return p
    return None


@unittest.skipUnless(daemon_exists("pop3d") and daemon_exists("mailctl"), "pop3d not built")
class Pop3Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = Instance(services=["pop3d"]).__enter__()
        try:
            cls.inst.add_domain("example.test")
            cls.inst.add_user(ALICE, ALICE_PW)
            cls.inst.add_user(BOB, BOB_PW)
        except BaseException:
            cls.inst.__exit__(*sys.exc_info())
            raise

    @classmethod
    def tearDownClass(cls):
        cls.inst.__exit__(None, None, None)

    def setUp(self):
        # Each test gets a fresh user, so maildrops never carry over between tests.
        _counter[0] += 1
        self.user = "t%d@example.test" % _counter[0]
        self.inst.add_user(self.user, ALICE_PW)

    def ctx(self):
        return self.inst.client_tls_context(check_hostname=False)

    def pop3s(self, user=None, password=ALICE_PW):
        user = user or self.user
        p = poplib.POP3_SSL("127.0.0.1", self.inst.port("pop3s"), context=self.ctx(), timeout=10)
        p.user(user)
        p.pass_(password)
        return p

    def pop3s_retry(self, timeout=5.0):
        """Logs in, retrying while the previous session's lock is still held."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.pop3s()
            except poplib.error_proto as e:
                if b"[IN-USE]" not in e.args[0] or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def stls(self):
        p = poplib.POP3("127.0.0.1", self.inst.port("pop3"), timeout=10)
        p.stls(self.ctx())
        return p

    # --- TLS policy ----------------------------------------------------------------------

    def test_plaintext_refused_without_tls(self):
        p = poplib.POP3("127.0.0.1", self.inst.port("pop3"), timeout=10)
        try:
            self.assertNotIn(b"<", p.getwelcome())  # no APOP timestamp
            caps = p.capa()
            self.assertIn("STLS", caps)
            self.assertNotIn("USER", caps)
            self.assertEqual(caps.get("SASL"), ["SCRAM-SHA-256"])
            with self.assertRaises(poplib.error_proto) as cm:
                p.user(ALICE)
            self.assertIn(b"[AUTH]", cm.exception.args[0])
            self.assertIn(b"STLS", cm.exception.args[0])
        finally:
            p.quit()

    def test_stls_then_login_as_user_percent_domain(self):
        drop(self.inst, self.user, message("hi", ["one"]))
        p = self.stls()
        caps = p.capa()
        self.assertIn("USER", caps)
        self.assertNotIn("STLS", caps)
        self.assertIn("PLAIN", caps["SASL"])
        p.user(self.user.replace("@", "%"))
        p.pass_(ALICE_PW)
        self.assertEqual(p.stat()[0], 1)
        p.quit()

    def test_stls_discards_pipelined_plaintext(self):
        raw = socket.create_connection(("127.0.0.1", self.inst.port("pop3")), timeout=10)
        f = raw.makefile("rb")
        self.assertTrue(f.readline().startswith(b"+OK"))
        raw.sendall(b"STLS\r\nUSER " + self.user.encode() + b"\r\n")
        self.assertTrue(f.readline().startswith(b"+OK"))
        tls = self.ctx().wrap_socket(raw, server_hostname="mail.test")
        g = tls.makefile("rb")
        tls.sendall(b"PASS " + ALICE_PW.encode() + b"\r\n")
        # The USER sent in plaintext after STLS was never seen.
        self.assertTrue(g.readline().startswith(b"-ERR"))
        tls.sendall(b"QUIT\r\n")
        self.assertTrue(g.readline().startswith(b"+OK"))
        tls.close()

    # --- retrieval -------------------------------------------------------------------------

    def test_retr_is_byte_exact_with_dot_stuffing(self):
        # About 300 KB: streamed in several chunks.
        data = message("dots", [".leading dot", "..two dots", ".", "plain"] +
                       ["%04d " % i + "x" * 1000 for i in range(300)] + [".last"])
        name = drop(self.inst, self.user, data)
        p = self.pop3s()
        resp, lines, octets = p.list()
        self.assertEqual(lines, [b"1 %d" % len(data)])
        resp, lines, octets = p.retr(1)
        self.assertEqual(resp, b"+OK %d octets" % len(data))
        self.assertEqual(b"\r\n".join(lines) + b"\r\n", data)
        # On the wire: dot-stuffed, then the terminator.
        p._putcmd("RETR 1")
        first = p._getline()[0]
        self.assertTrue(first.startswith(b"+OK"))
        wire = b""
        while not wire.endswith(b"\r\n.\r\n"):
            wire += p.file.readline()
        self.assertIn(b"\r\n..leading dot\r\n...two dots\r\n..\r\nplain\r\n", wire)
        p.quit()
        path = find_file(self.inst, self.user, name)
        with open(path, "rb") as f:
            self.assertEqual(f.read(), data)

    def test_top_zero_lines(self):
        data = message("top", ["b1", "b2"])
        drop(self.inst, self.user, data)
        p = self.pop3s()
        resp, lines, _ = p.top(1, 0)
        self.assertEqual(lines[-1], b"")
        self.assertIn(b"Subject: top", lines)
        self.assertNotIn(b"b1", lines)
        p.quit()

    def test_uidl_stable_across_sessions(self):
        for i in range(3):
            drop(self.inst, self.user, message("u%d" % i, ["body %d" % i]))
        p = self.pop3s()
        first = dict(l.split() for l in p.uidl()[1])
        p.dele(1)
        p.quit()
        drop(self.inst, self.user, message("late", ["late"]))
        p = self.pop3s()
        second = dict(l.split() for l in p.uidl()[1])
        p.quit()
        # Old messages 2 and 3 are now 1 and 2, with the same ids; the new one has a new id.
        self.assertEqual(second[b"1"], first[b"2"])
        self.assertEqual(second[b"2"], first[b"3"])
        self.assertEqual(len(second), 3)
        self.assertNotIn(second[b"3"], first.values())

    def test_retr_marks_seen(self):
        name = drop(self.inst, self.user, message("seen", ["x"]))
        other = drop(self.inst, self.user, message("unseen", ["y"]))
        p = self.pop3s()
        p.retr(1)
        p.top(2, 0)
        p.quit()
        seen = os.path.basename(find_file(self.inst, self.user, name))
        unseen = os.path.basename(find_file(self.inst, self.user, other))
        self.assertRegex(seen, r":2,[A-Z]*S")
        self.assertNotRegex(unseen, r":2,[A-Z]*S")
        # "Leave mail on server": still there, next session sees it.
        p = self.pop3s()
        self.assertEqual(p.stat()[0], 2)
        p.quit()

    # --- UPDATE state and locking ----------------------------------------------------------

    def test_dele_committed_only_at_quit(self):
        name = drop(self.inst, self.user, message("del", ["x"]))
        p = self.pop3s()
        p.dele(1)
        p.file.close()  # dropped without QUIT: nothing is deleted
        p.sock.close()
        p = self.pop3s_retry()  # also proves the lock was released
        self.assertIsNotNone(find_file(self.inst, self.user, name))
        p.dele(1)
        p.rset()
        p.dele(1)
        self.assertIsNotNone(find_file(self.inst, self.user, name))
        p.quit()
        self.assertIsNone(find_file(self.inst, self.user, name))

    def test_second_session_in_use_and_snapshot(self):
        drop(self.inst, self.user, message("a", ["a"]))
        p = self.pop3s()
        q = poplib.POP3_SSL("127.0.0.1", self.inst.port("pop3s"), context=self.ctx(), timeout=10)
        q.user(self.user)
        with self.assertRaises(poplib.error_proto) as cm:
            q.pass_(ALICE_PW)
        self.assertIn(b"[IN-USE]", cm.exception.args[0])
        q.quit()
        drop(self.inst, self.user, message("b", ["b"]))
        self.assertEqual(p.stat()[0], 1)  # new mail waits for the next session
        p.quit()
        p = self.pop3s()
        self.assertEqual(p.stat()[0], 2)
        p.quit()

    def test_message_removed_meanwhile(self):
        drop(self.inst, self.user, message("keep", ["k"]))
        gone = drop(self.inst, self.user, message("gone", ["g"]))
        p = self.pop3s()
        os.unlink(find_file(self.inst, self.user, gone))  # as an IMAP EXPUNGE would
        with self.assertRaises(poplib.error_proto) as cm:
            p.retr(2)
        self.assertIn(b"deleted by another session", cm.exception.args[0])
        self.assertIn(b"Subject: keep", p.retr(1)[1])
        p.quit()

    def test_sasl_scram_sha_256_without_tls(self):
        """SCRAM never reveals the password, so it is offered on the plaintext port."""
        p = poplib.POP3("127.0.0.1", self.inst.port("pop3"), timeout=10)
        scram = ScramClient(self.user, ALICE_PW)
        resp = p._shortcmd("AUTH SCRAM-SHA-256 " + scram.first())
        self.assertTrue(resp.startswith(b"+ "))
        resp = p._shortcmd(scram.final(resp[2:]))
        self.assertTrue(scram.nonce.startswith(scram.cnonce))
        # The server-final message comes as one more challenge (RFC 5034 has no
        # success data); check the server signature, then an empty line completes it.
        self.assertTrue(resp.startswith(b"+ "))
        self.assertEqual(base64.b64decode(resp[2:]).decode(), scram.expected_server_final())
        self.assertTrue(p._shortcmd("").startswith(b"+OK"))
        self.assertEqual(p.stat()[0], 0)
        p.quit()

    def test_failed_logins_are_delayed_then_disconnected(self):
        p = poplib.POP3_SSL("127.0.0.1", self.inst.port("pop3s"), context=self.ctx(), timeout=15)
        t0 = time.monotonic()
        for i in range(3):  # pop3d.max_auth_failures = 3
            p.user(self.user)
            with self.assertRaises(poplib.error_proto) as cm:
                p.pass_("wrong")
            self.assertIn(b"[AUTH]", cm.exception.args[0])
        self.assertGreater(time.monotonic() - t0, 3.0)  # each reply waited
        self.assertIn(b"closing", cm.exception.args[0])
        self.assertEqual(p.file.readline(), b"")  # the server hung up
        p.close()

    def test_bob_has_his_own_maildrop(self):
        drop(self.inst, self.user, message("a", ["a"]))
        p = self.pop3s(BOB, BOB_PW)
        self.assertEqual(p.stat()[0], 0)
        p.quit()

    def test_garbage_gets_err_and_server_stays_up(self):
        raw = self.inst.tls_connect("pop3s")
        f = raw.makefile("rb")
        f.readline()
        raw.sendall(b"\x00\xff garbage\r\n" + b"A" * 20000 + b"\r\nNOOP\r\nCAPA\r\n")
        self.assertTrue(f.readline().startswith(b"-ERR"))
        self.assertTrue(f.readline().startswith(b"-ERR"))  # line too long
        self.assertTrue(f.readline().startswith(b"-ERR"))  # NOOP before login
        self.assertTrue(f.readline().startswith(b"+OK"))
        raw.close()
        p = self.pop3s()
        p.quit()

    # --- a real client ---------------------------------------------------------------------

    @unittest.skipUnless(tool_exists("fetchmail"), "fetchmail not installed")
    def test_fetchmail_pop3s_keep(self):
        bodies = ["fetchmail body one", "fetchmail body two"]
        for b in bodies:
            drop(self.inst, self.user, message(b, [b]))
        home = tempfile.mkdtemp(prefix="postern-fetchmail-")
        try:
            out = os.path.join(home, "mbox")
            rc = os.path.join(home, "fetchmailrc")
            with open(rc, "w") as f:
                f.write('set no syslog\n'
                        'poll 127.0.0.1 service %d protocol pop3 auth password\n'
                        '  user "%s" there with password "%s" is "%s" here\n'
                        '  ssl sslcertck sslcertfile "%s" sslcommonname "mail.test"\n'
                        '  keep mda "cat >> %s"\n'
                        % (self.inst.port("pop3s"), self.user, ALICE_PW, getpass.getuser(),
                           self.inst.cert_path, out))
            os.chmod(rc, 0o600)
            env = dict(os.environ, FETCHMAILHOME=home, HOME=home)
            run = lambda: subprocess.run(["fetchmail", "-f", rc, "--nodetach", "-v"],
                                         env=env, capture_output=True, text=True, timeout=60)
            r = run()
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            with open(out, "rb") as f:
                got = f.read()
            for b in bodies:
                self.assertIn(b.encode(), got)
            # "keep": still on the server; UIDL lets fetchmail skip them the next time.
            p = self.pop3s()
            self.assertEqual(p.stat()[0], 2)
            p.quit()
            r = run()
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)  # 1: no new mail
        finally:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
