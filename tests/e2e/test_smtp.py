"""End-to-end tests of smtpd: real clients (smtplib, raw sockets, swaks) against a
throw-away instance on 127.0.0.1. Delivery into a Maildir is checked when spoold is
built; otherwise the message is checked in the queue."""

import base64
import re
import smtplib
import socket
import ssl
import subprocess
import time
import unittest

from postern_instance import Instance, daemon_exists, tool_exists, wait_for
from scram_client import ScramClient

DOMAIN = "example.test"
ALICE = "alice@" + DOMAIN
PASSWORD = "s3cret-pw"
MAX_SIZE = 200000
MAX_RCPTS = 5
MAX_BAD = 5


def set_option(path, key, value):
    """Replaces `key = ...` in the [smtpd] section of postern.toml."""
    with open(path) as f:
        text = f.read()
    head, sep, rest = text.partition("[smtpd]\n")
    rest, n = re.subn(r"(?m)^%s = .*$" % re.escape(key), "%s = %s" % (key, value), rest, count=1)
    if n == 0:
        rest = "%s = %s\n" % (key, value) + rest
    with open(path, "w") as f:
        f.write(head + sep + rest)


class Raw:
    """A line-oriented SMTP client over a plain or TLS socket, for what smtplib cannot do."""

    def __init__(self, port, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def reply(self):
        """One complete (possibly multi-line) reply as (code, text)."""
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise EOFError("connection closed; got %r" % (lines,))
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            lines.append(line.decode("utf-8", "replace"))
            if len(line) < 4 or line[3:4] == b" ":
                return int(lines[-1][:3]), "\n".join(l[4:] for l in lines)

    def cmd(self, line):
        self.send(line.encode() + b"\r\n")
        return self.reply()

    def pending(self, wait=0.5):
        """Whatever the server sends within `wait` seconds (b'' if nothing)."""
        self.sock.settimeout(wait)
        try:
            data = self.sock.recv(65536)
        except (socket.timeout, TimeoutError):
            data = b""
        finally:
            self.sock.settimeout(10)
        return self.buf + data

    def close(self):
        self.sock.close()


class SmtpTest(unittest.TestCase):
    inst = None

    @classmethod
    def setUpClass(cls):
        cls.inst = Instance()
        cls.inst.__enter__()
        try:
            cfg = cls.inst.config_path
            set_option(cfg, "max_message_size", MAX_SIZE)
            set_option(cfg, "max_recipients", MAX_RCPTS)
            set_option(cfg, "max_bad_commands", MAX_BAD)
            cls.inst.add_domain(DOMAIN)
            cls.inst.add_domain("catchall.test")
            cls.inst.add_user(ALICE, PASSWORD)
            cls.inst.add_user("bob@" + DOMAIN, "bob-pw")
            cls.inst.add_user("nobody@catchall.test", "x-pw")
            cls.inst.add_alias("team@" + DOMAIN, ALICE, "bob@" + DOMAIN)
            cls.spoold = daemon_exists("spoold")
            cls.inst.start(*(["smtpd", "spoold"] if cls.spoold else ["smtpd"]))
        except BaseException:
            cls.inst.__exit__(None, None, None)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.inst.__exit__(None, None, None)

    # --- helpers ---------------------------------------------------------------------------

    def smtp(self, port_name="smtp"):
        s = smtplib.SMTP("127.0.0.1", self.inst.port(port_name), timeout=10)
        self.addCleanup(s.close)
        return s

    def tls_ctx(self):
        return self.inst.client_tls_context(check_hostname=False)

    def submission(self, login=True):
        s = self.smtp("submission")
        s.ehlo("client.test")
        s.starttls(context=self.tls_ctx())
        s.ehlo("client.test")
        if login:
            s.login(ALICE, PASSWORD)
        return s

    def queued(self, qid):
        try:
            with open(self.inst.path("queue", "active", qid), "rb") as f:
                return f.read()
        except OSError:
            return None

    def delivered(self, addr, marker, timeout=15):
        """The bytes of the message in addr's Maildir containing `marker` (None if absent)."""
        def find():
            for p in self.inst.messages(addr):
                try:
                    with open(p, "rb") as f:
                        data = f.read()
                except OSError:
                    continue
                if marker in data:
                    return data
            return None
        return wait_for(find, timeout)

    def assert_arrived(self, addr, qid, body, marker):
        """The body arrived byte for byte (in the Maildir with spoold, else in the queue)."""
        if self.spoold:
            data = self.delivered(addr, marker)
            self.assertIsNotNone(data, "no message with %r for %s" % (marker, addr))
        else:
            data = self.queued(qid) or b""
        self.assertIn(body, data)
        self.assertIn(b"Received: from ", data)
        return data

    @staticmethod
    def qid(resp):
        m = re.search(rb"queued as (\S+)", resp)
        assert m, resp
        return m.group(1).decode()

    # --- delivery --------------------------------------------------------------------------

    def test_delivery_byte_exact(self):
        s = self.smtp()
        marker = b"X-Test: byte-exact-%d" % time.time_ns()
        body = (marker + b"\r\nSubject: hello\r\n\r\nline one\r\n.leading dot\r\n..two dots\r\n"
                b"\xc3\xa9t\xc3\xa9 8-bit \xff\xfe\r\ntrailing spaces   \r\n")
        s.ehlo("client.test")
        code, resp = s.mail("sender@remote.test", ["BODY=8BITMIME"])
        self.assertEqual(code, 250)
        self.assertEqual(s.rcpt(ALICE)[0], 250)
        code, resp = s.data(body)  # smtplib dot-stuffs; the server must unstuff
        self.assertEqual(code, 250, resp)
        self.assertTrue(resp.startswith(b"2.0.0 Ok: queued as "), resp)
        data = self.assert_arrived(ALICE, self.qid(resp), body, marker)
        self.assertIn(b"with ESMTP id " + self.qid(resp).encode(), data)
        self.assertIn(b"for <" + ALICE.encode() + b">", data)

    def test_looping_message_refused(self):
        # RFC 5321 6.3: 100 Received fields mean a loop; 99 still pass.
        hops = lambda n: "".join("Received: from hop%d.test by x.test; now\r\n" % i
                                 for i in range(n)).encode()
        for n, want in ((99, 250), (100, 554)):
            s = self.smtp()
            s.ehlo("client.test")
            self.assertEqual(s.mail("sender@remote.test")[0], 250)
            self.assertEqual(s.rcpt(ALICE)[0], 250)
            code, resp = s.data(hops(n) + b"Subject: loop %d\r\n\r\nbody\r\n" % n)
            self.assertEqual(code, want, resp)
            if want == 554:
                self.assertTrue(resp.startswith(b"5.4.6 Too many hops"), resp)
            s.quit()

    def test_alias_and_catch_all_accepted(self):
        s = self.smtp()
        s.ehlo("client.test")
        s.mail("sender@remote.test")
        self.assertEqual(s.rcpt("team@" + DOMAIN)[0], 250)
        self.assertEqual(s.rcpt("whoever@catchall.test")[0], 250)
        self.assertEqual(s.rcpt("ALICE@Example.Test")[0], 250)
        marker = b"X-Test: alias-%d" % time.time_ns()
        code, resp = s.data(marker + b"\r\n\r\nhi\r\n")
        self.assertEqual(code, 250)
        if self.spoold:
            self.assertIsNotNone(self.delivered("bob@" + DOMAIN, marker))
            self.assertIsNotNone(self.delivered("nobody@catchall.test", marker))

    def test_unknown_user_and_relay_denied(self):
        s = self.smtp()
        s.ehlo("client.test")
        s.mail("sender@remote.test")
        code, resp = s.rcpt("nosuchuser@" + DOMAIN)
        self.assertEqual((code, resp[:5]), (550, b"5.1.1"))
        code, resp = s.rcpt("someone@elsewhere.test")
        self.assertEqual((code, resp[:5]), (554, b"5.7.1"))
        for trick in ("<someone%elsewhere.test@example.test>", "<@example.test:x@elsewhere.test>",
                      "<x@elsewhere.test@example.test>"):
            code, resp = s.docmd("RCPT TO:" + trick)
            self.assertGreaterEqual(code, 500, trick)
        code, _ = s.docmd("DATA")
        self.assertEqual(code, 503)  # no valid recipient

    def test_relay_after_auth_on_submission(self):
        s = self.submission()
        s.mail(ALICE)
        code, resp = s.rcpt("someone@elsewhere.test")
        self.assertEqual(code, 250, resp)
        code, resp = s.data(b"Subject: out\r\n\r\nrelayed\r\n")
        self.assertEqual(code, 250)
        env = self.queued(self.qid(resp))
        if env is not None:  # spoold may already have taken it
            self.assertIn(b"ESMTPSA", env)

    def test_submission_requires_auth(self):
        s = self.submission(login=False)
        code, resp = s.docmd("MAIL FROM:<" + ALICE + ">")
        self.assertEqual((code, resp[:5]), (530, b"5.7.0"))

    def test_smtps_implicit_tls(self):
        s = smtplib.SMTP_SSL("127.0.0.1", self.inst.port("smtps"), timeout=10,
                             context=self.tls_ctx())
        self.addCleanup(s.close)
        s.ehlo("client.test")
        self.assertFalse(s.has_extn("starttls"))
        self.assertIn("PLAIN", s.esmtp_features.get("auth", ""))
        s.login(ALICE, PASSWORD)
        self.assertEqual(s.mail(ALICE)[0], 250)

    # --- AUTH --------------------------------------------------------------------------------

    def test_auth_refused_before_tls(self):
        s = self.smtp("submission")
        s.ehlo("client.test")
        self.assertNotIn("auth", s.esmtp_features)
        cred = base64.b64encode(b"\0" + ALICE.encode() + b"\0" + PASSWORD.encode()).decode()
        code, resp = s.docmd("AUTH", "PLAIN " + cred)
        self.assertEqual((code, resp[:6]), (538, b"5.7.11"))

    def test_auth_plain_and_login(self):
        s = self.submission(login=False)
        code, _ = s.auth("PLAIN", lambda challenge=None: "\0%s\0%s" % (ALICE, PASSWORD))
        self.assertEqual(code, 235)
        s2 = self.submission(login=False)
        s2.user, s2.password = ALICE, PASSWORD
        code, _ = s2.auth("LOGIN", s2.auth_login, initial_response_ok=False)
        self.assertEqual(code, 235)

    def test_auth_wrong_password(self):
        s = self.submission(login=False)
        with self.assertRaises(smtplib.SMTPAuthenticationError) as cm:
            s.login(ALICE, "wrong")
        self.assertEqual(cm.exception.smtp_code, 535)

    def test_auth_scram_sha_256(self):
        s = self.submission(login=False)
        self.assertIn("SCRAM-SHA-256", s.esmtp_features["auth"])
        scram = ScramClient(ALICE, PASSWORD)
        code, resp = s.docmd("AUTH", "SCRAM-SHA-256 " + scram.first())
        self.assertEqual(code, 334, resp)
        code, resp = s.docmd(scram.final(resp))
        self.assertTrue(scram.nonce.startswith(scram.cnonce))
        self.assertEqual(code, 334, resp)
        self.assertEqual(base64.b64decode(resp).decode(), scram.expected_server_final())
        code, resp = s.docmd("")
        self.assertEqual(code, 235, resp)

    # --- protocol safety -----------------------------------------------------------------------

    def test_starttls_injection(self):
        r = Raw(self.inst.port("submission"))
        self.addCleanup(r.close)
        self.assertEqual(r.reply()[0], 220)
        self.assertEqual(r.cmd("EHLO client.test")[0], 250)
        r.send(b"STARTTLS\r\nRSET\r\n")
        self.assertEqual(r.reply()[0], 220)
        self.assertEqual(r.buf, b"")  # nothing else in plaintext
        tls = self.tls_ctx().wrap_socket(r.sock, server_hostname=self.inst.hostname)
        r.sock = tls
        # The first reply over TLS must be the one to our EHLO, not to the injected RSET.
        code, text = r.cmd("EHLO client.test")
        self.assertEqual(code, 250)
        self.assertTrue(text.startswith(self.inst.hostname), text)
        self.assertEqual(r.pending(0.3), b"")

    def test_smuggling_does_not_split_a_message(self):
        for sep in (b"\n.\n", b"\r\n.\n", b"\n.\r\n", b"\r.\r", b"\r\n.\r"):
            r = Raw(self.inst.port("smtp"))
            self.addCleanup(r.close)
            r.reply()
            r.cmd("EHLO client.test")
            self.assertEqual(r.cmd("MAIL FROM:<sender@remote.test>")[0], 250)
            self.assertEqual(r.cmd("RCPT TO:<%s>" % ALICE)[0], 250)
            self.assertEqual(r.cmd("DATA")[0], 354)
            marker = b"X-Test: smuggle-%d" % time.time_ns()
            r.send(marker + b"\r\n\r\nfirst" + sep +
                   b"MAIL FROM:<admin@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n"
                   b"Subject: smuggled\r\n\r\nevil\r\n.\r\n")
            code, text = r.reply()
            self.assertEqual(code, 250, sep)
            self.assertEqual(r.pending(0.3), b"", "more than one reply for %r" % sep)
            self.assertEqual(r.cmd("QUIT")[0], 221)
            self.assert_arrived(ALICE, self.qid(text.encode()), b"Subject: smuggled", marker)

    def test_size_declared_too_big(self):
        s = self.smtp()
        s.ehlo("client.test")
        self.assertEqual(int(s.esmtp_features["size"]), MAX_SIZE)
        code, resp = s.mail("sender@remote.test", ["SIZE=%d" % (MAX_SIZE + 1)])
        self.assertEqual((code, resp[:5]), (552, b"5.3.4"))

    def test_real_size_too_big(self):
        s = self.smtp()
        s.ehlo("client.test")
        s.mail("sender@remote.test")
        s.rcpt(ALICE)
        body = (b"x" * 998 + b"\r\n") * (MAX_SIZE // 1000 + 10)
        code, resp = s.data(body)
        self.assertEqual((code, resp[:5]), (552, b"5.3.4"))
        self.assertEqual(s.noop()[0], 250)  # the session is still in sync

    def test_bdat(self):
        r = Raw(self.inst.port("smtp"))
        self.addCleanup(r.close)
        r.reply()
        self.assertIn("CHUNKING", r.cmd("EHLO client.test")[1])
        r.cmd("MAIL FROM:<sender@remote.test>")
        r.cmd("RCPT TO:<%s>" % ALICE)
        marker = b"X-Test: bdat-%d" % time.time_ns()
        part1 = marker + b"\r\nSubject: chunks\r\n\r\n.no unstuffing\r\n"
        part2 = b"second chunk\r\n.\r\n"
        r.send(b"BDAT %d\r\n" % len(part1) + part1)
        self.assertEqual(r.reply()[0], 250)
        r.send(b"BDAT %d LAST\r\n" % len(part2) + part2)
        code, text = r.reply()
        self.assertEqual(code, 250, text)
        self.assert_arrived(ALICE, self.qid(text.encode()), part1 + part2, marker)

    def test_too_many_bad_commands(self):
        r = Raw(self.inst.port("smtp"))
        self.addCleanup(r.close)
        r.reply()
        for _ in range(MAX_BAD):
            self.assertEqual(r.cmd("FROB")[0], 500)
        code, text = r.cmd("FROB")
        self.assertEqual(code, 421)
        self.assertTrue(text.startswith("4.7.0"), text)
        self.assertEqual(r.pending(2), b"")  # closed

    def test_too_many_recipients(self):
        s = self.smtp()
        s.ehlo("client.test")
        s.mail("sender@remote.test")
        for _ in range(MAX_RCPTS):
            self.assertEqual(s.rcpt(ALICE)[0], 250)
        code, resp = s.rcpt(ALICE)
        self.assertEqual((code, resp[:5]), (452, b"4.5.3"))

    def test_pipelining_order(self):
        r = Raw(self.inst.port("smtp"))
        self.addCleanup(r.close)
        r.reply()
        self.assertIn("PIPELINING", r.cmd("EHLO client.test")[1])
        r.send(b"MAIL FROM:<s@remote.test>\r\nRCPT TO:<nosuch@example.test>\r\n"
               b"RCPT TO:<%s>\r\nRCPT TO:<x@elsewhere.test>\r\nDATA\r\n" % ALICE.encode())
        got = [r.reply()[0] for _ in range(5)]
        self.assertEqual(got, [250, 550, 250, 554, 354])
        r.send(b"hi\r\n.\r\nNOOP\r\nQUIT\r\n")
        self.assertEqual([r.reply()[0] for _ in range(3)], [250, 250, 221])

    @unittest.skipUnless(tool_exists("swaks"), "swaks not installed")
    def test_swaks(self):
        marker = "X-Test: swaks-%d" % time.time_ns()
        # Plain MX delivery (Debian's swaks needs libnet-ssleay-perl for TLS).
        proc = subprocess.run(
            ["swaks", "--server", "127.0.0.1", "--port", str(self.inst.port("smtp")),
             "--from", "sender@remote.test", "--to", "bob@" + DOMAIN,
             "--add-header", marker, "--helo", "client.test", "--timeout", "10",
             "--pipeline"],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("queued as", proc.stdout)
        if self.spoold:
            self.assertIsNotNone(self.delivered("bob@" + DOMAIN, marker.encode()))


if __name__ == "__main__":
    unittest.main(verbosity=2)
