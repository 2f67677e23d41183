"""mailctl: init, check, accounts, bad input and config errors (no daemons needed)."""

import os
import shutil
import ssl
import stat
import subprocess
import tempfile
import time
import tomllib
import unittest

from postern_instance import Instance, PORT_OFFSETS, mailctl_path

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TEMPLATE = os.path.join(REPO, "etc", "postern.toml")


def mailctl(*args, input=None, env=None):
    full_env = dict(os.environ)
    full_env.pop("POSTERN_CONFIG", None)
    full_env.update(env or {})
    return subprocess.run([mailctl_path(), *args], input=input, capture_output=True, text=True,
                          timeout=60, env=full_env,
                          stdin=None if input is not None else subprocess.DEVNULL)


class CtlTestCase(unittest.TestCase):
    def assertFailsOneLine(self, proc, code=None, contains=None):
        """A refused command: non-zero exit (or exactly `code`), one line on stderr."""
        if code is None:
            self.assertNotEqual(proc.returncode, 0, "got exit 0, want failure; stdout %r" % proc.stdout)
        else:
            self.assertEqual(proc.returncode, code, "got exit %d, want %d; stderr %r" % (
                proc.returncode, code, proc.stderr))
        lines = proc.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, "got stderr %r, want one line" % proc.stderr)
        self.assertTrue(lines[0].startswith("mailctl: "), lines[0])
        if contains:
            self.assertIn(contains, lines[0])
        return lines[0]


