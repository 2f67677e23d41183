"""Remote delivery end to end (issue 10): mail submitted on 587 (AUTH) for remote domains
leaves through spoold's SMTP client to remotes on 127.0.0.1, picked by [delivery]:

- a route to a scripted remote (tests/support/fake_smtp_remote.py): delivered exactly once;
  4xx then 250: deferred, then delivered exactly once after `mailctl queue flush`; 5xx: a
  bounce (RFC 3464) in the sender's mailbox; one of two recipients deferred: each delivered
  once; a remote that never greets: timeout (helo_timeout_seconds), deferred, then delivered;
  spoold SIGKILLed while the remote withholds its reply to DATA: delivered once after restart;
  TLS policies verify (self-signed remote: deferred), encrypt (no STARTTLS: deferred), may;
  verify against a remote whose certificate a test CA signed: delivered with
  delivery.tls_ca_file naming that CA, deferred without it (the system store);
- DNS through tests/support/dns_server.py ([delivery] dns_servers): null MX, NXDOMAIN and an
  MX naming us bounce with 5.1.10, 5.1.2 and 5.4.6; SERVFAIL goes to the fallback smarthost;
- the smarthost with AUTH after STARTTLS, exclusive (no route, no DNS) and as fallback for a
  route that refuses connections; a world-readable password file stops spoold;
- a private Postfix (like ../shared/bench/setup-postfix.sh makes) on a loopback port as the
  remote MX reached through a route, over STARTTLS.

Retries are left to `mailctl queue flush` (the schedule is an hour), so every second
delivery in these tests is the retry the test asked for. Under CI=true a missing
prerequisite (aiosmtpd, openssl, postfix) fails instead of skipping."""

import os
import pwd
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from remote_delivery_case import ALICE, RemoteDeliveryCase, closed_port, make_self_signed
from postern_instance import Instance, _present, tool_exists, wait_for


