"""Durability is a promise about the order of system calls, which a SIGKILL test cannot see
(the page cache survives a kill). This test records the calls of real daemons with strace and
fails unless every promise is kept in order:

  smtpd   the queue file is fdatasync'ed, renamed into queue/active/ and queue/active/ is
          fsync'ed before "250 ... queued as ID" is written to the client;
  spoold  the Maildir file is fsync'ed, linked into new/, new/ is fsync'ed and the index is
          synced before the queue entry queue/active/ID is removed;
  pop3d   after DELE + QUIT the index is synced, the file is unlinked from the maildir and
          the directory is synced before "+OK" answers QUIT.

It also checks that smtpd's event loop thread (the process's main thread) makes none of the
queue's disk calls (create, write-out, syncs, renames): they run on the thread pool.

Needs strace (installed by scripts/install-deps.sh) and permission to ptrace the daemons
(root in CI).
"""

import os
import poplib
import re
import shutil
import signal
import smtplib
import subprocess
import time
import unittest

from postern_instance import Instance, wait_for

DOMAIN = "example.test"
ALICE = "alice@" + DOMAIN
PASSWORD = "pw-durable-1"
CALLS = ("openat,fsync,fdatasync,sync_file_range,msync,write,writev,sendto,sendmsg,"
         "rename,renameat,renameat2,link,linkat,unlink,unlinkat")

LINE = re.compile(r"^(\d+) +(.*)$")
CALL = re.compile(r"^(\w+)\((.*)\) += (-?\d+)")


def completed_calls(path, with_thread=False):
    """The traced calls in the order they completed: (name, args, result) tuples, with the
    thread id as a fourth item when asked. A call split by strace -f into '<unfinished ...>'
    and '<... resumed>' counts where it resumed."""
    pending = {}
    out = []
    with open(path, errors="replace") as f:
        for raw in f:
            m = LINE.match(raw.rstrip("\n"))
            if not m:
                continue
            pid, text = m.groups()
            if text.endswith("<unfinished ...>"):
                pending[pid] = text[: -len("<unfinished ...>")].rstrip()
                continue
            r = re.match(r"^<\.\.\. (\w+) resumed>(.*)$", text)
            if r:
                text = pending.pop(pid, r.group(1) + "(") + r.group(2)
            c = CALL.match(text)
            if c:
                call = (c.group(1), c.group(2), int(c.group(3)))
                out.append(call + (int(pid),) if with_thread else call)
    return out


def first(calls, pred, start=0):
    """Index of the first call at or after `start` for which pred(name, args) holds, or -1."""
    for i in range(start, len(calls)):
        name, args, result = calls[i]
        if result >= 0 and pred(name, args):
            return i
    return -1


def is_sync(name):
    return name in ("fsync", "fdatasync", "sync_file_range", "msync")


class Tracer:
    """strace -f attached to every thread of a running daemon, writing to `path`."""

    def __init__(self, pid, path):
        tids = os.listdir("/proc/%d/task" % pid)
        args = ["strace", "-f", "-yy", "-qq", "-s", "200", "-e", "trace=" + CALLS, "-o", path]
        for t in tids:
            args += ["-p", t]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.path = path
        time.sleep(0.5)  # attached (strace has no "ready" signal when writing to a file)
        if self.proc.poll() is not None:
            raise RuntimeError("strace failed: %s" % self.proc.stderr.read().decode())

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return completed_calls(self.path)

    def calls_of_thread(self, tid):
        return [c[:3] for c in completed_calls(self.path, with_thread=True) if c[3] == tid]


@unittest.skipIf(shutil.which("strace") is None and os.environ.get("CI") != "true",
                 "strace not installed (scripts/install-deps.sh installs it)")
