"""tests/support/fake_smtp_remote.py checked with smtplib, so the remote-delivery tests can
trust what it records: every mode, STARTTLS with its self-signed certificate, AUTH only after
TLS, and the program form with its port and record files."""

import json
import os
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))

from postern_instance import _present, wait_for  # noqa: E402

try:
    import fake_smtp_remote  # noqa: E402
    from fake_smtp_remote import FakeRemote  # noqa: E402
except ImportError:  # python3-aiosmtpd missing
    fake_smtp_remote = None

MSG = b"From: a@example.test\r\nTo: b@remote.test\r\nSubject: t\r\n\r\nbody\r\n"


def send(port, rcpts, tls_ctx=None, login=None, msg=MSG, timeout=10):
    """Sends one message; returns smtplib's refused-recipients dict, raises on failure."""
    with smtplib.SMTP("127.0.0.1", port, timeout=timeout) as s:
        s.ehlo("client.test")
        if tls_ctx is not None:
            s.starttls(context=tls_ctx)
            s.ehlo("client.test")
        if login:
            s.login(*login)
        return s.sendmail("a@example.test", rcpts, msg)


class FakeRemoteTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not _present(fake_smtp_remote is not None, "python3-aiosmtpd"):
            raise unittest.SkipTest("python3-aiosmtpd is not installed")

    def remote(self, **kw):
        r = FakeRemote(**kw).start()
        self.addCleanup(r.stop)
        return r

    def test_accept_records_the_transaction(self):
        r = self.remote()
        self.assertEqual(send(r.port, ["b@remote.test", "c@remote.test"]), {})
        self.assertTrue(r.wait_accepted(1, 5))
        m = r.accepted[0]
        self.assertEqual(m.mail_from, "a@example.test")
        self.assertEqual(m.rcpt_tos, ["b@remote.test", "c@remote.test"])
        self.assertEqual(m.content, MSG)
        self.assertFalse(m.tls)
        self.assertEqual(r.connections, 1)

    def test_tempfail_once_then_accept(self):
        r = self.remote(mode="tempfail_once")
        with self.assertRaises(smtplib.SMTPDataError) as e:
            send(r.port, ["b@remote.test"])
        self.assertEqual(e.exception.smtp_code, 451)
        self.assertEqual(len(r.accepted), 0)
        self.assertEqual(send(r.port, ["b@remote.test"]), {})
        self.assertEqual(len(r.accepted), 1)
        self.assertEqual(len(r.transactions), 2)

    def test_reject_every_rcpt(self):
        r = self.remote(mode="reject")
        with self.assertRaises(smtplib.SMTPRecipientsRefused) as e:
            send(r.port, ["b@remote.test"])
        self.assertEqual(e.exception.recipients["b@remote.test"][0], 550)
        self.assertEqual(r.accepted, [])

    def test_defer_one_of_two_recipients_once(self):
        r = self.remote(mode="defer_one_rcpt")
        refused = send(r.port, ["b@remote.test", "c@remote.test"])
        self.assertEqual(list(refused), ["c@remote.test"])
        self.assertEqual(refused["c@remote.test"][0], 450)
        self.assertEqual(send(r.port, ["c@remote.test"]), {})
        self.assertEqual(r.accepted_recipients(), ["b@remote.test", "c@remote.test"])

    def test_defer_a_named_recipient(self):
        r = self.remote(mode="defer_one_rcpt", defer_rcpt="B@remote.test")
        refused = send(r.port, ["b@remote.test", "c@remote.test"])
        self.assertEqual(list(refused), ["b@remote.test"])

    def test_hang_withholds_the_greeting_once(self):
        r = self.remote(mode="hang")
        with socket.create_connection(("127.0.0.1", r.port), timeout=5) as s:
            s.settimeout(1.0)
            with self.assertRaises(socket.timeout):
                s.recv(100)
        self.assertEqual(send(r.port, ["b@remote.test"]), {})
        self.assertEqual(r.connections, 2)

    def test_hang_data_never_answers_the_first_data(self):
        r = self.remote(mode="hang_data")
        with self.assertRaises((socket.timeout, smtplib.SMTPServerDisconnected)):
            send(r.port, ["b@remote.test"], timeout=2)
        self.assertEqual(len(r.transactions), 1)
        self.assertEqual(r.accepted, [])
        self.assertEqual(send(r.port, ["b@remote.test"]), {})
        self.assertEqual(len(r.accepted), 1)

    def test_starttls_and_auth_after_tls(self):
        if not _present(bool(__import__("shutil").which("openssl")), "openssl"):
            self.skipTest("openssl is missing")
        r = self.remote(starttls=True, auth={"relayuser": "s3cret"}, auth_required=True,
                        hostname="smarthost.test")
        # Before TLS: no AUTH offered, MAIL refused.
        with smtplib.SMTP("127.0.0.1", r.port, timeout=10) as s:
            s.ehlo("client.test")
            self.assertTrue(s.has_extn("starttls"))
            self.assertFalse(s.has_extn("auth"))
            code, _ = s.mail("a@example.test")
            self.assertEqual(code, 530)
        ctx = ssl.create_default_context(cafile=r.cert_path)
        ctx.check_hostname = False  # connected by IP; the name is checked below
        with self.assertRaises(smtplib.SMTPAuthenticationError):
            send(r.port, ["b@remote.test"], tls_ctx=ctx, login=("relayuser", "wrong"))
        self.assertEqual(send(r.port, ["b@remote.test"], tls_ctx=ctx,
                              login=("relayuser", "s3cret")), {})
        m = r.accepted[0]
        self.assertTrue(m.tls)
        self.assertEqual(m.auth_user, "relayuser")
        oks = [x["ok"] for x in r.auth_logins]  # smtplib tries PLAIN, then LOGIN
        self.assertEqual((oks[0], oks[-1], oks.count(True)), (False, True, 1))
        # The certificate names the remote's host name: a verifying client accepts it.
        strict = ssl.create_default_context(cafile=r.cert_path)
        with socket.create_connection(("127.0.0.1", r.port), timeout=10) as raw:
            f = raw.makefile("rb")
            f.readline()
            raw.sendall(b"EHLO client.test\r\n")
            while not f.readline().startswith(b"250 "):
                pass
            raw.sendall(b"STARTTLS\r\n")
            self.assertTrue(f.readline().startswith(b"220"))
            with strict.wrap_socket(raw, server_hostname="smarthost.test") as tls:
                self.assertEqual(tls.getpeercert()["subject"][0][0][1], "smarthost.test")

    def test_program_form_writes_port_and_record(self):
        with tempfile.TemporaryDirectory() as d:
            port_file, record = os.path.join(d, "port"), os.path.join(d, "record.json")
            proc = subprocess.Popen([sys.executable, fake_smtp_remote.__file__, "--mode",
                                     "accept", "--port-file", port_file, "--record-file",
                                     record])
            try:
                self.assertTrue(wait_for(lambda: os.path.exists(port_file), 15))
                with open(port_file) as f:
                    port = int(f.read())
                self.assertEqual(send(port, ["b@remote.test"]), {})
                def accepted():
                    with open(record) as f:
                        return json.load(f)["accepted"]
                self.assertTrue(wait_for(lambda: len(accepted()) == 1, 5))
                self.assertEqual(accepted()[0]["rcpt_tos"], ["b@remote.test"])
            finally:
                proc.terminate()
                proc.wait(timeout=10)


if __name__ == "__main__":
    unittest.main()
