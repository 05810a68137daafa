"""A small DNS server on loopback (UDP) for the handle-resolution tests, written by hand so it can
also answer wrongly on purpose.

`_atproto.<handle>` TXT records are registered per name; every other name is NXDOMAIN. A name can
instead be made silent (the client times out) or answer a malformed message. The ingest is pointed
at it with `HANDLE_DNS_SERVER=127.0.0.1:<port>`. Queries are counted per name.
"""
import socket
import struct
import threading

TXT = 16


class DnsStandIn:
    def __init__(self, host="127.0.0.1", port=0):
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind((host, port))
        self.socket.settimeout(0.2)
        self.port = self.socket.getsockname()[1]
        self.records = {}   # name -> list of TXT records, each a list of strings
        self.behaviour = {}  # name -> "silent" | "malformed" | "servfail"
        self.queries = {}   # name -> count
        self.lock = threading.Lock()
        self.running = True
        self.thread = threading.Thread(target=self.serve, name="dns-standin", daemon=True)
        self.thread.start()

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def txt(self, handle, *records):
        """`_atproto.<handle>` answers these TXT records (each a string or a list of strings)."""
        with self.lock:
            self.records[f"_atproto.{handle}".lower()] = [[r] if isinstance(r, str) else list(r) for r in records]

    def misbehave(self, handle, behaviour):
        with self.lock:
            self.behaviour[f"_atproto.{handle}".lower()] = behaviour

    def query_count(self, handle):
        with self.lock:
            return self.queries.get(f"_atproto.{handle}".lower(), 0)

    def close(self):
        self.running = False
        self.thread.join(timeout=2)
        self.socket.close()

    def serve(self):
        while self.running:
            try:
                data, peer = self.socket.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            parsed = parse_query(data)
            if parsed is None:
                continue
            name, question = parsed
            with self.lock:
                self.queries[name] = self.queries.get(name, 0) + 1
                behaviour = self.behaviour.get(name)
                records = self.records.get(name)
            if behaviour == "silent":
                continue
            if behaviour == "malformed":
                # Claims two answers, carries one whose data length runs past the end of the message.
                answer = header(question, rcode=0, answers=2) + question[12:] + b"\xc0\x0c" + struct.pack(">HHIH", TXT, 1, 60, 300) + b"\x05did=x"
            elif behaviour == "servfail":
                answer = header(question, rcode=2, answers=0) + question[12:]
            elif records is None:
                answer = header(question, rcode=3, answers=0) + question[12:]
            else:
                answer = header(question, rcode=0, answers=len(records)) + question[12:]
                for strings in records:
                    data = b"".join(bytes([len(s.encode())]) + s.encode() for s in strings)
                    answer += b"\xc0\x0c" + struct.pack(">HHIH", TXT, 1, 60, len(data)) + data
            self.socket.sendto(answer, peer)


def parse_query(data):
    """(lower-cased name, header + question section) of a query; None if it is not one."""
    if len(data) < 12:
        return None
    offset, labels = 12, []
    while offset < len(data) and data[offset] != 0:
        length = data[offset]
        labels.append(data[offset + 1:offset + 1 + length].decode("ascii", "replace"))
        offset += 1 + length
    end = offset + 1 + 4
    if end > len(data):
        return None
    return ".".join(labels).lower(), data[:end]


def header(question, rcode, answers):
    (ident,) = struct.unpack(">H", question[:2])
    return struct.pack(">HHHHHH", ident, 0x8180 | rcode, 1, answers, 0, 0)
