"""End-to-end tests of the failed-login defences in smtpd and pop3d: the budget across
sessions (growing delay, then a temporary refusal even of the right password), the
fixed-format "auth failed" log line (matched with the regex docs/security.md gives for
fail2ban), client strings escaped in the logs, and over-long passwords.

Each class runs its own instance (so its own per-process budgets) with small [auth]
settings, so the suite stays fast. All traffic is from 127.0.0.1."""

import base64
import poplib
import re
import smtplib
import socket
import sys
import time
import unittest

from postern_instance import Instance, daemon_exists, wait_for

DOMAIN = "example.test"
ALICE = "alice@" + DOMAIN
PASSWORD = "s3cret-pw"

# docs/security.md, "Logins: failures, budgets and logging": the fail2ban failregex, with
# fail2ban's <HOST> standing for the address.
FAILREGEX = (r'\[[0-9a-f]+\.[0-9a-f]+\] auth failed: ip=<HOST> '
             r'login="(?:[^"\\]|\\.)*" mech=[A-Z0-9-]+$')
FAIL_RE = re.compile(FAILREGEX.replace("<HOST>", r"(?P<host>[0-9a-fA-F.:]+)"), re.M)

LOCKOUT = 2  # seconds


def plain(user, password):
    raw = b"\0" + user.encode("utf-8", "surrogateescape") + b"\0" + password.encode()
    return base64.b64encode(raw).decode()


def log_bytes(inst, service):
    try:
        with open(inst.path("log", service + ".log"), "rb") as f:
            return f.read()
    except FileNotFoundError:
        return b""


def start_instance(auth, services):
    """An instance with the [auth] settings in `auth`, alice added, `services` started."""
    inst = Instance()
    inst.__enter__()
    try:
        for key, value in auth.items():
            inst.set_option("auth", key, str(value))
        inst.set_option("pop3d", "allow_plaintext_on_loopback", "true")
        inst.add_domain(DOMAIN)
        inst.add_user(ALICE, PASSWORD)
        inst.start(*services)
    except BaseException:
        inst.__exit__(*sys.exc_info())
        raise
    return inst


class Client:
    """Submission with STARTTLS, for one AUTH attempt per session."""

    def __init__(self, inst):
        self.s = smtplib.SMTP("127.0.0.1", inst.port("submission"), timeout=15)
        self.s.starttls(context=inst.client_tls_context(check_hostname=False))
        self.s.ehlo("client.test")

    def auth_plain(self, user, password):
        """(code, seconds the reply took)."""
        t0 = time.monotonic()
        code, _ = self.s.docmd("AUTH", "PLAIN " + plain(user, password))
        return code, time.monotonic() - t0

    def close(self):
        try:
            self.s.quit()
        except (smtplib.SMTPException, OSError):
            self.s.close()


@unittest.skipUnless(daemon_exists("smtpd"), "smtpd not built")
class SmtpBudgetTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = start_instance({"failure_delay_ms": 100, "max_failure_delay_ms": 400,
                                   "ip_lockout_failures": 5, "login_lockout_failures": 50,
                                   "lockout_seconds": LOCKOUT}, ["smtpd"])

    @classmethod
    def tearDownClass(cls):
        cls.inst.__exit__(None, None, None)

    def test_failures_across_sessions_lock_the_address(self):
        took = []
        for i in range(4):  # four sessions, one wrong password each
            c = Client(self.inst)
            code, t = c.auth_plain(ALICE, "wrong-%d" % i)
            c.close()
            self.assertEqual(code, 535)
            took.append(t)
        # The fifth client leaves while its reply is held back: it still counts, and the
        # daemon (whose delay timer belonged to that session) carries on.
        c = Client(self.inst)
        c.s.send("AUTH PLAIN %s\r\n" % plain(ALICE, "wrong-4"))
        c.s.close()
        self.assertTrue(wait_for(lambda: log_bytes(self.inst, "smtpd").count(b"auth failed:") == 5,
                                 timeout=5))
        # The delay grew across sessions (100, 200, 400, 400, 400 ms).
        self.assertGreater(took[2], 0.35)
        c = Client(self.inst)
        code, _ = c.auth_plain(ALICE, PASSWORD)  # the right password, refused unchecked
        self.assertEqual(code, 454)
        c.close()
        log = log_bytes(self.inst, "smtpd").decode()
        fails = [m for m in FAIL_RE.finditer(log) if 'login="%s"' % ALICE in m.group(0)]
        self.assertEqual(len(fails), 5, log[-3000:])
        self.assertTrue(all(m.group("host") == "127.0.0.1" for m in fails))
        self.assertIn("auth lockout: ip=127.0.0.1 failures=5 seconds=%d" % LOCKOUT, log)
        self.assertRegex(log, r'auth refused: ip=127\.0\.0\.1 login="%s" mech=PLAIN '
                              r'reason=ip-locked' % re.escape(ALICE))
        # After the lockout the right password works again.
        time.sleep(LOCKOUT + 0.2)
        c = Client(self.inst)
        self.assertEqual(c.auth_plain(ALICE, PASSWORD)[0], 235)
        c.close()


