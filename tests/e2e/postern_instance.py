"""A throw-away Postern instance for end-to-end tests.

Every e2e test uses this module (stdlib only). Typical use:

    from postern_instance import Instance

    with Instance(services=["smtpd", "spoold"]) as inst:   # started on enter
        inst.add_domain("example.test")                    # (or add them before start:
        inst.add_user("alice@example.test", "s3cret")      #  Instance(), then inst.start())
        with smtplib.SMTP("127.0.0.1", inst.port("submission"), timeout=10) as s:
            s.starttls(context=inst.client_tls_context())
            ...
        files = os.listdir(os.path.join(inst.maildir("alice@example.test"), "new"))

The instance lives in a temp dir made by `mailctl init DIR --port-base P --hostname mail.test
--listen 127.0.0.1` on a free port base P, with [delivery] dns_servers = ["127.0.0.1:1"] so
remote delivery never asks a DNS server off loopback (routes and smarthosts still work). On
exit every service is stopped (bounded) and the dir
is removed, unless POSTERN_KEEP=1 (then its path is printed). If the `with` body raised, the
service logs are printed to stderr to help debugging. Run as root, init makes the daemons and
mailctl's store commands run as the `postern` user (created if missing), which then owns
data/, queue/ and run/: files a test writes there itself as root may need os.chown.

Binaries come from $POSTERN_BIN (set by CTest to <build>/bin), else <repo>/build/bin.
"""

import imaplib
import os
import random
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

ALL_SERVICES = ("smtpd", "spoold", "pop3d", "imapd")

# Offsets from the port base, as `mailctl init --port-base` assigns them.
PORT_OFFSETS = {
    "smtp": 25,
    "submission": 587,
    "smtps": 465,
    "pop3": 110,
    "pop3s": 995,
    "imap": 143,
    "imaps": 993,
}

# Which ports each service listens on (spoold has none).
SERVICE_PORTS = {
    "smtpd": ("smtp", "submission", "smtps"),
    "pop3d": ("pop3", "pop3s"),
    "imapd": ("imap", "imaps"),
    "spoold": (),
}

HOSTNAME = "mail.test"
LOOPBACK = "127.0.0.1"
CTL_TIMEOUT = 60  # seconds for any one mailctl call (start waits up to 20 s per daemon)


def bin_dir():
    """The directory holding mailctl and the daemons."""
    env = os.environ.get("POSTERN_BIN")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(here, "..", "..", "build", "bin")


def mailctl_path():
    return os.path.join(bin_dir(), "mailctl")


def _present(found, what):
    """`found`, except that under CI=true a missing prerequisite fails the run instead of
    letting the test that needs it skip quietly."""
    if not found and os.environ.get("CI") == "true":
        raise AssertionError("CI=true and %s is missing (scripts/install-deps.sh installs it)"
                             % what)
    return found


def daemon_exists(service):
    """True when <bin>/<service> is there; under CI=true a missing one fails."""
    return _present(os.access(os.path.join(bin_dir(), service), os.X_OK), service)


def tool_exists(name):
    """True when the program `name` is on PATH; under CI=true a missing one fails."""
    return _present(shutil.which(name) is not None, name)


