#!/usr/bin/env python3
"""A local Jetstream for tests and benchmarks: serves a JSONL file of Jetstream events on
ws://HOST:PORT/subscribe (wss:// with --tls-cert and --tls-key).

Honours the query parameters real Jetstream takes: `cursor` (only events with time_us >= cursor; the
whole file when absent, where real Jetstream would tail live) and `wantedCollections` (repeated;
commit events of other collections are filtered out, identity and account events always pass).
Every send awaits the transport's drain, so a consumer that stops reading stops the replayer
(TCP backpressure): the `sent` count in the status file stops growing.

Test controls (each applies to the first connection only, unless --faults-on-every-connection):
  --drop-after N       close the TCP connection abruptly (no close frame) after N events
  --stall-after N      stop sending after N events but keep the connection open
  --burst-after N      after N events, switch from --rate to --burst-rate (a burst mid-stream)
  --oversize-after N   after N events, send one text frame of --oversize-bytes bytes, then go on
The same controls may be given as query parameters (dropAfter, stallAfter, oversizeAfter,
oversizeBytes), which then apply to that connection.

Status: with --status-file, a JSON object {"sent", "connections": [{"cursor", "wantedCollections",
"sent"}], "listening", "pings" (with --count-pings)} is rewritten (atomically) every 50 ms, for tests to observe progress.
The chosen port is printed on stdout as `LISTENING <port>` once the server accepts connections.
"""

import argparse
import asyncio
import json
import logging
import os
import re
import signal
import ssl
import struct
import sys
import time
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

from replayer_process import PARENT, exit_with_parent, unblock_stop_signals

TIME_US = re.compile(rb'"time_us":(\d+)')
KIND = re.compile(rb'"kind":"(\w+)"')
COLLECTION = re.compile(rb'"collection":"([^"]+)"')


class PingCounter(logging.Handler):
    """Counts the ping frames clients send, from websockets' frame-level debug log."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.pings = 0

    def emit(self, record):
        if record.msg == "< %s" and record.args and str(record.args[0]).startswith("PING"):
            self.pings += 1


class Replayer:
    def __init__(self, args):
        self.args = args
        self.pings = PingCounter()
        self.sent = 0
        self.connections = []
        self.port = None

    def events(self, cursor, wanted):
        """(time_us, line) of the file's events a subscription with this cursor and filter gets."""
        with open(self.args.file, "rb") as source:
            for raw in source:
                line = raw.rstrip(b"\r\n")
                if not line.strip():
                    continue
                head = line[:512]
                match = TIME_US.search(head) or TIME_US.search(line)
                time_us = int(match.group(1)) if match else 0
                if cursor is not None and time_us < cursor:
                    continue
                if wanted:
                    kind = KIND.search(line)
                    if kind and kind.group(1) == b"commit":
                        collection = COLLECTION.search(line)
                        if collection and not wanted_collection(collection.group(1).decode(), wanted):
                            continue
                yield time_us, line

    def fault(self, query, name, flag, index):
        if name in query:
            return int(query[name][0])
        if index == 0 or self.args.faults_on_every_connection:
            return flag
        return None

    async def handle(self, connection):
        split = urlsplit(connection.request.path)
        if split.path != "/subscribe":
            await connection.close(1008, "unknown path")
            return
        query = parse_qs(split.query)
        cursor = int(query["cursor"][0]) if "cursor" in query else None
        wanted = set(query.get("wantedCollections", []))
        index = len(self.connections)
        record = {"cursor": cursor, "wantedCollections": sorted(wanted), "sent": 0}
        self.connections.append(record)
        drop_after = self.fault(query, "dropAfter", self.args.drop_after, index)
        stall_after = self.fault(query, "stallAfter", self.args.stall_after, index)
        oversize_after = self.fault(query, "oversizeAfter", self.args.oversize_after, index)
        oversize_bytes = int(query.get("oversizeBytes", [self.args.oversize_bytes])[0])
        rate = self.args.rate
        burst_after = self.args.burst_after
        started = time.monotonic()
        burst_started = None
        last_time_us = cursor or 0
        # Events are framed here and written to the transport in batches, which is several times
        # faster than one send() per event; drain() after each batch still waits while the
        # transport is over its high-water mark, so a slow reader slows this loop down.
        pending = []
        transport = connection.transport

        async def flush():
            if pending:
                transport.write(b"".join(pending))
                sent = len(pending)
                pending.clear()
                record["sent"] += sent
                self.sent += sent
                await connection.drain()

        try:
            for time_us, line in self.events(cursor, wanted):
                sent_here = record["sent"] + len(pending)
                if drop_after is not None and sent_here == drop_after:
                    await flush()
                    transport.abort()
                    return
                if stall_after is not None and sent_here == stall_after:
                    await flush()
                    await connection.wait_closed()
                    return
                if oversize_after is not None and sent_here == oversize_after:
                    await flush()
                    await connection.send(oversized_message(last_time_us, oversize_bytes))
                    oversize_after = None
                if burst_after is not None and sent_here >= burst_after:
                    if burst_started is None:
                        burst_started = time.monotonic()
                    burst_rate = self.args.burst_rate
                    delay = burst_started + (sent_here - burst_after) / burst_rate - time.monotonic() if burst_rate > 0 else 0
                    if delay > 0:
                        await flush()
                        await asyncio.sleep(delay)
                elif rate > 0:
                    delay = started + sent_here / rate - time.monotonic()
                    if delay > 0:
                        await flush()
                        await asyncio.sleep(delay)
                pending.append(text_frame(line))
                last_time_us = time_us
                if len(pending) >= self.args.batch:
                    await flush()
            await flush()
            if self.args.close_at_end:
                await connection.close()
            else:
                await connection.wait_closed()
        except ConnectionClosed:
            pass

    async def write_status(self):
        path = self.args.status_file
        while True:
            status = {"sent": self.sent, "connections": self.connections, "listening": self.port,
                      "pings": self.pings.pings}
            temporary = path + ".tmp"
            with open(temporary, "w") as out:
                json.dump(status, out)
            os.replace(temporary, path)
            await asyncio.sleep(0.05)

    def tls_context(self):
        """wss:// when --tls-cert and --tls-key are given."""
        if not self.args.tls_cert:
            return None
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.args.tls_cert, self.args.tls_key)
        return context

    async def run(self):
        if self.args.count_pings:  # frame-level logging costs time per frame: only when asked
            frames = logging.getLogger("websockets.server")
            frames.setLevel(logging.DEBUG)
            frames.propagate = False
            frames.addHandler(self.pings)
        async with serve(
            self.handle,
            self.args.host,
            self.args.port,
            ping_interval=None,  # the client pings; server pings would time out a backpressured reader
            max_size=2**20,
            compression=None,
            close_timeout=1,
            write_limit=self.args.write_limit,
            ssl=self.tls_context(),
        ) as server:
            self.port = server.sockets[0].getsockname()[1]
            if self.args.status_file:
                asyncio.get_running_loop().create_task(self.write_status())
            print(f"LISTENING {self.port}", flush=True)
            stop = asyncio.Event()
            for signum in (signal.SIGTERM, signal.SIGINT):
                asyncio.get_running_loop().add_signal_handler(signum, stop.set)
            asyncio.get_running_loop().create_task(exit_with_parent(stop, PARENT))
            await stop.wait()