@unittest.skipUnless(daemon_exists("pop3d"), "pop3d not built")
class Pop3BudgetTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = start_instance({"failure_delay_ms": 100, "max_failure_delay_ms": 400,
                                   "ip_lockout_failures": 5, "login_lockout_failures": 50,
                                   "lockout_seconds": LOCKOUT}, ["pop3d"])

    @classmethod
    def tearDownClass(cls):
        cls.inst.__exit__(None, None, None)

    def login(self, password):
        """The server's answer to PASS in a fresh session (bytes)."""
        p = poplib.POP3("127.0.0.1", self.inst.port("pop3"), timeout=15)
        try:
            p.user(ALICE)
            return p.pass_(password)
        except poplib.error_proto as e:
            return e.args[0]
        finally:
            try:
                p.quit()
            except (poplib.error_proto, OSError):
                p.close()

    def test_failures_across_sessions_lock_the_address(self):
        for i in range(5):
            self.assertTrue(self.login("wrong-%d" % i).startswith(b"-ERR [AUTH]"))
        r = self.login(PASSWORD)
        self.assertTrue(r.startswith(b"-ERR [SYS/TEMP]"), r)
        log = log_bytes(self.inst, "pop3d").decode()
        fails = [m for m in FAIL_RE.finditer(log) if 'mech=USER' in m.group(0)]
        self.assertEqual(len(fails), 5, log[-3000:])
        self.assertIn("auth lockout: ip=127.0.0.1 failures=5", log)
        time.sleep(LOCKOUT + 0.2)
        self.assertTrue(self.login(PASSWORD).startswith(b"+OK"))


@unittest.skipUnless(daemon_exists("smtpd") and daemon_exists("pop3d"), "daemons not built")
class LogInjectionTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # No lockouts and no delays: this class fails logins on purpose.
        cls.inst = start_instance({"failure_delay_ms": 0, "max_failure_delay_ms": 0,
                                   "ip_lockout_failures": 0, "login_lockout_failures": 0},
                                  ["smtpd", "pop3d"])

    @classmethod
    def tearDownClass(cls):
        cls.inst.__exit__(None, None, None)

    def assert_clean(self, service):
        data = log_bytes(self.inst, service)
        for i, b in enumerate(data):
            if b == 0x0a:
                continue
            self.assertFalse(b < 0x20 or b == 0x7f, "raw control byte %#x at %d in %s.log: %r"
                             % (b, i, service, data[max(0, i - 80):i + 20]))
        self.assertNotIn(b"\xc2\x9b", data)  # a C1 CSI, UTF-8 encoded
        self.assertNotIn(b"\x9b", data.replace(b"\\x9b", b""))
        return data

    def test_smtp_login_and_helo_are_escaped(self):
        evil = "bob\r\n2099-01-01T00:00:00Z smtpd[1] warning: forged\x1b[31m\x07"
        s = socket.create_connection(("127.0.0.1", self.inst.port("smtp")), timeout=10)
        f = s.makefile("rb")
        f.readline()
        s.sendall(b"EHLO evil\x9b31m.host\r\n")
        while not f.readline().startswith(b"250 "):
            pass
        s.sendall(b"QUIT\r\n")
        f.readline()
        s.close()
        c = Client(self.inst)
        self.assertEqual(c.auth_plain(evil, "x")[0], 535)
        c.close()
        self.assertTrue(wait_for(lambda: b"helo=\"evil\\x9b31m.host\"" in
                                 log_bytes(self.inst, "smtpd"), timeout=5))
        data = self.assert_clean("smtpd")
        self.assertIn(b'login="bob\\r\\n2099-01-01T00:00:00Z smtpd[1] warning: forged'
                      b'\\x1b[31m\\x07" mech=PLAIN', data)
        self.assertNotIn(b"\nforged", data)

    def test_pop3_login_is_escaped(self):
        p = poplib.POP3("127.0.0.1", self.inst.port("pop3"), timeout=10)
        p.user("mal\x1b]0;owned\x07lory")
        with self.assertRaises(poplib.error_proto):
            p.pass_("x")
        p.quit()
        data = self.assert_clean("pop3d")
        self.assertIn(b'login="mal\\x1b]0;owned\\x07lory" mech=USER', data)

    def test_over_long_password_says_so(self):
        # An AUTH LOGIN password line far over the limit: 500 5.5.6, never hashed.
        c = Client(self.inst)
        code, _ = c.s.docmd("AUTH", "LOGIN " + base64.b64encode(ALICE.encode()).decode())
        self.assertEqual(code, 334)
        code, resp = c.s.docmd(base64.b64encode(b"p" * 2000000).decode())
        self.assertEqual((code, resp), (500, b"5.5.6 Authentication exchange line is too long"))
        # A PLAIN password over its field limit, inside the line limit: the same answer.
        code, resp = c.s.docmd("AUTH", "PLAIN " + plain(ALICE, "p" * 5000))
        self.assertEqual((code, resp), (500, b"5.5.6 Authentication exchange line is too long"))
        self.assertEqual(c.auth_plain(ALICE, PASSWORD)[0], 235)  # the session goes on
        c.close()
        # POP3: a 2 MB PASS line is refused as too long, and the session goes on.
        p = poplib.POP3("127.0.0.1", self.inst.port("pop3"), timeout=15)
        p.user(ALICE)
        with self.assertRaises(poplib.error_proto) as cm:
            p.pass_("p" * 2000000)
        self.assertIn(b"too long", cm.exception.args[0])
        p.user(ALICE)
        self.assertTrue(p.pass_(PASSWORD).startswith(b"+OK"))
        p.quit()


if __name__ == "__main__":
    unittest.main()
