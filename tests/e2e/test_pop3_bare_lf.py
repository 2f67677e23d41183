"""POP3 RETR of a Maildir file that another delivery agent wrote with bare LF line ends
(issue 7, finding 13): the response must use CRLF throughout and end in CRLF.CRLF (before,
it ended in LF.CRLF and clients hung), and LIST must announce the octets RETR sends."""

import os
import socket
import time
import unittest

from postern_instance import Instance, LOOPBACK

USER = "lf@example.test"
PW = "pw-bare-lf-1"
BODY = b"From: a@example.org\nSubject: bare LF\n\nline one\n.dot line\n\nlast line\n"


class Pop3BareLfTest(unittest.TestCase):
    def test_bare_lf_file_is_sent_with_crlf_and_listed_with_its_wire_size(self):
        with Instance(services=["pop3d"]) as inst:
            inst.add_domain("example.test")
            inst.add_user(USER, PW)
            md = inst.maildir(USER)
            name = "%d.M1P%d.lfagent" % (time.time(), os.getpid())
            with open(os.path.join(md, "tmp", name), "wb") as f:
                f.write(BODY)
            os.rename(os.path.join(md, "tmp", name), os.path.join(md, "new", name))

            s = inst.tls_connect("pop3s")
            s.settimeout(10)
            f = s.makefile("rb")
            self.assertTrue(f.readline().startswith(b"+OK"))

            def cmd(line):
                s.sendall(line.encode() + b"\r\n")
                r = f.readline()
                self.assertTrue(r.startswith(b"+OK"), (line, r))
                return r

            cmd("USER " + USER)
            cmd("PASS " + PW)
            listed = int(cmd("LIST 1").split()[2])
            cmd("RETR 1")
            raw = b""
            while not raw.endswith(b"\r\n.\r\n"):
                chunk = f.readline()
                self.assertTrue(chunk, "connection closed inside RETR; got %r" % raw)
                self.assertTrue(chunk.endswith(b"\r\n"), "bare LF line %r" % chunk)
                raw += chunk
                self.assertLess(len(raw), 10000)
            lines = raw[:-3].split(b"\r\n")[:-1]
            message = b"".join((l[1:] if l.startswith(b"..") else l) + b"\r\n" for l in lines)
            self.assertEqual(message, BODY.replace(b"\n", b"\r\n"))
            self.assertEqual(listed, len(message))
            s.sendall(b"QUIT\r\n")
            s.close()


if __name__ == "__main__":
    unittest.main()
