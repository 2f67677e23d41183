"""mailctl queue list/show/flush/delete/hold/release against a running spoold, and per-target
state end to end: an alias to two mailboxes where one fails temporarily gets one copy each
after the retry."""

import json
import os
import time
import unittest

import queue_files
from postern_instance import Instance, daemon_exists, wait_for

MSG = (b"From: sender@example.org\r\nTo: team@example.test\r\nSubject: queue commands\r\n"
       b"Message-ID: <%s@test>\r\n\r\nbody line\r\n")


class QueueCommandsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not daemon_exists("spoold"):
            raise unittest.SkipTest("spoold is not built")

    def make_instance(self, services=("spoold",)):
        inst = Instance()
        inst.__enter__()
        self.addCleanup(inst.__exit__, None, None, None)
        inst.add_domain("example.test")
        for u in ("alice@example.test", "bob@example.test", "carol@example.test"):
            inst.add_user(u, "secret-pw-1")
        inst.add_alias("team@example.test", "alice@example.test", "bob@example.test")
        if services:
            inst.start(*services)
        return inst

    def entries(self, inst):
        """queue list --json: one JSON object per line, each parsed by json.loads."""
        out = inst.ctl("queue", "list", "--json").stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def entry(self, inst, qid):
        for e in self.entries(inst):
            if e["queue_id"] == qid:
                return e
        return None

    def count(self, inst, addr):
        return len(inst.messages(addr, sub=("new", "cur")))

    def test_alias_one_target_fails_temporarily_retry_delivers_only_it(self):
        inst = self.make_instance()
        bob_new = os.path.join(inst.maildir("bob@example.test"), "new")
        mode = os.stat(bob_new).st_mode & 0o7777
        # spoold runs as the run user: a read-only new/ refuses the link (EACCES, temporary).
        os.chmod(bob_new, 0o500)
        self.addCleanup(os.chmod, bob_new, mode)
        qid = queue_files.write_entry(inst.queue_dir, "carol@example.test",
                                      ["team@example.test"], MSG % b"partial")

        def deferred():
            e = self.entry(inst, qid)
            if not e or not e["recipients"][0]["targets"]:
                return None
            states = {t["address"]: t["state"] for t in e["recipients"][0]["targets"]}
            return e if states.get("bob@example.test") == "deferred" else None
        e = wait_for(deferred, 20)
        if not e:
            inst.dump_logs()
        self.assertTrue(e, self.entries(inst))
        targets = {t["address"]: t for t in e["recipients"][0]["targets"]}
        self.assertEqual(targets["alice@example.test"]["state"], "delivered")
        self.assertEqual(targets["alice@example.test"]["kind"], "local")
        self.assertEqual(targets["bob@example.test"]["attempts"], 1)
        self.assertTrue(targets["bob@example.test"]["reply"].startswith("4."), targets)
        self.assertEqual(e["recipients"][0]["status"], "pending")
        self.assertEqual(e["queue_name"], "deferred")
        self.assertEqual(e["attempts"], 1)
        self.assertGreater(e["next_attempt"], time.time())
        self.assertTrue(e["last_error"])
        self.assertEqual(self.count(inst, "alice@example.test"), 1)
        self.assertEqual(self.count(inst, "bob@example.test"), 0)

        # Fixed; retry now: only bob is written, alice keeps exactly one copy.
        os.chmod(bob_new, mode)
        out = inst.ctl("queue", "flush", qid).stdout
        self.assertIn("due now", out)
        ok = wait_for(lambda: self.entry(inst, qid) is None, 20)
        if not ok:
            inst.dump_logs()
        self.assertTrue(ok, self.entries(inst))
        self.assertTrue(wait_for(lambda: self.count(inst, "bob@example.test") == 1, 10))
        time.sleep(0.5)
        self.assertEqual(self.count(inst, "alice@example.test"), 1)
        self.assertEqual(self.count(inst, "bob@example.test"), 1)
        self.assertEqual(self.count(inst, "carol@example.test"), 0)  # no bounce

    def test_list_json_and_show(self):
        inst = self.make_instance()
        odd_sender = b"odd\x01\xff\"q\\@example.org"
        qid = queue_files.write_entry(inst.queue_dir, odd_sender, ["far@remote.example"],
                                      MSG % b"json")
        e = wait_for(lambda: (self.entry(inst, qid) or {}).get("attempts") == 1 and
                     self.entry(inst, qid), 20)
        self.assertTrue(e, self.entries(inst))
        for key in ("queue_name", "queue_id", "arrival_time", "message_size", "sender",
                    "attempts", "next_attempt", "held", "last_error", "recipients"):
            self.assertIn(key, e)
        self.assertEqual(e["message_size"], len(MSG % b"json"))
        # Bytes that are not UTF-8 come out as \u00XX of their value; the rest is exact.
        self.assertEqual(e["sender"], "odd\x01\xff\"q\\@example.org")
        self.assertFalse(e["held"])
        rcpt = e["recipients"][0]
        self.assertEqual(rcpt["address"], "far@remote.example")
        self.assertIn("DNS lookup of MX for remote.example failed", rcpt["delay_reason"])
        self.assertEqual(rcpt["targets"][0]["kind"], "remote")
        self.assertEqual(rcpt["targets"][0]["state"], "deferred")

        shown = json.loads(inst.ctl("queue", "show", qid, "--json").stdout)
        self.assertEqual(shown["queue_id"], qid)
        self.assertIn("Subject: queue commands", shown["headers"])
        self.assertNotIn("body line", shown["headers"])
        text = inst.ctl("queue", "show", qid).stdout
        self.assertIn("Subject: queue commands", text)
        self.assertIn("-> remote <far@remote.example> deferred", text)
        # The text listing escapes control bytes.
        listing = inst.ctl("queue", "list").stdout
        self.assertIn(qid, listing)
        self.assertIn("\\x01", listing)
        self.assertNotIn("\x01", listing)

    def test_hold_flush_release_delete(self):
        inst = self.make_instance(services=())
        qid = queue_files.write_entry(inst.queue_dir, "carol@example.test",
                                      ["alice@example.test"], MSG % b"held")
        inst.ctl("queue", "hold", qid)
        inst.start("spoold")
        e = self.entry(inst, qid)
        self.assertTrue(e["held"])
        self.assertEqual(e["queue_name"], "hold")
        # Held: a flush does nothing, spoold leaves it alone.
        out = inst.ctl("queue", "flush", qid).stdout
        self.assertIn("held", out)
        inst.ctl("queue", "flush")
        time.sleep(1.5)
        self.assertEqual(self.count(inst, "alice@example.test"), 0)
        self.assertIsNotNone(self.entry(inst, qid))
        self.assertEqual(self.entry(inst, qid)["attempts"], 0)
        # Released and flushed: delivered once.
        inst.ctl("queue", "release", qid)
        # spoold may take the released entry before the flush does: then it is gone already.
        flushed = inst.ctl("queue", "flush", qid, check=False)
        self.assertTrue(flushed.returncode == 0 or "no such queue entry" in flushed.stderr,
                        flushed.stderr)
        self.assertTrue(wait_for(lambda: self.count(inst, "alice@example.test") == 1, 20))
        self.assertTrue(wait_for(lambda: self.entry(inst, qid) is None, 10))

        # delete: a deferred entry goes, with its state; spoold keeps running.
        rid = queue_files.write_entry(inst.queue_dir, "carol@example.test",
                                      ["far@remote.example"], MSG % b"delete")
        self.assertTrue(wait_for(lambda: (self.entry(inst, rid) or {}).get("attempts") == 1, 20))
        self.assertTrue(os.path.exists(os.path.join(inst.queue_dir, "state", rid)))
        inst.ctl("queue", "delete", rid)
        self.assertIsNone(self.entry(inst, rid))
        self.assertFalse(os.path.exists(os.path.join(inst.queue_dir, "state", rid)))
        self.assertEqual(inst.status("spoold").returncode, 0)
        time.sleep(0.5)
        self.assertFalse(os.path.exists(os.path.join(inst.queue_dir, "state", rid)))

        # Errors: one line, exit 1.
        for args in (("delete", rid), ("hold", rid), ("release", rid), ("show", rid),
                     ("flush", rid), ("delete", "nonsense"), ("show", "../../etc/passwd")):
            bad = inst.ctl("queue", *args, check=False)
            self.assertEqual(bad.returncode, 1, (args, bad.stdout, bad.stderr))
            self.assertEqual(len(bad.stderr.strip().splitlines()), 1, bad.stderr)
            self.assertTrue(bad.stderr.startswith("mailctl: "), bad.stderr)

    def test_empty_queue_json_is_empty(self):
        inst = self.make_instance()
        self.assertEqual(inst.ctl("queue", "list", "--json").stdout, "")
        self.assertIn("queue is empty", inst.ctl("queue", "list").stdout)


if __name__ == "__main__":
    unittest.main()
