"""Issue 7 (hardening), store and accounts, through the real mailctl and daemons:

- a deleted user's mail never reaches the next account of that name (unique retired names,
  loud failures, add refuses a left-over directory);
- a truncated, empty or missing accounts database is one line of error, never SIGBUS and
  never silently a new empty database; `mailctl check` reads every database;
- IP literals, single labels and localhost are not mail domains; alias loops are refused.
"""

import os
import poplib
import shutil
import smtplib
import subprocess
import unittest

from postern_instance import Instance, daemon_exists

DOMAIN = "example.test"
ALICE = "alice@" + DOMAIN
PW = "correct horse"


class HardeningCase(unittest.TestCase):
    def setUp(self):
        self.inst = Instance().__enter__()
        self.inst.add_domain(DOMAIN)

    def tearDown(self):
        self.inst.__exit__(None, None, None)

    def assertOneLineFailure(self, proc, code=1, contains=None):
        """Exit `code` (never a signal: a SIGBUS would be -7), one line on stderr."""
        self.assertEqual(proc.returncode, code, "got exit %d, want %d; stderr %r" % (
            proc.returncode, code, proc.stderr))
        lines = proc.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, "got stderr %r, want one line" % proc.stderr)
        self.assertTrue(lines[0].startswith("mailctl: "), lines[0])
        if contains:
            self.assertIn(contains, lines[0])
        return lines[0]

    def users(self):
        return self.inst.ctl("user", "list").stdout.split()

    def user_dir(self, addr):
        local, domain = addr.split("@")
        return os.path.join(self.inst.data_dir, domain, local)

    def plant(self, addr, name):
        with open(os.path.join(self.inst.maildir(addr), "new", name), "w") as f:
            f.write("Subject: private\r\n\r\nfor %s only\r\n" % name)

    def retired(self):
        d = os.path.join(self.inst.data_dir, DOMAIN)
        return sorted(n for n in os.listdir(d) if n.startswith(".deleted-"))

    def accounts_file(self):
        return os.path.join(self.inst.data_dir, "accounts", "data.mdb")


class RetiredMaildirTest(HardeningCase):
    def test_double_delete_then_add_gets_an_empty_maildir(self):
        # The old name had the second in it: a second delete within that second left the
        # maildir in place, and the next add handed it over.
        for mail in ("first-owner", "second-owner"):
            self.inst.add_user(ALICE, PW)
            self.plant(ALICE, mail)
            p = self.inst.ctl("user", "del", ALICE)
            self.assertIn("mail kept in", p.stdout)
        self.assertFalse(os.path.exists(self.user_dir(ALICE)))
        kept = self.retired()
        self.assertEqual(len(kept), 2, kept)
        found = sorted(os.listdir(os.path.join(self.inst.data_dir, DOMAIN, k, "Maildir", "new"))
                       for k in kept)
        self.assertEqual(found, [["first-owner"], ["second-owner"]])

        self.inst.add_user(ALICE, PW)
        self.assertEqual(self.inst.messages(ALICE), [], "the new owner got old mail")

    def run_as_data_owner(self, *args):
        """mailctl as the owner of data/ (root ignores directory modes)."""
        st = os.stat(self.inst.data_dir)
        kw = {}
        if os.geteuid() == 0:
            kw = {"user": st.st_uid, "group": st.st_gid, "extra_groups": []}
        return subprocess.run([self.inst.mailctl, "-c", self.inst.config_path, *args],
                              capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL, **kw)

    def test_a_failed_move_fails_loudly_and_keeps_the_user(self):
        self.inst.add_user(ALICE, PW)
        self.inst.add_user("bob@" + DOMAIN, PW)
        self.plant(ALICE, "keep-me")
        domain_dir = os.path.join(self.inst.data_dir, DOMAIN)
        os.chmod(domain_dir, 0o555)
        try:
            p = self.run_as_data_owner("user", "del", ALICE)
            d = self.run_as_data_owner("domain", "del", DOMAIN, "--force")
        finally:
            os.chmod(domain_dir, 0o750)
        line = self.assertOneLineFailure(p, contains="not deleted")
        self.assertIn(self.user_dir(ALICE), line)
        self.assertEqual(p.stdout, "")
        self.assertOneLineFailure(d, contains="not deleted")
        self.assertEqual(self.users(), [ALICE, "bob@" + DOMAIN])
        self.assertEqual(self.inst.ctl("domain", "list").stdout.split(), [DOMAIN])
        self.assertEqual([os.path.basename(m) for m in self.inst.messages(ALICE)], ["keep-me"])
        self.assertEqual(self.retired(), [])

    def test_add_refuses_a_left_over_directory(self):
        os.makedirs(os.path.join(self.user_dir(ALICE), "Maildir", "new"))
        with open(os.path.join(self.user_dir(ALICE), "Maildir", "new", "old"), "w") as f:
            f.write("old mail\r\n")
        p = self.inst.ctl("user", "add", ALICE, "--password-stdin", input=PW + "\n", check=False)
        line = self.assertOneLineFailure(p, contains=self.user_dir(ALICE))
        self.assertIn("move it away", line)
        self.assertEqual(self.users(), [])

    def test_domain_del_force_retires_each_user(self):
        self.inst.add_user(ALICE, PW)
        self.inst.add_user("bob@" + DOMAIN, PW)
        self.plant(ALICE, "a-mail")
        p = self.inst.ctl("domain", "del", DOMAIN, "--force")
        self.assertEqual(p.stdout.count("mail of "), 2, p.stdout)
        self.assertEqual(len(self.retired()), 2)
        self.inst.add_domain(DOMAIN)
        self.inst.add_user(ALICE, PW)
        self.assertEqual(self.inst.messages(ALICE), [])