def wanted_collection(collection, wanted):
    """Jetstream's filter: an exact NSID or a prefix ending in `.*`."""
    if collection in wanted:
        return True
    return any(name.endswith(".*") and collection.startswith(name[:-1]) for name in wanted)


def text_frame(payload):
    """One unmasked, unfragmented WebSocket text frame (RFC 6455 §5.2), as a server sends it."""
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x81, length)
    elif length < 65536:
        header = struct.pack("!BBH", 0x81, 126, length)
    else:
        header = struct.pack("!BBQ", 0x81, 127, length)
    return header + payload


def oversized_message(time_us, size):
    """A Jetstream-shaped commit event padded to `size` bytes."""
    head = '{"did":"did:plc:oversized","time_us":%d,"kind":"commit","commit":{"operation":"create",' \
           '"collection":"app.bsky.feed.post","rkey":"oversized","record":{"text":"' % time_us
    tail = '"}}}'
    return head + "x" * max(0, size - len(head) - len(tail)) + tail


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--file", required=True, help="JSONL file of Jetstream events")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed)")
    parser.add_argument("--rate", type=float, default=0, help="events per second per connection; 0 = as fast as possible")
    parser.add_argument("--burst-after", type=int, help="after N events on a connection, pace at --burst-rate instead of --rate")
    parser.add_argument("--burst-rate", type=float, default=0, help="events per second after --burst-after; 0 = as fast as possible")
    parser.add_argument("--drop-after", type=int)
    parser.add_argument("--stall-after", type=int)
    parser.add_argument("--oversize-after", type=int)
    parser.add_argument("--oversize-bytes", type=int, default=4 * 2**20)
    parser.add_argument("--faults-on-every-connection", action="store_true")
    parser.add_argument("--close-at-end", action="store_true", help="close the connection after the last event")
    parser.add_argument("--write-limit", type=int, default=2**15, help="transport high-water mark in bytes")
    parser.add_argument("--batch", type=int, default=64, help="events written to the socket at once")
    parser.add_argument("--status-file")
    parser.add_argument("--tls-cert", help="PEM certificate: serve wss:// (with --tls-key)")
    parser.add_argument("--tls-key", help="PEM private key of --tls-cert")
    parser.add_argument("--count-pings", action="store_true", help="count client pings in the status file")
    args = parser.parse_args()
    unblock_stop_signals()
    try:
        asyncio.run(Replayer(args).run())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
