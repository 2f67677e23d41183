"""A throwaway certificate authority for tests, made with the openssl CLI.

    ca = TestCA(directory)              # ca.cert: the CA's PEM (a tls_ca_file)
    cert, key = ca.issue("mx.a.test")   # a leaf for that name, signed by the CA

Nothing here is trusted by the system: a client verifies these only when given ca.cert.
"""

import os
import subprocess


def _openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


class TestCA:
    __test__ = False  # not a unittest case

    def __init__(self, directory, name="Postern Test CA"):
        self.dir = directory
        self.cert = os.path.join(directory, "ca.pem")
        self.key = os.path.join(directory, "ca.key")
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                 "-subj", "/CN=" + name, "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                 "-keyout", self.key, "-out", self.cert)
        self._serial = 1

    def issue(self, hostname, *more_names):
        """(cert, key) paths of a fresh leaf for `hostname` (CN and subjectAltName) and
        `more_names` (more subjectAltNames)."""
        self._serial += 1
        sans = ",".join("DNS:" + n for n in (hostname,) + more_names)
        base = os.path.join(self.dir, "%s-%d" % (hostname, self._serial))
        key, csr, cert, ext = base + ".key", base + ".csr", base + ".pem", base + ".ext"
        with open(ext, "w") as f:
            f.write("subjectAltName=%s\nextendedKeyUsage=serverAuth\n"
                    "basicConstraints=CA:FALSE\n" % sans)
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + hostname,
                 "-keyout", key, "-out", csr)
        _openssl("x509", "-req", "-in", csr, "-CA", self.cert, "-CAkey", self.key,
                 "-set_serial", str(self._serial), "-days", "2", "-extfile", ext, "-out", cert)
        return cert, key
