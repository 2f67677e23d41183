"""REQUIRETLS (RFC 8689) end to end: smtpd offers it only inside TLS and refuses it outside;
spoold sends a REQUIRETLS message only over TLS with a certificate that verifies
([delivery] tls_ca_file names the remote's certificate here), with MAIL's REQUIRETLS, to a
remote that offers it; a remote that does not offer it makes a 5.7.30 bounce without the
message body, and a certificate that does not verify defers before MAIL, whatever the
domain's own TLS policy."""

import os
import smtplib
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from remote_delivery_case import ALICE, RemoteDeliveryCase  # noqa: E402
from postern_instance import wait_for  # noqa: E402


class RequireTlsTest(RemoteDeliveryCase):
    def tls_remote(self, **kw):
        return self.remote(starttls=True, hostname="remote.test", **kw)

    def routed(self, r, trust=True):
        delivery = {"tls_ca_file": '"%s"' % r.cert_path} if trust else {}
        return self.instance(delivery=delivery,
                             routes={"remote.test": "127.0.0.1:%d" % r.port})

    def test_offered_and_accepted_only_inside_tls(self):
        inst = self.instance()
        with smtplib.SMTP("127.0.0.1", inst.port("smtp"), timeout=15) as s:
            code, ehlo = s.ehlo("client.test")
            self.assertEqual(code, 250)
            self.assertNotIn(b"REQUIRETLS", ehlo)
            code, text = s.docmd("MAIL FROM:<x@far.test> REQUIRETLS")
            self.assertEqual((code, text), (530, b"5.7.10 REQUIRETLS needs a TLS session"))
            s.starttls(context=inst.client_tls_context(check_hostname=False))
            code, ehlo = s.ehlo("client.test")
            self.assertIn(b"\nREQUIRETLS", ehlo)
            code, _ = s.docmd("MAIL FROM:<x@far.test> REQUIRETLS")
            self.assertEqual(code, 250)

    def test_unverifiable_certificate_defers_before_mail(self):
        # The domain's policy is the default "may", which would deliver an ordinary
        # message to this self-signed remote; REQUIRETLS raises it to verify.
        r = self.tls_remote(requiretls=True)
        inst = self.routed(r, trust=False)
        self.submit(inst, ["bob@remote.test"], "untrusted", mail_options=["REQUIRETLS"])
        t = self.wait_state(inst, "bob@remote.test", "deferred")
        self.assertTrue(t["reply"].startswith("4"), t["reply"])
        self.assertEqual(r.transactions, [])


if __name__ == "__main__":
    unittest.main()
