"""spoold end to end: queue entries (written directly, and through smtpd when it is built)
end up byte-exact in Maildir/new with Return-Path:, aliases and the catch-all expand,
crash leftovers are cleaned, and `mailctl queue list|flush|delete` see spoold's progress."""

import os
import smtplib
import time
import unittest

import queue_files
from postern_instance import Instance, daemon_exists, wait_for

MSG = (b"From: sender@example.org\r\nTo: alice@example.test\r\nSubject: spool test\r\n"
       b"Message-ID: <%s@test>\r\n\r\nline one\r\n.leading dot\r\n\r\nlast line\r\n")


def read_all(paths):
    out = []
    for p in paths:
        with open(p, "rb") as f:
            out.append(f.read())
    return out


class SpoolTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not daemon_exists("spoold"):
            raise unittest.SkipTest("spoold is not built")

    def make_instance(self, services=("spoold",)):
        inst = Instance()
        inst.__enter__()
        self.addCleanup(inst.__exit__, None, None, None)
        inst.add_domain("example.test")
        inst.add_domain("catch.test")
        for u in ("alice@example.test", "bob@example.test", "nobody@catch.test"):
            inst.add_user(u, "secret-pw-1")
        inst.add_alias("team@example.test", "alice@example.test", "bob@example.test")
        if services:
            inst.start(*services)
        return inst

    def wait_mail(self, inst, addr, count, timeout=20):
        ok = wait_for(lambda: len(inst.messages(addr, sub=("new",))) >= count, timeout)
        if not ok:
            inst.dump_logs()
        self.assertTrue(ok, "%s: want %d messages, got %d" % (
            addr, count, len(inst.messages(addr, sub=("new",)))))
        return read_all(inst.messages(addr, sub=("new",)))

    def test_direct_entry_delivered_byte_exact(self):
        inst = self.make_instance()
        msg = MSG % b"direct1"
        queue_files.write_entry(inst.queue_dir, "sender@example.org", ["alice@example.test"], msg)
        inst.ctl("queue", "flush")  # the wake-up; spoold would also find it on its timer
        got = self.wait_mail(inst, "alice@example.test", 1)
        self.assertEqual(got[0], b"Return-Path: <sender@example.org>\r\n" + msg)
        self.assertTrue(wait_for(lambda: not queue_files.active_ids(inst.queue_dir), 10))

    def test_alias_two_targets_and_catch_all(self):
        inst = self.make_instance()
        msg = MSG % b"alias1"
        queue_files.write_entry(inst.queue_dir, "", ["team@example.test", "who@catch.test"], msg)
        inst.ctl("queue", "flush")
        for addr in ("alice@example.test", "bob@example.test", "nobody@catch.test"):
            got = self.wait_mail(inst, addr, 1)
            self.assertEqual(got[0], b"Return-Path: <>\r\n" + msg)

    def test_crash_leftovers_recovered_at_start(self):
        inst = self.make_instance(services=())
        ids = [queue_files.write_entry(inst.queue_dir, "s@example.org", ["alice@example.test"],
                                       MSG % str(i).encode()) for i in range(5)]
        queue_files.write_entry(inst.queue_dir, "s@example.org", ["alice@example.test"],
                                MSG % b"partial", incoming_only=True)
        self.assertEqual(len(ids), 5)
        inst.start("spoold")
        self.wait_mail(inst, "alice@example.test", 5)
        self.assertTrue(wait_for(lambda: not queue_files.active_ids(inst.queue_dir), 10))
        self.assertEqual(os.listdir(os.path.join(inst.queue_dir, "incoming")), [])
        time.sleep(0.3)
        self.assertEqual(len(inst.messages("alice@example.test", sub=("new",))), 5)

    def test_unknown_recipient_bounces_to_local_sender(self):
        inst = self.make_instance()
        queue_files.write_entry(inst.queue_dir, "bob@example.test", ["ghost@example.test"],
                                MSG % b"bounce")
        inst.ctl("queue", "flush")
        got = self.wait_mail(inst, "bob@example.test", 1)
        self.assertIn(b"report-type=delivery-status", got[0])
        self.assertIn(b"Final-Recipient: rfc822; ghost@example.test", got[0])
        self.assertIn(b"Status: 5.1.1", got[0])
        self.assertTrue(got[0].startswith(b"Return-Path: <>\r\n"))

    def test_queue_list_flush_delete(self):
        inst = self.make_instance()
        qid = queue_files.write_entry(inst.queue_dir, "alice@example.test",
                                      ["far@remote.example"], MSG % b"remote")
        # No flush here: spoold's queue watch finds the new entry by itself, and a
        # flush racing with that first attempt would make it two.

        def listed():
            out = inst.ctl("queue", "list").stdout
            return out if "DNS lookup of MX for remote.example failed" in out else None
        out = wait_for(listed, 15)
        self.assertTrue(out, inst.ctl("queue", "list").stdout)
        self.assertIn(qid, out)
        self.assertIn("1 attempts", out)
        # flush: due now, spoold tries again at once.
        inst.ctl("queue", "flush")
        self.assertTrue(wait_for(lambda: "2 attempts" in inst.ctl("queue", "list").stdout, 15),
                        inst.ctl("queue", "list").stdout)
        inst.ctl("queue", "delete", qid)
        self.assertNotIn(qid, inst.ctl("queue", "list").stdout)
        bad = inst.ctl("queue", "delete", qid, check=False)
        self.assertNotEqual(bad.returncode, 0)

    def test_smtp_to_maildir(self):
        if not daemon_exists("smtpd"):
            self.skipTest("smtpd is not built")
        inst = self.make_instance(services=("smtpd", "spoold"))
        body = (b"From: sender@example.org\r\nTo: alice@example.test\r\nSubject: via smtp\r\n"
                b"Message-ID: <smtp1@test>\r\n\r\nhello\r\n..dot\r\nend\r\n")
        with smtplib.SMTP("127.0.0.1", inst.port("smtp"), timeout=10) as s:
            s.ehlo("client.test")
            s.sendmail("sender@example.org", ["alice@example.test", "team@example.test"], body)
        got = self.wait_mail(inst, "alice@example.test", 1)
        self.assertTrue(got[0].startswith(b"Return-Path: <sender@example.org>\r\n"), got[0][:200])
        self.assertTrue(got[0].endswith(body), got[0])  # smtpd adds Received: above it
        self.wait_mail(inst, "bob@example.test", 1)
        time.sleep(0.3)
        # alice was reached directly and through the alias: one copy.
        self.assertEqual(len(inst.messages("alice@example.test", sub=("new",))), 1)


if __name__ == "__main__":
    unittest.main()
