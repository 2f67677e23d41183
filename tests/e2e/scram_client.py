"""A minimal SCRAM-SHA-256 client (RFC 5802/7677) for the end-to-end tests, so each
protocol test checks the exchange the same way: real key derivation, a fresh nonce, and
the server signature verified."""
import base64
import hashlib
import hmac
import os


def b64(data):
    return base64.b64encode(data if isinstance(data, bytes) else data.encode()).decode()


class ScramClient:
    def __init__(self, user, password):
        self.password = password
        self.cnonce = b64(os.urandom(18))
        self.first_bare = "n=%s,r=%s" % (user, self.cnonce)
        self.server_first = None
        self.nonce = None
        self.auth_msg = None
        self.salted = None

    def first(self):
        """The client-first message, base64 (the AUTH initial response)."""
        return b64("n,," + self.first_bare)

    def final(self, server_first_b64):
        """Takes the server-first challenge (base64); returns the client-final, base64."""
        self.server_first = base64.b64decode(server_first_b64).decode()
        attrs = dict(kv.split("=", 1) for kv in self.server_first.split(","))
        self.nonce = attrs["r"]
        self.salted = hashlib.pbkdf2_hmac("sha256", self.password.encode(),
                                          base64.b64decode(attrs["s"]), int(attrs["i"]))
        client_key = hmac.new(self.salted, b"Client Key", hashlib.sha256).digest()
        stored_key = hashlib.sha256(client_key).digest()
        final_bare = "c=biws,r=" + self.nonce
        self.auth_msg = ",".join([self.first_bare, self.server_first, final_bare]).encode()
        sig = hmac.new(stored_key, self.auth_msg, hashlib.sha256).digest()
        proof = bytes(a ^ b for a, b in zip(client_key, sig))
        return b64(final_bare + ",p=" + b64(proof))

    def expected_server_final(self):
        """The "v=..." message a server that knows the password must send."""
        server_key = hmac.new(self.salted, b"Server Key", hashlib.sha256).digest()
        return "v=" + b64(hmac.new(server_key, self.auth_msg, hashlib.sha256).digest())
