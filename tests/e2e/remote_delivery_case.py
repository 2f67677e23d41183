"""The base of the outbound e2e tests (test_remote_delivery.py, test_requiretls.py, ...):
an instance with alice and [delivery] settings, scripted remotes from
tests/support/fake_smtp_remote.py, submission on 587 and the queue read as JSON. Under
CI=true a missing prerequisite (aiosmtpd, openssl) fails instead of skipping."""

import json
import os
import shutil
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))

from postern_instance import Instance, _present, daemon_exists, tool_exists, wait_for  # noqa

try:
    from fake_smtp_remote import FakeRemote, make_self_signed  # noqa: E402,F401
except ImportError:  # python3-aiosmtpd missing
    FakeRemote = None
    make_self_signed = None
from test_ca import TestCA  # noqa: E402  (tests/support, on the path)

ALICE = "alice@example.test"
PASSWORD = "alice-pw-123"


def closed_port():
    """A loopback port nothing listens on (connect: refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_dns_server(directory, zone):
    """tests/support/dns_server.py on a free loopback port, serving `zone` (written into
    `directory`); returns ("127.0.0.1:PORT", process)."""
    with open(os.path.join(directory, "zone.json"), "w") as f:
        json.dump(zone, f)
    port_file = os.path.join(directory, "dns-port")
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "..", "support", "dns_server.py"),
                             "--zone", os.path.join(directory, "zone.json"),
                             "--port-file", port_file])
    if not wait_for(lambda: os.path.exists(port_file), 15):
        stop_process(proc)
        raise RuntimeError("no DNS server")
    with open(port_file) as f:
        return "127.0.0.1:%d" % int(f.read()), proc


def stop_process(proc):
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


class RemoteDeliveryCase(unittest.TestCase):
    """Set-up and helpers for tests of mail that leaves: an instance with alice and
    [delivery] keys, scripted remotes, submission on 587, the queue as JSON."""

    @classmethod
    def setUpClass(cls):
        for d in ("smtpd", "spoold"):
            if not daemon_exists(d):
                raise unittest.SkipTest(d + " is not built")
        if not _present(FakeRemote is not None, "python3-aiosmtpd"):
            raise unittest.SkipTest("python3-aiosmtpd is not installed")
        if not tool_exists("openssl"):
            raise unittest.SkipTest("openssl is missing")

    # --- set-up --------------------------------------------------------------------------

    def remote(self, **kw):
        r = FakeRemote(**kw).start()
        self.addCleanup(r.stop)
        return r

    def instance(self, delivery=None, routes=None, tls_policy=None):
        """An instance with alice, [delivery] keys (TOML text values), [delivery.routes] and
        [delivery.tls_policy], a one-hour retry schedule, smtpd and spoold running."""
        inst = Instance()
        inst.__enter__()
        self.addCleanup(inst.__exit__, None, None, None)
        inst.add_domain("example.test")
        inst.add_user(ALICE, PASSWORD)
        inst.set_option("spoold", "retry_schedule_seconds", "[3600]")
        for k, v in (delivery or {}).items():
            inst.set_option("delivery", k, v)
        tables = ""
        for name, entries in (("routes", routes), ("tls_policy", tls_policy)):
            if entries:
                tables += "\n[delivery.%s]\n" % name
                tables += "".join('"%s" = "%s"\n' % kv for kv in entries.items())
        if tables:
            with open(inst.config_path, "a") as f:
                f.write(tables)
        inst.start("smtpd", "spoold")
        return inst

    # --- helpers -------------------------------------------------------------------------

    def submit(self, inst, rcpts, marker, mail_options=(), headers="", rcpt_options=()):
        """Sends one message from alice on 587 (STARTTLS, AUTH), `headers` ("Name: value\r\n"
        lines) added to its header; returns its bytes."""
        msg = ("From: %s\r\nTo: %s\r\nSubject: remote %s\r\nMessage-ID: <%s@example.test>\r\n"
               "%s\r\nbody of %s\r\n" % (ALICE, ", ".join(rcpts), marker, marker, headers,
                                          marker)).encode()
        with smtplib.SMTP("127.0.0.1", inst.port("submission"), timeout=15) as s:
            s.ehlo("client.test")
            s.starttls(context=inst.client_tls_context(check_hostname=False))
            s.ehlo("client.test")
            s.login(ALICE, PASSWORD)
            self.assertEqual(s.sendmail(ALICE, rcpts, msg, list(mail_options),
                                        list(rcpt_options)), {})
        return msg

    def entries(self, inst):
        out = inst.ctl("queue", "list", "--json").stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def targets(self, inst):
        """{address: target} of every remote target in the queue."""
        return {t["address"]: t for e in self.entries(inst) for r in e["recipients"]
                for t in r["targets"] if t["kind"] == "remote"}

    def wait_state(self, inst, addr, state, timeout=30):
        ok = wait_for(lambda: self.targets(inst).get(addr, {}).get("state") == state, timeout)
        if not ok:
            inst.dump_logs()
        self.assertTrue(ok, "%s never %s: %r" % (addr, state, self.targets(inst).get(addr)))
        return self.targets(inst)[addr]

    def wait_queue_empty(self, inst, timeout=30):
        ok = wait_for(lambda: not self.entries(inst), timeout)
        if not ok:
            inst.dump_logs()
        self.assertTrue(ok, "queue still holds %r" % self.entries(inst))

    def wait_accepted(self, inst, remote, n, timeout=30):
        ok = remote.wait_accepted(n, timeout)
        if not ok:
            inst.dump_logs()
        self.assertTrue(ok, "remote accepted %d, want %d: %r" % (
            len(remote.accepted), n, remote.transactions))

    def assert_no_more(self, inst, remote, n):
        """Nothing more arrives, even when the queue is flushed again."""
        inst.ctl("queue", "flush")
        time.sleep(1.5)
        self.assertEqual(len(remote.accepted), n, remote.accepted)

    def mailbox(self, inst, addr):
        out = []
        for p in inst.messages(addr, sub=("new",)):
            with open(p, "rb") as f:
                out.append(f.read())
        return out

    def wait_report(self, inst, addr, n=1, timeout=30):
        """Waits for the n-th message in `addr`'s mailbox (a DSN, say); returns it as text."""
        ok = wait_for(lambda: len(self.mailbox(inst, addr)) >= n, timeout)
        if not ok:
            inst.dump_logs()
        self.assertTrue(ok, "no message %d for %s" % (n, addr))
        return self.mailbox(inst, addr)[n - 1].decode("utf-8", "replace")

    def dns_server(self, zone):
        """dns_server.py on a free loopback port with `zone`, for this test; returns
        "127.0.0.1:PORT"."""
        d = tempfile.mkdtemp(prefix="postern-dns-")
        self.addCleanup(shutil.rmtree, d, True)
        addr, proc = start_dns_server(d, zone)
        self.addCleanup(stop_process, proc)
        return addr

    def ca_signed_remote(self, names=None, ad=(), **remote_kw):
        """A test CA, and a remote presenting its certificate for mx.ca.test, reached through
        the route remote.test -> mx.ca.test:PORT (a name, so verify checks it against the
        certificate) which dns_server.py resolves to 127.0.0.1; `names` and `ad` add to the
        zone. Returns (ca, remote, dns)."""
        d = tempfile.mkdtemp(prefix="postern-ca-")
        os.chmod(d, 0o755)  # spoold (the run user) reads the CA bundle
        self.addCleanup(shutil.rmtree, d, True)
        ca = TestCA(d)
        r = self.remote(hostname="mx.ca.test", cert=ca.issue("mx.ca.test"), **remote_kw)
        zone = {"mx.ca.test": {"A": ["127.0.0.1"]}}
        zone.update(names or {})
        dns = self.dns_server({"ttl": 300, "soa_minimum": 30, "names": zone, "ad": list(ad)})
        return ca, r, dns
