"""End-to-end UTF8=ACCEPT (RFC 6855) against the real imapd with Python's imaplib: one
connection enables it and creates, lists and selects folders with UTF-8 names; a second one
that did not enable it sees (and uses) the same folders in modified UTF-7; invalid UTF-8 in
a name is BAD; SEARCH CHARSET after ENABLE is BAD; APPEND with the UTF8 (~{n}) data item.
"""

import unittest

from postern_instance import InstanceTestCase, daemon_exists

ALICE = "alice@example.test"
PW = "correct horse"
ENTWURFE = "Entw\u00fcrfe"
NIHONGO = "\u65e5\u672c\u8a9e"


@unittest.skipUnless(all(daemon_exists(d) for d in ("imapd", "mailctl")), "imapd not built")
class ImapUtf8Test(InstanceTestCase):
    SERVICES = ("imapd",)
    USERS = ((ALICE, PW),)

    @staticmethod
    def raw(c, tag, data):
        """Sends bytes as they are; returns the tagged reply line."""
        c.send(data)
        while True:
            line = c.readline()
            if not line:
                raise AssertionError("connection closed")
            if line.startswith(tag + b" "):
                return line

    def test_names_both_ways(self):
        u = self.imaps()
        m = self.imaps()
        try:
            typ, data = u.capability()
            self.assertIn("UTF8=ACCEPT", data[0].decode().split())
            typ, data = u.enable("UTF8=ACCEPT")
            self.assertEqual(typ, "OK")
            self.assertTrue(u.utf8_enabled)
            typ, data = u.response("ENABLED")
            self.assertEqual(data, [b"UTF8=ACCEPT"])
            # Names with 8-bit go quoted (atoms stay 7-bit, RFC 6855 3).
            self.assertEqual(u.create('"%s"' % ENTWURFE)[0], "OK")
            typ, data = u.list()
            self.assertEqual(typ, "OK")
            lines = [x.decode("utf-8") for x in data]
            self.assertTrue(any(x.endswith('"%s"' % ENTWURFE) for x in lines), lines)
            typ, data = u.select('"%s"' % ENTWURFE)
            self.assertEqual(typ, "OK")

            # The other connection: modified UTF-7 out, and in.
            typ, data = m.list()
            self.assertEqual(typ, "OK")
            self.assertIn(b'"Entw&APw-rfe"', b"\n".join(data))
            self.assertNotIn(ENTWURFE.encode(), b"\n".join(data))
            self.assertEqual(m.select('"Entw&APw-rfe"')[0], "OK")
            self.assertEqual(m.create('"&ZeVnLIqe-"')[0], "OK")
            typ, data = u.list()
            self.assertTrue(any(x.decode("utf-8").endswith('"%s"' % NIHONGO) for x in data), data)
            typ, data = u.status('"%s"' % NIHONGO, "(MESSAGES)")
            self.assertEqual(typ, "OK")
            self.assertIn(NIHONGO.encode(), data[0])

            # Invalid UTF-8 (Latin-1) in a name: BAD.
            line = self.raw(u, b"B2", b'B2 CREATE "Entw\xfcrfe"\r\n')
            self.assertTrue(line.startswith(b"B2 BAD"), line)

            # SEARCH CHARSET after ENABLE UTF8=ACCEPT.
            line = self.raw(u, b"S1", b"S1 SEARCH CHARSET UTF-8 ALL\r\n")
            self.assertTrue(line.startswith(b"S1 BAD"), line)

            # APPEND with the UTF8 data item (imaplib's own append does not send literal8).
            msg = "Subject: Gr\u00fc\u00dfe\r\n\r\nhallo\r\n".encode()
            line = self.raw(u, b"A1", b'A1 APPEND "' + NIHONGO.encode() + b'" UTF8 (~{'
                            + str(len(msg)).encode() + b"+}\r\n" + msg + b")\r\n")
            self.assertTrue(line.startswith(b"A1 OK [APPENDUID "), line)
            typ, data = m.status('"&ZeVnLIqe-"', "(MESSAGES)")
            self.assertIn(b"(MESSAGES 1)", data[0])
            self.assertEqual(m.select('"&ZeVnLIqe-"')[0], "OK")
            typ, data = m.fetch("1", "(BODY.PEEK[])")
            self.assertEqual(data[0][1], msg)
        finally:
            for c in (u, m):
                try:
                    c.logout()
                except Exception:
                    pass


if __name__ == "__main__":
    unittest.main()
