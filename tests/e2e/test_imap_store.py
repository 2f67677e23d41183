"""End-to-end tests of imapd's STORE, COPY and MOVE with Python's imaplib against the real
daemon over the Maildir store: flags land in the file names, UNCHANGEDSINCE answers
[MODIFIED], a second session hears of the changes, COPY and MOVE answer COPYUID and keep
the flags, TRYCREATE; and pop3d over the same maildrop: a POP3 RETR's \\Seen shows in IMAP,
IMAP's expunges and moves show in POP3, a \\Deleted flag alone removes nothing (it is an IMAP
flag until EXPUNGE).
"""

import imaplib
import os
import poplib
import re
import sys
import time
import unittest

from postern_instance import Instance, daemon_exists

PW = "correct horse"
_counter = [0]


def message(subject):
    return ("From: sender@example.org\r\nTo: x@example.test\r\nSubject: %s\r\n\r\nhello\r\n" %
            subject).encode()


def drop(inst, addr, data, folder=None):
    """Delivers bytes into a folder like a Maildir MDA; returns the unique file name."""
    md = inst.maildir(addr, folder)
    _counter[0] += 1
    name = "%d.M%dP%dQ%d.e2e" % (time.time(), _counter[0], os.getpid(), _counter[0])
    tmp = os.path.join(md, "tmp", name)
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    # Owned like the Maildir (the daemons' user): COPY hard-links the file, which
    # fs.protected_hardlinks refuses for another user's file.
    st = os.stat(md)
    os.chown(tmp, st.st_uid, st.st_gid)
    os.rename(tmp, os.path.join(md, "new", name))
    return name


def maildir_flags(inst, addr, unique, folder=None):
    """The flag letters of the message file whose name starts with `unique` (None: gone)."""
    for p in inst.messages(addr, folder):
        base = os.path.basename(p)
        if base.startswith(unique):
            m = re.search(r":2,([A-Za-z]*)$", base)
            return m.group(1) if m else ""
    return None


@unittest.skipUnless(all(daemon_exists(d) for d in ("imapd", "pop3d", "mailctl")),
                     "imapd or pop3d not built")
class ImapStoreTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = Instance(services=["imapd", "pop3d"]).__enter__()
        try:
            cls.inst.add_domain("example.test")
        except BaseException:
            cls.inst.__exit__(*sys.exc_info())
            raise

    @classmethod
    def tearDownClass(cls):
        cls.inst.__exit__(None, None, None)

    def setUp(self):
        # A fresh user per test: folders and UIDs never carry over.
        _counter[0] += 1
        self.user = "s%d@example.test" % _counter[0]
        self.inst.add_user(self.user, PW)

    def ctx(self):
        return self.inst.client_tls_context(check_hostname=False)

    def imaps(self, folder="INBOX"):
        c = imaplib.IMAP4_SSL("127.0.0.1", self.inst.port("imaps"), ssl_context=self.ctx(),
                              timeout=10)
        c.login(self.user, PW)
        if folder:
            typ, _ = c.select(folder)
            self.assertEqual(typ, "OK")
        return c

    def pop3s(self):
        p = poplib.POP3_SSL("127.0.0.1", self.inst.port("pop3s"), context=self.ctx(), timeout=10)
        p.user(self.user)
        p.pass_(PW)
        return p

    def drop_n(self, n, folder=None):
        return [drop(self.inst, self.user, message("m%d" % i), folder) for i in range(n)]

    def test_store_forms_reach_the_files(self):
        names = self.drop_n(3)
        c = self.imaps()
        typ, data = c.store("1", "+FLAGS", r"(\Seen \Flagged)")
        self.assertEqual(typ, "OK")
        self.assertIn(b"1 (UID 1 FLAGS (\\Flagged \\Seen))", data)
        self.assertEqual(maildir_flags(self.inst, self.user, names[0]), "FS")
        typ, data = c.store("2", "FLAGS", r"(\Answered $Work)")
        self.assertEqual(typ, "OK")
        self.assertIn(b"2 (UID 2 FLAGS (\\Answered $Work))", data)
        self.assertRegex(maildir_flags(self.inst, self.user, names[1]), r"^R[a-z]$")
        typ, data = c.store("1", "-FLAGS.SILENT", r"(\Flagged)")
        self.assertEqual((typ, data), ("OK", [None]))
        self.assertEqual(maildir_flags(self.inst, self.user, names[0]), "S")
        typ, data = c.uid("STORE", "3", "+FLAGS", r"(\Draft)")
        self.assertEqual(typ, "OK")
        self.assertIn(b"3 (UID 3 FLAGS (\\Draft))", data)
        self.assertEqual(maildir_flags(self.inst, self.user, names[2]), "D")
        with self.assertRaisesRegex(imaplib.IMAP4.error, "BAD"):
            c.store("1", "+FLAGS", r"(\Recent)")
        c.logout()

    def test_unchangedsince_and_a_second_session(self):
        self.drop_n(2)
        one = self.imaps()
        two = self.imaps()
        # Message 2 changes after a modseq the client knows from message 1's change.
        highest = int(one.untagged_responses["HIGHESTMODSEQ"][-1])
        typ, data = one._simple_command("STORE", "1", "(UNCHANGEDSINCE %d)" % highest,
                                        "+FLAGS", r"(\Seen)")
        self.assertEqual((typ, data), ("OK", [b"STORE completed"]))
        fetched = one.untagged_responses.pop("FETCH", [])
        m = re.search(rb"MODSEQ \((\d+)\)", b" ".join(fetched))
        self.assertIsNotNone(m, fetched)
        known = int(m.group(1))
        typ, _ = two.store("2", "+FLAGS", r"(\Flagged)")
        self.assertEqual(typ, "OK")
        typ, data = one._simple_command("STORE", "1:2", "(UNCHANGEDSINCE %d)" % known,
                                        "+FLAGS", r"(\Answered)")
        self.assertEqual(typ, "OK")
        self.assertIn(b"[MODIFIED 2]", data[0])
        # The other session hears of one's changes at its next NOOP.
        two.untagged_responses.clear()
        typ, _ = two.noop()
        fetched = b" ".join(two.untagged_responses.get("FETCH", []))
        self.assertIn(b"UID 1 FLAGS (\\Answered \\Seen)", fetched)
        one.logout()
        two.logout()

    def test_copy_and_move_with_copyuid(self):
        names = self.drop_n(3)
        c = self.imaps()
        self.assertEqual(c.create("Archive")[0], "OK")
        c.store("1", "+FLAGS", r"(\Flagged)")
        typ, data = c.copy("1:2", "Archive")
        self.assertEqual(typ, "OK")
        m = re.match(rb"\[COPYUID (\d+) 1:2 1:2\] COPY completed", data[0])
        self.assertIsNotNone(m, data)
        self.assertEqual(len(self.inst.messages(self.user, "Archive")), 2)
        self.assertEqual(len(self.inst.messages(self.user)), 3)
        # The copies keep their flags: one of them is \Flagged.
        copied = [os.path.basename(f) for f in self.inst.messages(self.user, "Archive")]
        self.assertEqual(sum(1 for f in copied if re.search(r":2,[A-Z]*F", f)), 1, copied)
        typ, data = c.copy("1", "Nope")
        self.assertEqual(typ, "NO")
        self.assertTrue(data[0].startswith(b"[TRYCREATE]"), data)

        c.untagged_responses.clear()
        typ, data = c.uid("MOVE", "2:3", "Archive")
        self.assertEqual(typ, "OK")
        oks = b" ".join(c.untagged_responses.get("OK", []))
        self.assertIn(b"[COPYUID %s 2:3 3:4]" % m.group(1), oks)
        self.assertEqual(c.untagged_responses.get("EXPUNGE"), [b"2", b"2"])
        self.assertEqual(len(self.inst.messages(self.user)), 1)
        self.assertEqual(len(self.inst.messages(self.user, "Archive")), 4)
        self.assertIsNotNone(maildir_flags(self.inst, self.user, names[0]))
        self.assertIsNone(maildir_flags(self.inst, self.user, names[1]))
        typ, data = c.status("Archive", "(MESSAGES)")
        self.assertIn(b"(MESSAGES 4)", data[0])
        c.logout()

    def test_pop3_and_imap_agree(self):
        names = self.drop_n(4)
        p = self.pop3s()
        p.retr(1)
        p.quit()  # RETR set \Seen
        c = self.imaps()
        self.assertEqual(c.create("Archive")[0], "OK")
        typ, data = c.store("1", "+FLAGS", r"(\Flagged)")
        self.assertIn(b"1 (UID 1 FLAGS (\\Flagged \\Seen))", data)
        # \Deleted alone removes nothing; EXPUNGE and MOVE do.
        c.store("2", "+FLAGS.SILENT", r"(\Deleted)")
        p = self.pop3s()
        self.assertEqual(p.stat()[0], 4)
        p.quit()
        self.assertEqual(c.expunge()[0], "OK")
        self.assertEqual(c.uid("MOVE", "3", "Archive")[0], "OK")
        p = self.pop3s()
        self.assertEqual(p.stat()[0], 2)
        p.quit()
        self.assertEqual(maildir_flags(self.inst, self.user, names[0]), "FS")
        self.assertIsNone(maildir_flags(self.inst, self.user, names[1]))
        self.assertIsNone(maildir_flags(self.inst, self.user, names[2]))
        c.logout()


if __name__ == "__main__":
    unittest.main()