class InitTest(CtlTestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="postern-init-")
        os.chmod(self.tmp, 0o755)  # run as root, the run user must reach the instance

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def init(self, *extra, dir_name="inst"):
        d = os.path.join(self.tmp, dir_name)
        return d, mailctl("init", d, *extra)

    def test_layout_cert_and_ports(self):
        d, p = self.init("--port-base", "30000", "--hostname", "mail.test", "--listen", "127.0.0.1")
        self.assertEqual(p.returncode, 0, p.stderr)
        for sub in ("data", "queue", "run", "log", "tls"):
            self.assertTrue(os.path.isdir(os.path.join(d, sub)), sub)
        cert, key = os.path.join(d, "tls", "cert.pem"), os.path.join(d, "tls", "key.pem")
        self.assertEqual(stat.S_IMODE(os.stat(key).st_mode), 0o600)

        # Python's ssl loads the pair and trusts the certificate as its own anchor.
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        client = ssl.create_default_context(cafile=cert)
        self.assertEqual(len(client.get_ca_certs()), 1)
        info = ssl._ssl._test_decode_cert(cert)
        self.assertEqual(info["subject"], ((("commonName", "mail.test"),),))
        # The host name, and the listen address (clients that connect to 127.0.0.1 check it).
        self.assertEqual(info["subjectAltName"],
                         (("DNS", "mail.test"), ("IP Address", "127.0.0.1")))
        years = (ssl.cert_time_to_seconds(info["notAfter"]) - time.time()) / (365.25 * 86400)
        self.assertTrue(9.9 < years < 10.1, "got validity %.2f years, want 10" % years)

        with open(os.path.join(d, "postern.toml"), "rb") as f:
            conf = tomllib.load(f)
        want = {"smtp": conf["smtpd"]["mx_port"], "submission": conf["smtpd"]["submission_port"],
                "smtps": conf["smtpd"]["smtps_port"], "pop3": conf["pop3d"]["port"],
                "pop3s": conf["pop3d"]["tls_port"], "imap": conf["imapd"]["port"],
                "imaps": conf["imapd"]["tls_port"]}
        for name, off in PORT_OFFSETS.items():
            self.assertEqual(want[name], 30000 + off, name)
        self.assertEqual(conf["server"]["hostname"], "mail.test")
        self.assertEqual(conf["server"]["listen"], ["127.0.0.1"])
        # Relative paths, so the instance can move.
        for k in ("data", "queue", "run", "log"):
            self.assertFalse(os.path.isabs(conf["paths"][k]), k)
        self.assertFalse(os.path.isabs(conf["tls"]["cert"]))

        c = mailctl("-c", os.path.join(d, "postern.toml"), "check")
        self.assertEqual(c.returncode, 0, c.stderr)
        self.assertEqual(c.stdout.strip(), "ok: " + os.path.join(d, "postern.toml"))

    def test_standard_ports_and_listen_default(self):
        d, p = self.init("--hostname", "mx.example.org")
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(d, "postern.toml"), "rb") as f:
            conf = tomllib.load(f)
        self.assertEqual((conf["smtpd"]["mx_port"], conf["smtpd"]["submission_port"],
                          conf["smtpd"]["smtps_port"]), (25, 587, 465))
        self.assertEqual((conf["pop3d"]["port"], conf["pop3d"]["tls_port"]), (110, 995))
        self.assertEqual((conf["imapd"]["port"], conf["imapd"]["tls_port"]), (143, 993))
        self.assertEqual(conf["server"]["listen"], ["0.0.0.0", "::"])

    def test_refuses_existing_config(self):
        d, p = self.init("--port-base", "30000")
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(d, "postern.toml")) as f:
            before = f.read()
        with open(os.path.join(d, "tls", "cert.pem")) as f:
            cert_before = f.read()
        _, p = self.init("--port-base", "31000")
        self.assertFailsOneLine(p, contains="already exists")
        with open(os.path.join(d, "postern.toml")) as f:
            self.assertEqual(f.read(), before)
        with open(os.path.join(d, "tls", "cert.pem")) as f:
            self.assertEqual(f.read(), cert_before)

    def test_bad_arguments_leave_nothing(self):
        cases = [
            ("bad hostname", ["--hostname", "bad_host!"]),
            ("bad listen", ["--listen", "127.0.0.1,not-an-ip"]),
            ("empty listen", ["--listen", ","]),
            ("port base too high", ["--port-base", "65000"]),
            ("port base not a number", ["--port-base", "x"]),
        ]
        for label, extra in cases:
            with self.subTest(label):
                d, p = self.init(*extra, dir_name="x")
                self.assertFailsOneLine(p, code=2)
                self.assertFalse(os.path.exists(d), "got %s created, want nothing" % d)

    def test_instance_can_move(self):
        d, p = self.init("--port-base", "30000", "--hostname", "mail.test")
        self.assertEqual(p.returncode, 0, p.stderr)
        moved = os.path.join(self.tmp, "moved")
        os.rename(d, moved)
        cfg = os.path.join(moved, "postern.toml")
        c = mailctl("-c", cfg, "check")
        self.assertEqual(c.returncode, 0, c.stderr)
        self.assertEqual(mailctl("-c", cfg, "domain", "add", "example.test").returncode, 0)
        self.assertTrue(os.path.isdir(os.path.join(moved, "data")))

    def test_template_is_what_init_writes(self):
        # etc/postern.toml is compiled into mailctl: the generated file carries every
        # comment and setting of the template, in order.
        d, p = self.init("--port-base", "30000", "--hostname", "mail.test")
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(TEMPLATE) as f:
            tmpl_lines = f.read().splitlines()
        with open(os.path.join(d, "postern.toml")) as f:
            gen_lines = f.read().splitlines()
        it = iter(gen_lines)
        for line in tmpl_lines:
            if line.startswith("#") or line.startswith("[") or not line.strip():
                self.assertIn(line, it, "template line %r missing (rebuild mailctl?)" % line)
        with open(TEMPLATE, "rb") as f:
            tmpl = tomllib.load(f)
        with open(os.path.join(d, "postern.toml"), "rb") as f:
            gen = tomllib.load(f)
        keys = lambda conf: {s: sorted(v) if isinstance(v, dict) else v for s, v in conf.items()}
        self.assertEqual(keys(tmpl), keys(gen))  # (top-level `format` is a value, not a table)

    def test_template_is_a_valid_config(self):
        # As installed (/etc/postern), the template parses; check only fails on the
        # missing system directories (exit 1), not on the config (exit 2).
        p = mailctl("-c", TEMPLATE, "check")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertNotIn("postern.toml:", p.stderr)


