"""DANE for outbound SMTP (RFC 7672) end to end: spoold asks tests/support/dns_server.py on
loopback, whose "ad" list marks the answers a validating resolver would have authenticated, and
delivers to a scripted remote (tests/support/fake_smtp_remote.py) with STARTTLS and a fresh
self-signed certificate.

The remote listens on a free loopback port, not 25, so the hop is a route to a host name
("dane.test" -> "mx.dane.test:PORT"): the name is resolved A/AAAA (no MX: the configuration
stands in for it, as for Postfix's [host]:port next hops) and its TLSA records are at
_PORT._tcp.mx.dane.test. The MX path (the MX answer's AD bit too) is tested in
tests/spoold/next_hop_test.cc.

- TLSA 3 1 1 of the remote's key, all authenticated: delivered over TLS although the
  certificate is self-signed and names another host; spoold logs the match;
- a TLSA record that does not match: deferred with 4.x, nothing delivered, not even MAIL;
- the matching record without AD: delivered opportunistically (may), logged as not
  authenticated;
- dane-only and no TLSA records: deferred, the remote never contacted.
"""

import hashlib
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from postern_instance import wait_for  # noqa: E402
from remote_delivery_case import RemoteDeliveryCase  # noqa: E402

MX = "mx.dane.test"


def spki_sha256(cert_path):
    """The hex SHA-256 of the certificate's SubjectPublicKeyInfo (TLSA selector 1, type 1)."""
    pub = subprocess.run(["openssl", "x509", "-in", cert_path, "-noout", "-pubkey"],
                         check=True, capture_output=True, timeout=30).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub,
                         check=True, capture_output=True, timeout=30).stdout
    return hashlib.sha256(der).hexdigest()


class DaneTest(RemoteDeliveryCase):
    def setup(self, tlsa=None, ad_tlsa=True, policy=None):
        """A STARTTLS remote, a zone for it, an instance routing dane.test to MX:PORT."""
        r = self.remote(starttls=True, hostname="some-other-name.test")
        tlsa_name = "_%d._tcp.%s" % (r.port, MX)
        names = {MX: {"A": ["127.0.0.1"]}}
        ad = [MX]
        if tlsa is not None:
            names[tlsa_name] = {"TLSA": [[3, 1, 1, tlsa(r)]]}
            if ad_tlsa:
                ad.append(tlsa_name)
        dns = self.dns_server({"ttl": 300, "soa_minimum": 30, "names": names, "ad": ad})
        inst = self.instance(delivery={"dns_servers": '["%s"]' % dns},
                             routes={"dane.test": "%s:%d" % (MX, r.port)},
                             tls_policy={"dane.test": policy} if policy else None)
        return r, inst

    def test_matching_tlsa_delivers_over_tls_to_a_self_signed_remote(self):
        r, inst = self.setup(tlsa=lambda r: spki_sha256(r.cert_path))
        self.submit(inst, ["bob@dane.test"], "dane-ok")
        self.wait_accepted(inst, r, 1)
        self.assertTrue(r.accepted[0].tls)
        self.wait_queue_empty(inst)
        log = inst.log("spoold")
        self.assertIn("smtp dane %s:%d for dane.test: dane verify" % (MX, r.port), log)
        self.assertIn("Verified, dane TLSA 3 1 1 matched at depth 0", log)
        self.assertIn(" tls dane status=sent", log)

    def test_mismatching_tlsa_defers_and_delivers_nothing(self):
        r, inst = self.setup(tlsa=lambda r: "00" * 32)
        self.submit(inst, ["bob@dane.test"], "dane-bad")
        t = self.wait_state(inst, "bob@dane.test", "deferred")
        self.assertTrue(t["reply"].startswith("4"), t["reply"])
        self.assertIn("matches no TLSA record", t["reply"])
        self.assertEqual(r.accepted, [])
        self.assertEqual(r.transactions, [])  # not even MAIL after the failed check

    def test_matching_tlsa_without_ad_is_opportunistic(self):
        # A wrong record without AD: ignored, so it cannot fail the delivery.
        r, inst = self.setup(tlsa=lambda r: "00" * 32, ad_tlsa=False)
        self.submit(inst, ["bob@dane.test"], "dane-noad")
        self.wait_accepted(inst, r, 1)
        self.assertTrue(r.accepted[0].tls)
        self.wait_queue_empty(inst)
        log = inst.log("spoold")
        self.assertIn("fallback to may (TLSA records not DNSSEC-authenticated)", log)
        self.assertIn("(Untrusted)", log)

    def test_dane_only_without_tlsa_defers(self):
        r, inst = self.setup(tlsa=None, policy="dane-only")
        self.submit(inst, ["bob@dane.test"], "dane-only")
        t = self.wait_state(inst, "bob@dane.test", "deferred")
        self.assertTrue(t["reply"].startswith("451 4.7.5 "), t["reply"])
        self.assertIn("dane-only: no TLSA records", t["reply"])
        self.assertTrue(wait_for(lambda: "dane defer" in inst.log("spoold"), 5))
        self.assertEqual(r.transactions, [])
        self.assertEqual(r.connections, 0)  # dane-only: the host is skipped before connecting


if __name__ == "__main__":
    unittest.main()
