#!/usr/bin/env python3
"""A local relay for tests and benchmarks: serves relay frames (`com.atproto.sync.subscribeRepos`)
from a `[u32 LE length][frame]…` file (zstd-compressed when it ends in .zst, as the corpus's
frames.bin.zst) on ws://HOST:PORT/xrpc/com.atproto.sync.subscribeRepos, one binary message per frame.

Honours `cursor` as a relay does: only frames with seq > cursor (frames without a seq — #info,
errors — always pass); a cursor beyond the newest seq gets a FutureCursor error frame and a close.
Every send awaits the transport's drain, so a consumer that stops reading stops the replayer
(TCP backpressure): the `sent` count in the status file stops growing.

Test controls (each applies to the first connection only, unless --faults-on-every-connection;
N counts the frames sent on that connection):
  --drop-after N         close the TCP connection abruptly (no close frame) after N frames
  --stall-after N        stop sending after N frames but keep the connection open
  --error-after N        send an error frame (--error-name, default ConsumerTooSlow), then close
  --info-after N         send an #info frame (--info-name, default OutdatedCursor), then go on
  --repeat-after N       send frame N-1 again (a repeated, out-of-order seq), then go on
  --garbage-after N      send a binary message that is not a frame, then go on
  --text-after N         send a text message (relays send binary only), then go on
The same controls may be given as query parameters (dropAfter, stallAfter, errorAfter, infoAfter,
repeatAfter, garbageAfter, textAfter), which then apply to that connection.

Status: with --status-file, a JSON object {"sent", "connections": [{"cursor", "sent", "lastSeq"}],
"listening"} is rewritten (atomically) every 50 ms. The chosen port is printed on stdout as
`LISTENING <port>` once the server accepts connections.
"""

import argparse
import asyncio
import json
import os
import signal
import struct
import sys
import time
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import relay_frames  # noqa: E402
from replayer_process import PARENT, exit_with_parent, unblock_stop_signals  # noqa: E402

PATH = "/xrpc/com.atproto.sync.subscribeRepos"
CONTROLS = {"dropAfter": "drop_after", "stallAfter": "stall_after", "errorAfter": "error_after", "infoAfter": "info_after",
            "repeatAfter": "repeat_after", "garbageAfter": "garbage_after", "textAfter": "text_after"}


class Replayer:
    def __init__(self, args):
        self.args = args
        self.frames = relay_frames.read_frames(args.file)
        self.seqs = [relay_frames.frame_seq(item) for item in self.frames]
        self.newest = max((seq for seq in self.seqs if seq is not None), default=0)
        self.sent = 0
        self.connections = []
        self.port = None

    def controls(self, query, index):
        result = {}
        for name, attribute in CONTROLS.items():
            if name in query:
                result[attribute] = int(query[name][0])
            elif index == 0 or self.args.faults_on_every_connection:
                result[attribute] = getattr(self.args, attribute)
            else:
                result[attribute] = None
        return result

    async def handle(self, connection):
        split = urlsplit(connection.request.path)
        if split.path != PATH:
            await connection.close(1008, "unknown path")
            return
        query = parse_qs(split.query)
        cursor = int(query["cursor"][0]) if "cursor" in query else None
        index = len(self.connections)
        record = {"cursor": cursor, "sent": 0, "lastSeq": None}
        self.connections.append(record)
        controls = self.controls(query, index)
        transport = connection.transport
        pending = []

        async def flush():
            if pending:
                transport.write(b"".join(pending))
                record["sent"] += len(pending)
                self.sent += len(pending)
                pending.clear()
                await connection.drain()

        try:
            if cursor is not None and cursor > self.newest:
                await connection.send(relay_frames.error_frame("FutureCursor", "Cursor in the future."))
                await connection.close()
                return
            started = time.monotonic()
            previous = None
            for item, seq in zip(self.frames, self.seqs):
                if cursor is not None and seq is not None and seq <= cursor:
                    continue
                count = record["sent"] + len(pending)
                if controls["drop_after"] == count:
                    await flush()
                    transport.abort()
                    return
                if controls["stall_after"] == count:
                    await flush()
                    await connection.wait_closed()
                    return
                if controls["error_after"] == count:
                    pending.append(binary_frame(relay_frames.error_frame(self.args.error_name, "replayer: " + self.args.error_name)))
                    await flush()
                    await connection.close()
                    return
                if controls["info_after"] == count:
                    pending.append(binary_frame(relay_frames.info_frame(self.args.info_name, "replayer: " + self.args.info_name)))
                    controls["info_after"] = None
                    await flush()
                if controls["repeat_after"] == count and previous is not None:
                    pending.append(binary_frame(previous))
                    controls["repeat_after"] = None
                    await flush()
                if controls["garbage_after"] == count:
                    pending.append(binary_frame(b"\xa2\x61t\x67#commit\xff not a frame"))
                    controls["garbage_after"] = None
                    await flush()
                if controls["text_after"] == count:
                    await flush()
                    await connection.send('{"not":"binary"}')
                    controls["text_after"] = None
                if self.args.rate > 0:
                    delay = started + count / self.args.rate - time.monotonic()
                    if delay > 0:
                        await flush()
                        await asyncio.sleep(delay)
                pending.append(binary_frame(item))
                previous = item
                if seq is not None:
                    record["lastSeq"] = seq
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
            status = {"sent": self.sent, "connections": self.connections, "listening": self.port, "newestSeq": self.newest}
            temporary = path + ".tmp"
            with open(temporary, "w") as out:
                json.dump(status, out)
            os.replace(temporary, path)
            await asyncio.sleep(0.05)

    async def run(self):
        async with serve(
            self.handle,
            self.args.host,
            self.args.port,
            ping_interval=None,  # the client pings; server pings would time out a backpressured reader
            max_size=2**20,
            compression=None,
            close_timeout=1,
            write_limit=self.args.write_limit,
        ) as server:
            self.port = server.sockets[0].getsockname()[1]
            if self.args.status_file:
                asyncio.get_running_loop().create_task(self.write_status())
            print(f"LISTENING {self.port}", flush=True)
            stop = asyncio.Event()
            for signum in (signal.SIGTERM, signal.SIGINT):
                asyncio.get_running_loop().add_signal_handler(signum, stop.set)
            asyncio.get_running_loop().create_task(exit_with_parent(stop, self.args.parent))
            await stop.wait()


def binary_frame(payload):
    """One unmasked, unfragmented WebSocket binary frame (RFC 6455 §5.2), as a server sends it."""
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x82, length)
    elif length < 65536:
        header = struct.pack("!BBH", 0x82, 126, length)
    else:
        header = struct.pack("!BBQ", 0x82, 127, length)
    return header + payload


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--file", required=True, help="[u32 LE length][frame]… file, .zst allowed")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed)")
    parser.add_argument("--rate", type=float, default=0, help="frames per second per connection; 0 = as fast as possible")
    for option in CONTROLS.values():
        parser.add_argument("--" + option.replace("_", "-"), type=int)
    parser.add_argument("--error-name", default="ConsumerTooSlow")
    parser.add_argument("--info-name", default="OutdatedCursor")
    parser.add_argument("--faults-on-every-connection", action="store_true")
    parser.add_argument("--close-at-end", action="store_true", help="close the connection after the last frame")
    parser.add_argument("--write-limit", type=int, default=2**15, help="transport high-water mark in bytes")
    parser.add_argument("--batch", type=int, default=32, help="frames written to the socket at once")
    parser.add_argument("--status-file")
    args = parser.parse_args()
    args.parent = PARENT
    unblock_stop_signals()
    try:
        asyncio.run(Replayer(args).run())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