class AccountsTest(CtlTestCase):
    def setUp(self):
        self.inst = Instance().__enter__()

    def tearDown(self):
        self.inst.__exit__(None, None, None)

    def lines(self, *args):
        p = self.inst.ctl(*args)
        return p.stdout.split()

    def test_domains(self):
        self.inst.add_domain("Example.TEST")
        self.inst.add_domain("other.test")
        self.assertEqual(self.lines("domain", "list"), ["example.test", "other.test"])
        self.inst.ctl("domain", "del", "other.test")
        self.assertEqual(self.lines("domain", "list"), ["example.test"])

    def test_users_and_catch_all(self):
        self.inst.add_domain("example.test")
        self.inst.add_user("Alice@example.test", "pw-one")
        p = self.inst.add_user("nobody@example.test", "pw-two")
        self.assertIn("catch-all", p.stdout)
        self.assertEqual(self.lines("user", "list"), ["alice@example.test", "nobody@example.test"])
        self.assertEqual(self.lines("user", "list", "example.test"),
                         ["alice@example.test", "nobody@example.test"])
        md = self.inst.maildir("alice@example.test")
        for sub in ("cur", "new", "tmp"):
            self.assertTrue(os.path.isdir(os.path.join(md, sub)), sub)
        self.inst.set_password("alice@example.test", "pw-three")
        self.inst.ctl("user", "del", "nobody@example.test")
        self.assertEqual(self.lines("user", "list"), ["alice@example.test"])

    def test_aliases(self):
        self.inst.add_domain("example.test")
        self.inst.add_user("alice@example.test", "pw")
        self.inst.add_alias("postmaster@example.test", "alice@example.test", "ext@remote.example")
        p = self.inst.ctl("alias", "list")
        self.assertEqual(p.stdout.strip(),
                         "postmaster@example.test -> alice@example.test,ext@remote.example")
        self.inst.ctl("alias", "del", "postmaster@example.test")
        self.assertEqual(self.inst.ctl("alias", "list").stdout.strip(), "")

    def test_index_rebuild(self):
        self.inst.add_domain("example.test")
        self.inst.add_user("alice@example.test", "pw")
        p = self.inst.ctl("index", "rebuild", "alice@example.test")
        self.assertIn("rebuilt alice@example.test", p.stdout)
        self.assertFailsOneLine(self.inst.ctl("index", "rebuild", "bob@example.test", check=False))

    def test_queue_commands(self):
        p = self.inst.ctl("queue", "list")
        self.assertIn("queue is empty", p.stdout)
        self.assertEqual(self.inst.ctl("queue", "flush").returncode, 0)
        # A bad queue id is a failed lookup like an unknown one (exit 1, docs/queue.md).
        self.assertFailsOneLine(self.inst.ctl("queue", "delete", "../etc/passwd", check=False), code=1)

    def test_config_from_environment(self):
        self.inst.add_domain("example.test")
        p = mailctl("domain", "list", env={"POSTERN_CONFIG": self.inst.config_path})
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.split(), ["example.test"])

    def test_bad_input_is_refused_without_partial_state(self):
        inst = self.inst
        inst.add_domain("example.test")
        inst.add_user("alice@example.test", "pw")
        inst.add_alias("info@example.test", "alice@example.test")
        state = lambda: (self.lines("domain", "list"), self.lines("user", "list"),
                         inst.ctl("alias", "list").stdout)
        before = state()
        data_before = sorted(os.listdir(inst.data_dir))
        cases = [
            ("existing domain", ["domain", "add", "example.test"], None, 1),
            ("invalid domain", ["domain", "add", "-bad-.test"], None, 2),
            ("invalid domain dots", ["domain", "add", "a..test"], None, 2),
            ("delete unknown domain", ["domain", "del", "nope.test"], None, 1),
            ("non-empty domain", ["domain", "del", "example.test"], None, 1),
            ("existing user", ["user", "add", "alice@example.test", "--password-stdin"], "pw\n", 1),
            ("user named like an alias", ["user", "add", "info@example.test", "--password-stdin"],
             "pw\n", 1),
            ("user in unknown domain", ["user", "add", "bob@nope.test", "--password-stdin"], "pw\n", 1),
            ("address without @", ["user", "add", "bob", "--password-stdin"], "pw\n", 2),
            ("address with space", ["user", "add", "b b@example.test", "--password-stdin"], "pw\n", 2),
            ("address with slash", ["user", "add", "../x@example.test", "--password-stdin"], "pw\n", 2),
            ("no password, no tty", ["user", "add", "bob@example.test"], None, 2),
            ("empty password", ["user", "add", "bob@example.test", "--password-stdin"], "\n", 2),
            ("no password on stdin", ["user", "add", "bob@example.test", "--password-stdin"], "", 2),
            ("delete unknown user", ["user", "del", "bob@example.test"], None, 1),
            ("passwd unknown user", ["user", "passwd", "bob@example.test", "--password-stdin"], "x\n", 1),
            ("list unknown domain", ["user", "list", "nope.test"], None, 1),
            ("alias exists", ["alias", "add", "info@example.test", "x@example.test"], None, 1),
            ("alias on a user", ["alias", "add", "alice@example.test", "x@remote.test"], None, 1),
            ("alias unknown domain", ["alias", "add", "a@nope.test", "alice@example.test"], None, 1),
            ("alias bad target", ["alias", "add", "b@example.test", "alice@example.test,bad"], None, 2),
            ("alias no target", ["alias", "add", "b@example.test", ","], None, 2),
            ("delete unknown alias", ["alias", "del", "zz@example.test"], None, 1),
            ("unknown service", ["start", "mailmand"], None, 2),
            ("unknown service status", ["status", "smtpd", "bogus"], None, 2),
        ]
        for label, args, stdin, code in cases:
            with self.subTest(label):
                p = inst.ctl(*args, input=stdin, check=False)
                self.assertFailsOneLine(p, code=code)
                self.assertEqual(p.stdout, "", "got stdout %r, want none" % p.stdout)
                self.assertEqual(state(), before)
        self.assertEqual(sorted(os.listdir(inst.data_dir)), data_before)
        self.assertFalse(os.path.exists(os.path.join(inst.data_dir, "nope.test")))
        self.assertFalse(os.path.exists(inst.maildir("bob@example.test")))

    def test_usage_errors(self):
        for label, args in [("no command", []), ("unknown command", ["frobnicate"]),
                            ("domain without verb", ["domain"]),
                            ("user add without address", ["user", "add"]),
                            ("unknown option", ["status", "--bogus"])]:
            with self.subTest(label):
                p = self.inst.ctl(*args, check=False)
                self.assertFailsOneLine(p, code=2)

    def test_missing_instance(self):
        missing = os.path.join(self.inst.dir, "nowhere", "postern.toml")
        for args in (["domain", "list"], ["status"], ["start"], ["check"]):
            with self.subTest(args[0]):
                p = mailctl("-c", missing, *args)
                self.assertFailsOneLine(p, code=2, contains=missing)
        self.assertFalse(os.path.exists(os.path.dirname(missing)))


