"""The bounces spoold sends (issue 10), read back with Python's email package: a remote 5xx
(tests/support/fake_smtp_remote.py behind a [delivery.routes] route) comes back to the
sender as one RFC 3464 multipart/report: a text part, message/delivery-status (Reporting-MTA,
Arrival-Date, Original-Envelope-Id; per recipient Final-Recipient, Original-Recipient from
ORCPT, Action, Status, Diagnostic-Code with the remote reply, Last-Attempt-Date) and the
original's header (text/rfc822-headers), or the whole message with RET=FULL. NOTIFY=NEVER
gets none. Run with /usr/bin/python3 (python3-aiosmtpd)."""

import email
import email.policy
import os
import smtplib
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))

from postern_instance import Instance, _present, daemon_exists, wait_for  # noqa: E402

try:
    from fake_smtp_remote import FakeRemote  # noqa: E402
except ImportError:  # python3-aiosmtpd missing
    FakeRemote = None

ALICE = "alice@example.test"
PASSWORD = "alice-pw-123"


class DsnTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for d in ("smtpd", "spoold"):
            if not daemon_exists(d):
                raise unittest.SkipTest(d + " is not built")
        if not _present(FakeRemote is not None, "python3-aiosmtpd"):
            raise unittest.SkipTest("python3-aiosmtpd is not installed")
        cls.remote = FakeRemote(mode="reject").start()  # 550 5.1.1 to every RCPT
        cls.inst = Instance()
        cls.inst.__enter__()
        try:
            cls.inst.add_domain("example.test")
            cls.inst.add_user(ALICE, PASSWORD)
            cls.inst.set_option("spoold", "retry_schedule_seconds", "[3600]")
            with open(cls.inst.config_path, "a") as f:
                f.write('\n[delivery.routes]\n"remote.test" = "127.0.0.1:%d"\n' % cls.remote.port)
            cls.inst.start("smtpd", "spoold")
            # Three messages at once, so one wait covers them all.
            cls.sent = {}
            for name, mail_opts, rcpt_opts in (
                    ("headers", ["ENVID=env-headers"], ["ORCPT=rfc822;Bob@Remote.Test"]),
                    ("full", ["RET=FULL", "ENVID=env-full"], ["NOTIFY=FAILURE"]),
                    ("never", [], ["NOTIFY=NEVER"])):
                cls.sent[name] = cls.submit(name, mail_opts, rcpt_opts)
            cls.bounces = cls.wait_bounces(2)
        except BaseException:
            cls.inst.__exit__(None, None, None)
            cls.remote.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.inst.__exit__(None, None, None)
        cls.remote.stop()

    @classmethod
    def submit(cls, marker, mail_opts, rcpt_opts):
        msg = ("From: %s\r\nTo: bob@remote.test\r\nSubject: dsn %s\r\n"
               "Message-ID: <%s@example.test>\r\n\r\nbody of %s\r\n"
               % (ALICE, marker, marker, marker)).encode()
        with smtplib.SMTP("127.0.0.1", cls.inst.port("submission"), timeout=15) as s:
            s.ehlo("client.test")
            s.starttls(context=cls.inst.client_tls_context(check_hostname=False))
            s.ehlo("client.test")
            assert s.has_extn("dsn")
            s.login(ALICE, PASSWORD)
            assert s.sendmail(ALICE, ["bob@remote.test"], msg, mail_opts, rcpt_opts) == {}
        return msg

    @classmethod
    def mailbox(cls):
        out = []
        for p in cls.inst.messages(ALICE, sub=("new",)):
            with open(p, "rb") as f:
                out.append(email.message_from_bytes(f.read(), policy=email.policy.default))
        return out

    @classmethod
    def wait_bounces(cls, n):
        if not wait_for(lambda: len(cls.mailbox()) >= n, 30):
            cls.inst.dump_logs()
            raise AssertionError("want %d bounces, got %d" % (n, len(cls.mailbox())))
        time.sleep(1.0)  # and not one more (NOTIFY=NEVER)
        by_envid = {}
        for m in cls.mailbox():
            report = m.get_payload()[1].get_payload()
            by_envid[report[0]["Original-Envelope-Id"]] = m
        return by_envid

    def parts(self, m):
        self.assertEqual(m.get_content_type(), "multipart/report")
        self.assertEqual(m.get_param("report-type"), "delivery-status")
        parts = m.get_payload()
        self.assertEqual([p.get_content_type() for p in parts[:2]],
                         ["text/plain", "message/delivery-status"])
        self.assertEqual(len(parts), 3)
        return parts

    def test_one_report_per_failure_none_for_never(self):
        self.assertEqual(sorted(self.bounces), ["env-full", "env-headers"])
        self.assertEqual(len(self.mailbox()), 2)

    def test_report_fields(self):
        m = self.bounces["env-headers"]
        self.assertEqual(m["Return-Path"], "<>")
        self.assertTrue(m["From"].startswith("Mail Delivery System <MAILER-DAEMON@"))
        self.assertEqual([a.addr_spec for a in m["To"].addresses], [ALICE])
        parts = self.parts(m)
        self.assertIn("<bob@remote.test>: ", parts[0].get_content())
        blocks = parts[1].get_payload()
        self.assertEqual(len(blocks), 2)  # per message, then one recipient
        msg_fields, rcpt = blocks
        self.assertEqual(msg_fields["Reporting-MTA"], "dns; " + self.inst.hostname)
        self.assertIsNotNone(email.utils.parsedate_to_datetime(msg_fields["Arrival-Date"]))
        self.assertEqual(rcpt["Final-Recipient"], "rfc822; bob@remote.test")
        self.assertEqual(rcpt["Original-Recipient"], "rfc822;Bob@Remote.Test")
        self.assertEqual(rcpt["Action"], "failed")
        self.assertEqual(rcpt["Status"], "5.1.1")
        self.assertEqual(rcpt["Diagnostic-Code"], "smtp; 550 5.1.1 no such user")
        self.assertEqual(rcpt["Remote-MTA"], "dns; 127.0.0.1")  # the route's host
        self.assertIsNotNone(email.utils.parsedate_to_datetime(rcpt["Last-Attempt-Date"]))

    def test_headers_only_by_default(self):
        third = self.parts(self.bounces["env-headers"])[2]
        self.assertEqual(third.get_content_type(), "text/rfc822-headers")
        text = third.get_payload(decode=True).decode()
        self.assertIn("Subject: dsn headers\r\n", text)
        self.assertNotIn("body of headers", text)

    def test_ret_full_returns_the_whole_message(self):
        third = self.parts(self.bounces["env-full"])[2]
        self.assertEqual(third.get_content_type(), "message/rfc822")
        original = third.get_payload()[0]
        self.assertEqual(original["Subject"], "dsn full")
        self.assertEqual(original.get_content().rstrip("\r\n"), "body of full")
        rcpt = self.parts(self.bounces["env-full"])[1].get_payload()[1]
        self.assertIsNone(rcpt["Original-Recipient"])  # no ORCPT given, no alias


if __name__ == "__main__":
    unittest.main()
