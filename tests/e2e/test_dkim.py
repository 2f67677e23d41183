"""DKIM signing checked by another implementation: `mailctl dkim keygen` writes the keys and
prints the DNS records, spoold's keyring (through tests/spoold/dkim_sign_driver) signs
messages, and python3-dkim verifies them with a dnsfunc that answers the printed record.

Messages: folded headers, an 8-bit body, an empty body, trailing blank lines, white space
runs, a long body, with rsa-sha256 (2048 and 1024 bits) and ed25519-sha256 keys; a message
changed after signing must fail, and mail from a domain without a key is not signed.
"""

import os
import pwd
import re
import signal
import smtplib
import stat
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))

from postern_instance import Instance, bin_dir, _present, daemon_exists, wait_for  # noqa: E402

try:
    from fake_smtp_remote import FakeRemote  # noqa: E402
except ImportError:  # python3-aiosmtpd missing
    FakeRemote = None

try:
    import dkim  # python3-dkim
except ImportError:  # pragma: no cover
    dkim = None

DRIVER = os.path.join(bin_dir(), "dkim_sign_driver")

MESSAGES = {
    "folded": (b"From: Alice Example\r\n <alice@%(d)s>\r\n"
               b"To: bob@remote.example,\r\n\tcarol@remote.example\r\n"
               b"Subject: a subject that is\r\n  folded over\r\n\tthree lines\r\n"
               b"Date: Wed, 02 Dec 2026 01:00:00 +0000\r\n"
               b"Message-ID: <folded@%(d)s>\r\n"
               b"MIME-Version: 1.0\r\n"
               b"Content-Type: text/plain; charset=us-ascii\r\n"
               b"\r\n"
               b"Hello  Bob,\r\n\r\n  indented \t line \r\nbye\r\n"),
    "eight_bit": (b"From: =?utf-8?q?Ren=C3=A9?= <rene@%(d)s>\r\n"
                  b"To: bob@remote.example\r\n"
                  b"Subject: caf\xc3\xa9\r\n"
                  b"Content-Type: text/plain; charset=utf-8\r\n"
                  b"Content-Transfer-Encoding: 8bit\r\n"
                  b"\r\n"
                  b"Gr\xc3\xbc\xc3\x9fe, \xc3\xa7a va ?\r\n\xff\xfe raw octets\r\n"),
    "empty_body": (b"From: alice@%(d)s\r\nTo: bob@remote.example\r\nSubject: empty\r\n\r\n"),
    "trailing_blank_lines": (b"From: alice@%(d)s\r\nTo: bob@remote.example\r\n"
                             b"Subject: trailing\r\n\r\nbody\r\n\r\n\r\n  \r\n\t\r\n\r\n"),
    "long_body": (b"From: alice@%(d)s\r\nTo: bob@remote.example\r\nSubject: long\r\n\r\n" +
                  b"".join(b"line %d   with  runs \t\r\n" % i for i in range(20000))),
}


def txt_record(keygen_output):
    """The TXT text from mailctl's zone line: its quoted strings, joined."""
    line = next(l for l in keygen_output.splitlines() if " IN TXT " in l)
    name = line.split()[0]
    return name, "".join(re.findall(r'"([^"]*)"', line))


def run_driver(keydir, message, domain=None, check_rc=0):
    kwargs = {}
    if os.geteuid() == 0:
        # The keys belong to the run user (mailctl dropped to it); so does signing.
        kwargs["user"] = "postern"
    args = [DRIVER, keydir] + ([domain] if domain else [])
    proc = subprocess.run(args, input=message, capture_output=True, timeout=60, **kwargs)
    if check_rc is not None and proc.returncode != check_rc:
        raise AssertionError("driver rc %d: %s" % (proc.returncode, proc.stderr.decode()))
    return proc


