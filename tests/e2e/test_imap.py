"""End-to-end tests of imapd with Python's imaplib against real daemons: STARTTLS and
implicit TLS logins, LOGINDISABLED in plaintext, mailbox management, STATUS, SELECT/EXAMINE
after a delivery by SMTP, IDLE seeing an SMTP delivery within a second, EXPUNGE, LOGOUT.
"""

import imaplib
import select
import smtplib
import socket
import sys
import time
import unittest

from postern_instance import Instance, daemon_exists, wait_for

ALICE = "alice@example.test"
PW = "correct horse"


def message(subject):
    return ("From: sender@example.org\r\nTo: %s\r\nSubject: %s\r\n\r\nhello\r\n" %
            (ALICE, subject)).encode()


@unittest.skipUnless(all(daemon_exists(d) for d in ("imapd", "smtpd", "spoold", "mailctl")),
                     "imapd, smtpd or spoold not built")
class ImapTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = Instance(services=["smtpd", "spoold", "imapd"]).__enter__()
        try:
            cls.inst.add_domain("example.test")
            cls.inst.add_user(ALICE, PW)
        except BaseException:
            cls.inst.__exit__(*sys.exc_info())
            raise

    @classmethod
    def tearDownClass(cls):
        cls.inst.__exit__(None, None, None)

    def ctx(self):
        return self.inst.client_tls_context(check_hostname=False)

    def imaps(self):
        c = imaplib.IMAP4_SSL("127.0.0.1", self.inst.port("imaps"), ssl_context=self.ctx(),
                              timeout=10)
        c.login(ALICE, PW)
        return c

    def smtp_deliver(self, subject):
        before = len(self.inst.messages(ALICE))
        with smtplib.SMTP("127.0.0.1", self.inst.port("smtp"), timeout=10) as s:
            s.ehlo("client.test")
            s.sendmail("sender@example.org", [ALICE], message(subject))
        return before

    def wait_delivered(self, before):
        self.assertTrue(wait_for(lambda: len(self.inst.messages(ALICE)) > before, 20),
                        "the SMTP delivery did not arrive")

    def test_logindisabled_in_plaintext_then_starttls(self):
        c = imaplib.IMAP4("127.0.0.1", self.inst.port("imap"), timeout=10)
        self.assertIn("LOGINDISABLED", c.capabilities)
        self.assertIn("STARTTLS", c.capabilities)
        typ, data = c._simple_command("LOGIN", ALICE, c._quote(PW))
        self.assertEqual(typ, "NO")
        self.assertIn(b"PRIVACYREQUIRED", data[0])
        c.starttls(self.ctx())
        self.assertNotIn("LOGINDISABLED", c.capabilities)
        self.assertIn("AUTH=PLAIN", c.capabilities)
        typ, _ = c.login(ALICE, PW)
        self.assertEqual(typ, "OK")
        self.assertEqual(c.logout()[0], "BYE")

    def test_login_on_993_and_wrong_password(self):
        c = self.imaps()
        self.assertIn("IDLE", c.capabilities)
        c.logout()
        bad = imaplib.IMAP4_SSL("127.0.0.1", self.inst.port("imaps"), ssl_context=self.ctx(),
                                timeout=10)
        with self.assertRaises(imaplib.IMAP4.error) as e:
            bad.login(ALICE, "wrong")
        self.assertIn("AUTHENTICATIONFAILED", str(e.exception))
        bad.shutdown()

    def test_mailboxes(self):
        c = self.imaps()
        self.assertEqual(c.create("Projects")[0], "OK")
        self.assertEqual(c.create("Projects/2024")[0], "OK")
        typ, listed = c.list()
        self.assertEqual(typ, "OK")
        names = [l.decode() for l in listed]
        self.assertTrue(any(n.endswith('"/" "Projects"') and "HasChildren" in n for n in names),
                        names)
        self.assertTrue(any(n.endswith('"INBOX"') for n in names), names)
        self.assertEqual(c.rename("Projects", "Work")[0], "OK")
        self.assertEqual(c.subscribe("Work")[0], "OK")
        typ, lsub = c.lsub()
        self.assertTrue(any(l.endswith(b'"Work"') for l in lsub), lsub)
        typ, st = c.status("Work/2024", "(MESSAGES UIDNEXT UIDVALIDITY UNSEEN SIZE)")
        self.assertEqual(typ, "OK")
        self.assertIn(b"MESSAGES 0", st[0])
        self.assertEqual(c.delete("Work/2024")[0], "OK")
        self.assertEqual(c.unsubscribe("Work")[0], "OK")
        self.assertEqual(c.delete("Work")[0], "OK")
        typ, data = c.select("Work")
        self.assertEqual(typ, "NO")
        self.assertIn(b"NONEXISTENT", data[0])
        c.logout()

    def test_select_after_smtp_delivery_idle_and_expunge(self):
        c = self.imaps()
        typ, data = c.select("INBOX")
        self.assertEqual(typ, "OK")
        start = int(data[0])
        # IDLE: an SMTP delivery shows as EXISTS within about a second of arriving.
        tag = c._new_tag()
        c.send(tag + b" IDLE\r\n")
        self.assertTrue(c.readline().startswith(b"+"))
        before = self.smtp_deliver("idle")
        self.wait_delivered(before)
        arrived = time.monotonic()
        c.sock.settimeout(5)
        line = c.readline()
        waited = time.monotonic() - arrived
        self.assertEqual(line, b"* %d EXISTS\r\n" % (start + 1))
        self.assertLess(waited, 1.5)
        c.send(b"DONE\r\n")
        self.assertTrue(c.readline().startswith(tag + b" OK"))

        typ, data = c.select("INBOX", readonly=True)  # EXAMINE
        self.assertEqual(int(data[0]), start + 1)
        self.assertEqual(c.response("READ-ONLY")[1], [b""])
        typ, data = c.expunge()
        self.assertEqual(typ, "NO")
        # STORE is not there yet, so no message is \Deleted: EXPUNGE removes nothing.
        c.select("INBOX")
        typ, _ = c.expunge()
        self.assertEqual(typ, "OK")
        typ, st = c.status("INBOX", "(MESSAGES)")
        self.assertIn(b"MESSAGES %d" % (start + 1), st[0])
        self.assertEqual(c.close()[0], "OK")
        self.assertEqual(c.logout()[0], "BYE")


if __name__ == "__main__":
    unittest.main()