class TruncatedDatabaseTest(HardeningCase):
    def setUp(self):
        super().setUp()
        for u in ("alice", "bob", "carol"):
            self.inst.add_user("%s@%s" % (u, DOMAIN), PW)
        self.good = self.accounts_file() + ".good"
        shutil.copyfile(self.accounts_file(), self.good)

    def restore(self):
        shutil.copyfile(self.good, self.accounts_file())  # same inode, same owner

    def truncate(self, size):
        os.truncate(self.accounts_file(), size)

    def test_truncated_or_empty_is_one_line_everywhere(self):
        full = os.path.getsize(self.accounts_file())
        self.assertEqual(full % 4096, 0)
        for label, size in (("half", full // 2), ("half, whole pages", full // 2 // 4096 * 4096),
                            ("meta pages only", 8192), ("zero", 0)):
            with self.subTest(label):
                self.restore()
                self.truncate(size)
                want = "empty" if size == 0 else "truncated"
                for args in (["user", "list"], ["domain", "list"], ["alias", "list"],
                             ["domain", "add", "other.test"]):
                    p = self.inst.ctl(*args, check=False)
                    line = self.assertOneLineFailure(p)
                    self.assertIn("data.mdb: " + want, line)
                p = self.inst.ctl("user", "add", "dave@" + DOMAIN, "--password-stdin",
                                  input=PW + "\n", check=False)
                self.assertOneLineFailure(p)
                # Nothing was "repaired" into a new, empty database.
                self.assertEqual(os.path.getsize(self.accounts_file()), size)
                c = self.inst.ctl("check", check=False)
                self.assertEqual(c.returncode, 1, c.stderr)
                self.assertIn("data.mdb: " + want, c.stderr)
                self.assertNotIn("ok:", c.stdout)
        self.restore()
        self.assertEqual(self.users(), ["alice@" + DOMAIN, "bob@" + DOMAIN, "carol@" + DOMAIN])
        self.assertEqual(self.inst.ctl("check").stdout.strip(), "ok: " + self.inst.config_path)

    def test_missing_database_is_not_made_anew(self):
        os.unlink(self.accounts_file())
        for args in (["user", "list"], ["domain", "add", "other.test"]):
            self.assertOneLineFailure(self.inst.ctl(*args, check=False), contains="missing")
        shutil.rmtree(os.path.join(self.inst.data_dir, "accounts"))
        # The domain directories show this instance had accounts: they are lost, not new.
        p = self.inst.ctl("domain", "add", "other.test", check=False)
        self.assertOneLineFailure(p, contains="restore it from a backup")
        self.assertFalse(os.path.exists(os.path.join(self.inst.data_dir, "accounts")))
        self.assertOneLineFailure(self.inst.ctl("check", check=False), contains="accounts")

    @unittest.skipUnless(daemon_exists("pop3d"), "pop3d not built")
    def test_daemon_refuses_to_start_on_a_truncated_database(self):
        self.truncate(os.path.getsize(self.accounts_file()) // 2)
        p = self.inst.ctl("start", "pop3d", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("accounts", p.stderr)
        self.assertIn("truncated", self.inst.log("pop3d"))
        self.assertNotIn("SIGBUS", p.stderr)

    @unittest.skipUnless(daemon_exists("pop3d") and daemon_exists("smtpd"), "daemons not built")
    def test_running_daemons_survive_truncation(self):
        self.inst.start("pop3d", "smtpd")
        pids = {s: self.inst.pid(s) for s in ("pop3d", "smtpd")}
        self.truncate(8192)  # the meta pages only
        # pop3d: the login fails, the daemon lives on.
        with self.assertRaises(poplib.error_proto):
            pop = poplib.POP3_SSL("127.0.0.1", self.inst.port("pop3s"), timeout=10,
                                  context=self.inst.client_tls_context(check_hostname=False))
            try:
                pop.user(ALICE)
                pop.pass_(PW)
            finally:
                pop.close()
        # smtpd: a temporary failure for a local recipient, not a dropped connection.
        with smtplib.SMTP("127.0.0.1", self.inst.port("smtp"), timeout=10) as s:
            s.ehlo("client.example")
            s.mail("sender@remote.example")
            code, _ = s.rcpt(ALICE)
            self.assertEqual(code // 100, 4, code)
        self.assertEqual(self.inst.status("pop3d", "smtpd").returncode, 0)
        self.assertEqual({s: self.inst.pid(s) for s in pids}, pids)
        self.assertIn("changed while open", self.inst.log("pop3d") + self.inst.log("smtpd"))

    def test_truncated_index_is_reported_and_rebuilt(self):
        self.inst.ctl("index", "rebuild", ALICE)  # makes the index
        index = os.path.join(self.user_dir(ALICE), "index", "data.mdb")
        self.assertGreater(os.path.getsize(index), 8192)
        os.truncate(index, 8192)
        c = self.inst.ctl("check", check=False)
        self.assertEqual(c.returncode, 1)
        self.assertIn(index + ": truncated", c.stderr)
        self.assertIn("mailctl index rebuild " + ALICE, c.stderr)
        p = self.inst.ctl("index", "rebuild", ALICE)
        self.assertIn("rebuilt " + ALICE, p.stdout)
        self.assertEqual(self.inst.ctl("check").returncode, 0)


class NamesTest(HardeningCase):
    def test_ip_literals_single_labels_and_localhost_are_not_mail_domains(self):
        for d in ("1.2.3.4", "10.0.0.1", "localhost", "mail", "a.localhost",
                  "localhost.localdomain"):
            with self.subTest(d):
                p = self.inst.ctl("domain", "add", d, check=False)
                self.assertOneLineFailure(p, code=2, contains="refusing domain " + d)
        for d in ("localhost.", "[1.2.3.4]"):
            with self.subTest(d):
                self.assertOneLineFailure(self.inst.ctl("domain", "add", d, check=False), code=2)
        p = self.inst.ctl("domain", "add", "bücher.example", check=False)
        self.assertOneLineFailure(p, code=2, contains="xn--")
        self.inst.add_domain("xn--bcher-kva.example")
        self.assertEqual(self.inst.ctl("domain", "list").stdout.split(),
                         [DOMAIN, "xn--bcher-kva.example"])

    def test_alias_loops_are_refused_naming_the_loop(self):
        self.inst.add_user(ALICE, PW)
        self.inst.add_alias("a@" + DOMAIN, "b@" + DOMAIN)
        p = self.inst.ctl("alias", "add", "b@" + DOMAIN, ALICE + ",a@" + DOMAIN, check=False)
        self.assertOneLineFailure(p, contains="b@%s -> a@%s -> b@%s" % (DOMAIN, DOMAIN, DOMAIN))
        p = self.inst.ctl("alias", "add", "self@" + DOMAIN, "self@" + DOMAIN, check=False)
        self.assertOneLineFailure(p, contains="loop")
        self.assertEqual(self.inst.ctl("alias", "list").stdout.strip(),
                         "a@%s -> b@%s" % (DOMAIN, DOMAIN))


if __name__ == "__main__":
    unittest.main()