@unittest.skipUnless(_present(dkim is not None, "python3-dkim"), "python3-dkim missing")
class DkimTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = Instance().__enter__()
        cls.records = {}
        cls.keygen = {}
        for domain, args in (("rsa.example", ["--selector", "r2048"]),
                             ("small.example", ["--selector", "r1024", "--bits", "1024"]),
                             ("ed.example", ["--selector", "ed1", "--type", "ed25519"])):
            out = cls.inst.ctl("dkim", "keygen", domain, *args).stdout
            cls.keygen[domain] = out
            name, text = txt_record(out)
            cls.records[name] = text
        cls.keydir = os.path.join(cls.inst.data_dir, "dkim")

    @classmethod
    def tearDownClass(cls):
        cls.inst.__exit__(None, None, None)

    def dnsfunc(self, name, timeout=5):
        want = name.decode() if isinstance(name, bytes) else name
        text = self.records.get(want)
        return text.encode() if text is not None else None

    def test_keygen_output_and_files(self):
        out = self.keygen["rsa.example"]
        self.assertIn('r2048._domainkey.rsa.example. IN TXT "v=DKIM1; k=rsa; p=MIIBIjAN', out)
        for line in out.splitlines():
            for s in re.findall(r'"([^"]*)"', line):
                self.assertLessEqual(len(s), 255)
        self.assertIn('ed1._domainkey.ed.example. IN TXT "v=DKIM1; k=ed25519; p=',
                      self.keygen["ed.example"])
        path = os.path.join(self.keydir, "rsa.example", "r2048.key")
        st = os.stat(path)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode), 0o700)
        if os.geteuid() == 0:
            self.assertEqual(st.st_uid, pwd.getpwnam("postern").pw_uid)
        else:
            self.assertEqual(st.st_uid, os.geteuid())
        with open(path) as f:
            self.assertTrue(f.read().startswith("-----BEGIN PRIVATE KEY-----"))

    def test_keygen_refuses_to_overwrite_and_bad_input(self):
        path = os.path.join(self.keydir, "rsa.example", "r2048.key")
        with open(path) as f:
            before = f.read()
        p = self.inst.ctl("dkim", "keygen", "rsa.example", "--selector", "r2048", check=False)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("exists (--force replaces it)", p.stderr)
        with open(path) as f:
            self.assertEqual(f.read(), before)
        for args in (["bad_domain!"], ["ok.example", "--bits", "512"],
                     ["ok.example", "--type", "dsa"], ["ok.example", "--selector", "../x"]):
            p = self.inst.ctl("dkim", "keygen", *args, check=False)
            self.assertEqual(p.returncode, 2, (args, p.stderr))
        self.assertFalse(os.path.exists(os.path.join(self.keydir, "ok.example")))

    def test_list_and_show(self):
        out = self.inst.ctl("dkim", "list").stdout
        self.assertIn("rsa.example r2048 rsa 2048 active", out)
        self.assertIn("small.example r1024 rsa 1024 active", out)
        self.assertIn("ed.example ed1 ed25519 256 active", out)
        show = self.inst.ctl("dkim", "show", "ed.example").stdout
        self.assertEqual(txt_record(show), txt_record(self.keygen["ed.example"]))
        p = self.inst.ctl("dkim", "show", "none.example", check=False)
        self.assertEqual(p.returncode, 1)

    def test_python_dkim_verifies_every_message_and_key(self):
        for domain in ("rsa.example", "small.example", "ed.example"):
            for label, template in MESSAGES.items():
                with self.subTest(domain=domain, message=label):
                    msg = template % {b"d": domain.encode()}
                    signed = run_driver(self.keydir, msg).stdout
                    self.assertTrue(signed.startswith(b"DKIM-Signature: v=1; a="))
                    self.assertTrue(signed.endswith(msg))
                    self.assertIn(b"c=relaxed/relaxed; d=" + domain.encode() + b";", signed)
                    ok = dkim.verify(signed, dnsfunc=self.dnsfunc, minkey=1024)
                    self.assertTrue(ok, "python3-dkim rejects:\n%r" % signed[:2000])
                    # A changed body or a second From: breaks the signature.
                    self.assertFalse(dkim.verify(signed + b"tampered\r\n",
                                                 dnsfunc=self.dnsfunc, minkey=1024))
                    extra = signed.replace(b"\r\n\r\n", b"\r\nFrom: evil@attacker.example"
                                           b"\r\n\r\n", 1) if b"\r\n\r\n" in signed else None
                    if extra is not None:
                        self.assertFalse(dkim.verify(extra, dnsfunc=self.dnsfunc, minkey=1024))

    def test_relaxed_survives_rewrapping_whitespace(self):
        msg = MESSAGES["folded"] % {b"d": b"ed.example"}
        signed = run_driver(self.keydir, msg).stdout
        # What relaxed canonicalization forgives on the way: header case, runs of white
        # space, trailing white space on body lines.
        changed = signed.replace(b"Subject: a subject", b"SUBJECT:   a  subject")
        changed = changed.replace(b"bye\r\n", b"bye   \r\n")
        self.assertTrue(dkim.verify(changed, dnsfunc=self.dnsfunc))

    def test_no_key_no_signature(self):
        msg = MESSAGES["folded"] % {b"d": b"nokey.example"}
        p = run_driver(self.keydir, msg, check_rc=3)
        self.assertEqual(p.stdout, b"")

    def test_rotation_keeps_the_old_key_until_activated(self):
        out = self.inst.ctl("dkim", "keygen", "ed.example", "--selector", "ed2", "--type",
                            "ed25519").stdout
        self.assertIn("ed1 still signs for ed.example", out)
        name, text = txt_record(out)
        self.records[name] = text
        msg = MESSAGES["empty_body"] % {b"d": b"ed.example"}
        self.assertIn(b"s=ed1;", run_driver(self.keydir, msg).stdout)
        self.inst.ctl("dkim", "activate", "ed.example", "ed2")
        signed = run_driver(self.keydir, msg).stdout
        self.assertIn(b"s=ed2;", signed)
        self.assertTrue(dkim.verify(signed, dnsfunc=self.dnsfunc))
        self.inst.ctl("dkim", "activate", "ed.example", "ed1")

    def test_a_key_others_can_read_is_refused(self):
        path = os.path.join(self.keydir, "small.example", "r1024.key")
        os.chmod(path, 0o640)
        try:
            p = run_driver(self.keydir, MESSAGES["empty_body"] % {b"d": b"small.example"},
                           check_rc=3)
            self.assertIn(b"mode 0640", p.stderr)
        finally:
            os.chmod(path, 0o600)


