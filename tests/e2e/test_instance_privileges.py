"""The run user and the files root opens: the daemons serve as server.user (postern, when
init runs as root) and mail reaches a maildir a root-run mailctl added later; root without a
run user is refused; init's modes do not follow the umask; pid and log files are never
written through a symlink, the daemons keep no writable descriptor on their pid file, and
`mailctl stop` signals only the process that holds the pid-file lock."""

import os
import pwd
import shutil
import smtplib
import stat
import subprocess
import sys
import tempfile
import time
import tomllib
import unittest

from postern_instance import (ALL_SERVICES, LOOPBACK, Instance, bin_dir, daemon_exists,
                              free_port_base, mailctl_path, wait_for)

ROOT = os.geteuid() == 0
REFUSAL = ("refusing to run as root: server.user is %s (name an unprivileged user, or set "
           "server.allow_root = true)")


def proc_ids(pid):
    """{'Uid': [real, effective, saved, fs], 'Gid': [...], 'Groups': [...], 'CapPrm': bits,
    'CapEff': bits} of a process."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("Uid", "Gid", "Groups"):
                out[key] = [int(v) for v in value.split()]
            elif key in ("CapPrm", "CapEff"):
                out[key] = int(value, 16)
    return out


def config_of(inst):
    with open(inst.config_path, "rb") as f:
        return tomllib.load(f)


def expected_ids(inst):
    """(uid, gid) the daemons must run as: the run user's as root, else the caller's."""
    user = config_of(inst)["server"]["user"]
    if ROOT:
        pw = pwd.getpwnam(user)
        return pw.pw_uid, pw.pw_gid
    return os.getuid(), os.getgid()


def one_line(test, text):
    lines = text.strip().splitlines()
    test.assertEqual(len(lines), 1, "got %r, want one line" % text)
    return lines[0]


def built():
    return [s for s in ALL_SERVICES if daemon_exists(s)]


class RunUserTest(unittest.TestCase):
    def test_daemons_serve_as_the_run_user_and_deliver_into_a_new_maildir(self):
        services = built()
        if "smtpd" not in services or "spoold" not in services:
            self.skipTest("smtpd and spoold are needed")
        with Instance(services=services) as inst:
            user = config_of(inst)["server"]["user"]
            self.assertEqual(user, "postern" if ROOT else "")
            uid, gid = expected_ids(inst)
            for svc in services:
                with self.subTest(svc):
                    ids = proc_ids(inst.pid(svc))
                    self.assertEqual(ids["Uid"], [uid] * 4, "%s uids" % svc)
                    self.assertEqual(ids["Gid"], [gid] * 4, "%s gids" % svc)
                    if ROOT:
                        self.assertNotIn(0, ids["Groups"], "%s keeps root's groups" % svc)
                        self.assertEqual((ids["CapPrm"], ids["CapEff"]), (0, 0), "%s capabilities" % svc)

            # Added now, by mailctl run as root, while the daemons run.
            inst.add_domain("example.test")
            inst.add_user("carol@example.test", "carol-pw-1")
            with smtplib.SMTP(LOOPBACK, inst.port("smtp"), timeout=10) as s:
                s.sendmail("someone@remote.example", ["carol@example.test"],
                           b"Subject: hi\r\n\r\nhello carol\r\n")
            self.assertTrue(wait_for(lambda: inst.messages("carol@example.test", sub=("new",)), 20),
                            "delivered to the new maildir")

            # Everything the daemons and mailctl made in data/ and queue/ is the run user's.
            for top in (inst.data_dir, inst.queue_dir):
                for d, dirs, files in os.walk(top):
                    for name in dirs + files:
                        p = os.path.join(d, name)
                        self.assertEqual(os.lstat(p).st_uid, uid, p)
            sock = inst.path("run", "spoold.sock")
            self.assertEqual(os.lstat(sock).st_uid, uid)
            self.assertEqual(os.stat(inst.path("run", "smtpd.pid")).st_uid, os.geteuid())

    @unittest.skipUnless(ROOT, "the refusal is for root only")
    def test_root_without_a_run_user_is_refused(self):
        for value, shown in (('""', "empty"), ('"root"', '"root"')):
            with self.subTest(value), Instance() as inst:
                inst.set_option("server", "user", value)
                want = REFUSAL % shown
                p = inst.ctl("start", "smtpd", check=False)
                self.assertEqual(p.returncode, 1)
                self.assertEqual(one_line(self, p.stderr), "smtpd: failed to start: " + want)
                self.assertEqual(inst.status("smtpd").returncode, 3)
                d = subprocess.run([os.path.join(bin_dir(), "smtpd"), "-c", inst.config_path],
                                   capture_output=True, text=True, timeout=30)
                self.assertEqual((d.returncode, one_line(self, d.stderr)), (1, "smtpd: " + want))
                # mailctl's store commands refuse as well, and check says why.
                p = inst.ctl("domain", "add", "example.test", check=False)
                self.assertEqual((p.returncode, one_line(self, p.stderr)), (2, "mailctl: " + want))
                p = inst.ctl("check", check=False)
                self.assertEqual(p.returncode, 1)
                self.assertIn(inst.config_path + ": " + want, p.stderr)

    @unittest.skipUnless(ROOT, "allow_root only matters for root")
    def test_allow_root_serves_as_root(self):
        with Instance() as inst:
            inst.set_option("server", "user", '""')
            inst.set_option("server", "allow_root", "true")
            inst.start("smtpd")
            self.assertEqual(proc_ids(inst.pid("smtpd"))["Uid"], [0, 0, 0, 0])

    def test_init_user_option(self):
        tmp = tempfile.mkdtemp(prefix="postern-user-")
        try:
            os.chmod(tmp, 0o755)
            init = lambda name, *extra: subprocess.run(
                [mailctl_path(), "init", os.path.join(tmp, name), "--hostname", "mail.test",
                 "--listen", LOOPBACK, *extra], capture_output=True, text=True, timeout=60)
            if ROOT:
                p = init("nobody", "--user", "nobody")
                self.assertEqual(p.returncode, 0, p.stderr)
                with open(os.path.join(tmp, "nobody", "postern.toml"), "rb") as f:
                    self.assertEqual(tomllib.load(f)["server"]["user"], "nobody")
                self.assertEqual(os.stat(os.path.join(tmp, "nobody", "data")).st_uid,
                                 pwd.getpwnam("nobody").pw_uid)
                refused = [("root", ["--user", "root"], "--user root is root: the daemons would "
                            "serve clients as root (name an unprivileged user)"),
                           ("ghost", ["--user", "no-such-user-x"], "--user: no such user: no-such-user-x")]
            else:
                other = "root"
                refused = [("other", ["--user", other], "--user root needs root (the instance's "
                            "files would have to belong to root)")]
            for name, extra, want in refused:
                with self.subTest(name):
                    p = init(name, *extra)
                    self.assertEqual((p.returncode, one_line(self, p.stderr)), (2, "mailctl: " + want))
                    self.assertFalse(os.path.exists(os.path.join(tmp, name)))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_init_modes_do_not_follow_the_umask(self):
        tmp = tempfile.mkdtemp(prefix="postern-umask-")
        try:
            os.chmod(tmp, 0o755)
            d = os.path.join(tmp, "a", "inst")  # its missing parent is made too
            base = free_port_base()
            p = subprocess.run([mailctl_path(), "init", d, "--port-base", str(base), "--hostname",
                                "mail.test", "--listen", LOOPBACK], capture_output=True, text=True,
                               timeout=60, umask=0)
            self.assertEqual(p.returncode, 0, p.stderr)
            run_uid = pwd.getpwnam("postern").pw_uid if ROOT else os.getuid()
            run_gid = pwd.getpwnam("postern").pw_gid if ROOT else os.getgid()
            me = os.geteuid()
            want = {
                ".": (0o755, me), "..": (0o755, me), "postern.toml": (0o640, me),
                "data": (0o750, run_uid), "queue": (0o750, run_uid), "run": (0o750, run_uid),
                "log": (0o750, me), "tls": (0o700, me), "tls/cert.pem": (0o644, me),
                "tls/key.pem": (0o600, me),
            }
            for name, (mode, owner) in want.items():
                with self.subTest(name):
                    st = os.lstat(os.path.normpath(os.path.join(d, name)))
                    self.assertEqual(stat.S_IMODE(st.st_mode), mode, "%s: got %o" % (
                        name, stat.S_IMODE(st.st_mode)))
                    self.assertEqual(st.st_uid, owner, name)
            self.assertEqual(os.stat(os.path.join(d, "postern.toml")).st_gid, run_gid)

            # Store commands, daemons and a delivery under umask 000: nothing writable by
            # others, nothing in the store readable by others.
            env = dict(os.environ)
            ctl = lambda *a, **kw: subprocess.run([mailctl_path(), "-c", os.path.join(d, "postern.toml"),
                                                   *a], capture_output=True, text=True, timeout=60,
                                                  umask=0, env=env, **kw)
            self.assertEqual(ctl("domain", "add", "example.test").returncode, 0)
            self.assertEqual(ctl("user", "add", "dave@example.test", "--password-stdin",
                                 input="dave-pw-1\n").returncode, 0)
            if daemon_exists("smtpd") and daemon_exists("spoold"):
                try:
                    self.assertEqual(ctl("start", "smtpd", "spoold").returncode, 0)
                    with smtplib.SMTP(LOOPBACK, base + 25, timeout=10) as s:
                        s.sendmail("x@remote.example", ["dave@example.test"], b"Subject: u\r\n\r\nhi\r\n")
                    new = os.path.join(d, "data", "example.test", "dave", "Maildir", "new")
                    self.assertTrue(wait_for(lambda: os.listdir(new), 20), "delivered")
                finally:
                    ctl("stop")
            for top, dirs, files in os.walk(d):
                for name in dirs + files:
                    p = os.path.join(top, name)
                    m = stat.S_IMODE(os.lstat(p).st_mode)
                    self.assertEqual(m & 0o022, 0, "%s is writable by others (%o)" % (p, m))
                    if p.startswith((os.path.join(d, "data"), os.path.join(d, "queue"))):
                        self.assertEqual(m & 0o007, 0, "%s is open to everyone (%o)" % (p, m))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


class FilesOpenedAsRootTest(unittest.TestCase):
    def setUp(self):
        if not daemon_exists("smtpd"):
            self.skipTest("smtpd is not built")
        self.outside = tempfile.mkdtemp(prefix="postern-victim-")
        self.victim = os.path.join(self.outside, "victim")
        with open(self.victim, "w") as f:
            f.write("precious\n")

    def tearDown(self):
        shutil.rmtree(self.outside, ignore_errors=True)

    def assertVictimUntouched(self):
        with open(self.victim) as f:
            self.assertEqual(f.read(), "precious\n")

    def test_symlinked_pid_and_log_files_are_refused(self):
        with Instance() as inst:
            pid_link = inst.path("run", "smtpd.pid")
            os.symlink(self.victim, pid_link)
            p = inst.ctl("start", "smtpd", check=False)
            self.assertEqual(p.returncode, 1)
            self.assertEqual(one_line(self, p.stderr), "smtpd: cannot start: %s is a symbolic link "
                             "(remove it)" % pid_link)
            self.assertVictimUntouched()
            # The daemon itself refuses it too, when started without mailctl.
            d = subprocess.run([os.path.join(bin_dir(), "smtpd"), "-c", inst.config_path],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(d.returncode, 1)
            self.assertEqual(one_line(self, d.stderr),
                             "smtpd: %s: is a symbolic link (not following it)" % pid_link)
            self.assertVictimUntouched()
            os.unlink(pid_link)

            log_link = inst.path("log", "smtpd.log")
            os.symlink(self.victim, log_link)
            p = inst.ctl("start", "smtpd", check=False)
            self.assertEqual(p.returncode, 1)
            self.assertEqual(one_line(self, p.stderr), "smtpd: cannot start: %s: is a symbolic link "
                             "(not following it)" % log_link)
            self.assertVictimUntouched()
            self.assertEqual(inst.status("smtpd").returncode, 3)
            os.unlink(log_link)
            inst.start("smtpd")
            self.assertVictimUntouched()

    def test_daemons_hold_no_writable_descriptor_on_their_pid_file(self):
        services = built()
        with Instance(services=services) as inst:
            for svc in services:
                with self.subTest(svc):
                    pid = inst.pid(svc)
                    want = os.stat(inst.path("run", svc + ".pid"))
                    fd_dir = "/proc/%d/fd" % pid
                    try:
                        fds = os.listdir(fd_dir)
                    except PermissionError:
                        self.skipTest("cannot read %s (no CAP_SYS_PTRACE?)" % fd_dir)
                    on_pid_file = []
                    for fd in fds:
                        try:
                            st = os.stat(os.path.join(fd_dir, fd))
                        except OSError:
                            continue
                        if (st.st_dev, st.st_ino) == (want.st_dev, want.st_ino):
                            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                                flags = int(next(l for l in f if l.startswith("flags:")).split()[1], 8)
                            on_pid_file.append(flags & os.O_ACCMODE)
                    self.assertEqual(on_pid_file, [os.O_RDONLY], "%s: access modes of its "
                                     "descriptors on the pid file" % svc)

    def test_stop_signals_only_the_lock_holder(self):
        with Instance(services=["smtpd"]) as inst:
            smtpd = inst.pid("smtpd")
            bystander = subprocess.Popen(["sleep", "60"])
            try:
                # What a compromised daemon could do: its pid file (it holds the lock) now
                # names another process.
                with open(inst.path("run", "smtpd.pid"), "r+") as f:
                    f.truncate()
                    f.write("%d\n" % bystander.pid)
                p = inst.ctl("stop", "smtpd", check=False)
                self.assertEqual(p.returncode, 1)
                self.assertEqual(one_line(self, p.stderr), "smtpd: pid %d named in %s does not hold "
                                 "its lock; not signalling it" % (bystander.pid,
                                                                  inst.path("run", "smtpd.pid")))
                self.assertIsNone(bystander.poll(), "the bystander was not signalled")
                os.kill(smtpd, 0)  # still running
                with open(inst.path("run", "smtpd.pid"), "r+") as f:
                    f.truncate()
                    f.write("%d\n" % smtpd)
                self.assertEqual(inst.stop("smtpd").returncode, 0)
            finally:
                bystander.kill()
                bystander.wait()


if __name__ == "__main__":
    unittest.main()
