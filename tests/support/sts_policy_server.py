"""An HTTPS server for MTA-STS policies in tests: 127.0.0.1:443 (RFC 8461 fixes the port),
http.server + ssl in a thread, one certificate for every mta-sts.<domain> it serves.

    srv = StsPolicyServer(cert, key).start()      # binding 443 needs root
    srv.policies["mta-sts.a.test"] = "version: STSv1\\r\\n..."   # by Host header
    srv.content_type = "text/plain"
    srv.requests -> [(host, path)]                 # what was asked, in order
    srv.stop()

Anything but GET /.well-known/mta-sts.txt for a known host is a 404.
"""

import http.server
import ssl
import threading

LOOPBACK = "127.0.0.1"
PATH = "/.well-known/mta-sts.txt"


class StsPolicyServer:
    def __init__(self, cert, key, port=443):
        self.cert, self.key, self.port = cert, key, port
        self.policies = {}
        self.content_type = "text/plain; charset=utf-8"
        self.requests = []
        self._lock = threading.Lock()
        self._httpd = None
        self._thread = None

    def start(self):
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's spelling)
                host = (self.headers.get("Host") or "").split(":")[0].lower()
                with owner._lock:
                    owner.requests.append((host, self.path))
                    body = owner.policies.get(host) if self.path == PATH else None
                    ctype = owner.content_type
                if body is None:
                    self.send_error(404)
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        httpd = http.server.ThreadingHTTPServer((LOOPBACK, self.port), Handler)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.cert, self.key)
        httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
        httpd.daemon_threads = True
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        daemon=True)
        self._thread.start()
        return self

    def fetched(self, host):
        with self._lock:
            return sum(1 for h, p in self.requests if h == host and p == PATH)

    def stop(self):
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(10)
            self._httpd = None
