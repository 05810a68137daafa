"""A small PLC directory stand-in on loopback for the service-auth tests.

Serves `GET /<did:plc:…>` (the PLC directory's document endpoint) and `GET /.well-known/did.json`
(the document of `did:web:localhost%3A<port>`, the one did:web this host can stand for). Documents
are registered in memory by the tests; every request is counted per path, and a DID can be made to
fail (HTTP status) or answer slowly to simulate an outage.
"""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class PlcStandIn:
    def __init__(self, port, host="127.0.0.1"):
        self.port = port
        self.documents = {}      # did -> document dict
        self.failures = {}       # did -> HTTP status to answer instead
        self.delays = {}         # did -> seconds to wait before answering
        self.requests = {}       # did -> number of GETs
        self.lock = threading.Lock()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                did = standin.web_did if self.path == "/.well-known/did.json" else self.path.lstrip("/")
                with standin.lock:
                    standin.requests[did] = standin.requests.get(did, 0) + 1
                    failure = standin.failures.get(did)
                    delay = standin.delays.get(did, 0)
                    document = standin.documents.get(did)
                if delay:
                    time.sleep(delay)
                if failure:
                    self.answer(failure, {"message": "simulated failure"})
                elif document is None:
                    self.answer(404, {"message": f"DID not registered: {did}"})
                else:
                    self.answer(200, document, content_type="application/did+ld+json")

            def answer(self, status, body, content_type="application/json"):
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (timeout tests)

            def log_message(self, *args):
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="plc-standin", daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def web_did(self):
        """The did:web this stand-in serves at /.well-known/did.json."""
        return f"did:web:localhost%3A{self.port}"

    def register(self, did, document):
        with self.lock:
            self.documents[did] = document

    def fail(self, did, status=None, delay=0):
        """Answer `status` (None: stop failing) for `did`, after `delay` seconds."""
        with self.lock:
            if status is None:
                self.failures.pop(did, None)
            else:
                self.failures[did] = status
            if delay:
                self.delays[did] = delay
            else:
                self.delays.pop(did, None)

    def request_count(self, did):
        with self.lock:
            return self.requests.get(did, 0)

    def close(self):
        self.server.shutdown()
        self.server.server_close()
