#!/usr/bin/python3
"""Scriptable remote SMTP servers on 127.0.0.1 for the outbound tests (aiosmtpd, Debian's
python3-aiosmtpd; run with /usr/bin/python3).

As a library (the e2e tests import it):

    from fake_smtp_remote import FakeRemote
    with FakeRemote(mode="tempfail_once") as remote:     # started on enter, on a free port
        ... route a domain to 127.0.0.1:remote.port, send mail ...
        assert remote.wait_accepted(1)
        assert [m.rcpt_tos for m in remote.accepted] == [["bob@remote.test"]]

Modes (presets of the rules below; more rules can be added with fail() and hang()):
    accept          250 to everything
    tempfail_once   "451 4.3.0 try again later" at the end of DATA, once; then 250
    reject          "550 5.1.1 no such user" to every RCPT
    defer_one_rcpt  "450 4.2.1 mailbox busy" to RCPT of `defer_rcpt` (default: the second
                    recipient of the first transaction), once; then 250
    hang            the first connection gets no greeting (held open until `hang_seconds`
                    or stop()); later connections are accepted
    hang_data       the first DATA is never answered; later ones are

Options: starttls (a fresh self-signed certificate for `hostname`, made with openssl),
cert=(cert, key) (STARTTLS with that certificate instead, e.g. from tests/support/test_ca.py),
require_tls (530 before STARTTLS), auth={"user": "password"} (AUTH PLAIN/LOGIN, only after
STARTTLS unless auth_plaintext), auth_required (530 for MAIL without AUTH), pipelining
(advertised, default on), requiretls (RFC 8689: REQUIRETLS offered inside TLS, and MAIL's
REQUIRETLS parameter accepted there and kept in mail_options).

What they saw: `transactions` (every MAIL..DATA that got as far as DATA, with the reply
given), `accepted` (those answered 250: what a sender may count as delivered),
`connections`, `auth_logins`. Each Message has mail_from, mail_options, rcpt_tos,
rcpt_options, content (bytes), tls, auth_user, reply, peer.

As a program (for tests in other languages):
    fake_smtp_remote.py --mode MODE --port-file P --record-file R [--starttls] [--auth u:p]
writes its port to P once listening and, after each transaction, R as JSON
{"connections": N, "accepted": [...], "transactions": [...]} (content as text, latin-1).
"""

import argparse
import asyncio
import json
import logging
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

# aiosmtpd logs every session, a traceback for each failed TLS handshake (the tests cause
# them on purpose) and a warning about its own deprecated login_data on each AUTH.
logging.getLogger("mail.log").setLevel(logging.CRITICAL)

LOOPBACK = "127.0.0.1"
MODES = ("accept", "tempfail_once", "reject", "defer_one_rcpt", "hang", "hang_data")


class Message:
    """One transaction as the remote saw it."""

    def __init__(self, **kw):
        self.mail_from = kw.get("mail_from")
        self.mail_options = kw.get("mail_options", [])
        self.rcpt_tos = kw.get("rcpt_tos", [])
        self.rcpt_options = kw.get("rcpt_options", [])
        self.content = kw.get("content", b"")
        self.tls = kw.get("tls", False)
        self.auth_user = kw.get("auth_user")
        self.reply = kw.get("reply", "")
        self.peer = kw.get("peer")

    def as_json(self):
        d = dict(self.__dict__)
        d["content"] = self.content.decode("latin-1")
        return d

    def __repr__(self):
        return "Message(from=%r, to=%r, reply=%r, tls=%r, auth=%r)" % (
            self.mail_from, self.rcpt_tos, self.reply, self.tls, self.auth_user)


class Rule:
    """At `stage` ("rcpt", "data", "greeting" or "data_hang"), for `rcpt` (None: any) give
    `reply`, at most `times` times (None: always)."""

    def __init__(self, stage, reply=None, times=1, rcpt=None):
        self.stage, self.reply, self.times, self.rcpt = stage, reply, times, rcpt

    def take(self, stage, rcpt=None):
        if self.stage != stage or (self.rcpt is not None and
                                   (rcpt or "").lower() != self.rcpt.lower()):
            return False
        if self.times is not None:
            if self.times <= 0:
                return False
            self.times -= 1
        return True


def make_self_signed(directory, hostname):
    """(cert, key) paths of a fresh self-signed certificate for `hostname`."""
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=" + hostname, "-addext", "subjectAltName=DNS:" + hostname,
                    "-keyout", key, "-out", cert], check=True, capture_output=True, timeout=60)
    return cert, key


def free_port():
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


