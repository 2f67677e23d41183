"""mailctl user quota / user add --quota / user show: sizes as typed, one-line errors, and the
quota end to end: mail delivered by SMTP until the quota is hit (spoold defers the rest with
4.2.2), IMAP GETQUOTAROOT reports usage and limit, and removing the quota lets the deferred
mail in."""

import imaplib
import json
import os
import smtplib
import sys
import unittest

from postern_instance import Instance, daemon_exists, wait_for

DOMAIN = "example.test"
ALICE = "alice@" + DOMAIN
BOB = "bob@" + DOMAIN
PW = "quota-pw-1"
QUOTA = 4096  # 4K: three of the messages below fit, the fourth does not
BODY = b"x" * 70 + b"\r\n"


def message(i):
    return (b"From: sender@example.org\r\nTo: %s\r\nSubject: quota %d\r\n"
            b"Message-ID: <quota-%d@test>\r\n\r\n" % (ALICE.encode(), i, i)) + BODY * 14


class QuotaCommandTest(unittest.TestCase):
    """The commands themselves (no daemons)."""

    @classmethod
    def setUpClass(cls):
        cls.inst = Instance().__enter__()
        try:
            cls.inst.add_domain(DOMAIN)
            cls.inst.add_user(ALICE, PW)
        except BaseException:
            cls.inst.__exit__(*sys.exc_info())
            raise

    @classmethod
    def tearDownClass(cls):
        cls.inst.__exit__(None, None, None)

    def show(self, addr):
        return json.loads(self.inst.ctl("user", "show", addr, "--json").stdout)

    def assertFailsOneLine(self, proc, code, contains):
        self.assertEqual(proc.returncode, code, "got exit %d, want %d; stderr %r" % (
            proc.returncode, code, proc.stderr))
        lines = proc.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, "got stderr %r, want one line" % proc.stderr)
        self.assertTrue(lines[0].startswith("mailctl: "), lines[0])
        self.assertIn(contains, lines[0])

    def test_set_show_remove(self):
        self.assertEqual(self.show(ALICE), {"address": ALICE, "quota_bytes": 0, "usage_bytes": 0})
        for size, octets in (("500M", 500 << 20), ("2G", 2 << 30), ("1048576", 1048576),
                             ("64k", 64 << 10)):
            out = self.inst.ctl("user", "quota", ALICE, size).stdout
            self.assertIn("quota of %s set to" % ALICE, out)
            self.assertIn("(%d octets)" % octets, out)
            self.assertEqual(self.show(ALICE)["quota_bytes"], octets, size)
        text = self.inst.ctl("user", "show", ALICE).stdout
        self.assertIn("quota 64K (65536 octets)", text)
        self.assertIn("usage 0 octets (0%)", text)
        for none in ("none", "0"):
            self.inst.ctl("user", "quota", ALICE, "1M")
            out = self.inst.ctl("user", "quota", ALICE, none).stdout
            self.assertEqual(out, "quota of %s removed\n" % ALICE)
            self.assertEqual(self.show(ALICE)["quota_bytes"], 0, none)
        self.assertIn("quota none", self.inst.ctl("user", "show", ALICE).stdout)

    def test_bad_sizes_change_nothing(self):
        self.inst.ctl("user", "quota", ALICE, "3M")
        for size, why in (("-5", "negative size: -5"),
                          ("99999999999999999999", "size too large"),
                          ("16777216T", "size too large"),
                          ("5X", "unknown size suffix in 5X"),
                          ("1.5G", "unknown size suffix"),
                          ("lots", "invalid size: lots"),
                          ("", "empty size")):
            p = self.inst.ctl("user", "quota", ALICE, size, check=False)
            self.assertFailsOneLine(p, 2, "invalid quota: " + why)
        self.assertEqual(self.show(ALICE)["quota_bytes"], 3 << 20)
        self.inst.ctl("user", "quota", ALICE, "none")

    def test_unknown_user_and_address(self):
        p = self.inst.ctl("user", "quota", "nobody-here@" + DOMAIN, "1M", check=False)
        self.assertFailsOneLine(p, 1, "no such user: nobody-here@" + DOMAIN)
        p = self.inst.ctl("user", "show", "nobody-here@" + DOMAIN, check=False)
        self.assertFailsOneLine(p, 1, "no such user: nobody-here@" + DOMAIN)
        p = self.inst.ctl("user", "quota", "not-an-address", "1M", check=False)
        self.assertFailsOneLine(p, 2, "invalid address")

    def test_add_with_quota(self):
        p = self.inst.ctl("user", "add", BOB, "--password-stdin", "--quota", "2G", input=PW + "\n")
        self.assertEqual(p.stdout, "added user %s (quota 2G)\n" % BOB)
        self.assertEqual(self.show(BOB)["quota_bytes"], 2 << 30)
        # A bad size is refused before anything is made (and before the password is read).
        carol = "carol@" + DOMAIN
        p = self.inst.ctl("user", "add", carol, "--password-stdin", "--quota", "-1G",
                          input=PW + "\n", check=False)
        self.assertFailsOneLine(p, 2, "negative size: -1G")
        p = self.inst.ctl("user", "show", carol, check=False)
        self.assertFailsOneLine(p, 1, "no such user: " + carol)


