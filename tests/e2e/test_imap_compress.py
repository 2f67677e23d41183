"""IMAP COMPRESS=DEFLATE (RFC 4978) against the real imapd, over implicit TLS (993) and
STARTTLS (143). Python's imaplib has no COMPRESS, so a small client here speaks IMAP through
zlib's raw deflate (wbits -15) after the tagged OK: LOGIN, COMPRESS DEFLATE, SELECT, FETCH
of a message delivered by SMTP (the bytes on the wire are compressed: far fewer than the
message), APPEND of a literal, IDLE woken by new mail, a second COMPRESS refused with
[COMPRESSIONACTIVE], LOGOUT; garbage in the compressed stream closes that connection and
imapd goes on serving others."""

import re
import smtplib
import socket
import ssl
import time
import unittest
import zlib

from postern_instance import LOOPBACK, InstanceTestCase

ALICE = "alice@example.test"
PW = "alice-pw-compress"
TIMEOUT = 20


class DeflateImap:
    """One IMAP connection; deflate on both directions after start_compression()."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.comp = self.decomp = None
        self.raw_in = 0  # bytes read off the wire since compression started
        self.n = 0

    def start_compression(self):
        assert self.buf == b"", "bytes after the COMPRESS OK: %r" % self.buf
        self.comp = zlib.compressobj(6, zlib.DEFLATED, -15)
        self.decomp = zlib.decompressobj(-15)

    def send(self, data):
        if self.comp:
            data = self.comp.compress(data) + self.comp.flush(zlib.Z_SYNC_FLUSH)
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("server closed the connection")
        if self.decomp:
            self.raw_in += len(chunk)
            chunk = self.decomp.decompress(chunk)
        self.buf += chunk

    def line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def exact(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def response_line(self):
        """A line with its literals inlined (as bytes)."""
        line = self.line()
        while True:
            m = re.search(rb"\{(\d+)\}$", line)
            if not m:
                return line
            line += b"\r\n" + self.exact(int(m.group(1))) + self.line()

    def command(self, text, literal=None):
        """(tagged line, [untagged lines]); a literal goes after the '+' continuation."""
        self.n += 1
        tag = b"c%d" % self.n
        if literal is None:
            self.send(tag + b" " + text + b"\r\n")
        else:
            self.send(tag + b" " + text + b" {%d}\r\n" % len(literal))
            cont = self.line()
            assert cont.startswith(b"+"), cont
            self.send(literal + b"\r\n")
        untagged = []
        while True:
            line = self.response_line()
            if line.startswith(tag + b" "):
                return line[len(tag) + 1:], untagged
            untagged.append(line)


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class ImapCompressTest(InstanceTestCase):
    SERVICES = ("smtpd", "spoold", "imapd")
    USERS = ((ALICE, PW),)

    def deliver(self, subject, body):
        msg = "From: s@example.org\r\nTo: %s\r\nSubject: %s\r\n\r\n%s" % (ALICE, subject, body)
        with smtplib.SMTP(LOOPBACK, self.inst.port("smtp"), timeout=TIMEOUT) as s:
            self.assertEqual(s.sendmail("s@example.org", [ALICE], msg.encode()), {})

    def connect_imaps(self):
        sock = socket.create_connection((LOOPBACK, self.inst.port("imaps")), timeout=TIMEOUT)
        c = DeflateImap(tls_context().wrap_socket(sock))
        self.addCleanup(c.sock.close)
        self.assertTrue(c.line().startswith(b"* OK"))
        return c

    def connect_starttls(self):
        sock = socket.create_connection((LOOPBACK, self.inst.port("imap")), timeout=TIMEOUT)
        c = DeflateImap(sock)
        self.assertTrue(c.line().startswith(b"* OK"))
        tagged, _ = c.command(b"STARTTLS")
        self.assertTrue(tagged.startswith(b"OK"), tagged)
        c.sock = tls_context().wrap_socket(sock)
        self.addCleanup(c.sock.close)
        return c

    def login_and_compress(self, c):
        tagged, _ = c.command(b'LOGIN "%s" "%s"' % (ALICE.encode(), PW.encode()))
        self.assertTrue(tagged.startswith(b"OK"), tagged)
        tagged, untagged = c.command(b"CAPABILITY")
        self.assertIn(b"COMPRESS=DEFLATE", b" ".join(untagged))
        tagged, _ = c.command(b"COMPRESS DEFLATE")
        self.assertTrue(tagged.startswith(b"OK"), tagged)
        c.start_compression()

    def test_compressed_session_over_imaps(self):
        body = "".join("line %05d of a rather repetitive body\r\n" % i for i in range(2000))
        self.deliver("compress me", body)
        c = self.connect_imaps()
        tagged, _ = c.command(b"COMPRESS DEFLATE")  # not before authentication
        self.assertTrue(tagged.startswith(b"BAD"), tagged)
        self.login_and_compress(c)
        # The session goes on through deflate both ways.
        for _ in range(50):
            tagged, untagged = c.command(b"SELECT INBOX")
            if any(re.match(rb"\* [1-9]\d* EXISTS", u) for u in untagged):
                break
            time.sleep(0.2)
        self.assertTrue(tagged.startswith(b"OK"), tagged)
        before = c.raw_in
        tagged, untagged = c.command(b"UID FETCH 1:* (BODY.PEEK[])")
        self.assertTrue(tagged.startswith(b"OK"), tagged)
        fetched = b"\r\n".join(untagged)
        self.assertIn(b"Subject: compress me", fetched)
        self.assertIn(body.encode(), fetched)
        wire = c.raw_in - before
        self.assertLess(wire, len(body) // 4, "%d bytes on the wire for %d" % (wire, len(body)))
        # APPEND with a literal, through the compressed stream.
        msg = b"From: a@example.org\r\nSubject: appended\r\n\r\nhello compressed\r\n"
        tagged, _ = c.command(b"APPEND INBOX (\\Seen)", literal=msg)
        self.assertTrue(tagged.startswith(b"OK [APPENDUID"), tagged)
        tagged, untagged = c.command(b"UID SEARCH SUBJECT appended")
        self.assertTrue(tagged.startswith(b"OK"), tagged)
        self.assertRegex(b" ".join(untagged), rb"\* SEARCH \d+")
        tagged, _ = c.command(b"COMPRESS DEFLATE")
        self.assertTrue(tagged.startswith(b"NO [COMPRESSIONACTIVE]"), tagged)
        tagged, untagged = c.command(b"LOGOUT")
        self.assertTrue(tagged.startswith(b"OK"), tagged)
        self.assertTrue(untagged and untagged[0].startswith(b"* BYE"), untagged)

    def test_idle_over_starttls_is_woken_by_new_mail(self):
        c = self.connect_starttls()
        self.login_and_compress(c)
        tagged, untagged = c.command(b"SELECT INBOX")
        self.assertTrue(tagged.startswith(b"OK"), tagged)
        exists = [int(u.split()[1]) for u in untagged if u.endswith(b" EXISTS")][0]
        c.send(b"i1 IDLE\r\n")
        self.assertTrue(c.line().startswith(b"+"))
        self.deliver("wake up", "new mail while idling\r\n")
        line = c.line()  # within TIMEOUT: the socket's timeout fails the test otherwise
        self.assertEqual(line, b"* %d EXISTS" % (exists + 1))
        c.send(b"DONE\r\n")
        while True:
            line = c.line()
            if line.startswith(b"i1 "):
                break
        self.assertTrue(line.startswith(b"i1 OK"), line)

    def test_garbage_in_the_compressed_stream_closes_only_that_connection(self):
        c = self.connect_imaps()
        self.login_and_compress(c)
        c.sock.sendall(b"\xff" * 64 + b"not deflate at all\r\n")
        with self.assertRaises((EOFError, ConnectionResetError, ssl.SSLError)):
            for _ in range(100):
                c.line()
        other = self.connect_imaps()  # imapd is still there
        self.login_and_compress(other)
        tagged, _ = other.command(b"NOOP")
        self.assertTrue(tagged.startswith(b"OK"), tagged)


if __name__ == "__main__":
    unittest.main()
