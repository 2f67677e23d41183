"""imapd with real mail clients from Debian and npm, against real daemons on loopback (issue 9):

- imapflow (npm, tests/clients): LIST, APPEND, FETCH, STORE, MOVE, and IDLE seeing a message
  that nodemailer delivers by SMTP within a second of the SMTP reply;
- mbsync (isync): a two-way sync, then a second run that changes nothing on either side;
- curl's IMAP: a message fetched by UID, a folder listed;
- fetchmail over IMAP, with keep (mail stays, the second run finds nothing new) and without
  (the mail is removed from the server).

Under CI=true a missing client fails the run (postern_instance.tool_exists).
"""

import json
import os
import shutil
import smtplib
import subprocess
import sys
import tempfile
import unittest

from postern_instance import Instance, daemon_exists, tool_exists, wait_for

ALICE = "alice@example.test"
PW = "correct horse"
HERE = os.path.dirname(os.path.abspath(__file__))
CLIENTS = os.path.join(HERE, "..", "clients")
# The instance's name and so its certificate's: clients that check the name (mbsync checks
# DNS names only) connect to it, and it resolves to 127.0.0.1.
HOST = "localhost"


def message(subject, body="hello"):
    return ("From: sender@example.org\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s@example.org>"
            "\r\n\r\n%s\r\n" % (ALICE, subject, subject.replace(" ", "-"), body)).encode()


def imapflow_installed():
    found = os.path.isdir(os.path.join(CLIENTS, "node_modules", "imapflow"))
    if not found and os.environ.get("CI") == "true":
        raise AssertionError("CI=true and tests/clients/node_modules is missing "
                             "(scripts/install-deps.sh runs npm ci there)")
    return found


@unittest.skipUnless(all(daemon_exists(d) for d in ("imapd", "smtpd", "spoold", "mailctl")),
                     "imapd, smtpd or spoold not built")
