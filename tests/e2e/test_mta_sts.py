"""MTA-STS (RFC 8461) for outbound MX delivery, end to end: mail submitted on 587 for domains
whose MX, _mta-sts TXT record and mta-sts.<domain> address come from
tests/support/dns_server.py; the policy from an HTTPS server on 127.0.0.1:443
(tests/support/sts_policy_server.py, certificate from a test CA given to spoold as
delivery.tls_ca_file); the MX host is a scripted remote (tests/support/fake_smtp_remote.py)
on the port delivery.mx_port names.

- enforce, the MX matches, its certificate is valid for its name: delivered over TLS, and
  the policy is in queue/mta-sts.cache;
- enforce, the MX is not in the policy: deferred (451 4.7.5 ... MTA-STS ...), the MX never
  contacted; after a restart with the HTTPS server gone, still deferred (the cached policy);
- enforce, the MX presents a self-signed certificate: deferred, nothing delivered;
- testing, the MX is not in the policy: delivered, and spoold logs what enforce would refuse;
- a message with "TLS-Required: No" (RFC 8689 5) to the self-signed MX: delivered, the
  policy never fetched for it.

RFC 8461 fixes port 443, so the policy server binds 127.0.0.1:443: that needs root (the
e2e tests run as root under .ci/run); without it the class is skipped, or fails under
CI=true. Only 127.0.0.1 is ever contacted."""

import os
import shutil
import socket
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from postern_instance import _present, wait_for  # noqa: E402
from remote_delivery_case import RemoteDeliveryCase, start_dns_server, stop_process  # noqa
from sts_policy_server import StsPolicyServer  # noqa: E402  (tests/support, on the path)
from test_ca import TestCA  # noqa: E402

DOMAINS = ("match.test", "nomatch.test", "selfsigned.test", "testing.test")


def policy(mode, *mx):
    return "version: STSv1\r\nmode: %s\r\n%smax_age: 86400\r\n" % (
        mode, "".join("mx: %s\r\n" % m for m in mx))


def can_bind_443():
    try:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", 443))
        return True
    except OSError:
        return False


