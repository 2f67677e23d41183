"""Relay control on the real smtpd (issue 10): an authenticated user may send as its own
address and its aliases only (MAIL FROM: 553 5.7.1; From: header: 550 5.7.1 after DATA, with
nothing queued) unless smtpd.allow_sender_mismatch; AUTH is not offered on the MX port
unless smtpd.auth_on_mx; the MX port relays for nobody unauthenticated."""

import smtplib
import time
import unittest

import queue_files
from postern_instance import Instance, daemon_exists

DOMAIN = "example.test"
ALICE = "alice@" + DOMAIN
BOB = "bob@" + DOMAIN
PASSWORD = "secret-pw-1"


def message(sender, marker):
    return ("From: %s\r\nTo: %s\r\nSubject: sender check\r\nX-Marker: %s\r\n\r\nhello\r\n"
            % (sender, BOB, marker)).encode()


class Base(unittest.TestCase):
    OPTIONS = {}

    @classmethod
    def setUpClass(cls):
        if not daemon_exists("smtpd"):
            raise unittest.SkipTest("smtpd is not built")
        cls.inst = Instance()
        cls.inst.__enter__()
        try:
            cls.inst.add_domain(DOMAIN)
            for u in (ALICE, BOB):
                cls.inst.add_user(u, PASSWORD)
            cls.inst.add_alias("sales@" + DOMAIN, ALICE)
            for key, value in cls.OPTIONS.items():
                cls.inst.set_option("smtpd", key, value)
            cls.inst.start("smtpd")  # no spoold: what is accepted stays in queue/active
        except BaseException:
            cls.inst.__exit__(None, None, None)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.inst.__exit__(None, None, None)

    def submission(self, user=ALICE):
        s = smtplib.SMTP("127.0.0.1", self.inst.port("submission"), timeout=10)
        self.addCleanup(s.close)
        s.ehlo("client.test")
        s.starttls(context=self.inst.client_tls_context(check_hostname=False))
        s.ehlo("client.test")
        s.login(user, PASSWORD)
        return s

    def mx(self):
        s = smtplib.SMTP("127.0.0.1", self.inst.port("smtp"), timeout=10)
        self.addCleanup(s.close)
        s.ehlo("client.test")
        s.starttls(context=self.inst.client_tls_context(check_hostname=False))
        s.ehlo("client.test")
        return s

    def queued(self):
        return len(queue_files.active_ids(self.inst.queue_dir))

    def send(self, envelope_from, header_from):
        """(code, reply) of the DATA, and how many entries it added to the queue."""
        before = self.queued()
        s = self.submission()
        code, resp = s.mail(envelope_from)
        self.assertEqual(code, 250, resp)
        self.assertEqual(s.rcpt(BOB)[0], 250)
        code, resp = s.data(message(header_from, time.time_ns()))
        return code, resp, self.queued() - before


class SenderCheckTest(Base):
    def test_own_address(self):
        code, resp, added = self.send(ALICE, "Alice <%s>" % ALICE)
        self.assertEqual((code, added), (250, 1), resp)

    def test_alias_of_the_user(self):
        code, resp, added = self.send("sales@" + DOMAIN, "Sales <sales@%s>" % DOMAIN)
        self.assertEqual((code, added), (250, 1), resp)

    def test_someone_elses_envelope_sender(self):
        s = self.submission()
        code, resp = s.mail(BOB)
        self.assertEqual((code, resp[:5]), (553, b"5.7.1"), resp)
        # smtplib's sendmail sees the same refusal.
        with self.assertRaises(smtplib.SMTPSenderRefused) as cm:
            s.sendmail("nobody@elsewhere.example", [BOB], message(ALICE, "x"))
        self.assertEqual(cm.exception.smtp_code, 553)

    def test_someone_elses_from_header_nothing_queued(self):
        code, resp, added = self.send(ALICE, "Bob <%s>" % BOB)
        self.assertEqual((code, resp[:5], added), (550, b"5.7.1", 0), resp)
        # The session goes on: the next message with the right From: is taken.
        self.assertEqual(self.send(ALICE, ALICE)[0], 250)

    def test_null_sender_is_accepted_with_own_from(self):
        # RFC 8098 MDNs go out with MAIL FROM:<>; their From: is still checked.
        code, resp, added = self.send("", ALICE)
        self.assertEqual((code, added), (250, 1), resp)
        code, resp, added = self.send("", BOB)
        self.assertEqual((code, added), (550, 0), resp)

    def test_auth_not_on_mx_by_default(self):
        s = self.mx()
        self.assertNotIn("auth", s.esmtp_features)
        code, resp = s.docmd("AUTH", "PLAIN AGFsaWNlAHB3")
        self.assertEqual((code, resp[:5]), (503, b"5.5.1"))
        # ... and submission offers it.
        s2 = smtplib.SMTP("127.0.0.1", self.inst.port("submission"), timeout=10)
        self.addCleanup(s2.close)
        s2.starttls(context=self.inst.client_tls_context(check_hostname=False))
        s2.ehlo("client.test")
        self.assertIn("PLAIN", s2.esmtp_features.get("auth", ""))

    def test_mx_does_not_relay_for_strangers(self):
        s = self.mx()
        self.assertEqual(s.mail(BOB)[0], 250)
        code, resp = s.rcpt("someone@elsewhere.example")
        self.assertEqual((code, resp[:5]), (554, b"5.7.1"), resp)


class RelaxedTest(Base):
    OPTIONS = {"allow_sender_mismatch": "true", "auth_on_mx": "true"}

    def test_mismatch_allowed(self):
        s = self.submission()
        self.assertEqual(s.mail(BOB)[0], 250)
        code, resp, added = self.send(BOB, "Bob <%s>" % BOB)
        self.assertEqual((code, added), (250, 1), resp)

    def test_auth_on_mx_when_configured(self):
        s = self.mx()
        self.assertIn("PLAIN", s.esmtp_features.get("auth", ""))
        s.login(ALICE, PASSWORD)
        self.assertEqual(s.mail(ALICE)[0], 250)
        self.assertEqual(s.rcpt("someone@elsewhere.example")[0], 250)  # authenticated: relays


if __name__ == "__main__":
    unittest.main()