class _Handler:
    def __init__(self, remote):
        self.r = remote

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.r.pipelining:
            responses.insert(len(responses) - 1, "250-PIPELINING")
        if self.r.requiretls and server._tls_protocol is not None:
            responses.insert(len(responses) - 1, "250-REQUIRETLS")
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.r.auth_required and not session.authenticated:
            return "530 5.7.0 authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        if server.requiretls_asked:
            envelope.mail_options.append("REQUIRETLS")
        return "250 2.1.0 ok"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        rule = self.r._take("rcpt", address)
        if rule:
            return rule.reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.append(rcpt_options)
        return "250 2.1.5 ok"

    async def handle_DATA(self, server, session, envelope):
        msg = Message(mail_from=envelope.mail_from, mail_options=list(envelope.mail_options),
                      rcpt_tos=list(envelope.rcpt_tos),
                      rcpt_options=[list(o) for o in envelope.rcpt_options],
                      content=envelope.original_content or envelope.content or b"",
                      tls=server._tls_protocol is not None,
                      auth_user=self.r._auth_user(session), peer=session.peer)
        if self.r._take("data_hang"):
            msg.reply = "(no reply: hung)"
            self.r._record(msg, accepted=False)
            await asyncio.sleep(self.r.hang_seconds)
            return "451 4.4.2 hung too long"
        rule = self.r._take("data")
        msg.reply = rule.reply if rule else "250 2.0.0 queued"
        self.r._record(msg, accepted=rule is None)
        return msg.reply


class _Smtp(SMTP):
    """aiosmtpd's session, able to withhold its greeting (mode "hang") and to take MAIL's
    REQUIRETLS parameter (which aiosmtpd itself refuses as unknown)."""

    requiretls_asked = False

    async def smtp_MAIL(self, arg):
        words = (arg or "").split()
        self.requiretls_asked = (self.event_handler.r.requiretls and
                                 self._tls_protocol is not None and
                                 any(w.upper() == "REQUIRETLS" for w in words[1:]))
        if self.requiretls_asked:
            arg = " ".join(w for w in words if w.upper() != "REQUIRETLS")
        await super().smtp_MAIL(arg)

    async def _handle_client(self):
        remote = self.event_handler.r
        remote._connected()
        if remote._take("greeting"):
            try:
                await asyncio.sleep(remote.hang_seconds)
            finally:
                self.transport.close()
            return
        await super()._handle_client()


class _Controller(Controller):
    def __init__(self, remote, **kw):
        self.remote = remote
        super().__init__(_Handler(remote), hostname=LOOPBACK, port=remote.port, **kw)

    def factory(self):
        return _Smtp(self.handler, **self.SMTP_kwargs)