def _port_free(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((LOOPBACK, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def free_port_base(attempts=200):
    """A base P in 20000-50000 such that P+25 .. P+995 (every service port) are free on
    127.0.0.1. Best effort: another process may still take one before the daemon binds."""
    rng = random.SystemRandom()
    for _ in range(attempts):
        base = rng.randrange(20000, 50000)
        if all(_port_free(base + off) for off in PORT_OFFSETS.values()):
            return base
    raise RuntimeError("no free port base found on 127.0.0.1")


def port_open(port, host=LOOPBACK, timeout=1.0):
    """True when a TCP connect to host:port succeeds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for(predicate, timeout=10.0, interval=0.05):
    """Polls predicate() until it is true or timeout seconds pass; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = predicate()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


class CtlError(RuntimeError):
    """A mailctl call that was expected to succeed failed."""

    def __init__(self, args, proc):
        self.proc = proc
        super().__init__("mailctl %s -> exit %d\nstdout: %s\nstderr: %s" % (
            " ".join(args), proc.returncode, proc.stdout, proc.stderr))


class Instance:
    """A Postern instance in a temp dir. `services`: names to start on enter (None: none;
    "all": every service). Use as a context manager."""

    def __init__(self, services=None, hostname=HOSTNAME, port_base=None, env=None):
        """env: extra environment variables for every mailctl call (e.g. POSTERN_LIBEXEC)."""
        if services == "all":
            services = list(ALL_SERVICES)
        self.services = list(services or [])
        self.hostname = hostname
        self.port_base = port_base
        self.dir = None
        self.config_path = None
        self.mailctl = mailctl_path()
        self.env = dict(env or {})

    # --- lifecycle -------------------------------------------------------------------------

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="postern-e2e-")
        # mkdtemp makes it 0700: run as root, init hands data/, queue/ and run/ to the run
        # user (postern), which must be able to reach them.
        os.chmod(self.dir, 0o755)
        self.config_path = os.path.join(self.dir, "postern.toml")
        try:
            if self.port_base is None:
                self.port_base = free_port_base()
            self.run("init", self.dir, "--port-base", str(self.port_base),
                     "--hostname", self.hostname, "--listen", LOOPBACK)
            # No DNS beyond loopback: spoold's resolver asks only 127.0.0.1:1, where nobody
            # answers (refused at once), so a remote domain without a route just defers.
            self.set_option("delivery", "dns_servers", '["%s:1"]' % LOOPBACK)
            if self.services:
                self.start(*self.services)
        except BaseException:
            self._teardown(failed=True)
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        self._teardown(failed=exc_type is not None)
        return False

    def _teardown(self, failed):
        if self.dir is None:
            return
        if failed:
            self.dump_logs()
        try:
            self.ctl("stop", check=False, timeout=CTL_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass
        self._kill_leftovers()
        if os.environ.get("POSTERN_KEEP") == "1":
            sys.stderr.write("POSTERN_KEEP=1: instance kept in %s\n" % self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None

    def _kill_leftovers(self):
        """SIGKILLs any daemon whose pid file is still there (stop failed or timed out)."""
        run_dir = os.path.join(self.dir, "run")
        for svc in ALL_SERVICES:
            pid = self.pid(svc)
            if pid is None:
                continue
            try:
                # Only kill a process that still has our pid file open-ish: a recycled pid
                # would have to belong to one of our daemon binaries.
                exe = os.readlink("/proc/%d/exe" % pid)
                if os.path.basename(exe).split(" ")[0] == svc:
                    os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
            try:
                os.unlink(os.path.join(run_dir, svc + ".pid"))
            except OSError:
                pass

    # --- mailctl ---------------------------------------------------------------------------

    def run(self, *args, input=None, check=True, timeout=CTL_TIMEOUT, env=None):
        """Runs mailctl with exactly these arguments (no -c). Returns CompletedProcess (text)."""
        full_env = dict(os.environ)
        full_env.update(self.env)
        full_env.update(env or {})
        proc = subprocess.run([self.mailctl, *args], input=input, capture_output=True,
                              text=True, timeout=timeout, env=full_env,
                              stdin=None if input is not None else subprocess.DEVNULL)
        if check and proc.returncode != 0:
            raise CtlError(args, proc)
        return proc

    def ctl(self, *args, input=None, check=True, timeout=CTL_TIMEOUT, env=None):
        """Runs `mailctl -c CONFIG ARGS...`. check=True raises CtlError on a non-zero exit.
        env: extra environment variables for this call."""
        return self.run("-c", self.config_path, *args, input=input, check=check, timeout=timeout,
                        env=env)

    def set_option(self, section, key, value):
        """Sets `key = value` (value as TOML text, e.g. '5' or '"x"') in [section] of
        postern.toml, replacing the key's line or adding it under the section header.
        Daemons see it at their next start (or SIGHUP, for what reload applies)."""
        with open(self.config_path) as f:
            text = f.read()
        header = "[%s]\n" % section
        head, sep, rest = text.partition(header)
        if not sep:
            raise KeyError("no [%s] section in %s" % (section, self.config_path))
        body, nxt, tail = rest.partition("\n[")
        body, n = re.subn(r"(?m)^%s = .*$" % re.escape(key), "%s = %s" % (key, value), body,
                          count=1)
        if n == 0:
            body = "%s = %s\n" % (key, value) + body
        with open(self.config_path, "w") as f:
            f.write(head + sep + body + nxt + tail)

    def add_domain(self, domain):
        return self.ctl("domain", "add", domain)

    def add_user(self, addr, password):
        return self.ctl("user", "add", addr, "--password-stdin", input=password + "\n")

    def set_password(self, addr, password):
        return self.ctl("user", "passwd", addr, "--password-stdin", input=password + "\n")

    def add_alias(self, addr, *targets):
        return self.ctl("alias", "add", addr, ",".join(targets))

    def start(self, *services):
        """Starts the services (none given: all) and waits until they listen."""
        return self.ctl("start", *services)

    def stop(self, *services):
        return self.ctl("stop", *services)

    def restart(self, *services):
        return self.ctl("restart", *services)

    def status(self, *services):
        """CompletedProcess of `mailctl status` (exit 0 all running, 3 otherwise)."""
        return self.ctl("status", *services, check=False)

    # --- paths and ports -------------------------------------------------------------------

    def port(self, name):
        """TCP port of 'smtp', 'submission', 'smtps', 'pop3', 'pop3s', 'imap' or 'imaps'."""
        return self.port_base + PORT_OFFSETS[name]

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    @property
    def data_dir(self):
        return self.path("data")

    @property
    def queue_dir(self):
        return self.path("queue")

    @property
    def cert_path(self):
        return self.path("tls", "cert.pem")

    def maildir(self, addr, folder=None):
        """DATA/<domain>/<localpart>/Maildir (or its Maildir++ subfolder, e.g. 'Sent')."""
        local, domain = addr.rsplit("@", 1)
        md = os.path.join(self.data_dir, domain.lower(), local.lower(), "Maildir")
        return os.path.join(md, "." + folder) if folder else md

    def messages(self, addr, folder=None, sub=("new", "cur")):
        """Paths of the message files in a mailbox (new and cur), sorted."""
        out = []
        for s in sub:
            d = os.path.join(self.maildir(addr, folder), s)
            if os.path.isdir(d):
                out.extend(os.path.join(d, f) for f in os.listdir(d))
        return sorted(out)

    def log(self, service):
        """The text of log/<service>.log ('' when there is none yet)."""
        try:
            with open(self.path("log", service + ".log"), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def pid(self, service):
        """The pid in run/<service>.pid, or None."""
        try:
            with open(self.path("run", service + ".pid")) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def dump_logs(self, out=sys.stderr):
        for svc in ALL_SERVICES:
            text = self.log(svc)
            if text:
                out.write("---- %s.log (%s) ----\n%s\n" % (svc, self.dir, text[-8000:]))

    def wait_port(self, name, timeout=10.0):
        """True once the named port accepts a TCP connection (bounded)."""
        return wait_for(lambda: port_open(self.port(name)), timeout)

    # --- TLS -------------------------------------------------------------------------------

    def client_tls_context(self, check_hostname=True):
        """A client SSLContext that trusts only this instance's self-signed certificate.
        With check_hostname, pass server_hostname=inst.hostname ('mail.test') when wrapping."""
        return client_tls_context(self.cert_path, check_hostname)

    def tls_connect(self, name, timeout=10.0):
        """A TLS socket connected to the named implicit-TLS port (smtps, pop3s, imaps)."""
        raw = socket.create_connection((LOOPBACK, self.port(name)), timeout=timeout)
        return self.client_tls_context().wrap_socket(raw, server_hostname=self.hostname)


def client_tls_context(cert_path, check_hostname=True):
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=cert_path)
    ctx.check_hostname = check_hostname
    if not check_hostname:
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


class InstanceTestCase(unittest.TestCase):
    """A test class sharing one instance: SERVICES started, the domains of USERS added and
    each (address, password) of USERS made a user; stopped after the class. INSTANCE_ENV:
    extra environment for mailctl and so for the daemons it starts."""

    SERVICES = ()
    USERS = ()
    INSTANCE_ENV = None
    IMAP_TIMEOUT = 30

    @classmethod
    def setUpClass(cls):
        cls.inst = Instance(services=list(cls.SERVICES), env=cls.INSTANCE_ENV).__enter__()
        try:
            for domain in sorted({addr.split("@")[1] for addr, _ in cls.USERS}):
                cls.inst.add_domain(domain)
            for addr, password in cls.USERS:
                cls.inst.add_user(addr, password)
        except BaseException:
            cls.inst.__exit__(*sys.exc_info())
            raise

    @classmethod
    def tearDownClass(cls):
        cls.inst.__exit__(None, None, None)

    def imaps(self, user=None):
        """An imaplib client on the instance's IMAPS port, logged in as `user` (an address
        of USERS; default: the first)."""
        addr, password = next((u for u in self.USERS if u[0] == user), self.USERS[0])
        c = imaplib.IMAP4_SSL(LOOPBACK, self.inst.port("imaps"),
                              ssl_context=self.inst.client_tls_context(check_hostname=False),
                              timeout=self.IMAP_TIMEOUT)
        c.login(addr, password)
        return c