class MtaStsTest(RemoteDeliveryCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not _present(can_bind_443(), "binding 127.0.0.1:443 (root, port free)"):
            raise unittest.SkipTest("cannot bind 127.0.0.1:443")
        cls.dir = tempfile.mkdtemp(prefix="postern-sts-")
        os.chmod(cls.dir, 0o755)  # spoold (the run user) reads the CA bundle
        cls.ca = TestCA(cls.dir)
        cert, key = cls.ca.issue(*("mta-sts." + d for d in DOMAINS))
        cls.https = StsPolicyServer(cert, key).start()
        cls.https.policies.update({
            "mta-sts.match.test": policy("enforce", "mx.match.test"),
            "mta-sts.nomatch.test": policy("enforce", "*.elsewhere.test"),
            "mta-sts.selfsigned.test": policy("enforce", "*.selfsigned.test"),
            "mta-sts.testing.test": policy("testing", "mx.elsewhere.test"),
        })
        names = {}
        for d in DOMAINS:
            names[d] = {"MX": [[10, "mx." + d]]}
            names["mx." + d] = {"A": ["127.0.0.1"]}
            names["_mta-sts." + d] = {"TXT": [["v=STSv1; ", "id=20261202"]]}
            names["mta-sts." + d] = {"A": ["127.0.0.1"]}
        cls.dns, cls.dns_proc = start_dns_server(cls.dir, {"ttl": 300, "soa_minimum": 30,
                                                           "names": names})

    @classmethod
    def tearDownClass(cls):
        cls.https.stop()
        stop_process(cls.dns_proc)
        shutil.rmtree(cls.dir, ignore_errors=True)

    # --- set-up --------------------------------------------------------------------------

    def mx_remote(self, domain, ca_signed=True):
        host = "mx." + domain
        kw = {"cert": self.ca.issue(host)} if ca_signed else {"starttls": True}
        return self.remote(hostname=host, **kw)

    def sts_instance(self, remote):
        """MX delivery (DNS from the class's server) to `remote`'s port, the test CA trusted."""
        return self.instance(delivery={"dns_servers": '["%s"]' % self.dns,
                                       "mx_port": str(remote.port),
                                       "tls_ca_file": '"%s"' % self.ca.cert})

    def wait_delivered(self, inst, remote):
        self.wait_accepted(inst, remote, 1, timeout=40)
        self.wait_queue_empty(inst, timeout=20)

    # --- the cases -----------------------------------------------------------------------

    def test_enforce_matching_mx_with_a_valid_certificate_is_delivered_over_tls(self):
        r = self.mx_remote("match.test")
        inst = self.sts_instance(r)
        self.submit(inst, ["bob@match.test"], "match")
        self.wait_delivered(inst, r)
        self.assertEqual(r.accepted[0].rcpt_tos, ["bob@match.test"])
        self.assertTrue(r.accepted[0].tls)
        self.assertGreaterEqual(self.https.fetched("mta-sts.match.test"), 1)
        with open(inst.path("queue", "mta-sts.cache")) as f:
            cache = f.read()
        self.assertIn("sts1 match.test 20261202 ", cache)

    def test_enforce_mx_not_in_the_policy_is_deferred_also_after_a_restart(self):
        r = self.mx_remote("nomatch.test")
        inst = self.sts_instance(r)
        self.submit(inst, ["bob@nomatch.test"], "nomatch")
        t = self.wait_state(inst, "bob@nomatch.test", "deferred", timeout=40)
        self.assertTrue(t["reply"].startswith("451 4.7.5 MTA-STS policy of nomatch.test"),
                        t["reply"])
        self.assertIn("mx.nomatch.test", t["reply"])
        self.assertEqual(r.connections, 0)
        self.assertTrue(wait_for(lambda: "sts1 nomatch.test" in read(
            inst.path("queue", "mta-sts.cache")), 10))

        # Restart: the policy comes from the cache file; the HTTPS server forgets it, so a
        # fetch would find nothing (404) and, without the cache, no policy would apply.
        fetched = self.https.fetched("mta-sts.nomatch.test")
        inst.stop("spoold")
        saved = self.https.policies.pop("mta-sts.nomatch.test")
        self.addCleanup(self.https.policies.__setitem__, "mta-sts.nomatch.test", saved)
        inst.start("spoold")
        inst.ctl("queue", "flush")
        self.assertTrue(wait_for(lambda: "cached policies from" in inst.log("spoold"), 20),
                        inst.log("spoold"))
        time.sleep(3)
        t = self.targets(inst).get("bob@nomatch.test")
        self.assertIsNotNone(t)
        self.assertEqual(t["state"], "deferred")
        self.assertEqual(r.connections, 0)
        self.assertEqual(self.https.fetched("mta-sts.nomatch.test"), fetched)  # same TXT id

    def test_enforce_self_signed_mx_is_deferred(self):
        r = self.mx_remote("selfsigned.test", ca_signed=False)
        inst = self.sts_instance(r)
        self.submit(inst, ["bob@selfsigned.test"], "selfsigned")
        t = self.wait_state(inst, "bob@selfsigned.test", "deferred", timeout=40)
        self.assertTrue(t["reply"].startswith("4"), t["reply"])
        self.assertGreaterEqual(r.connections, 1)  # tried, and refused its certificate
        self.assertEqual(r.transactions, [])
        self.assertEqual(r.accepted, [])

    def test_tls_required_no_waives_the_policy(self):
        # RFC 8689 5: the sender's "TLS-Required: No" sets the recipient's MTA-STS aside: the
        # self-signed MX that enforce refuses above takes this message, over opportunistic TLS.
        r = self.mx_remote("selfsigned.test", ca_signed=False)
        inst = self.sts_instance(r)
        fetched = self.https.fetched("mta-sts.selfsigned.test")
        self.submit(inst, ["bob@selfsigned.test"], "waived", headers="TLS-Required: No\r\n")
        self.wait_delivered(inst, r)
        self.assertTrue(r.accepted[0].tls)
        self.assertIn(b"TLS-Required: No\r\n", r.accepted[0].content)  # passed on as it is
        self.assertEqual(self.https.fetched("mta-sts.selfsigned.test"), fetched)

    def test_testing_mode_mismatch_is_delivered_and_logged(self):
        r = self.mx_remote("testing.test")
        inst = self.sts_instance(r)
        self.submit(inst, ["bob@testing.test"], "testing")
        self.wait_delivered(inst, r)
        want = ("mta-sts testing.test: testing mode: MX mx.testing.test does not match the "
                "policy; enforce would not deliver to it")
        self.assertTrue(wait_for(lambda: want in inst.log("spoold"), 10), inst.log("spoold"))


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return ""


if __name__ == "__main__":
    unittest.main()