@unittest.skipUnless(all(daemon_exists(d) for d in ("smtpd", "spoold", "imapd")),
                     "smtpd, spoold and imapd are needed")
class QuotaEndToEndTest(unittest.TestCase):
    def setUp(self):
        self.inst = Instance().__enter__()
        self.addCleanup(self.inst.__exit__, None, None, None)
        self.inst.add_domain(DOMAIN)
        self.inst.add_user(ALICE, PW)
        self.inst.start("smtpd", "spoold", "imapd")

    def delivered(self):
        return len(self.inst.messages(ALICE))

    def entries(self):
        out = self.inst.ctl("queue", "list", "--json").stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def deferred_full(self):
        """The queue entries that spoold deferred for the quota."""
        return [e for e in self.entries()
                if e["queue_name"] == "deferred" and "4.2.2" in (e["last_error"] or "")]

    def send(self, i):
        """One message to alice by SMTP; the reply to RCPT TO (250 today: smtpd checks only
        the disk, so the quota is spoold's to enforce at delivery)."""
        with smtplib.SMTP("127.0.0.1", self.inst.port("smtp"), timeout=10) as s:
            s.ehlo("client.test")
            s.mail("sender@example.org")
            code, text = s.rcpt(ALICE)
            if code == 250:
                self.assertEqual(s.data(message(i))[0], 250)
            return code, text

    def getquotaroot(self):
        c = imaplib.IMAP4_SSL("127.0.0.1", self.inst.port("imaps"),
                              ssl_context=self.inst.client_tls_context(check_hostname=False),
                              timeout=30)
        try:
            c.login(ALICE, PW)
            typ, data = c.getquotaroot("INBOX")
            self.assertEqual(typ, "OK", data)
            return data
        finally:
            c.logout()

    def usage(self):
        return json.loads(self.inst.ctl("user", "show", ALICE, "--json").stdout)["usage_bytes"]

    def test_quota_hit_reported_and_lifted(self):
        self.inst.ctl("user", "quota", ALICE, "4K")
        self.assertEqual(self.getquotaroot()[1], [b'"" (STORAGE 0 4)'])
        # Deliver one message at a time until one does not fit.
        refused = None
        for i in range(10):
            before = self.delivered()
            code, text = self.send(i)
            if code != 250:  # smtpd refusing at RCPT would do too, but only temporarily
                self.assertEqual(code, 452, text)
                self.assertIn(b"4.2.2", text)
                refused = "smtp"
                break
            outcome = wait_for(lambda: self.delivered() > before or self.deferred_full(), 20)
            if not outcome:
                self.inst.dump_logs()
            self.assertTrue(outcome, self.entries())
            if self.deferred_full():
                refused = "spoold"
                break
        self.assertIsNotNone(refused, "10 messages went into a 4K quota")
        kept = self.delivered()
        self.assertGreaterEqual(kept, 2, "messages delivered before the quota was hit")
        # usage is what the maildir holds, within the quota, and one more would not fit.
        sizes = [os.path.getsize(p) for p in self.inst.messages(ALICE)]
        used = self.usage()
        self.assertEqual(used, sum(sizes))
        self.assertLessEqual(used, QUOTA)
        self.assertGreater(used + min(sizes), QUOTA)
        self.assertEqual(self.getquotaroot()[1],
                         [b'"" (STORAGE %d 4)' % ((used + 1023) // 1024)])
        self.assertIn("usage %d octets (%d%%)" % (used, used * 100 // QUOTA),
                      self.inst.ctl("user", "show", ALICE).stdout)
        if refused == "spoold":
            self.assertEqual(len(self.deferred_full()), 1, self.entries())

        # No quota: the deferred message goes in on the retry, and new mail too.
        self.assertEqual(self.inst.ctl("user", "quota", ALICE, "none").stdout,
                         "quota of %s removed\n" % ALICE)
        self.assertEqual(self.getquotaroot()[1], [None])  # no quota root any more
        if refused == "spoold":
            self.inst.ctl("queue", "flush")
            self.assertTrue(wait_for(lambda: self.delivered() == kept + 1, 20), self.entries())
        self.assertEqual(self.send(100)[0], 250)
        want = kept + (2 if refused == "spoold" else 1)
        self.assertTrue(wait_for(lambda: self.delivered() == want, 20), self.entries())
        self.assertTrue(wait_for(lambda: self.entries() == [], 10), self.entries())
        self.assertGreater(self.usage(), QUOTA)


if __name__ == "__main__":
    unittest.main()