@unittest.skipUnless(_present(dkim is not None, "python3-dkim"), "python3-dkim missing")
class SpooldSignsTest(unittest.TestCase):
    """Mail submitted on 587 leaves through spoold's SMTP client signed for the From: domain
    (rsa-sha256 for one domain, ed25519-sha256 for another), and python3-dkim verifies what
    the remote received; mail from a domain without a key leaves unsigned."""

    def setUp(self):
        for d in ("smtpd", "spoold"):
            if not daemon_exists(d):
                self.skipTest(d + " is not built")
        if not _present(FakeRemote is not None, "python3-aiosmtpd"):
            self.skipTest("python3-aiosmtpd is not installed")
        self.remote = FakeRemote().start()
        self.addCleanup(self.remote.stop)
        inst = Instance()
        inst.__enter__()
        self.addCleanup(inst.__exit__, None, None, None)
        self.inst = inst
        self.records = {}
        for domain, user, args in (("example.test", "alice", []),
                                   ("example.org", "bob", ["--type", "ed25519"]),
                                   ("nokey.example", "carol", None)):
            inst.add_domain(domain)
            inst.add_user("%s@%s" % (user, domain), "pw-%s-123" % user)
            if args is not None:
                name, text = txt_record(inst.ctl("dkim", "keygen", domain, "--selector",
                                                 "k1", *args).stdout)
                self.records[name] = text
        with open(inst.config_path, "a") as f:
            f.write('\n[delivery.routes]\n"remote.test" = "127.0.0.1:%d"\n' % self.remote.port)
        inst.start("smtpd", "spoold")

    def dnsfunc(self, name, timeout=5):
        want = name.decode() if isinstance(name, bytes) else name
        text = self.records.get(want)
        return text.encode() if text is not None else None

    def submit(self, sender, password, marker):
        msg = ("From: Sender <%s>\r\nTo: someone@remote.test\r\nSubject: dkim %s\r\n"
               "Message-ID: <%s@x>\r\nMIME-Version: 1.0\r\n"
               "Content-Type: text/plain; charset=utf-8\r\n\r\n"
               "caf\u00e9  body of %s \r\n\r\n\r\n" % (sender, marker, marker, marker))
        with smtplib.SMTP("127.0.0.1", self.inst.port("submission"), timeout=15) as s:
            s.ehlo("client.test")
            s.starttls(context=self.inst.client_tls_context(check_hostname=False))
            s.ehlo("client.test")
            s.login(sender, password)
            self.assertEqual(s.sendmail(sender, ["someone@remote.test"], msg.encode()), {})

    def received(self, n):
        ok = self.remote.wait_accepted(n, 30)
        if not ok:
            self.inst.dump_logs()
        self.assertTrue(ok, self.remote.transactions)
        return self.remote.accepted[n - 1].content

    def test_signed_for_the_from_domain_and_verified(self):
        self.submit("alice@example.test", "pw-alice-123", "one")
        got = self.received(1)
        self.assertTrue(got.startswith(b"DKIM-Signature: v=1; a=rsa-sha256;"), got[:300])
        self.assertIn(b"d=example.test;", got)
        self.assertTrue(dkim.verify(got, dnsfunc=self.dnsfunc), got[:1500])

        self.submit("bob@example.org", "pw-bob-123", "two")
        got = self.received(2)
        self.assertTrue(got.startswith(b"DKIM-Signature: v=1; a=ed25519-sha256;"), got[:300])
        self.assertIn(b"d=example.org;", got)
        self.assertTrue(dkim.verify(got, dnsfunc=self.dnsfunc), got[:1500])

        self.submit("carol@nokey.example", "pw-carol-123", "three")
        got = self.received(3)
        self.assertNotIn(b"DKIM-Signature:", got)

        # A key made while spoold runs signs after a SIGHUP.
        name, text = txt_record(self.inst.ctl("dkim", "keygen", "nokey.example", "--selector",
                                              "k1", "--type", "ed25519").stdout)
        self.records[name] = text
        os.kill(self.inst.pid("spoold"), signal.SIGHUP)
        self.assertTrue(wait_for(lambda: "signing mail from 3 domain(s)" in
                                 self.inst.log("spoold"), 10), self.inst.log("spoold"))
        self.submit("carol@nokey.example", "pw-carol-123", "four")
        got = self.received(4)
        self.assertIn(b"d=nokey.example;", got)
        self.assertTrue(dkim.verify(got, dnsfunc=self.dnsfunc), got[:1500])


if __name__ == "__main__":
    unittest.main(verbosity=2)
