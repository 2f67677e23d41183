"""End-to-end IMAP extensions against the real imapd with Python's imaplib: QUOTA (RFC 9208:
GETQUOTAROOT / GETQUOTA of a user without a quota, SETQUOTA refused, STATUS SIZE and
DELETED), QRESYNC (ENABLE, SELECT (QRESYNC ...) after another session's expunge and flag
change: VANISHED (EARLIER) and the FETCH of the change) and the capabilities.
"""

import unittest

from postern_instance import InstanceTestCase, daemon_exists

ALICE = "alice@example.test"
PW = "correct horse"
MSG = b"From: a@example.org\r\nSubject: hi\r\n\r\nhello\r\n"


@unittest.skipUnless(all(daemon_exists(d) for d in ("imapd", "mailctl")), "imapd not built")
class ImapExtTest(InstanceTestCase):
    SERVICES = ("imapd",)
    USERS = ((ALICE, PW),)

    def test_quota(self):
        c = self.imaps()
        try:
            typ, data = c.capability()
            caps = data[0].decode().split()
            self.assertIn("QUOTA", caps)
            self.assertIn("QUOTA=RES-STORAGE", caps)
            self.assertIn("STATUS=SIZE", caps)
            # mailctl sets no quota (none by default): no quota root.
            typ, data = c.getquotaroot("INBOX")
            self.assertEqual(typ, "OK")
            self.assertEqual(data[0], [b'"INBOX"'])
            self.assertEqual(data[1], [None])  # no QUOTA line
            typ, data = c.getquota('""')
            self.assertEqual(typ, "NO")
            self.assertIn(b"[NONEXISTENT]", data[0])
            typ, data = c.setquota('""', "(STORAGE 100)")
            self.assertEqual(typ, "NO")
            typ, data = c.getquotaroot("Nosuch")
            self.assertEqual(typ, "NO")
        finally:
            c.logout()

    def test_status_size_deleted(self):
        c = self.imaps()
        try:
            c.create("Sized")
            c.append("Sized", r"(\Deleted)", None, MSG)
            c.append("Sized", None, None, MSG + b"more\r\n")
            typ, data = c.status("Sized", "(MESSAGES SIZE DELETED)")
            self.assertEqual(typ, "OK")
            want = "(MESSAGES 2 DELETED 1 SIZE %d)" % (2 * len(MSG) + 6)
            self.assertIn(want, data[0].decode())
        finally:
            c.logout()

    def test_qresync_select(self):
        c = self.imaps()
        o = self.imaps()
        try:
            c.create("Resync")
            for i in range(3):
                c.append("Resync", None, None, MSG)
            typ, data = c._simple_command("ENABLE", "QRESYNC")
            self.assertEqual(typ, "OK")
            c.select("Resync")
            validity = int(c.untagged_responses["UIDVALIDITY"][0])
            modseq = int(c.untagged_responses["HIGHESTMODSEQ"][0])
            c.close()
            o.select("Resync")
            o.uid("STORE", "1", "+FLAGS", r"(\Deleted)")
            o.expunge()
            o.uid("STORE", "3", "+FLAGS", r"(\Seen)")
            typ, data = c._simple_command("SELECT", "Resync",
                                          "(QRESYNC (%d %d))" % (validity, modseq))
            self.assertEqual(typ, "OK")
            self.assertEqual(c.untagged_responses.get("VANISHED"), [b"(EARLIER) 1"])
            fetches = b" ".join(x for x in c.untagged_responses.get("FETCH", []) if x)
            self.assertIn(b"UID 3 FLAGS (\\Seen)", fetches)
            self.assertNotIn(b"UID 2 ", fetches)
        finally:
            o.logout()
            c.logout()


if __name__ == "__main__":
    unittest.main()
