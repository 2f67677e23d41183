"""Crash test: while several clients send mail, smtpd and spoold are SIGKILLed at random
moments and restarted. Afterwards every message that got a 250 must be in its mailbox
(duplicates are allowed: they are counted and reported, never a loss)."""

import os
import random
import re
import signal
import smtplib
import sys
import threading
import time
import unittest

from postern_instance import Instance, daemon_exists, wait_for

THREADS = int(os.environ.get("CRASH_THREADS", "4"))
PER_THREAD = int(os.environ.get("CRASH_MESSAGES", "100"))
KILLS = int(os.environ.get("CRASH_KILLS", "4"))
MSGID_RE = re.compile(rb"^Message-ID: <([^>]+)>", re.M | re.I)


class Sender(threading.Thread):
    def __init__(self, inst, n, rcpt, deadline):
        super().__init__(daemon=True)
        self.inst, self.n, self.rcpt, self.deadline = inst, n, rcpt, deadline
        self.acked = []      # Message-IDs that got 250
        self.failed = 0      # attempts that did not (connection killed, 4xx)

    def connect(self):
        s = smtplib.SMTP("127.0.0.1", self.inst.port("smtp"), timeout=10)
        s.ehlo("crash.test")
        return s

    def run(self):
        s = None
        for i in range(self.n):
            if time.monotonic() > self.deadline:
                break
            mid = "%s.%d.%d@crash.test" % (self.rcpt.split("@")[0], i, random.getrandbits(32))
            body = ("From: load@crash.test\r\nTo: %s\r\nSubject: crash %d\r\nMessage-ID: <%s>\r\n"
                    "\r\n%s\r\n" % (self.rcpt, i, mid, "x" * random.randrange(10, 3000)))
            for _ in range(50):  # bounded retries while smtpd is down
                try:
                    if s is None:
                        s = self.connect()
                    s.sendmail("load@crash.test", [self.rcpt], body.encode())
                    self.acked.append(mid)
                    break
                except (OSError, smtplib.SMTPException):
                    self.failed += 1
                    try:
                        if s is not None:
                            s.close()
                    except OSError:
                        pass
                    s = None
                    time.sleep(0.1)
                    if time.monotonic() > self.deadline:
                        break
        if s is not None:
            try:
                s.quit()
            except (OSError, smtplib.SMTPException):
                pass


class CrashTest(unittest.TestCase):
    def test_no_acked_message_is_lost(self):
        for d in ("smtpd", "spoold"):
            if not daemon_exists(d):
                self.skipTest(d + " is not built")
        with Instance() as inst:
            inst.add_domain("example.test")
            users = ["u%d@example.test" % i for i in range(THREADS)]
            for u in users:
                inst.add_user(u, "secret-pw-1")
            inst.start("smtpd", "spoold")

            deadline = time.monotonic() + 180
            senders = [Sender(inst, PER_THREAD, u, deadline) for u in users]
            for s in senders:
                s.start()

            kills = []
            rng = random.Random()
            for k in range(KILLS):
                time.sleep(rng.uniform(0.1, 0.5))
                if not any(s.is_alive() for s in senders):
                    break
                victims = rng.choice([("smtpd",), ("spoold",), ("smtpd", "spoold")])
                for v in victims:
                    pid = inst.pid(v)
                    if pid:
                        try:
                            os.kill(pid, signal.SIGKILL)
                        except ProcessLookupError:
                            pass
                kills.append(victims)
                # Let the pid files' locks go, then restart (bounded by mailctl's own timeout).
                time.sleep(0.2)
                r = inst.ctl("start", *victims, check=False)
                if r.returncode != 0:
                    time.sleep(0.5)
                    inst.ctl("start", *victims, check=False)

            for s in senders:
                s.join(timeout=max(1, deadline - time.monotonic()))
            self.assertFalse(any(s.is_alive() for s in senders), "senders did not finish")

            inst.ctl("start", "smtpd", "spoold", check=False)
            active = os.path.join(inst.queue_dir, "active")
            drained = wait_for(lambda: not os.listdir(active), timeout=120, interval=0.2)
            if not drained:
                inst.dump_logs()
            self.assertTrue(drained, "queue not empty: %d entries" % len(os.listdir(active)))

            missing, dups, total_acked = [], 0, 0
            for s in senders:
                seen = {}
                for path in inst.messages(s.rcpt):
                    with open(path, "rb") as f:
                        m = MSGID_RE.search(f.read())
                    if m:
                        key = m.group(1).decode()
                        seen[key] = seen.get(key, 0) + 1
                dups += sum(c - 1 for c in seen.values() if c > 1)
                total_acked += len(s.acked)
                missing += [mid for mid in s.acked if mid not in seen]
            sys.stderr.write(
                "crash test: kills=%s acked=%d failed-attempts=%d duplicates=%d missing=%d\n" % (
                    ["+".join(k) for k in kills], total_acked,
                    sum(s.failed for s in senders), dups, len(missing)))
            self.assertGreater(total_acked, 0)
            self.assertEqual(missing, [], "acknowledged but not delivered")


if __name__ == "__main__":
    unittest.main()
