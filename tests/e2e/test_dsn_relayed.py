"""NOTIFY=SUCCESS to a remote without DSN (RFC 3461 5.2.2): the scripted remote
(tests/support/fake_smtp_remote.py, which does not offer DSN) takes the message, so NOTIFY
cannot be passed on and spoold sends the sender one "relayed" report itself: Action
relayed, Status 2.0.0, Remote-MTA and the remote's 250 reply, the original's header only.
A recipient without NOTIFY=SUCCESS gets no report. Run with /usr/bin/python3."""

import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from remote_delivery_case import ALICE, RemoteDeliveryCase  # noqa: E402


class DsnRelayedTest(RemoteDeliveryCase):
    def test_success_wanted_from_a_remote_without_dsn_is_reported_relayed(self):
        r = self.remote()
        inst = self.instance(routes={"remote.test": "127.0.0.1:%d" % r.port})
        self.submit(inst, ["bob@remote.test"], "relayed",
                    rcpt_options=["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;Bob@remote.test"])
        self.submit(inst, ["carol@remote.test"], "quiet")
        self.wait_accepted(inst, r, 2)
        dsn = self.wait_report(inst, ALICE)
        self.assertNotIn("NOTIFY=SUCCESS,FAILURE", r.accepted[0].rcpt_options)  # not offered
        self.assertIn("Subject: Relayed Mail Report\r\n", dsn)
        self.assertIn("Final-Recipient: rfc822; bob@remote.test\r\n"
                      "Original-Recipient: rfc822;Bob@remote.test\r\n"
                      "Action: relayed\r\nStatus: 2.0.0\r\n"
                      "Remote-MTA: dns; 127.0.0.1\r\n"
                      "Diagnostic-Code: smtp; 250 ", dsn)
        self.assertIn("Subject: remote relayed", dsn)  # the header...
        self.assertNotIn("body of relayed", dsn)        # ... not the body
        self.assertNotIn("carol@remote.test", dsn)
        self.wait_queue_empty(inst)
        time.sleep(1.0)  # and no second report (carol did not ask for one)
        self.assertEqual(len(self.mailbox(inst, ALICE)), 1)


if __name__ == "__main__":
    unittest.main()