class DurabilitySyscallOrderTest(unittest.TestCase):
    def test_promises_are_synced_before_they_are_made(self):
        self.assertIsNotNone(shutil.which("strace"), "strace is required")
        with Instance() as inst:
            inst.set_option("pop3d", "allow_plaintext_on_loopback", "true")
            inst.add_domain(DOMAIN)
            inst.add_user(ALICE, PASSWORD)
            inst.start("smtpd", "spoold", "pop3d")
            tracers = {svc: Tracer(inst.pid(svc), inst.path("log", svc + ".strace"))
                       for svc in ("smtpd", "spoold", "pop3d")}
            try:
                with smtplib.SMTP("127.0.0.1", inst.port("smtp"), timeout=20) as s:
                    s.ehlo("client.test")
                    code, text = s.docmd("MAIL FROM:<sender@remote.test>")
                    self.assertEqual(code, 250, text)
                    code, text = s.docmd("RCPT TO:<%s>" % ALICE)
                    self.assertEqual(code, 250, text)
                    code, text = s.data(b"Subject: durable\r\n\r\nbody\r\n")
                    self.assertEqual(code, 250, text)
                queue_id = text.decode().split()[-1]
                self.assertTrue(wait_for(lambda: len(inst.messages(ALICE)) == 1, 20),
                                "not delivered")
                self.assertTrue(wait_for(lambda: not os.path.exists(
                    inst.path("queue", "active", queue_id)), 20), "queue entry not removed")
                p = poplib.POP3("127.0.0.1", inst.port("pop3"), timeout=20)
                p.user(ALICE)
                p.pass_(PASSWORD)
                p.dele(1)
                self.assertTrue(p.quit().startswith(b"+OK"))
                self.assertEqual(inst.messages(ALICE), [])
            finally:
                calls = {svc: t.stop() for svc, t in tracers.items()}
            self.check_smtpd(calls["smtpd"], queue_id)
            self.check_smtpd_loop(tracers["smtpd"].calls_of_thread(inst.pid("smtpd")), calls["smtpd"],
                                  queue_id)
            self.check_spoold(calls["spoold"], queue_id)
            self.check_pop3d(calls["pop3d"])

    def assert_before(self, calls, what, i, j, later):
        self.assertGreaterEqual(i, 0, "%s: no such call in the trace:\n%s" % (what, dump(calls)))
        self.assertLess(i, j, "%s only after %s:\n%s" % (what, later, dump(calls)))

    def check_smtpd(self, calls, qid):
        reply = first(calls, lambda n, a: n in ("write", "writev", "sendto", "sendmsg")
                      and "TCP" in a and "queued as " + qid in a)
        self.assertGreaterEqual(reply, 0, "smtpd's 250 reply is not in the trace:\n" + dump(calls))
        file_sync = first(calls, lambda n, a: is_sync(n) and "/queue/incoming/" + qid in a)
        self.assert_before(calls, "fdatasync of the queue file", file_sync, reply, "the 250")
        rename = first(calls, lambda n, a: n.startswith("rename") and qid in a, file_sync)
        self.assert_before(calls, "rename into queue/active after the file sync", rename, reply,
                           "the 250")
        dir_sync = first(calls, lambda n, a: is_sync(n) and re.search(r"/queue/active>", a),
                         rename)
        self.assert_before(calls, "fsync of queue/active after the rename", dir_sync, reply,
                           "the 250")

    def check_smtpd_loop(self, loop_calls, calls, qid):
        create = first(calls, lambda n, a: n == "openat" and "/queue/incoming>" in a
                       and qid in a and "O_CREAT" in a)
        self.assertGreaterEqual(create, 0, "smtpd never created the queue file:\n" + dump(calls))
        disk = [c for c in loop_calls if "/queue/" in c[1] and c[2] >= 0 and (
            c[0] == "openat" or is_sync(c[0]) or c[0].startswith(("rename", "unlink", "write")))]
        self.assertEqual(disk, [], "smtpd's loop thread made queue disk calls:\n" + dump(disk))

    def check_spoold(self, calls, qid):
        remove = first(calls, lambda n, a: n.startswith("unlink") and qid in a and "active" in a)
        self.assertGreaterEqual(remove, 0, "spoold never removed the queue entry:\n" + dump(calls))
        # The message is written once and hard-linked into each mailbox's new/.
        link = first(calls, lambda n, a: (n.startswith("link") or n.startswith("rename"))
                     and "/Maildir/new/" in a)
        self.assert_before(calls, "link into Maildir/new", link, remove,
                           "the queue entry's removal")
        src = os.path.basename(re.findall(r'"([^"]+)"', calls[link][1])[0])
        msg_sync = first(calls, lambda n, a: n in ("fsync", "fdatasync") and src + ">" in a)
        self.assert_before(calls, "fsync of the message file " + src, msg_sync, link,
                           "its link into new/")
        new_sync = first(calls, lambda n, a: is_sync(n) and re.search(r"/Maildir/new>", a), link)
        self.assert_before(calls, "fsync of Maildir/new after the link", new_sync, remove,
                           "the queue entry's removal")
        index_sync = first(calls, lambda n, a: is_sync(n) and ".mdb" in a, link)
        self.assert_before(calls, "sync of the index after the link", index_sync, remove,
                           "the queue entry's removal")

    def check_pop3d(self, calls):
        quit_ok = -1
        for i, (name, args, result) in enumerate(calls):
            if name in ("write", "writev", "sendto", "sendmsg") and "TCP" in args \
                    and '"+OK' in args:
                quit_ok = i  # the last +OK is QUIT's
        self.assertGreaterEqual(quit_ok, 0, "pop3d's replies are not in the trace")
        unlink = first(calls, lambda n, a: n.startswith("unlink") and "/Maildir/cur/" in a)
        self.assert_before(calls, "unlink of the expunged file", unlink, quit_ok, "QUIT's +OK")
        dir_sync = first(calls, lambda n, a: is_sync(n) and re.search(r"/Maildir/cur>", a), unlink)
        self.assert_before(calls, "fsync of Maildir/cur after the unlink", dir_sync, quit_ok,
                           "QUIT's +OK")
        # The index is committed first (a crash then leaves a file the index no longer
        # knows, never a record pointing at nothing), but after DELE was answered.
        dele_ok = first(calls, lambda n, a: "TCP" in a and "deleted" in a)
        index_sync = first(calls, lambda n, a: is_sync(n) and ".mdb" in a, dele_ok)
        self.assert_before(calls, "sync of the index at QUIT", index_sync, quit_ok, "QUIT's +OK")


def dump(calls):
    return "\n".join("%4d %s(%s) = %d" % (i, n, a[:160], r) for i, (n, a, r) in enumerate(calls))


if __name__ == "__main__":
    unittest.main()
