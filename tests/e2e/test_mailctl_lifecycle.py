"""mailctl start/stop/restart/status: against stand-in daemons (every failure mode, driven
by FAKE_MODE) and against the real daemons (ports, TLS with the init certificate)."""

import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

from postern_instance import (ALL_SERVICES, SERVICE_PORTS, Instance, bin_dir, port_open,
                              wait_for)

# A stand-in daemon speaking the scaffold's protocol (-c CONFIG --ready-fd N; pid file with
# an flock; READY or ERROR on the ready fd; SIGTERM ends it). FAKE_MODE picks a failure.
FAKE_DAEMON = r'''#!/usr/bin/python3
import fcntl, os, signal, socket, sys, time, tomllib
args = sys.argv[1:]
cfg = args[args.index("-c") + 1]
rfd = int(args[args.index("--ready-fd") + 1])
name = os.path.basename(sys.argv[0])
with open(cfg, "rb") as f:
    conf = tomllib.load(f)
run = os.path.join(os.path.dirname(cfg), conf["paths"]["run"])
mode = os.environ.get("FAKE_MODE", "ok")
only = os.environ.get("FAKE_ONLY")
if only and only != name:
    mode = "ok"
print(name, "starting", mode, flush=True)
if mode == "exit0":
    sys.exit(0)
if mode == "error":
    os.write(rfd, b"ERROR cannot bind 127.0.0.1:25: Address already in use\n")
    sys.exit(1)
if mode == "die":
    print("fatal: something broke", flush=True)
    sys.exit(3)
if mode == "hang":
    with open(os.path.join(run, name + ".hang"), "w") as f:
        f.write(str(os.getpid()))
    time.sleep(120)
ports = {"smtpd": [conf["smtpd"]["mx_port"], conf["smtpd"]["submission_port"],
                   conf["smtpd"]["smtps_port"]],
         "pop3d": [conf["pop3d"]["port"], conf["pop3d"]["tls_port"]],
         "imapd": [conf["imapd"]["port"], conf["imapd"]["tls_port"]], "spoold": []}[name]
socks = []
for p in ports:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", p))
    s.listen()
    socks.append(s)
fd = os.open(os.path.join(run, name + ".pid"), os.O_RDWR | os.O_CREAT, 0o644)
fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
os.ftruncate(fd, 0)
os.write(fd, b"%d\n" % os.getpid())
if mode == "ignoreterm":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
else:
    signal.signal(signal.SIGTERM, lambda *a: (print(name, "stopping", flush=True), sys.exit(0)))
os.write(rfd, b"READY\n")
os.close(rfd)
while True:
    time.sleep(1)
'''

STATUS_RE = re.compile(r"^(smtpd|pop3d|imapd|spoold): (running \(pid (\d+)\)( ports [0-9,]+)?|stopped)$")


def parse_status(out):
    """{service: pid or None} from `mailctl status` output (asserting the line format)."""
    got = {}
    for line in out.splitlines():
        m = STATUS_RE.match(line)
        if not m:
            raise AssertionError("status line %r does not match the contract" % line)
        got[m.group(1)] = int(m.group(3)) if m.group(3) else None
    return got


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie has exited: look at its state.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def dead_pid():
    """A pid that existed a moment ago and is gone now."""
    p = subprocess.Popen(["/bin/true"])
    p.wait()
    return p.pid


class FakeDaemonTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fakebin = tempfile.mkdtemp(prefix="postern-fakebin-")
        for svc in ALL_SERVICES:
            path = os.path.join(cls.fakebin, svc)
            with open(path, "w") as f:
                f.write(FAKE_DAEMON)
            os.chmod(path, 0o755)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.fakebin, ignore_errors=True)

    def setUp(self):
        self.inst = Instance(env={"POSTERN_LIBEXEC": self.fakebin}).__enter__()

    def tearDown(self):
        self.inst.__exit__(None, None, None)

    def set_grace(self, seconds):
        with open(self.inst.config_path) as f:
            text = f.read()
        text = re.sub(r"(?m)^shutdown_grace_seconds = \d+$", "shutdown_grace_seconds = %d" % seconds, text)
        with open(self.inst.config_path, "w") as f:
            f.write(text)

    def test_start_status_stop(self):
        inst = self.inst
        p = inst.ctl("start")
        self.assertEqual(p.returncode, 0)
        for svc in ALL_SERVICES:
            self.assertRegex(p.stdout, r"(?m)^%s: started \(pid \d+\)" % svc)
        self.assertIn("smtpd: started (pid %d) ports %d,%d,%d" % (
            inst.pid("smtpd"), inst.port("smtp"), inst.port("submission"), inst.port("smtps")), p.stdout)
        for svc, names in SERVICE_PORTS.items():
            for n in names:
                self.assertTrue(port_open(inst.port(n)), "%s port %s" % (svc, n))

        st = inst.status()
        self.assertEqual(st.returncode, 0, st.stdout)
        pids = parse_status(st.stdout)
        self.assertEqual(list(pids), ["smtpd", "pop3d", "imapd", "spoold"])
        self.assertIn("pop3d: running (pid %d) ports %d,%d" % (pids["pop3d"], inst.port("pop3"),
                                                                inst.port("pop3s")), st.stdout)
        self.assertIn("spoold: running (pid %d)\n" % pids["spoold"], st.stdout)
        for svc, pid in pids.items():
            self.assertEqual(os.getsid(pid), pid, "%s runs in its own session" % svc)
            self.assertIn("%s starting ok" % svc, inst.log(svc))

        again = inst.ctl("start", "smtpd")
        self.assertEqual(again.returncode, 0)
        self.assertEqual(again.stdout.strip(), "smtpd: already running (pid %d)" % pids["smtpd"])

        stop = inst.ctl("stop")
        self.assertEqual(stop.returncode, 0)
        for svc in ALL_SERVICES:
            self.assertIn("%s: stopped (pid %d)" % (svc, pids[svc]), stop.stdout)
            self.assertFalse(pid_alive(pids[svc]), svc)
        for names in SERVICE_PORTS.values():
            for n in names:
                self.assertFalse(port_open(inst.port(n)), n)
        st = inst.status()
        self.assertEqual(st.returncode, 3)
        self.assertEqual(st.stdout, "smtpd: stopped\npop3d: stopped\nimapd: stopped\nspoold: stopped\n")
        again = inst.ctl("stop", "smtpd")
        self.assertEqual((again.returncode, again.stdout.strip()), (0, "smtpd: not running"))

    def test_subset_and_restart(self):
        inst = self.inst
        inst.start("pop3d")
        self.assertEqual(inst.status("pop3d").returncode, 0)
        st = inst.status()
        self.assertEqual(st.returncode, 3)
        pids = parse_status(st.stdout)
        self.assertIsNotNone(pids["pop3d"])
        self.assertIsNone(pids["smtpd"])
        old = pids["pop3d"]
        r = inst.restart("pop3d")
        self.assertIn("pop3d: stopped (pid %d)" % old, r.stdout)
        new = inst.pid("pop3d")
        self.assertNotEqual(new, old)
        self.assertFalse(pid_alive(old))
        self.assertTrue(port_open(inst.port("pop3")))

    def test_error_line_is_reported(self):
        p = self.inst.ctl("start", "smtpd", check=False, env={"FAKE_MODE": "error"})
        self.assertEqual(p.returncode, 1)
        self.assertIn("smtpd: failed to start: cannot bind 127.0.0.1:25: Address already in use", p.stderr)
        self.assertEqual(self.inst.status("smtpd").returncode, 3)

    def test_death_before_ready_shows_last_log_line(self):
        p = self.inst.ctl("start", "imapd", check=False, env={"FAKE_MODE": "die"})
        self.assertEqual(p.returncode, 1)
        self.assertIn("imapd: exited before it was ready (exit status 3): fatal: something broke", p.stderr)

    def test_placeholder_that_exits_at_once(self):
        p = self.inst.ctl("start", "spoold", check=False, env={"FAKE_MODE": "exit0"})
        self.assertEqual(p.returncode, 1)
        self.assertIn("spoold: exited before it was ready (exit status 0)", p.stderr)

    def test_one_failure_does_not_stop_the_others(self):
        p = self.inst.ctl("start", check=False, env={"FAKE_MODE": "die", "FAKE_ONLY": "pop3d"})
        self.assertEqual(p.returncode, 1)
        pids = parse_status(self.inst.status().stdout)
        self.assertIsNone(pids["pop3d"])
        for svc in ("smtpd", "imapd", "spoold"):
            self.assertIsNotNone(pids[svc], svc)

    def test_not_ready_in_time(self):
        t0 = time.monotonic()
        p = self.inst.ctl("start", "smtpd", check=False,
                          env={"FAKE_MODE": "hang", "POSTERN_READY_TIMEOUT": "2"})
        self.assertLess(time.monotonic() - t0, 15)
        self.assertEqual(p.returncode, 1)
        self.assertIn("smtpd: not ready after 2 s", p.stderr)
        with open(self.inst.path("run", "smtpd.hang")) as f:
            hung = int(f.read())
        self.assertTrue(wait_for(lambda: not pid_alive(hung), 5), "the hung daemon was killed")

    def test_stop_escalates_to_sigkill(self):
        self.set_grace(0)
        self.inst.ctl("start", "spoold", env={"FAKE_MODE": "ignoreterm"})
        pid = self.inst.pid("spoold")
        t0 = time.monotonic()
        p = self.inst.ctl("stop", "spoold")
        took = time.monotonic() - t0
        self.assertTrue(4.5 <= took < 15, "got %.1f s, want grace 0 + 5 s" % took)
        self.assertIn("sending SIGKILL", p.stderr)
        self.assertTrue(wait_for(lambda: not pid_alive(pid), 5))
        self.assertEqual(self.inst.status("spoold").returncode, 3)

    def test_stale_pid_files(self):
        inst = self.inst
        me = os.getpid()
        for label, pid in (("live unrelated pid", me), ("dead pid", dead_pid()), ("garbage", None)):
            with self.subTest(label):
                with open(inst.path("run", "smtpd.pid"), "w") as f:
                    f.write("%d\n" % pid if pid else "not a pid\n")
                st = inst.status("smtpd")
                self.assertEqual((st.returncode, st.stdout), (3, "smtpd: stopped\n"))
                stop = inst.ctl("stop", "smtpd")
                self.assertEqual(stop.returncode, 0)
                self.assertIn("not running", stop.stdout)
                self.assertTrue(pid_alive(me), "mailctl must never signal a stale pid")
                self.assertFalse(os.path.exists(inst.path("run", "smtpd.pid")))
        with open(inst.path("run", "smtpd.pid"), "w") as f:
            f.write("%d\n" % me)
        inst.start("smtpd")
        self.assertNotEqual(inst.pid("smtpd"), me)
        self.assertEqual(inst.status("smtpd").returncode, 0)

    def test_missing_binary(self):
        empty = tempfile.mkdtemp(prefix="postern-empty-")
        try:
            p = self.inst.ctl("start", "imapd", check=False, env={"POSTERN_LIBEXEC": empty})
        finally:
            os.rmdir(empty)
        self.assertEqual(p.returncode, 1)
        self.assertIn("imapd: cannot start: %s/imapd" % empty, p.stderr)


