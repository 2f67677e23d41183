"""End-to-end tests of imapd's SEARCH with Python's imaplib against real daemons: messages
delivered by SMTP (an encoded-word subject, a base64 UTF-8 body, a quoted-printable Latin-1
part), flag keys after a STORE-free setup, SEARCH / UID SEARCH of headers and decoded
bodies, CHARSET UTF-8 with a literal, BADCHARSET, ESEARCH, RETURN (SAVE) with "$", SORT,
THREAD=ORDEREDSUBJECT / REFERENCES and the capabilities.
"""

import imaplib
import smtplib
import sys
import unittest

from postern_instance import Instance, daemon_exists, wait_for

ALICE = "alice@example.test"
PW = "correct horse"

MESSAGES = [
    ("From: Alice Example <alice@example.org>\r\nTo: %s\r\nSubject: Hello World\r\n"
     "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\nX-Tag: red\r\n\r\nThe quick brown fox\r\n"),
    ("From: =?iso-8859-1?q?J=F6rg?= <joerg@example.org>\r\nTo: %s\r\n"
     "Subject: =?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=\r\n"
     "Date: Thu, 15 Feb 2024 23:59:00 -0800\r\nMIME-Version: 1.0\r\n"
     "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
     "w4RyZ2VyIG1pdCBkZXIgU3RyYcOfZW5iYWhu\r\n"),
    ("From: shop@example.org\r\nTo: %s\r\nSubject: Your order\r\nMIME-Version: 1.0\r\n"
     "Content-Type: multipart/mixed; boundary=b1\r\n\r\n--b1\r\n"
     "Content-Type: text/plain; charset=iso-8859-1\r\n"
     "Content-Transfer-Encoding: quoted-printable\r\n\r\nUn caf=E9 cr=E8me\r\n--b1--\r\n"),
]


@unittest.skipUnless(all(daemon_exists(d) for d in ("imapd", "smtpd", "spoold", "mailctl")),
                     "imapd, smtpd or spoold not built")
class ImapSearchTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = Instance(services=["smtpd", "spoold", "imapd"]).__enter__()
        try:
            cls.inst.add_domain("example.test")
            cls.inst.add_user(ALICE, PW)
            for m in MESSAGES:
                before = len(cls.inst.messages(ALICE))
                with smtplib.SMTP("127.0.0.1", cls.inst.port("smtp"), timeout=10) as s:
                    s.ehlo("client.test")
                    s.sendmail("sender@example.org", [ALICE], (m % ALICE).encode())
                # One at a time, so the UIDs follow the list.
                if not wait_for(lambda: len(cls.inst.messages(ALICE)) > before, 20):
                    raise AssertionError("the SMTP delivery did not arrive")
        except BaseException:
            cls.inst.__exit__(*sys.exc_info())
            raise

    @classmethod
    def tearDownClass(cls):
        cls.inst.__exit__(None, None, None)

    def setUp(self):
        ctx = self.inst.client_tls_context(check_hostname=False)
        self.c = imaplib.IMAP4_SSL("127.0.0.1", self.inst.port("imaps"), ssl_context=ctx,
                                   timeout=10)
        self.c.login(ALICE, PW)
        typ, _ = self.c.select("INBOX")
        self.assertEqual(typ, "OK")

    def tearDown(self):
        self.c.logout()

    def search(self, *criteria, charset=None):
        typ, data = self.c.search(charset, *criteria)
        self.assertEqual(typ, "OK", data)
        return data[0].decode().split()

    def test_capabilities(self):
        typ, data = self.c.capability()  # imaplib keeps the greeting's list otherwise
        self.assertEqual(typ, "OK")
        caps = data[0].decode().split()
        for cap in ("ESEARCH", "SEARCHRES", "WITHIN", "SORT", "SORT=DISPLAY",
                    "THREAD=ORDEREDSUBJECT", "THREAD=REFERENCES"):
            self.assertIn(cap, caps)

    def test_keys(self):
        self.assertEqual(self.search("ALL"), ["1", "2", "3"])
        self.assertEqual(self.search("UNSEEN"), ["1", "2", "3"])
        self.assertEqual(self.search("SEEN"), [])
        self.assertEqual(self.search("FROM", "alice"), ["1"])
        self.assertEqual(self.search("HEADER", "X-Tag", "red"), ["1"])
        self.assertEqual(self.search("SUBJECT", "aus"), ["2"])
        self.assertEqual(self.search("BODY", "FOX"), ["1"])
        self.assertEqual(self.search("SENTON", "15-Feb-2024"), ["2"])
        self.assertEqual(self.search("SENTBEFORE", "1-Feb-2024"), ["1"])
        self.assertEqual(self.search("OR", "FROM", "shop", "TEXT", "red"), ["1", "3"])
        self.assertEqual(self.search("NOT", "(FROM alice)"), ["2", "3"])
        self.assertEqual(self.search("LARGER", "1", "SMALLER", "100000"), ["1", "2", "3"])
        self.assertEqual(self.search("YOUNGER", "3600"), ["1", "2", "3"])
        self.assertEqual(self.search("2:*"), ["2", "3"])

    def test_uid_search(self):
        typ, data = self.c.uid("SEARCH", "FROM", "shop")
        self.assertEqual(typ, "OK")
        typ, uids = self.c.uid("SEARCH", "ALL")
        self.assertEqual(data[0].split(), [uids[0].split()[-1]])

    def test_utf8_literal_and_badcharset(self):
        self.c.literal = "köln".encode()
        self.assertEqual(self.search("SUBJECT", charset="UTF-8"), ["2"])
        self.c.literal = "ÄRGER".encode()
        self.assertEqual(self.search("BODY", charset="UTF-8"), ["2"])
        self.c.literal = "café crème".encode()
        self.assertEqual(self.search("TEXT", charset="UTF-8"), ["3"])
        typ, data = self.c._simple_command("SEARCH", "CHARSET", "KOI8-R", "ALL")
        self.assertEqual(typ, "NO")
        self.assertIn(b"[BADCHARSET (UTF-8 US-ASCII)]", data[0])

    def test_esearch_and_saved_result(self):
        typ, _ = self.c._simple_command("SEARCH", "RETURN", "(MIN MAX COUNT)", "ALL")
        self.assertEqual(typ, "OK")
        _, data = self.c.response("ESEARCH")
        self.assertRegex(data[-1].decode(), r'\(TAG "\w+"\) MIN 1 MAX 3 COUNT 3')
        typ, _ = self.c._simple_command("UID", "SEARCH", "RETURN", "(SAVE)", "FROM", "shop")
        self.assertEqual(typ, "OK")
        self.assertEqual(self.search("$"), ["3"])
        self.assertEqual(self.search("NOT", "$"), ["1", "2"])

    def test_sort_and_thread(self):
        typ, data = self.c.sort("(REVERSE DATE)", "UTF-8", "ALL")
        self.assertEqual((typ, data[0].split()), ("OK", [b"3", b"2", b"1"]))
        # Base subjects: "grüße aus köln" < "hello world" < "your order".
        typ, data = self.c.sort("(SUBJECT)", "UTF-8", "ALL")
        self.assertEqual(data[0].split(), [b"2", b"1", b"3"])
        typ, data = self.c.uid("SORT", "(FROM)", "UTF-8", "NOT", "FROM", "shop")
        self.assertEqual(typ, "OK")
        self.assertEqual(len(data[0].split()), 2)
        typ, data = self.c.thread("ORDEREDSUBJECT", "UTF-8", "ALL")
        self.assertEqual((typ, data[0]), ("OK", b"(1)(2)(3)"))
        typ, data = self.c.thread("REFERENCES", "UTF-8", "ALL")
        self.assertEqual((typ, data[0]), ("OK", b"(1)(2)(3)"))


if __name__ == "__main__":
    unittest.main()