class FakeRemote:
    def __init__(self, mode="accept", hostname="remote.test", starttls=False, require_tls=False,
                 auth=None, auth_required=False, auth_plaintext=False, pipelining=True,
                 defer_rcpt=None, hang_seconds=3600, port=None, on_change=None,
                 requiretls=False, cert=None):
        if mode not in MODES:
            raise ValueError("mode must be one of %s" % ", ".join(MODES))
        self.mode, self.hostname = mode, hostname
        self.starttls, self.require_tls = starttls or require_tls or bool(cert), require_tls
        self.cert = cert  # (cert, key) PEM paths to present instead of a self-signed one
        self.auth = dict(auth or {})
        self.auth_required, self.auth_plaintext = auth_required, auth_plaintext
        self.pipelining, self.hang_seconds = pipelining, hang_seconds
        self.requiretls = requiretls
        self.port = port or free_port()
        self.on_change = on_change
        self.transactions, self.accepted, self.auth_logins = [], [], []
        self.connections = 0
        self.cert_path = None
        self._rules = []
        self._live = False  # the controller's own start-up probe is not a client
        self._lock = threading.Lock()
        self._dir = None
        self._controller = None
        self._rcpt_seen = 0
        self._defer_rcpt = defer_rcpt
        if mode == "tempfail_once":
            self.fail("data", "451 4.3.0 try again later")
        elif mode == "reject":
            self.fail("rcpt", "550 5.1.1 no such user", times=None)
        elif mode == "hang":
            self.hang("greeting")
        elif mode == "hang_data":
            self.hang("data")

    # --- scripting -----------------------------------------------------------------------

    def fail(self, stage, reply, times=1, rcpt=None):
        """Answer `reply` at "rcpt" (for `rcpt`, or any) or at the end of "data"."""
        with self._lock:
            self._rules.append(Rule(stage, reply, times, rcpt))

    def hang(self, stage="greeting", times=1):
        """No greeting ("greeting") or no reply to the end of DATA ("data")."""
        with self._lock:
            self._rules.append(Rule("greeting" if stage == "greeting" else "data_hang", None,
                                    times))

    # --- lifecycle -----------------------------------------------------------------------

    def start(self):
        kw = {"server_hostname": self.hostname, "data_size_limit": 64 * 1024 * 1024,
              "enable_SMTPUTF8": True, "decode_data": False, "timeout": 600}
        if self.starttls:
            self._dir = tempfile.mkdtemp(prefix="fake-remote-")
            if self.cert:
                self.cert_path, key = self.cert
            else:
                self.cert_path, key = make_self_signed(self._dir, self.hostname)
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(self.cert_path, key)
            kw["tls_context"] = ctx
            kw["require_starttls"] = self.require_tls
        if self.auth:
            kw["authenticator"] = self._authenticator
            kw["auth_require_tls"] = not self.auth_plaintext
        else:
            kw["auth_exclude_mechanism"] = ["PLAIN", "LOGIN"]
        self._controller = _Controller(self, **kw)
        self._controller.start()
        self._live = True
        return self

    def stop(self):
        if self._controller is not None:
            self._controller.stop(no_assert=True)
            self._controller = None
        if self._dir:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    # --- what was seen -------------------------------------------------------------------

    def wait_accepted(self, n, timeout=30.0):
        """True once at least n transactions were accepted (bounded)."""
        return self._wait(lambda: len(self.accepted) >= n, timeout)

    def wait_transactions(self, n, timeout=30.0):
        return self._wait(lambda: len(self.transactions) >= n, timeout)

    def wait_connections(self, n, timeout=30.0):
        return self._wait(lambda: self.connections >= n, timeout)

    def accepted_recipients(self):
        """Every recipient of every accepted transaction, in order (duplicates kept)."""
        with self._lock:
            return [r for m in self.accepted for r in m.rcpt_tos]

    def as_json(self):
        with self._lock:
            return {"connections": self.connections,
                    "accepted": [m.as_json() for m in self.accepted],
                    "transactions": [m.as_json() for m in self.transactions],
                    "auth_logins": list(self.auth_logins)}

    # --- internals -----------------------------------------------------------------------

    @staticmethod
    def _wait(pred, timeout):
        deadline = time.monotonic() + timeout
        while not pred():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
        return True

    def _take(self, stage, rcpt=None):
        if not self._live:
            return None
        with self._lock:
            if stage == "rcpt" and self.mode == "defer_one_rcpt":
                self._rcpt_seen += 1
                target = self._defer_rcpt
                if (target is not None and (rcpt or "").lower() == target.lower()) or \
                        (target is None and self._rcpt_seen == 2):
                    self._defer_rcpt, self.mode = None, "accept"  # once
                    return Rule("rcpt", "450 4.2.1 mailbox busy, try later")
            for rule in self._rules:
                if rule.take(stage, rcpt):
                    return rule
        return None

    def _connected(self):
        if self._live:
            with self._lock:
                self.connections += 1
            self._changed()

    def _record(self, msg, accepted):
        with self._lock:
            self.transactions.append(msg)
            if accepted:
                self.accepted.append(msg)
        self._changed()

    def _changed(self):
        if self.on_change:
            self.on_change(self)

    def _auth_user(self, session):
        data = session.auth_data
        if isinstance(data, LoginPassword):
            return data.login.decode("utf-8", "replace")
        return None

    def _authenticator(self, server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user = auth_data.login.decode("utf-8", "replace")
        ok = self.auth.get(user) == auth_data.password.decode("utf-8", "replace")
        with self._lock:
            self.auth_logins.append({"user": user, "mechanism": mechanism, "ok": ok})
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mode", choices=MODES, default="accept")
    ap.add_argument("--hostname", default="remote.test")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--record-file")
    ap.add_argument("--starttls", action="store_true")
    ap.add_argument("--require-tls", action="store_true")
    ap.add_argument("--auth", action="append", default=[], help="USER:PASSWORD")
    ap.add_argument("--auth-required", action="store_true")
    a = ap.parse_args()

    def write_record(remote):
        if a.record_file:
            tmp = a.record_file + ".tmp"
            with open(tmp, "w") as f:
                json.dump(remote.as_json(), f)
            os.replace(tmp, a.record_file)

    remote = FakeRemote(mode=a.mode, hostname=a.hostname, starttls=a.starttls,
                        require_tls=a.require_tls,
                        auth=dict(x.split(":", 1) for x in a.auth),
                        auth_required=a.auth_required, port=a.port or None,
                        on_change=write_record)
    remote.start()
    write_record(remote)
    with open(a.port_file + ".tmp", "w") as f:
        f.write("%d\n" % remote.port)
    os.replace(a.port_file + ".tmp", a.port_file)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    remote.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
