"""REQUIRETLS (RFC 8689) end to end: smtpd offers it only inside TLS and refuses it outside;
spoold sends a REQUIRETLS message only over TLS with a certificate that verifies
([delivery] tls_ca_file names the test CA that signed the remote's certificate), with MAIL's REQUIRETLS, to a
remote that offers it; a remote that does not offer it makes a 5.7.30 bounce without the
message body, and a certificate that does not verify defers before MAIL, whatever the
domain's own TLS policy. Through MX records (delivery.mx_port names the remote's port), a
REQUIRETLS message goes only to an MX whose answer was DNSSEC-authenticated (the DNS server's
"ad" list): otherwise it bounces with 5.7.30 and the remote is never contacted."""

import os
import smtplib
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from remote_delivery_case import ALICE, RemoteDeliveryCase  # noqa: E402


class RequireTlsTest(RemoteDeliveryCase):
    def routed(self, trust=True, **remote_kw):
        """A remote with a test CA's certificate for mx.ca.test, and an instance routing
        remote.test to it by that name; with `trust`, tls_ca_file names the CA."""
        ca, r, dns = self.ca_signed_remote(**remote_kw)
        delivery = {"dns_servers": '["%s"]' % dns}
        if trust:
            delivery["tls_ca_file"] = '"%s"' % ca.cert
        inst = self.instance(delivery=delivery, routes={"remote.test": "mx.ca.test:%d" % r.port})
        return r, inst

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

    def test_delivered_with_requiretls_over_verified_tls(self):
        r, inst = self.routed(requiretls=True)
        self.submit(inst, ["bob@remote.test"], "rtls", mail_options=["REQUIRETLS"])
        self.wait_accepted(inst, r, 1)
        m = r.accepted[0]
        self.assertTrue(m.tls)
        self.assertIn("REQUIRETLS", m.mail_options)
        # An ordinary message to the same remote does not ask for it.
        self.submit(inst, ["bob@remote.test"], "plain")
        self.wait_accepted(inst, r, 2)
        self.assertNotIn("REQUIRETLS", r.accepted[1].mail_options)
        self.wait_queue_empty(inst)

    def test_unverifiable_certificate_defers_before_mail(self):
        # The domain's policy is the default "may", which would deliver an ordinary
        # message to this self-signed remote; REQUIRETLS raises it to verify.
        r, inst = self.routed(trust=False, requiretls=True)
        self.submit(inst, ["bob@remote.test"], "untrusted", mail_options=["REQUIRETLS"])
        t = self.wait_state(inst, "bob@remote.test", "deferred")
        self.assertTrue(t["reply"].startswith("4"), t["reply"])
        self.assertEqual(r.transactions, [])

    def test_remote_without_requiretls_bounces_5_7_30_without_the_body(self):
        r, inst = self.routed(requiretls=False)
        self.submit(inst, ["bob@remote.test"], "norttls", mail_options=["REQUIRETLS", "RET=FULL"])
        dsn = self.wait_report(inst, ALICE)
        self.assertIn("Final-Recipient: rfc822; bob@remote.test\r\n", dsn)
        self.assertIn("Status: 5.7.30\r\n", dsn)
        self.assertIn("REQUIRETLS support required", dsn)
        self.assertIn("Subject: remote norttls", dsn)  # the headers...
        self.assertNotIn("body of norttls", dsn)        # ... but not the body, despite RET=FULL
        self.assertEqual(r.transactions, [])
        self.wait_queue_empty(inst)

    def test_only_a_dnssec_authenticated_mx_is_trusted(self):
        mx = {"MX": [[10, "mx.ca.test"]]}
        ca, r, dns = self.ca_signed_remote(names={"signed.test": mx, "unsigned.test": mx},
                                           ad=["signed.test"], requiretls=True)
        inst = self.instance(delivery={"dns_servers": '["%s"]' % dns,
                                       "mx_port": str(r.port),
                                       "tls_ca_file": '"%s"' % ca.cert})
        self.submit(inst, ["bob@unsigned.test"], "unsignedmx", mail_options=["REQUIRETLS"])
        dsn = self.wait_report(inst, ALICE)
        self.assertIn("Final-Recipient: rfc822; bob@unsigned.test\r\n", dsn)
        self.assertIn("Status: 5.7.30\r\n", dsn)
        self.assertIn("no authenticated MX host for unsigned.test", dsn)
        self.assertEqual(r.transactions, [])
        # The same MX host through an authenticated MX answer: delivered, over verified TLS.
        self.submit(inst, ["bob@signed.test"], "signedmx", mail_options=["REQUIRETLS"])
        self.wait_accepted(inst, r, 1)
        self.assertTrue(r.accepted[0].tls)
        self.assertIn("REQUIRETLS", r.accepted[0].mail_options)
        self.assertEqual(r.accepted[0].rcpt_tos, ["bob@signed.test"])
        self.wait_queue_empty(inst)


if __name__ == "__main__":
    unittest.main()
