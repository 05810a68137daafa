"""A small PLC directory stand-in on loopback for the service-auth tests.

Serves `GET /<did:plc:…>` (the PLC directory's document endpoint) and `GET /.well-known/did.json`
(the document of `did:web:localhost%3A<port>`, the one did:web this host can stand for). Documents
are registered in memory by the tests; every request is counted per path, and a DID can be made to
fail (HTTP status) or answer slowly to simulate an outage.

For the ingest's user creation it also stands in for a PDS and for handle domains:
`GET /xrpc/com.atproto.repo.getRecord?repo=<did>&collection=app.bsky.actor.profile&rkey=self` answers
the registered profile (400 RecordNotFound otherwise) and `GET /handles/<handle>/.well-known/atproto-did`
the DID registered for the handle; `outage()` makes every DID document request slow or failing.
"""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class PlcStandIn:
    def __init__(self, port, host="127.0.0.1"):
        self.port = port
        self.documents = {}      # did -> document dict
        self.failures = {}       # did -> HTTP status to answer instead
        self.delays = {}         # did -> seconds to wait before answering
        self.requests = {}       # did -> number of GETs
        self.profiles = {}       # did -> (cid, profile record dict), served by getRecord
        self.handles = {}        # handle -> did, served at /handles/<handle>/.well-known/atproto-did
        self.outage_state = None  # (status or None, delay seconds) applied to every DID document
        self.lock = threading.Lock()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                if self.path.startswith("/xrpc/com.atproto.repo.getRecord"):
                    return self.get_record()
                if self.path.startswith("/handles/"):
                    return self.handle_did()
                with standin.lock:
                    outage = standin.outage_state
                if outage and self.path != "/.well-known/did.json":
                    status, delay = outage
                    time.sleep(delay)
                    if status:
                        return self.answer(status, {"message": "simulated outage"})
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

            def get_record(self):
                query = parse_qs(urlsplit(self.path).query)
                did = (query.get("repo") or [""])[0]
                with standin.lock:
                    standin.requests["getRecord:" + did] = standin.requests.get("getRecord:" + did, 0) + 1
                    profile = standin.profiles.get(did)
                if profile is None or query.get("collection") != ["app.bsky.actor.profile"] or query.get("rkey") != ["self"]:
                    return self.answer(400, {"error": "RecordNotFound", "message": "Could not locate record"})
                cid, record = profile
                self.answer(200, {"uri": f"at://{did}/app.bsky.actor.profile/self", "cid": cid, "value": record})

            def handle_did(self):
                handle = self.path[len("/handles/"):].split("/", 1)[0]
                with standin.lock:
                    did = standin.handles.get(handle)
                if did is None:
                    return self.answer(404, {"message": "no such handle"})
                self.answer(200, did, content_type="text/plain", raw=True)

            def answer(self, status, body, content_type="application/json", raw=False):
                data = body.encode() if raw else json.dumps(body).encode()
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
        self.port = self.server.server_address[1]  # port 0: any free one
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

    def register_profile(self, did, cid, record):
        with self.lock:
            self.profiles[did] = (cid, record)

    def register_handle(self, handle, did):
        with self.lock:
            self.handles[handle] = did

    def outage(self, status=None, delay=0):
        """Every DID document request waits `delay` s, then answers `status` (None: normally).
        `outage()` with no arguments ends it."""
        with self.lock:
            self.outage_state = (status, delay) if (status or delay) else None

    def request_count(self, did):
        with self.lock:
            return self.requests.get(did, 0)

    def close(self):
        self.server.shutdown()
        self.server.server_close()