def real_services():
    """Daemons that are built (every one should be by now)."""
    return [s for s in ALL_SERVICES if os.access(os.path.join(bin_dir(), s), os.X_OK)]


class RealDaemonsTest(unittest.TestCase):
    def setUp(self):
        self.services = real_services()
        if not self.services:
            self.skipTest("no daemon binaries in %s" % bin_dir())
        self.inst = Instance().__enter__()

    def tearDown(self):
        ok = sys.exc_info() == (None, None, None)
        self.inst.__exit__(None, None, None) if ok else self.inst.__exit__(Exception, None, None)

    def ports(self):
        return [self.inst.port(n) for s in self.services for n in SERVICE_PORTS[s]]

    def test_lifecycle(self):
        inst = self.inst
        p = inst.ctl("start", *self.services, check=False)
        if p.returncode != 0:
            inst.dump_logs()
        self.assertEqual(p.returncode, 0, p.stderr)
        for port in self.ports():
            self.assertTrue(port_open(port), "port %d accepts TCP" % port)
        st = inst.status(*self.services)
        self.assertEqual(st.returncode, 0, st.stdout)
        pids = parse_status(st.stdout)
        self.assertTrue(all(pids.values()), st.stdout)

        again = inst.ctl("start", *self.services)
        for svc in self.services:
            self.assertIn("%s: already running (pid %d)" % (svc, pids[svc]), again.stdout)

        # The implicit-TLS ports serve the certificate init made, for the configured name.
        for name, svc in (("smtps", "smtpd"), ("pop3s", "pop3d"), ("imaps", "imapd")):
            if svc in self.services:
                with self.subTest(name):
                    with inst.tls_connect(name) as s:
                        self.assertEqual(s.getpeercert()["subject"], ((("commonName", "mail.test"),),))

        r = inst.restart(*self.services)
        self.assertEqual(r.returncode, 0, r.stderr)
        for svc in self.services:
            self.assertNotEqual(inst.pid(svc), pids[svc], svc)
            self.assertFalse(pid_alive(pids[svc]), svc)

        stop = inst.stop(*self.services)
        self.assertEqual(stop.returncode, 0)
        for port in self.ports():
            self.assertTrue(wait_for(lambda: not port_open(port), 5), "port %d closed" % port)
        st = inst.status(*self.services)
        self.assertEqual(st.returncode, 3)
        self.assertEqual(set(parse_status(st.stdout).values()), {None})

    def test_stale_pid_file(self):
        svc = self.services[0]
        with open(self.inst.path("run", svc + ".pid"), "w") as f:
            f.write("%d\n" % os.getpid())
        self.assertEqual(self.inst.status(svc).returncode, 3)
        p = self.inst.ctl("start", svc, check=False)
        if p.returncode != 0:
            self.inst.dump_logs()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.inst.status(svc).returncode, 0)
        self.assertNotEqual(self.inst.pid(svc), os.getpid())

    def test_second_start_while_running_is_refused_by_lock(self):
        # Even bypassing mailctl, the daemon's pid-file lock keeps a second copy out.
        svc = self.services[0]
        self.inst.start(svc)
        r, w = os.pipe()
        try:
            p = subprocess.run([os.path.join(bin_dir(), svc), "-c", self.inst.config_path,
                                "--ready-fd", str(w)], pass_fds=(w,), capture_output=True,
                               text=True, timeout=30)
        finally:
            os.close(w)
            with os.fdopen(r) as f:
                said = f.read()
        self.assertNotEqual(p.returncode, 0)
        self.assertTrue(said.startswith("ERROR"), said)
        self.assertEqual(self.inst.status(svc).returncode, 0)


if __name__ == "__main__":
    unittest.main()
