"""Slow clients against the real smtpd (issue 7, finding 5): bytes that never finish a
line do not keep a session, a TLS handshake has a deadline, and a message must arrive at
smtpd.min_data_rate. The engine-level cases are in tests/proto/net_limits_test.cc and
smtp_session_test.cc; this proves the daemon is wired to them."""

import socket
import time
import unittest

from postern_instance import Instance, LOOPBACK

DOMAIN = "example.test"
ALICE = "alice@" + DOMAIN


def trickle(sock, data, gap, limit):
    """Sends data one byte every `gap` seconds; returns (seconds the peer took to close,
    what it sent). Stops after `limit` seconds."""
    start = time.monotonic()
    got = b""
    sock.settimeout(gap)
    for i in range(10**6):
        if time.monotonic() - start > limit:
            break
        try:
            sock.send(data[i % len(data):i % len(data) + 1])
        except OSError:
            break
        try:
            chunk = sock.recv(4096)
            if not chunk:
                break
            got += chunk
        except socket.timeout:
            pass
        except OSError:
            break
    return time.monotonic() - start, got


class SlowClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = Instance()
        cls.inst.__enter__()
        cls.inst.set_option("smtpd", "timeout_seconds", "2")
        cls.inst.set_option("smtpd", "min_data_rate", "1000")
        cls.inst.add_domain(DOMAIN)
        cls.inst.add_user(ALICE, "pw-alice-1")
        cls.inst.start("smtpd")

    @classmethod
    def tearDownClass(cls):
        cls.inst.__exit__(None, None, None)

    def connect(self, name="smtp"):
        s = socket.create_connection((LOOPBACK, self.inst.port(name)), timeout=10)
        self.addCleanup(s.close)
        return s

    def test_command_line_trickled_byte_by_byte(self):
        s = self.connect()
        self.assertTrue(s.recv(1000).startswith(b"220 "))
        lived, got = trickle(s, b"NOOPNOOPNOOP", 0.25, 12)
        # Before: each byte restarted the 2 s timer and the session lived the whole 12 s.
        self.assertLess(lived, 5, got)
        self.assertIn(b"421 4.4.2", got)

    def test_tls_handshake_trickled(self):
        s = self.connect("smtps")
        s.send(b"\x16\x03\x01\x40\x00")  # a handshake record header announcing 16 KiB
        lived, _ = trickle(s, b"x", 0.25, 12)
        self.assertLess(lived, 5)

    def test_message_below_the_minimum_rate(self):
        s = self.connect()
        s.sendall(b"HELO slow.test\r\nMAIL FROM:<x@remote.test>\r\nRCPT TO:<%s>\r\nDATA\r\n"
                  % ALICE.encode())
        got = b""
        while got.count(b"\r\n") < 5:  # greeting, HELO, MAIL, RCPT, 354
            chunk = s.recv(4096)
            self.assertTrue(chunk, got)
            got += chunk
        self.assertIn(b"354 ", got)
        # One short line a second: never idle for 2 s, but far below 1000 bytes/s.
        start = time.monotonic()
        reply = b""
        s.settimeout(1.0)
        while time.monotonic() - start < 15 and b"\r\n" not in reply:
            try:
                s.sendall(b"line\r\n")
            except OSError:
                break
            try:
                chunk = s.recv(4096)
                if not chunk:
                    break
                reply += chunk
            except socket.timeout:
                pass
        self.assertTrue(reply.startswith(b"421 4.4.2"), reply)
        self.assertLess(time.monotonic() - start, 8)

if __name__ == "__main__":
    unittest.main()