class RemoteDeliveryTest(RemoteDeliveryCase):
    ZONE = {"ttl": 300, "soa_minimum": 30,
            "names": {"null.test": {"MX": [[0, "."]]},
                      "loop.test": {"MX": [[10, "mail.test"]]}},
            "servfail": ["sf.test"]}

    # --- scripted remotes through a route ------------------------------------------------

    def test_delivered_once(self):
        r = self.remote()
        inst = self.instance(routes={"remote.test": "127.0.0.1:%d" % r.port})
        msg = self.submit(inst, ["bob@remote.test"], "once")
        self.wait_accepted(inst, r, 1)
        m = r.accepted[0]
        self.assertEqual(m.mail_from, ALICE)
        self.assertEqual(m.rcpt_tos, ["bob@remote.test"])
        self.assertIn(b"Subject: remote once\r\n", m.content)
        self.assertTrue(m.content.endswith(b"\r\nbody of once\r\n"), m.content[-200:])
        self.assertTrue(msg.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[0] in m.content)
        self.wait_queue_empty(inst)
        self.assert_no_more(inst, r, 1)

    def test_tempfail_then_delivered_exactly_once_after_flush(self):
        r = self.remote(mode="tempfail_once")
        inst = self.instance(routes={"remote.test": "127.0.0.1:%d" % r.port})
        self.submit(inst, ["bob@remote.test"], "retry")
        t = self.wait_state(inst, "bob@remote.test", "deferred")
        self.assertIn("451 4.3.0", t["reply"])
        self.assertEqual(len(r.transactions), 1)
        self.assertEqual(r.accepted, [])
        inst.ctl("queue", "flush")
        self.wait_accepted(inst, r, 1)
        self.assertEqual(r.accepted_recipients(), ["bob@remote.test"])
        self.wait_queue_empty(inst)
        self.assert_no_more(inst, r, 1)
        self.assertEqual(self.mailbox(inst, ALICE), [])  # no bounce, no delay report

    def test_permanent_failure_bounces_to_the_sender(self):
        r = self.remote(mode="reject")
        inst = self.instance(routes={"remote.test": "127.0.0.1:%d" % r.port})
        self.submit(inst, ["bob@remote.test"], "bounce")
        ok = wait_for(lambda: len(self.mailbox(inst, ALICE)) == 1, 30)
        if not ok:
            inst.dump_logs()
        self.assertTrue(ok, "no bounce for alice")
        dsn = self.mailbox(inst, ALICE)[0].decode("utf-8", "replace")
        head = dsn.split("\r\n\r\n", 1)[0]
        self.assertIn("From: Mail Delivery System <MAILER-DAEMON@", head)
        self.assertIn("Return-Path: <>", head)
        self.assertIn("multipart/report; report-type=delivery-status", dsn)
        self.assertIn("Final-Recipient: rfc822; bob@remote.test\r\n", dsn)
        self.assertIn("Action: failed\r\n", dsn)
        self.assertIn("Status: 5.1.1\r\n", dsn)
        self.assertIn("Diagnostic-Code: smtp; 550 5.1.1 no such user", dsn)
        self.assertIn("Subject: remote bounce", dsn)  # the original header
        self.assertEqual(r.accepted, [])
        self.wait_queue_empty(inst)

    def test_one_of_two_recipients_deferred_each_delivered_once(self):
        r = self.remote(mode="defer_one_rcpt", defer_rcpt="carol@remote.test")
        inst = self.instance(routes={"remote.test": "127.0.0.1:%d" % r.port})
        self.submit(inst, ["bob@remote.test", "carol@remote.test"], "split")
        self.wait_accepted(inst, r, 1)
        self.assertEqual(r.accepted[0].rcpt_tos, ["bob@remote.test"])
        t = self.wait_state(inst, "carol@remote.test", "deferred")
        self.assertIn("450 4.2.1", t["reply"])
        self.assertEqual(self.targets(inst)["bob@remote.test"]["state"], "delivered")
        inst.ctl("queue", "flush")
        self.wait_accepted(inst, r, 2)
        self.assertEqual(r.accepted[1].rcpt_tos, ["carol@remote.test"])
        self.wait_queue_empty(inst)
        self.assert_no_more(inst, r, 2)
        self.assertEqual(r.accepted_recipients(), ["bob@remote.test", "carol@remote.test"])

    def test_hanging_remote_times_out_and_the_retry_delivers(self):
        r = self.remote(mode="hang")
        inst = self.instance(delivery={"helo_timeout_seconds": "2"},
                             routes={"remote.test": "127.0.0.1:%d" % r.port})
        start = time.monotonic()
        self.submit(inst, ["bob@remote.test"], "hang")
        t = self.wait_state(inst, "bob@remote.test", "deferred", timeout=30)
        self.assertLess(time.monotonic() - start, 25)
        self.assertTrue(t["reply"].startswith("4"), t["reply"])
        self.assertEqual(r.accepted, [])
        inst.ctl("queue", "flush")
        self.wait_accepted(inst, r, 1)
        self.wait_queue_empty(inst)
        self.assert_no_more(inst, r, 1)

    def test_spoold_killed_mid_data_delivers_once_after_restart(self):
        r = self.remote(mode="hang_data")
        inst = self.instance(routes={"remote.test": "127.0.0.1:%d" % r.port})
        self.submit(inst, ["bob@remote.test"], "killed")
        self.assertTrue(r.wait_transactions(1, 30), "spoold never reached DATA")
        os.kill(inst.pid("spoold"), signal.SIGKILL)  # the remote has the message, no reply
        time.sleep(0.3)
        inst.start("spoold")  # crash recovery: the target was never recorded as delivered
        self.wait_accepted(inst, r, 1)
        self.wait_queue_empty(inst)
        self.assert_no_more(inst, r, 1)
        self.assertEqual(len(r.transactions), 2)

    # --- DNS on loopback (tests/support/dns_server.py) -----------------------------------

    def test_null_mx_and_nxdomain_bounce(self):
        dns = self.dns_server(self.ZONE)
        inst = self.instance(delivery={"dns_servers": '["%s"]' % dns})
        self.submit(inst, ["bob@null.test", "eve@nowhere.test", "lou@loop.test"], "dns")
        ok = wait_for(lambda: len(self.mailbox(inst, ALICE)) >= 1 and not self.entries(inst), 30)
        if not ok:
            inst.dump_logs()
        self.assertTrue(ok, "no bounce: %r" % self.entries(inst))
        dsn = b"".join(self.mailbox(inst, ALICE)).decode("utf-8", "replace")
        self.assertIn("Final-Recipient: rfc822; bob@null.test\r\n", dsn)
        self.assertIn("Status: 5.1.10\r\n", dsn)
        self.assertIn("accepts no mail (null MX, RFC 7505)", dsn)
        self.assertIn("Final-Recipient: rfc822; eve@nowhere.test\r\n", dsn)
        self.assertIn("Status: 5.1.2\r\n", dsn)
        self.assertIn("Final-Recipient: rfc822; lou@loop.test\r\n", dsn)
        self.assertIn("Status: 5.4.6\r\n", dsn)  # mail.test is this instance's hostname

    def test_dns_servfail_goes_to_the_fallback_smarthost(self):
        dns = self.dns_server(self.ZONE)
        sh = self.smarthost()
        inst = self.instance(delivery={
            "dns_servers": '["%s"]' % dns,
            "smarthost": '"127.0.0.1:%d"' % sh.port, "smarthost_mode": '"fallback"',
            "smarthost_user": '"relayuser"',
            "smarthost_password_file": '"%s"' % pw_path(self, "relay-pw-9")})
        self.submit(inst, ["bob@sf.test"], "servfail")
        self.wait_accepted(inst, sh, 1)
        self.assertEqual(sh.accepted[0].rcpt_tos, ["bob@sf.test"])
        self.assertEqual(sh.accepted[0].auth_user, "relayuser")
        self.wait_queue_empty(inst)

    # --- TLS policy ----------------------------------------------------------------------

    def test_tls_verify_fails_against_a_self_signed_remote(self):
        r = self.remote(starttls=True, hostname="remote.test")
        inst = self.instance(routes={"remote.test": "127.0.0.1:%d" % r.port},
                             tls_policy={"remote.test": "verify"})
        self.submit(inst, ["bob@remote.test"], "verify")
        t = self.wait_state(inst, "bob@remote.test", "deferred")
        self.assertTrue(t["reply"].startswith("4"), t["reply"])
        self.assertEqual(r.accepted, [])
        self.assertEqual(r.transactions, [])  # not even MAIL before the failed check

    def test_tls_encrypt_defers_at_a_remote_without_starttls(self):
        r = self.remote()
        inst = self.instance(routes={"remote.test": "127.0.0.1:%d" % r.port},
                             tls_policy={"remote.test": "encrypt"})
        self.submit(inst, ["bob@remote.test"], "encrypt")
        t = self.wait_state(inst, "bob@remote.test", "deferred")
        self.assertTrue(t["reply"].startswith("4"), t["reply"])
        self.assertEqual(r.accepted, [])

    def test_tls_may_uses_starttls_when_offered(self):
        r = self.remote(starttls=True)
        inst = self.instance(routes={"remote.test": "127.0.0.1:%d" % r.port})
        self.submit(inst, ["bob@remote.test"], "may")
        self.wait_accepted(inst, r, 1)
        self.assertTrue(r.accepted[0].tls)

    def test_tls_verify_with_tls_ca_file_delivers(self):
        ca, r, dns = self.ca_signed_remote()
        inst = self.instance(delivery={"dns_servers": '["%s"]' % dns,
                                       "tls_ca_file": '"%s"' % ca.cert},
                             routes={"remote.test": "mx.ca.test:%d" % r.port},
                             tls_policy={"remote.test": "verify"})
        self.submit(inst, ["bob@remote.test"], "ca-verify")
        self.wait_accepted(inst, r, 1)
        self.assertTrue(r.accepted[0].tls)
        self.wait_queue_empty(inst)

    def test_tls_verify_without_tls_ca_file_defers(self):
        ca, r, dns = self.ca_signed_remote()
        inst = self.instance(delivery={"dns_servers": '["%s"]' % dns},
                             routes={"remote.test": "mx.ca.test:%d" % r.port},
                             tls_policy={"remote.test": "verify"})
        self.submit(inst, ["bob@remote.test"], "ca-unknown")
        t = self.wait_state(inst, "bob@remote.test", "deferred")
        self.assertTrue(t["reply"].startswith("4"), t["reply"])
        self.assertEqual(r.transactions, [])  # the check failed before MAIL
        self.assertGreaterEqual(r.connections, 1)  # it did try this remote

    def test_unreadable_tls_ca_file_stops_spoold(self):
        inst = Instance()
        inst.__enter__()
        self.addCleanup(inst.__exit__, None, None, None)
        missing = inst.path("no-such-ca.pem")
        inst.set_option("delivery", "tls_ca_file", '"%s"' % missing)
        started = inst.ctl("start", "spoold", check=False)
        self.assertNotEqual(started.returncode, 0)
        want = "delivery.tls_ca_file: " + missing + ": not a usable PEM CA bundle"
        self.assertTrue(wait_for(lambda: want in inst.log("spoold") + started.stderr, 10),
                        started.stderr + inst.log("spoold"))

    # --- the smarthost -------------------------------------------------------------------

    def smarthost(self):
        return self.remote(hostname="smarthost.test", starttls=True,
                           auth={"relayuser": "relay-pw-9"}, auth_required=True)

    def test_smarthost_exclusive_with_auth(self):
        sh = self.smarthost()
        inst = self.instance(delivery={
            "smarthost": '"127.0.0.1:%d"' % sh.port, "smarthost_mode": '"exclusive"',
            "smarthost_user": '"relayuser"',
            "smarthost_password_file": '"%s"' % pw_path(self, "relay-pw-9")})
        self.submit(inst, ["dave@elsewhere.test"], "exclusive")
        self.wait_accepted(inst, sh, 1)
        m = sh.accepted[0]
        self.assertEqual(m.rcpt_tos, ["dave@elsewhere.test"])
        self.assertTrue(m.tls)
        self.assertEqual(m.auth_user, "relayuser")
        self.wait_queue_empty(inst)
        self.assert_no_more(inst, sh, 1)

    def test_smarthost_fallback_after_a_refused_route(self):
        sh = self.smarthost()
        dead = closed_port()
        inst = self.instance(
            delivery={"smarthost": '"127.0.0.1:%d"' % sh.port, "smarthost_mode": '"fallback"',
                      "smarthost_user": '"relayuser"',
                      "smarthost_password_file": '"%s"' % pw_path(self, "relay-pw-9")},
            routes={"remote.test": "127.0.0.1:%d" % dead})
        self.submit(inst, ["bob@remote.test"], "fallback")
        self.wait_accepted(inst, sh, 1)
        m = sh.accepted[0]
        self.assertEqual(m.rcpt_tos, ["bob@remote.test"])
        self.assertTrue(m.tls)
        self.assertEqual(m.auth_user, "relayuser")
        self.wait_queue_empty(inst)
        self.assert_no_more(inst, sh, 1)

    def test_world_readable_password_file_stops_spoold(self):
        path = pw_path(self, "relay-pw-9", mode=0o644)
        inst = Instance()
        inst.__enter__()
        self.addCleanup(inst.__exit__, None, None, None)
        for k, v in {"smarthost": '"127.0.0.1:25"', "smarthost_user": '"relayuser"',
                     "smarthost_password_file": '"%s"' % path}.items():
            inst.set_option("delivery", k, v)
        started = inst.ctl("start", "spoold", check=False)
        self.assertNotEqual(started.returncode, 0)
        want = path + ": smarthost password file is readable or writable by others"
        self.assertTrue(wait_for(lambda: want in inst.log("spoold") + started.stderr, 10),
                        started.stderr + inst.log("spoold"))

    # --- a real Postfix as the remote MX -------------------------------------------------

    def test_postfix_remote_mx_over_starttls(self):
        if not tool_exists("postfix"):
            self.skipTest("postfix is not installed")
        pf = PrivatePostfix(self, domain="pf.test", user="zed")
        inst = self.instance(routes={"pf.test": "127.0.0.1:%d" % pf.port},
                             tls_policy={"pf.test": "encrypt"})
        self.submit(inst, ["zed@pf.test"], "postfix")
        ok = wait_for(lambda: len(pf.messages()) == 1, 60)
        if not ok:
            inst.dump_logs()
            sys.stderr.write(pf.maillog()[-4000:])
        self.assertTrue(ok, "Postfix did not deliver the message")
        got = pf.messages()[0]
        self.assertIn(b"Subject: remote postfix\r\n" if b"\r\n" in got else
                      b"Subject: remote postfix\n", got)
        self.assertIn(b"body of postfix", got)
        # smtpd_tls_received_header: Postfix notes the TLS session in its Received: line.
        self.assertRegex(got, rb"\(using TLSv1\.[23] with cipher")
        self.wait_queue_empty(inst)
        time.sleep(1)
        self.assertEqual(len(pf.messages()), 1)

    def test_postfix_relays_to_postern_over_starttls(self):
        """The other way: a Postfix whose transport map sends example.test to Postern's MX
        port delivers into alice's mailbox, over STARTTLS."""
        if not tool_exists("postfix"):
            self.skipTest("postfix is not installed")
        inst = self.instance()
        pf = PrivatePostfix(self, domain="pf.test", user="zed",
                            relay=("example.test", inst.port("smtp")))
        msg = (b"From: zed@pf.test\r\nTo: %s\r\nSubject: from postfix\r\n"
               b"Message-ID: <pf-1@pf.test>\r\n\r\nrelayed by postfix\r\n" % ALICE.encode())
        with smtplib.SMTP("127.0.0.1", pf.port, timeout=15) as s:
            self.assertEqual(s.sendmail("zed@pf.test", [ALICE], msg), {})
        ok = wait_for(lambda: len(self.mailbox(inst, ALICE)) == 1, 60)
        if not ok:
            inst.dump_logs()
            sys.stderr.write(pf.maillog()[-4000:])
        self.assertTrue(ok, "Postfix did not relay the message to Postern")
        got = self.mailbox(inst, ALICE)[0]
        self.assertIn(b"relayed by postfix", got)
        # Postern's Received: line names the TLS session Postfix opened.
        self.assertRegex(got, rb"by \S+ \(Postern\) with ESMTPS")
        self.assertRegex(got, rb"using TLSv1\.[23] with cipher")


