"""SIGHUP swaps every daemon's TLS context while sessions are open; a session accepted
before the reload must still be able to STARTTLS afterwards (issue 7, finding 1: imapd kept
the freed context and crashed). The ASan build turns a use-after-free into a failure here.
"""

import os
import signal
import socket
import ssl
import time
import unittest

from postern_instance import Instance, LOOPBACK, wait_for


def read_line(f):
    line = f.readline()
    if not line:
        raise EOFError("connection closed")
    return line.decode(errors="replace").rstrip("\r\n")


class Plain:
    """A plaintext session on a port, read line by line."""

    def __init__(self, port):
        self.sock = socket.create_connection((LOOPBACK, port), timeout=10)
        self.f = self.sock.makefile("rb")

    def line(self):
        return read_line(self.f)

    def send(self, text):
        self.sock.sendall(text.encode() + b"\r\n")

    def upgrade(self, ctx, hostname):
        self.f.close()
        tls = ctx.wrap_socket(self.sock, server_hostname=hostname)
        self.sock = tls
        self.f = tls.makefile("rb")
        return tls


class ReloadTlsTest(unittest.TestCase):
    def test_starttls_after_sighup_on_every_daemon(self):
        with Instance(services=["smtpd", "pop3d", "imapd"]) as inst:
            smtp = Plain(inst.port("submission"))
            self.assertTrue(smtp.line().startswith("220 "))
            pop = Plain(inst.port("pop3"))
            self.assertTrue(pop.line().startswith("+OK"))
            imap = Plain(inst.port("imap"))
            self.assertTrue(imap.line().startswith("* OK"))

            for svc in ("smtpd", "pop3d", "imapd"):
                before = inst.log(svc).count("] info: reloaded /")
                # Twice: the context the sessions saw at accept time is long gone.
                for _ in range(2):
                    os.kill(inst.pid(svc), signal.SIGHUP)
                    before += 1
                    self.assertTrue(wait_for(lambda: inst.log(svc).count("] info: reloaded /") >= before, 10),
                                    svc + " did not log the reload")

            ctx = inst.client_tls_context()
            smtp.send("EHLO client.test")
            while True:
                l = smtp.line()
                if l.startswith("250 "):
                    break
            smtp.send("STARTTLS")
            self.assertTrue(smtp.line().startswith("220 "))
            tls = smtp.upgrade(ctx, inst.hostname)
            self.assertIn(tls.version(), ("TLSv1.2", "TLSv1.3"))
            smtp.send("EHLO client.test")
            self.assertTrue(smtp.line().startswith("250"))

            pop.send("STLS")
            self.assertTrue(pop.line().startswith("+OK"))
            pop.upgrade(ctx, inst.hostname)
            pop.send("CAPA")
            self.assertTrue(pop.line().startswith("+OK"))

            imap.send("a1 STARTTLS")
            self.assertTrue(imap.line().startswith("a1 OK"))
            imap.upgrade(ctx, inst.hostname)
            imap.send("a2 CAPABILITY")
            self.assertTrue(imap.line().startswith("* CAPABILITY"))
            self.assertTrue(imap.line().startswith("a2 OK"))

            # New sessions after the reload work too, and every daemon is still up.
            with inst.tls_connect("imaps") as s:
                self.assertTrue(s.recv(100).startswith(b"* OK"))
            st = inst.status("smtpd", "pop3d", "imapd")
            self.assertEqual(st.returncode, 0, st.stdout)


if __name__ == "__main__":
    unittest.main()