class ConfigErrorTest(CtlTestCase):
    """A broken config: every command fails with the file:line, exit 2, nothing started."""

    def break_config(self, inst, section, bad_line):
        """Replaces the setting in bad_line (or adds it) in [section]; returns its line."""
        with open(inst.config_path) as f:
            lines = f.read().splitlines()
        start = lines.index("[%s]" % section) + 1
        key = bad_line.split("=")[0].strip()
        at = start
        for i in range(start, len(lines)):
            if lines[i].startswith("["):
                break
            if lines[i].split("=")[0].strip() == key:
                at = i
                del lines[i]
                break
        lines.insert(at, bad_line)
        with open(inst.config_path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return at + 1  # 1-based line number of the bad line

    def test_every_command_refuses(self):
        for label, section, bad in [("unknown key", "smtpd", "bogus_setting = 1"),
                                    ("wrong type", "pop3d", "tls_port = \"x\""),
                                    ("out of range", "imapd", "max_connections = 0"),
                                    ("syntax", "server", "hostname = = 1"),
                                    ("bad hostname", "server", "hostname = \"no such host!\"")]:
            with self.subTest(label), Instance() as inst:
                line = self.break_config(inst, section, bad)
                for args in (["start"], ["status"], ["stop"], ["restart", "smtpd"], ["check"],
                             ["domain", "add", "example.test"], ["user", "list"], ["queue", "list"]):
                    p = inst.ctl(*args, check=False)
                    msg = self.assertFailsOneLine(p, code=2)
                    self.assertIn("postern.toml:%d:" % line, msg, args)
                self.assertEqual(os.listdir(inst.path("run")), [])
                self.assertEqual(os.listdir(inst.path("log")), [])
                made_by_init = ["accounts", "instance-secret"]
                self.assertEqual(sorted(os.listdir(inst.data_dir)), made_by_init)


if __name__ == "__main__":
    unittest.main()