def pw_path(test, password, mode=0o600):
    """A smarthost password file in a temp dir of its own (removed at the test's end),
    owned by the run user when run as root: spoold reads it as that user."""
    d = tempfile.mkdtemp(prefix="postern-smarthost-")
    os.chmod(d, 0o755)
    test.addCleanup(shutil.rmtree, d, True)
    path = os.path.join(d, "smarthost.secret")
    with open(path, "w") as f:
        f.write(password + "\n")
    os.chmod(path, mode)
    if os.geteuid() == 0:
        try:
            u = pwd.getpwnam("postern")
            os.chown(path, u.pw_uid, u.pw_gid)
        except KeyError:  # no run user yet: mailctl init makes it
            pass
    return path


class PrivatePostfix:
    """A Postfix instance of its own (config, queue, data, Maildirs under a temp dir) on a
    free 127.0.0.1 port, accepting mail for user@domain into a Maildir, STARTTLS with a
    self-signed certificate. No DNS. Started here, stopped (bounded) at the test's end."""

    def __init__(self, test, domain, user, relay=None):
        """relay: (domain, port): mail for that domain goes to 127.0.0.1:port (a transport
        map), with opportunistic STARTTLS."""
        if not _present(os.geteuid() == 0, "root (a private Postfix runs its master as root)"):
            raise unittest.SkipTest("a private Postfix needs root")
        self.root = tempfile.mkdtemp(prefix="postern-postfix-")
        test.addCleanup(self.cleanup)
        os.chmod(self.root, 0o755)
        self.conf = os.path.join(self.root, "etc")
        self.queue = os.path.join(self.root, "spool")
        self.data = os.path.join(self.root, "data")
        self.mail = os.path.join(self.root, "mail")
        self.domain, self.user = domain, user
        for d in (self.conf, self.queue, self.data, self.mail):
            os.makedirs(d)
        pf = pwd.getpwnam("postfix")
        os.chown(self.data, pf.pw_uid, pf.pw_gid)
        nobody = pwd.getpwnam("nobody")
        os.chown(self.mail, nobody.pw_uid, nobody.pw_gid)
        cert, key = make_self_signed(self.conf, "mx." + domain)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        with open(os.path.join(self.conf, "vmailbox"), "w") as f:
            f.write("%s@%s %s/%s/\n" % (user, domain, domain, user))
        with open(os.path.join(self.conf, "main.cf"), "w") as f:
            f.write(MAIN_CF.format(root=self.root, conf=self.conf, queue=self.queue,
                                   data=self.data, mail=self.mail, domain=domain, cert=cert,
                                   key=key, uid=nobody.pw_uid, gid=nobody.pw_gid))
        if relay is not None:
            with open(os.path.join(self.conf, "transport"), "w") as f:
                f.write("%s smtp:[127.0.0.1]:%d\n" % relay)
            with open(os.path.join(self.conf, "main.cf"), "a") as f:
                f.write(RELAY_CF.format(conf=self.conf, domain=relay[0]))
        with open(os.path.join(self.conf, "master.cf"), "w") as f:
            f.write(MASTER_CF.format(port=self.port))
        self.started = False
        self.run("start")
        self.started = True
        if not wait_for(lambda: self._listening(), 30):
            raise AssertionError("private Postfix does not listen on %d:\n%s" % (
                self.port, self.maillog()[-3000:]))

    def run(self, *args, timeout=60):
        proc = subprocess.run(["postfix", "-c", self.conf, *args], capture_output=True,
                              text=True, timeout=timeout)
        if proc.returncode != 0:
            raise AssertionError("postfix %s: %s%s" % (" ".join(args), proc.stdout, proc.stderr))
        return proc

    def _listening(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                return s.recv(4).startswith(b"220")
        except OSError:
            return False

    def messages(self):
        out = []
        base = os.path.join(self.mail, self.domain, self.user, "new")
        if os.path.isdir(base):
            for name in sorted(os.listdir(base)):
                with open(os.path.join(base, name), "rb") as f:
                    out.append(f.read())
        return out

    def maillog(self):
        try:
            with open(os.path.join(self.root, "maillog"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def cleanup(self):
        if self.started:
            try:
                self.run("stop", timeout=30)
            except (AssertionError, subprocess.TimeoutExpired):
                self._kill_master()
            # master exits a moment after "stop" returns
            wait_for(lambda: not self._master_pid(), 10)
            self._kill_master()
        shutil.rmtree(self.root, ignore_errors=True)

    def _master_pid(self):
        try:
            with open(os.path.join(self.data, "master.lock")) as f:
                pid = int(f.read().strip())
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError):
            return None

    def _kill_master(self):
        pid = self._master_pid()
        if pid:
            try:
                os.kill(pid, 9)
            except OSError:
                pass


MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {queue}
data_directory = {data}
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
shlib_directory = /usr/lib/postfix
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
maillog_file = {root}/maillog
maillog_file_prefixes = {root}
myhostname = mx.{domain}
mydomain = {domain}
myorigin = $mydomain
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost =
alias_maps =
alias_database =
biff = no
append_dot_mydomain = no
smtp_dns_support_level = disabled
smtp_host_lookup = native
lmtp_host_lookup = native
smtpd_peername_lookup = no
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination
virtual_mailbox_domains = {domain}
virtual_mailbox_base = {mail}
virtual_mailbox_maps = texthash:{conf}/vmailbox
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}
virtual_minimum_uid = 100
smtpd_tls_security_level = may
smtpd_tls_cert_file = {cert}
smtpd_tls_key_file = {key}
smtpd_tls_received_header = yes
smtpd_tls_loglevel = 1
"""

RELAY_CF = """\
relay_domains = {domain}
transport_maps = texthash:{conf}/transport
smtp_tls_security_level = may
smtp_tls_loglevel = 1
"""

MASTER_CF = """\
127.0.0.1:{port} inet n - n - 10 smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


if __name__ == "__main__":
    unittest.main()
