"""A minimal FastCGI client (responder role) for talking to appview-api directly, without nginx.

Used by the tests that run their own API instance (shutdown, database outage, the API's own body cap).
Protocol: FastCGI 1.0 spec, records of (version, type, requestId, contentLength, paddingLength).
"""
import socket
import struct

FCGI_VERSION = 1
BEGIN_REQUEST, END_REQUEST, PARAMS, STDIN, STDOUT, STDERR = 1, 3, 4, 5, 6, 7
RESPONDER = 1
MAX_CONTENT = 65535


class FastCGIResponse:
    def __init__(self, status, headers, body, stderr):
        self.status = status
        self.headers = headers  # lower-cased names
        self.body = body
        self.stderr = stderr


def _record(kind, request_id, content=b""):
    return struct.pack(">BBHHBx", FCGI_VERSION, kind, request_id, len(content), 0) + content


def _length(n):
    return struct.pack(">B", n) if n < 128 else struct.pack(">I", n | 0x80000000)


def _encode_params(params):
    out = b""
    for name, value in params.items():
        name, value = name.encode(), value.encode()
        out += _length(len(name)) + _length(len(value)) + name + value
    return out


def _stream(kind, request_id, data):
    out = b"".join(_record(kind, request_id, data[i:i + MAX_CONTENT]) for i in range(0, len(data), MAX_CONTENT))
    return out + _record(kind, request_id)  # empty record ends the stream


def _read_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed by the FastCGI server")
        buf += chunk
    return buf


def _params(path, method, query, body, headers):
    params = {
        "REQUEST_METHOD": method, "DOCUMENT_URI": path, "SCRIPT_NAME": path,
        "REQUEST_URI": path + ("?" + query if query else ""), "QUERY_STRING": query,
        "CONTENT_LENGTH": str(len(body)), "CONTENT_TYPE": "application/json" if body else "",
        "REMOTE_ADDR": "127.0.0.1", "SERVER_PROTOCOL": "HTTP/1.1",
    }
    for name, value in (headers or {}).items():
        params["HTTP_" + name.upper().replace("-", "_")] = value
    return params


class Connection:
    """One FastCGI connection; with keep_alive=True it carries several requests, like nginx's
    `fastcgi_keep_conn on` (and pins one API worker thread while open)."""

    def __init__(self, socket_path, keep_alive=False, timeout=10.0):
        self.keep_alive = keep_alive
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(socket_path)
        self.next_id = 1

    def request(self, path, method="GET", query="", body=b"", headers=None):
        request_id = self.next_id
        self.next_id += 1
        flags = 1 if self.keep_alive else 0  # FCGI_KEEP_CONN
        payload = _record(BEGIN_REQUEST, request_id, struct.pack(">HB5x", RESPONDER, flags))
        payload += _stream(PARAMS, request_id, _encode_params(_params(path, method, query, body, headers)))
        payload += _stream(STDIN, request_id, body)
        self.sock.sendall(payload)
        stdout, stderr = b"", b""
        while True:
            _, kind, _, length, padding = struct.unpack(">BBHHBx", _read_exact(self.sock, 8))
            content = _read_exact(self.sock, length + padding)[:length]
            if kind == STDOUT:
                stdout += content
            elif kind == STDERR:
                stderr += content
            elif kind == END_REQUEST:
                break
        return _parse(stdout, stderr)

    def close(self):
        self.sock.close()


def _parse(stdout, stderr):
    head, _, body = stdout.partition(b"\r\n\r\n")
    headers = {}
    for line in head.decode("latin-1").split("\r\n"):
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    status = int(headers.get("status", "200").split()[0])
    return FastCGIResponse(status, headers, body, stderr)


def request(socket_path, path, method="GET", query="", body=b"", headers=None, timeout=10.0):
    """Sends one request on a new connection (closed afterwards) and returns a FastCGIResponse."""
    connection = Connection(socket_path, keep_alive=False, timeout=timeout)
    try:
        return connection.request(path, method, query, body, headers)
    finally:
        connection.close()
