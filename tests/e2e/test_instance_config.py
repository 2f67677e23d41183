"""One validation for mailctl check and the daemons: an invalid smtpd.relay_networks entry is
refused by check (FILE:LINE) as smtpd would refuse it, an open relay is a warning in check and
in the daemon's log, and an empty or truncated postern.toml is refused by every command."""

import os
import subprocess
import unittest

from postern_instance import Instance, bin_dir, daemon_exists


def line_of(path, prefix):
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if line.startswith(prefix):
                return n
    raise AssertionError("no line starting with %r in %s" % (prefix, path))


class RelayNetworksTest(unittest.TestCase):
    def setUp(self):
        if not daemon_exists("smtpd"):
            self.skipTest("smtpd is not built")

    def test_invalid_entry_refused_by_check_start_and_smtpd_alike(self):
        with Instance() as inst:
            inst.set_option("smtpd", "relay_networks", '["127.0.0.0/8", "10.0.0.0/33"]')
            want = '%s:%d: smtpd.relay_networks: relay network "10.0.0.0/33": bad prefix length' % (
                inst.config_path, line_of(inst.config_path, "relay_networks"))
            for args in (["check"], ["start", "smtpd"]):
                with self.subTest(args[0]):
                    p = inst.ctl(*args, check=False)
                    self.assertEqual((p.returncode, p.stderr), (2, "mailctl: %s\n" % want))
            d = subprocess.run([os.path.join(bin_dir(), "smtpd"), "-c", inst.config_path],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual((d.returncode, d.stderr), (2, want + "\n"))
            self.assertEqual(os.listdir(inst.path("run")), [], "nothing started")

    def test_open_relay_is_a_warning_in_check_and_the_log(self):
        with Instance() as inst:
            inst.set_option("smtpd", "relay_networks", '["127.0.0.1", "0.0.0.0/0", "::/0"]')
            n = line_of(inst.config_path, "relay_networks")
            warn = ('%s:%d: smtpd.relay_networks "%%s" is wider than any private network: clients '
                    'anywhere in it may relay mail (open relay)' % (inst.config_path, n))
            p = inst.ctl("check", check=False)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(p.stdout, "ok: %s\n" % inst.config_path)
            self.assertEqual(p.stderr.splitlines(), ["mailctl: warning: " + warn % "0.0.0.0/0",
                                                     "mailctl: warning: " + warn % "::/0"])
            inst.start("smtpd")
            log = inst.log("smtpd")
            self.assertIn("warning: " + warn % "0.0.0.0/0", log)
            self.assertIn("warning: " + warn % "::/0", log)

    def test_private_networks_are_quiet(self):
        with Instance() as inst:
            inst.set_option("smtpd", "relay_networks", '["127.0.0.0/8", "::1/128", "10.0.0.0/8"]')
            p = inst.ctl("check", check=False)
            self.assertEqual((p.returncode, p.stderr), (0, ""))


class IncompleteConfigTest(unittest.TestCase):
    def test_empty_and_truncated_configs_are_refused_everywhere(self):
        with Instance() as inst:
            with open(inst.config_path) as f:
                full = f.read()
            cut = full[: full.index("\n[tls]")] + "\n"  # everything up to the [tls] section
            for label, text, want in (
                    ("empty", "", ":1: format = 1 is missing"),
                    ("truncated", cut, ":%d: [tls] is missing (truncated file?)" % cut.count("\n")),
            ):
                with self.subTest(label):
                    with open(inst.config_path, "w") as f:
                        f.write(text)
                    for args in (["check"], ["start"], ["domain", "add", "example.test"],
                                 ["user", "list"], ["queue", "list"]):
                        p = inst.ctl(*args, check=False)
                        self.assertEqual(p.returncode, 2, args)
                        self.assertTrue(p.stderr.startswith("mailctl: " + inst.config_path + want),
                                        "%s: got %r" % (args, p.stderr))
                        self.assertEqual(p.stderr.count("\n"), 1)
                    self.assertEqual(os.listdir(inst.path("run")), [])
            with open(inst.config_path, "w") as f:
                f.write(full)
            self.assertEqual(inst.ctl("check").returncode, 0)


if __name__ == "__main__":
    unittest.main()