class ImapClientsTest(unittest.TestCase):
    def setUp(self):
        self.inst = Instance(services=["smtpd", "spoold", "imapd"], hostname=HOST).__enter__()
        try:
            self.inst.add_domain("example.test")
            self.inst.add_user(ALICE, PW)
        except BaseException:
            self.inst.__exit__(*sys.exc_info())
            raise
        self.home = tempfile.mkdtemp(prefix="postern-clients-")

    def tearDown(self):
        self.inst.__exit__(None, None, None)
        shutil.rmtree(self.home, ignore_errors=True)

    def deliver(self, *subjects):
        before = len(self.inst.messages(ALICE))
        with smtplib.SMTP("127.0.0.1", self.inst.port("smtp"), timeout=10) as s:
            s.ehlo("client.test")
            for subject in subjects:
                s.sendmail("sender@example.org", [ALICE], message(subject))
        self.assertTrue(wait_for(lambda: len(self.inst.messages(ALICE)) >= before + len(subjects),
                                 20), "the SMTP delivery did not arrive")

    def run_tool(self, args, timeout=60, env=None, ok=(0,)):
        r = subprocess.run(args, capture_output=True, text=True, timeout=timeout,
                           env=dict(os.environ, HOME=self.home, **(env or {})))
        self.assertIn(r.returncode, ok, "%s -> %d\n%s\n%s" % (args[0], r.returncode, r.stdout,
                                                              r.stderr))
        return r

    # --- imapflow ----------------------------------------------------------------------------

    @unittest.skipUnless(tool_exists("node") and imapflow_installed(), "node or imapflow missing")
    def test_imapflow_list_append_fetch_store_move_idle(self):
        self.deliver("first by smtp")
        r = self.run_tool(["node", os.path.join(CLIENTS, "imapflow_check.mjs")], timeout=90, env={
            "IMAPS_PORT": str(self.inst.port("imaps")), "SMTP_PORT": str(self.inst.port("smtp")),
            "IMAP_USER": ALICE, "IMAP_PASS": PW, "CA_FILE": self.inst.cert_path,
            "TLS_NAME": HOST})
        seen = json.loads(r.stdout.strip().splitlines()[-1])
        for cap in ("IMAP4REV1", "IDLE", "UIDPLUS", "MOVE", "SPECIAL-USE"):
            self.assertIn(cap, [c.upper() for c in seen["capabilities"]])
        uses = {f["path"]: f["specialUse"] for f in seen["folders"]}
        self.assertEqual(uses.get("INBOX"), "\\Inbox")
        self.assertEqual(uses.get("Sent"), "\\Sent")
        self.assertEqual(uses.get("Trash"), "\\Trash")
        self.assertGreater(seen["append"]["uid"], 0)
        self.assertEqual(seen["fetch"]["subject"], "appended by imapflow")
        self.assertEqual(seen["fetch"]["from"], "flow@example.org")
        self.assertIn("\\Flagged", seen["fetch"]["flags"])
        self.assertTrue(seen["fetch"]["sourceEqual"], "FETCH BODY[] differs from the APPEND")
        self.assertEqual([m["subject"] for m in seen["fetchAll"]],
                         ["first by smtp", "appended by imapflow"])
        self.assertEqual(seen["flagsAfter"], ["Work", "\\Seen"])
        self.assertEqual(seen["move"]["destination"], "Archive")
        self.assertEqual(len(seen["move"]["uidMap"]), 1)
        self.assertEqual(seen["existsAfterMove"], 1)
        self.assertTrue(seen["idle"]["arrived"], "IDLE never saw the SMTP delivery")
        self.assertLess(seen["idle"]["msAfterSmtpReply"], 1000)

    # --- mbsync ------------------------------------------------------------------------------

    def mbsync_config(self):
        local = os.path.join(self.home, "Mail")
        os.makedirs(local, exist_ok=True)
        cfg = os.path.join(self.home, "mbsyncrc")
        with open(cfg, "w") as f:
            f.write('IMAPAccount postern\nHost %s\nPort %d\nUser %s\nPass "%s"\n'
                    'SSLType IMAPS\nCertificateFile %s\n\n'
                    'IMAPStore remote\nAccount postern\n\n'
                    'MaildirStore local\nPath %s/\nInbox %s/INBOX\nSubFolders Verbatim\n\n'
                    'Channel all\nFar :remote:\nNear :local:\nPatterns *\nCreate Both\n'
                    'Expunge Both\nSyncState *\nSync All\n'
                    % (HOST, self.inst.port("imaps"), ALICE, PW, self.inst.cert_path, local,
                       local))
        return cfg, local

    def local_state(self, local):
        """Every message file of the local Maildir tree: (folder, sub, name)."""
        out = set()
        for root, dirs, files in os.walk(local):
            if os.path.basename(root) in ("cur", "new"):
                for n in files:
                    out.add((os.path.relpath(os.path.dirname(root), local),
                             os.path.basename(root), n))
        return out

    def server_state(self):
        out = set()
        for folder in (None, "Archive"):
            for path in self.inst.messages(ALICE, folder):
                out.add((folder, os.path.basename(os.path.dirname(path)),
                         os.path.basename(path)))
        return out

    @unittest.skipUnless(tool_exists("mbsync"), "mbsync (isync) not installed")
    def test_mbsync_two_way_twice(self):
        self.deliver("to be synced one", "to be synced two")
        cfg, local = self.mbsync_config()
        self.run_tool(["mbsync", "-c", cfg, "-a"])
        got = self.local_state(local)
        self.assertEqual(len([m for m in got if m[0] == "INBOX"]), 2, got)

        # A flag set locally goes up (the reader moves a message to cur/ with its flags, as a
        # Maildir client does); a message made on the near side goes up too.
        inbox = os.path.join(local, "INBOX")
        synced = sorted(os.path.join(sub, n) for sub in ("new", "cur")
                        for n in os.listdir(os.path.join(inbox, sub)))
        os.rename(os.path.join(inbox, synced[0]),
                  os.path.join(inbox, "cur", os.path.basename(synced[0]).split(":2,")[0] + ":2,FS"))
        with open(os.path.join(inbox, "new", "1700000000.local1.host"), "wb") as f:
            f.write(message("written locally", "from the near side"))
        self.run_tool(["mbsync", "-c", cfg, "-a"])
        self.assertEqual(len(self.inst.messages(ALICE)), 3)
        flagged = [p for p in self.inst.messages(ALICE) if ":2," in p and "F" in p.split(":2,")[1]]
        self.assertEqual(len(flagged), 1, self.inst.messages(ALICE))

        # The second run after that changes nothing on either side.
        before = (self.local_state(local), self.server_state())
        r = self.run_tool(["mbsync", "-c", cfg, "-a", "-V"])
        after = (self.local_state(local), self.server_state())
        self.assertEqual(before, after, r.stdout)

    # --- curl --------------------------------------------------------------------------------

    @unittest.skipUnless(tool_exists("curl"), "curl not installed")
    def test_curl_fetches_by_uid_and_lists(self):
        self.deliver("for curl")
        common = ["curl", "-sS", "--cacert", self.inst.cert_path, "--user", "%s:%s" % (ALICE, PW),
                  "--max-time", "20"]
        url = "imaps://%s:%d" % (HOST, self.inst.port("imaps"))
        r = self.run_tool(common + [url + "/INBOX;UID=1"])
        self.assertIn("Subject: for curl", r.stdout)
        self.assertIn("hello", r.stdout)
        r = self.run_tool(common + [url + "/"])
        self.assertIn("INBOX", r.stdout)
        self.assertIn("Trash", r.stdout)

    # --- fetchmail ---------------------------------------------------------------------------

    def fetchmail(self, keep):
        out = os.path.join(self.home, "mbox")
        rc = os.path.join(self.home, "fetchmailrc")
        with open(rc, "w") as f:
            f.write('set no syslog\n'
                    'poll 127.0.0.1 service %d protocol imap auth password\n'
                    '  user "%s" there with password "%s" is "root" here\n'
                    '  ssl sslcertck sslcertfile "%s" sslcommonname "%s"\n'
                    '  %s mda "cat >> %s"\n'
                    % (self.inst.port("imaps"), ALICE, PW, self.inst.cert_path, HOST,
                       "keep" if keep else "nokeep", out))
        os.chmod(rc, 0o600)
        return rc, out

    @unittest.skipUnless(tool_exists("fetchmail"), "fetchmail not installed")
    def test_fetchmail_imap_keep_then_nokeep(self):
        self.deliver("fetch me one", "fetch me two")
        rc, out = self.fetchmail(keep=True)
        env = {"FETCHMAILHOME": self.home}
        self.run_tool(["fetchmail", "-f", rc, "--nodetach", "-v"], env=env)
        with open(out, "rb") as f:
            got = f.read()
        self.assertIn(b"Subject: fetch me one", got)
        self.assertIn(b"Subject: fetch me two", got)
        self.assertEqual(len(self.inst.messages(ALICE)), 2, "keep removed mail")
        # keep: fetchmail marks them seen and the next run finds nothing new (exit 1).
        self.run_tool(["fetchmail", "-f", rc, "--nodetach", "-v"], env=env, ok=(1,))

        rc, out = self.fetchmail(keep=False)
        os.unlink(out)
        self.run_tool(["fetchmail", "-f", rc, "--nodetach", "-v", "--all"], env=env)
        with open(out, "rb") as f:
            self.assertEqual(f.read().count(b"Subject: fetch me"), 2)
        self.assertTrue(wait_for(lambda: len(self.inst.messages(ALICE)) == 0, 10),
                        "nokeep left mail on the server")


if __name__ == "__main__":
    unittest.main(verbosity=2)
