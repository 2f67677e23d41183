"""The per-instance secret (issue 8, item 5): `mailctl init` writes DATA/instance-secret and
every daemon derives unknown users' fake SCRAM salts from it. Before, smtpd and pop3d each
invented a random secret per process, so asking both daemons (or one daemon twice, across a
restart) for an unknown user's salt told a prober that the user does not exist."""

import base64
import os
import poplib
import pwd
import smtplib
import stat
import unittest

from postern_instance import Instance
from scram_client import ScramClient

DOMAIN = "example.test"
UNKNOWN = "nobody-here@" + DOMAIN
KNOWN = "alice@" + DOMAIN
PASSWORD = "pw-secret-1"


def server_first_attrs(challenge_b64):
    text = base64.b64decode(challenge_b64).decode()
    return dict(kv.split("=", 1) for kv in text.split(","))


class InstanceSecretTest(unittest.TestCase):
    def smtp_salt(self, inst, user):
        with smtplib.SMTP("127.0.0.1", inst.port("submission"), timeout=20) as s:
            s.starttls(context=inst.client_tls_context(check_hostname=False))
            s.ehlo("client.test")
            code, challenge = s.docmd("AUTH", "SCRAM-SHA-256 " + ScramClient(user, "x").first())
            self.assertEqual(code, 334, challenge)
            s.docmd("*")  # cancel
        a = server_first_attrs(challenge)
        return a["s"], a["i"]

    def pop3_salt(self, inst, user):
        p = poplib.POP3("127.0.0.1", inst.port("pop3"), timeout=20)
        p.stls(inst.client_tls_context(check_hostname=False))
        resp = p._shortcmd("AUTH SCRAM-SHA-256 " + ScramClient(user, "x").first())
        self.assertTrue(resp.startswith(b"+ "), resp)
        try:
            p._shortcmd("*")
        except poplib.error_proto:
            pass  # the cancel is answered with -ERR
        p.close()
        a = server_first_attrs(resp[2:].decode())
        return a["s"], a["i"]

    def test_unknown_users_look_the_same_to_every_daemon_and_after_restart(self):
        with Instance() as inst:
            inst.add_domain(DOMAIN)
            inst.add_user(KNOWN, PASSWORD)
            secret = os.path.join(inst.data_dir, "instance-secret")
            st = os.stat(secret)
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
            self.assertEqual(st.st_uid, os.stat(inst.data_dir).st_uid)  # the run user's
            with open(secret) as f:
                self.assertRegex(f.read(), r"^[0-9a-f]{64}\n$")

            inst.start("smtpd", "pop3d")
            smtp = self.smtp_salt(inst, UNKNOWN)
            pop3 = self.pop3_salt(inst, UNKNOWN)
            self.assertEqual(smtp, pop3, "smtpd and pop3d disagree on an unknown user's salt")
            self.assertEqual(self.smtp_salt(inst, UNKNOWN), smtp)  # stable within a process
            # A real user's salt is the stored one, the same from both daemons too.
            self.assertEqual(self.smtp_salt(inst, KNOWN), self.pop3_salt(inst, KNOWN))
            self.assertNotEqual(self.smtp_salt(inst, KNOWN), smtp)

            inst.restart("smtpd", "pop3d")
            self.assertEqual(self.smtp_salt(inst, UNKNOWN), smtp, "salt changed across restart")
            self.assertEqual(self.pop3_salt(inst, UNKNOWN), smtp)

    def test_a_daemon_without_the_secret_refuses_to_start(self):
        with Instance() as inst:
            os.unlink(os.path.join(inst.data_dir, "instance-secret"))
            r = inst.ctl("start", "smtpd", check=False)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("instance-secret", r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()
