"""End-to-end FETCH with Python's imaplib against the real daemons and a real Maildir: mail
delivered by SMTP, then ENVELOPE, BODYSTRUCTURE, BODY[section] of a nested multipart,
HEADER.FIELDS, BINARY of a base64 part, the \\Seen side effect (and none under EXAMINE),
UID FETCH of sizes, and a 5 MB message fetched whole and in partials, each compared with
the bytes of the stored message file."""

import base64
import imaplib
import os
import smtplib
import sys
import time
import unittest

from postern_instance import Instance, daemon_exists, wait_for

ALICE = "fetch@example.test"
PW = "fetch pw 1"

NESTED = (
    "From: Alice <alice@example.com>\r\n"
    "To: Bob <bob@example.org>\r\n"
    "Subject: Fwd: inner\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=b1\r\n"
    "\r\n"
    "--b1\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "See attached.\r\n"
    "--b1\r\n"
    "Content-Type: message/rfc822\r\n"
    "\r\n"
    "From: Carol <carol@example.net>\r\n"
    "Subject: inner\r\n"
    "Content-Type: multipart/alternative; boundary=\"b2\"\r\n"
    "\r\n"
    "--b2\r\n"
    "Content-Type: text/plain; charset=us-ascii\r\n"
    "\r\n"
    "inner text\r\n"
    "--b2\r\n"
    "Content-Type: text/enriched\r\n"
    "\r\n"
    "<bold>inner</bold>\r\n"
    "--b2--\r\n"
    "\r\n"
    "--b1--\r\n").encode()

ATTACHMENT = bytes(range(256)) * 40
ENCODED = ((
    "From: x@example.org\r\nTo: %s\r\nSubject: binary part\r\nMIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=zz\r\n\r\n"
    "--zz\r\nContent-Type: text/plain\r\n\r\nsee the attachment\r\n"
    "--zz\r\nContent-Type: application/octet-stream\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\n" % ALICE) +
    "\r\n".join(base64.encodebytes(ATTACHMENT).decode().split("\n")).rstrip("\r\n") +
    "\r\n--zz--\r\n").encode()


def big_message():
    line = b"0123456789abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ\r\n"
    head = ("From: big@example.org\r\nTo: %s\r\nSubject: five megabytes\r\n\r\n" %
            ALICE).encode()
    body = bytearray()
    n = 0
    while len(body) < 5 * 1024 * 1024:
        body += b"%08d " % n + line
        n += 1
    return head + bytes(body)


@unittest.skipUnless(all(daemon_exists(d) for d in ("imapd", "smtpd", "spoold", "mailctl")),
                     "imapd, smtpd or spoold not built")
class ImapFetchTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = Instance(services=["smtpd", "spoold", "imapd"]).__enter__()
        try:
            cls.inst.add_domain("example.test")
            cls.inst.add_user(ALICE, PW)
            cls.big = big_message()
            # One at a time, so sequence numbers follow this order.
            for msg in (NESTED, ENCODED, cls.big):
                before = len(cls.inst.messages(ALICE))
                with smtplib.SMTP("127.0.0.1", cls.inst.port("smtp"), timeout=30) as s:
                    s.ehlo("client.test")
                    s.sendmail("sender@example.org", [ALICE], msg)
                assert wait_for(lambda: len(cls.inst.messages(ALICE)) > before, 30), \
                    "the SMTP delivery did not arrive"
        except BaseException:
            cls.inst.__exit__(*sys.exc_info())
            raise

    @classmethod
    def tearDownClass(cls):
        cls.inst.__exit__(None, None, None)

    def imaps(self, folder="INBOX", readonly=False):
        c = imaplib.IMAP4_SSL("127.0.0.1", self.inst.port("imaps"),
                              ssl_context=self.inst.client_tls_context(check_hostname=False),
                              timeout=30)
        c.login(ALICE, PW)
        typ, _ = c.select(folder, readonly=readonly)
        self.assertEqual(typ, "OK")
        return c

    def stored(self, marker):
        """The bytes of the one stored message file that contains `marker`."""
        found = []
        for path in self.inst.messages(ALICE):
            with open(path, "rb") as f:
                data = f.read()
            if marker in data:
                found.append(data)
        self.assertEqual(len(found), 1, "want one stored message with %r" % marker)
        return found[0]

    def fetch_one(self, c, seq, item):
        """The literal (or the atom) of a one-item FETCH."""
        typ, data = c.fetch(str(seq), "(%s)" % item)
        self.assertEqual(typ, "OK", data)
        first = data[0]
        if isinstance(first, tuple):
            return first[1]
        return first

    def test_envelope_and_bodystructure(self):
        c = self.imaps()
        typ, data = c.fetch("1", "(ENVELOPE BODYSTRUCTURE)")
        self.assertEqual(typ, "OK")
        line = data[0]
        self.assertIn(b'"Fwd: inner" (("Alice" NIL "alice" "example.com"))', line)
        self.assertIn(b'(("Bob" NIL "bob" "example.org"))', line)
        self.assertIn(b'("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 13 0 NIL NIL NIL '
                      b'NIL)("message" "rfc822" NIL NIL NIL "7bit" ', line)
        self.assertIn(b'(NIL "inner" (("Carol" NIL "carol" "example.net"))', line)
        self.assertIn(b'"alternative" ("boundary" "b2") NIL NIL NIL)', line)
        self.assertIn(b'"mixed" ("boundary" "b1") NIL NIL NIL))', line)
        c.logout()

    def test_body_sections_match_the_stored_bytes(self):
        raw = self.stored(b"Subject: Fwd: inner")
        c = self.imaps(readonly=True)
        self.assertEqual(self.fetch_one(c, 1, "BODY.PEEK[]"), raw)
        header_end = raw.index(b"\r\n\r\n") + 4
        self.assertEqual(self.fetch_one(c, 1, "BODY.PEEK[HEADER]"), raw[:header_end])
        self.assertEqual(self.fetch_one(c, 1, "BODY.PEEK[TEXT]"), raw[header_end:])
        self.assertEqual(self.fetch_one(c, 1, "BODY.PEEK[1]"), b"See attached.")
        inner = NESTED[NESTED.index(b"From: Carol"):NESTED.index(b"\r\n--b1--")]
        self.assertEqual(self.fetch_one(c, 1, "BODY.PEEK[2]"), inner)
        self.assertEqual(self.fetch_one(c, 1, "BODY.PEEK[2.MIME]"),
                         b"Content-Type: message/rfc822\r\n\r\n")
        self.assertEqual(self.fetch_one(c, 1, "BODY.PEEK[2.HEADER]"),
                         inner[:inner.index(b"\r\n\r\n") + 4])
        self.assertEqual(self.fetch_one(c, 1, "BODY.PEEK[2.1]"), b"inner text")
        self.assertEqual(self.fetch_one(c, 1, "BODY.PEEK[2.2]"), b"<bold>inner</bold>")
        self.assertEqual(self.fetch_one(c, 1, "BODY.PEEK[HEADER.FIELDS (SUBJECT TO)]"),
                         b"To: Bob <bob@example.org>\r\nSubject: Fwd: inner\r\n\r\n")
        self.assertEqual(self.fetch_one(c, 1, "BODY.PEEK[1]<4.8>"), b"attached")
        c.logout()

    def test_binary_decodes_base64(self):
        c = self.imaps(readonly=True)
        self.assertEqual(self.fetch_one(c, 2, "BINARY.PEEK[1]"), b"see the attachment")
        typ, data = c.fetch("2", "(BINARY.SIZE[2])")
        self.assertEqual(typ, "OK")
        self.assertIn(b"BINARY.SIZE[2] %d" % len(ATTACHMENT), data[0])
        # The attachment holds NUL bytes: the server answers with literal8, which imaplib
        # does not parse; read the raw response instead.
        tag = c._new_tag()
        c.send(tag + b" FETCH 2 (BINARY.PEEK[2]<1.300>)\r\n")
        got = b""
        while not got.endswith(tag + b" OK FETCH completed\r\n"):
            chunk = c.sock.recv(65536)
            self.assertTrue(chunk)
            got += chunk
        self.assertIn(b"BINARY[2]<1> ~{300}\r\n" + ATTACHMENT[1:301] + b")\r\n", got)
        c.logout()

    def test_seen_set_by_body_not_in_examine(self):
        c = self.imaps(readonly=True)
        self.fetch_one(c, 1, "BODY[TEXT]")
        typ, data = c.fetch("1", "(FLAGS)")
        self.assertNotIn(b"\\Seen", data[0])
        c.logout()
        c = self.imaps()
        typ, data = c.fetch("1", "(BODY[1])")
        self.assertEqual(typ, "OK")
        # The FLAGS the implicit \Seen changed come in the same FETCH response.
        self.assertIn(b"FLAGS (\\Seen)", data[1])
        c.logout()
        c = self.imaps(readonly=True)
        typ, data = c.fetch("1", "(FLAGS)")
        self.assertIn(b"\\Seen", data[0])
        c.logout()

    def rss_kb(self):
        with open("/proc/%d/status" % self.inst.pid("imapd")) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        self.fail("no VmRSS")

    def test_slow_reader_is_not_buffered_for(self):
        """A client that does not read a 30 MB FETCH response: imapd stops producing at
        its output mark instead of holding the response in memory."""
        raw = self.stored(b"Subject: five megabytes")
        s = self.inst.tls_connect("imaps", timeout=30)
        got = bytearray()

        def read_until(marker):
            """Until `marker` is in what came and that ends with a line end."""
            while marker not in got or not got.endswith(b"\r\n"):
                chunk = s.recv(1 << 20)
                self.assertTrue(chunk, "connection closed")
                got.extend(chunk)

        read_until(b"\r\n")
        s.sendall(b'l LOGIN "%s" "%s"\r\n' % (ALICE.encode(), PW.encode()))
        read_until(b"l OK")
        s.sendall(b"e EXAMINE INBOX\r\n")
        read_until(b"e OK [READ-ONLY] EXAMINE completed\r\n")
        got.clear()
        before = self.rss_kb()
        copies = 6
        s.sendall(b"f FETCH 3 (" + b" ".join([b"BODY.PEEK[]"] * copies) + b")\r\n")
        time.sleep(2)
        during = self.rss_kb()
        read_until(b"f OK FETCH completed\r\n")
        s.close()
        self.assertEqual(bytes(got).count(raw), copies)
        self.assertGreater(len(got), copies * len(raw))
        self.assertLess(during - before, 8 * 1024,
                        "imapd grew by %d KB while the client did not read" % (during - before))

    def test_uid_fetch_sizes(self):
        c = self.imaps(readonly=True)
        typ, data = c.uid("FETCH", "1:*", "(RFC822.SIZE)")
        self.assertEqual(typ, "OK")
        sizes = sorted(int(d.split(b"RFC822.SIZE ")[1].rstrip(b")")) for d in data)
        on_disk = sorted(os.path.getsize(p) for p in self.inst.messages(ALICE))
        self.assertEqual(sizes, on_disk)
        c.logout()

    def test_five_megabytes_whole_and_in_partials(self):
        raw = self.stored(b"Subject: five megabytes")
        self.assertGreater(len(raw), 5 * 1024 * 1024)
        c = self.imaps(readonly=True)
        self.assertEqual(self.fetch_one(c, 3, "BODY.PEEK[]"), raw)
        self.assertEqual(self.fetch_one(c, 3, "BINARY.PEEK[]"), raw)
        # Partials of 1 MB put back together give the message; one beyond the end is empty.
        step = 1 << 20
        parts = []
        for start in range(0, len(raw), step):
            parts.append(self.fetch_one(c, 3, "BODY.PEEK[]<%d.%d>" % (start, step)))
        self.assertTrue(all(len(p) == step for p in parts[:-1]))
        self.assertEqual(b"".join(parts), raw)
        typ, data = c.fetch("3", "(BODY.PEEK[]<%d.10>)" % (len(raw) + 5))
        self.assertEqual(typ, "OK")
        self.assertIn(b"BODY[]<%d> {0}" % (len(raw) + 5), data[0][0])
        text = self.fetch_one(c, 3, "BODY.PEEK[TEXT]<100.50>")
        self.assertEqual(text, raw[raw.index(b"\r\n\r\n") + 4 + 100:][:50])
        c.logout()


if __name__ == "__main__":
    unittest.main()
