#!/usr/bin/env python3
"""Relay firehose frames (`com.atproto.sync.subscribeRepos`) for tests and benchmarks, in plain Python.

A frame is two DAG-CBOR objects back to back: a header {op, t} and a body. This module encodes and
decodes the DAG-CBOR subset frames use (integers, strings, bytes, arrays, maps with sorted keys,
booleans, null, CIDs as tag 42), builds CAR v1 files and CIDv1 (dag-cbor, sha2-256), and turns
Jetstream v1 JSON events into the relay frames that yield them.

Command line:
  relay_frames.py generate --jsonl EVENTS.jsonl --out FRAMES.bin --expected EXPECTED.jsonl
      [--first-seq N] [--ops-per-commit K]
    writes `[u32 LE length][frame]…` and the Jetstream events the frames decode to (the input with
    each record's real CID; `--ops-per-commit` folds up to K consecutive commit events of one
    repository into one commit frame, as real commits with several ops are).
  relay_frames.py check FRAMES.bin[.zst]
    decodes every frame and re-encodes it: exits 1 unless each is byte-identical (the encoder is canonical).
"""

import argparse
import base64
import hashlib
import json
import struct
import subprocess
import sys


class CID:
    """A CID as its binary form (CIDv1: version, codec, multihash)."""

    __slots__ = ("raw",)

    def __init__(self, raw):
        self.raw = bytes(raw)

    @staticmethod
    def for_block(block, codec=0x71):
        return CID(bytes([0x01, codec, 0x12, 0x20]) + hashlib.sha256(block).digest())

    @staticmethod
    def parse(text):
        if not text.startswith("b"):
            raise ValueError(f"not a base32 CID: {text}")
        body = text[1:].upper()
        return CID(base64.b32decode(body + "=" * (-len(body) % 8)))

    def __str__(self):
        return "b" + base64.b32encode(self.raw).decode("ascii").lower().rstrip("=")

    def __eq__(self, other):
        return isinstance(other, CID) and other.raw == self.raw

    def __hash__(self):
        return hash(self.raw)

    def __repr__(self):
        return f"CID({self})"


# ---------------------------------------------------------------- DAG-CBOR

def _head(major, value):
    if value < 24:
        return bytes([major << 5 | value])
    if value < 0x100:
        return bytes([major << 5 | 24, value])
    if value < 0x10000:
        return bytes([major << 5 | 25]) + struct.pack(">H", value)
    if value < 0x100000000:
        return bytes([major << 5 | 26]) + struct.pack(">I", value)
    return bytes([major << 5 | 27]) + struct.pack(">Q", value)


def encode(value):
    """Canonical DAG-CBOR of a Python value (dict keys sorted by length, then bytes)."""
    out = bytearray()
    _encode(value, out)
    return bytes(out)


def _encode(value, out):
    if value is None:
        out.append(0xF6)
    elif value is True:
        out.append(0xF5)
    elif value is False:
        out.append(0xF4)
    elif isinstance(value, int):
        out += _head(0, value) if value >= 0 else _head(1, -1 - value)
    elif isinstance(value, str):
        raw = value.encode("utf-8")
        out += _head(3, len(raw)) + raw
    elif isinstance(value, (bytes, bytearray)):
        out += _head(2, len(value)) + bytes(value)
    elif isinstance(value, CID):
        payload = b"\x00" + value.raw
        out += _head(6, 42) + _head(2, len(payload)) + payload
    elif isinstance(value, (list, tuple)):
        out += _head(4, len(value))
        for item in value:
            _encode(item, out)
    elif isinstance(value, dict):
        keys = sorted(value, key=lambda key: (len(key.encode("utf-8")), key.encode("utf-8")))
        out += _head(5, len(keys))
        for key in keys:
            _encode(key, out)
            _encode(value[key], out)
    else:
        raise TypeError(f"not encodable as DAG-CBOR: {type(value).__name__}")


def decode(data, offset=0):
    """(value, offset after it) of the DAG-CBOR object at `offset`. Raises ValueError on anything malformed."""
    if offset >= len(data):
        raise ValueError("truncated")
    initial = data[offset]
    major, info = initial >> 5, initial & 31
    offset += 1
    if info < 24:
        argument = info
    elif info in (24, 25, 26, 27):
        size = 1 << (info - 24)
        if offset + size > len(data):
            raise ValueError("truncated")
        argument = int.from_bytes(data[offset:offset + size], "big")
        offset += size
    else:
        raise ValueError(f"indefinite or reserved length at {offset - 1}")
    if major == 0:
        return argument, offset
    if major == 1:
        return -1 - argument, offset
    if major in (2, 3):
        if offset + argument > len(data):
            raise ValueError("truncated")
        raw = bytes(data[offset:offset + argument])
        return (raw if major == 2 else raw.decode("utf-8")), offset + argument
    if major == 4:
        items = []
        for _ in range(argument):
            item, offset = decode(data, offset)
            items.append(item)
        return items, offset
    if major == 5:
        result = {}
        for _ in range(argument):
            key, offset = decode(data, offset)
            if not isinstance(key, str):
                raise ValueError("map key not a string")
            result[key], offset = decode(data, offset)
        return result, offset
    if major == 6:
        if argument != 42:
            raise ValueError(f"tag {argument}")
        payload, offset = decode(data, offset)
        if not isinstance(payload, bytes) or not payload.startswith(b"\x00"):
            raise ValueError("bad CID")
        return CID(payload[1:]), offset
    if info == 20:
        return False, offset
    if info == 21:
        return True, offset
    if info == 22:
        return None, offset
    raise ValueError(f"unsupported simple value {info}")


def decode_frame(frame):
    """(header, body) of a frame; raises ValueError when it is not two DAG-CBOR maps exactly."""
    header, offset = decode(frame)
    body, end = decode(frame, offset)
    if end != len(frame) or not isinstance(header, dict) or not isinstance(body, dict):
        raise ValueError("not a frame")
    return header, body


def frame_seq(frame):
    """The frame's seq, or None (info and error frames, garbage)."""
    try:
        header, body = decode_frame(frame)
    except (ValueError, UnicodeDecodeError):
        return None
    seq = body.get("seq") if header.get("op") == 1 else None
    return seq if isinstance(seq, int) else None


# ---------------------------------------------------------------- frames, CAR

def varint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def car(root, blocks):
    """A CAR v1 file with one root and (cid, bytes) blocks."""
    header = encode({"version": 1, "roots": [root]})
    out = bytearray(varint(len(header)) + header)
    for cid, block in blocks:
        out += varint(len(cid.raw) + len(block)) + cid.raw + block
    return bytes(out)


def frame(kind, body):
    return encode({"op": 1, "t": kind}) + encode(body)


def error_frame(name, message):
    return encode({"op": -1}) + encode({"error": name, "message": message})


def info_frame(name, message):
    return frame("#info", {"name": name, "message": message})


def read_frames(path):
    """The frames of a `[u32 LE length][frame]…` file (zstd-compressed when it ends in .zst)."""
    if path.endswith(".zst"):
        data = subprocess.run(["zstd", "-d", "-c", "-q", path], check=True, capture_output=True).stdout
    else:
        with open(path, "rb") as handle:
            data = handle.read()
    frames, offset = [], 0
    while offset + 4 <= len(data):
        (length,) = struct.unpack_from("<I", data, offset)
        frames.append(data[offset + 4:offset + 4 + length])
        offset += 4 + length
    return frames


def write_frames(path, frames):
    with open(path, "wb") as handle:
        for item in frames:
            handle.write(struct.pack("<I", len(item)) + item)


# ---------------------------------------------------------------- Jetstream JSON → frames

def ipld_from_json(value):
    """The atproto data model from its JSON form: {"$link"} → CID, {"$bytes"} → bytes."""
    if isinstance(value, dict):
        if len(value) == 1 and "$link" in value:
            return CID.parse(value["$link"])
        if len(value) == 1 and "$bytes" in value:
            raw = value["$bytes"]
            return base64.b64decode(raw + "=" * (-len(raw) % 4))
        return {key: ipld_from_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [ipld_from_json(item) for item in value]
    if isinstance(value, float):
        if value != int(value):
            raise ValueError("floats are not in the atproto data model")
        return int(value)
    return value


def iso_time(time_us):
    seconds, micros = divmod(time_us, 1_000_000)
    import time as _time
    return _time.strftime("%Y-%m-%dT%H:%M:%S", _time.gmtime(seconds)) + ".%03dZ" % (micros // 1000)


class FrameBuilder:
    """Turns Jetstream events into relay frames with increasing seq numbers."""

    def __init__(self, first_seq=1):
        self.seq = first_seq - 1
        self.revisions = {}

    def next_rev(self, did):
        # TIDs sort as strings; a counter in base32-sortable form keeps revs increasing per repository.
        count = self.revisions.get(did, 0) + 1
        self.revisions[did] = count
        alphabet = "234567abcdefghijklmnopqrstuvwxyz"
        text = ""
        value = 1_700_000_000_000_000 * 1024 + count
        for _ in range(13):
            text = alphabet[value & 31] + text
            value >>= 5
        return text

    def commit(self, events):
        """One #commit frame for commit events of one repository; returns (frame, events with real CIDs)."""
        did = events[0]["did"]
        time_us = events[-1]["time_us"]
        ops, blocks, expected = [], [], []
        rev = self.next_rev(did)
        for event in events:
            commit = dict(event["commit"])
            path = f'{commit["collection"]}/{commit["rkey"]}'
            if commit["operation"] == "delete":
                ops.append({"action": "delete", "path": path, "cid": None, "prev": CID.for_block(encode(path))})
            else:
                block = encode(ipld_from_json(commit["record"]))
                cid = CID.for_block(block)
                blocks.append((cid, block))
                ops.append({"action": commit["operation"], "path": path, "cid": cid})
                commit["cid"] = str(cid)
            commit["rev"] = rev
            expected.append(dict(event, commit=commit))
        self.seq += 1
        # The repository's tree as one Merkle search tree node holding this commit's records (a
        # consumer looks each op's path up in it; it checks no layering, a real tree is deeper).
        entries, previous = [], b""
        for op in sorted((op for op in ops if op["cid"] is not None), key=lambda op: op["path"].encode("utf-8")):
            key = op["path"].encode("utf-8")
            shared = 0
            while shared < min(len(key), len(previous)) and key[shared] == previous[shared]:
                shared += 1
            entries.append({"k": key[shared:], "p": shared, "t": None, "v": op["cid"]})
            previous = key
        node = encode({"e": entries, "l": None})
        data_root = CID.for_block(node)
        signed = encode({"did": did, "rev": rev, "sig": b"\x00" * 64, "data": data_root, "prev": None, "version": 3})
        commit_cid = CID.for_block(signed)
        body = {
            "seq": self.seq, "rebase": False, "tooBig": False, "repo": did, "commit": commit_cid, "rev": rev,
            "since": None, "blocks": car(commit_cid, [(commit_cid, signed), (data_root, node)] + blocks), "ops": ops,
            "blobs": [], "time": iso_time(time_us), "prevData": None,
        }
        return frame("#commit", body), expected

    def identity(self, event):
        self.seq += 1
        body = {"seq": self.seq, "did": event["did"], "time": iso_time(event["time_us"])}
        handle = (event.get("identity") or {}).get("handle")
        if handle is not None:
            body["handle"] = handle
        return frame("#identity", body), [event]

    def account(self, event):
        self.seq += 1
        account = event.get("account") or {}
        body = {"seq": self.seq, "did": event["did"], "time": iso_time(event["time_us"]), "active": bool(account.get("active", True))}
        if account.get("status") is not None:
            body["status"] = account["status"]
        return frame("#account", body), [event]


def generate(events, first_seq=1, ops_per_commit=1):
    """(frames, expected events) for a list of Jetstream events, in order."""
    builder = FrameBuilder(first_seq)
    frames, expected, group = [], [], []

    def flush():
        if group:
            built, events_out = builder.commit(group)
            frames.append(built)
            expected.extend(events_out)
            group.clear()

    for event in events:
        kind = event.get("kind")
        if kind == "commit":
            path = (event["commit"]["collection"], event["commit"]["rkey"])
            if group and (group[0]["did"] != event["did"] or len(group) >= ops_per_commit
                          or path in {(e["commit"]["collection"], e["commit"]["rkey"]) for e in group}):
                flush()  # one op per path and commit, as in a real repository
            group.append(event)
            continue
        flush()
        if kind == "identity":
            built, out = builder.identity(event)
        elif kind == "account":
            built, out = builder.account(event)
        else:
            continue
        frames.append(built)
        expected.extend(out)
    flush()
    return frames, expected


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    gen = commands.add_parser("generate")
    gen.add_argument("--jsonl", required=True)
    gen.add_argument("--out", required=True)
    gen.add_argument("--expected", required=True)
    gen.add_argument("--first-seq", type=int, default=1)
    gen.add_argument("--ops-per-commit", type=int, default=1)
    check = commands.add_parser("check")
    check.add_argument("frames")
    args = parser.parse_args()
    if args.command == "generate":
        with open(args.jsonl, "rb") as handle:
            events = [json.loads(line) for line in handle if line.strip()]
        frames, expected = generate(events, args.first_seq, args.ops_per_commit)
        write_frames(args.out, frames)
        with open(args.expected, "w", encoding="utf-8") as out:
            for event in expected:
                out.write(json.dumps(event, separators=(",", ":"), ensure_ascii=False) + "\n")
        print(f"{len(frames)} frames, {len(expected)} events, seq {args.first_seq}..{args.first_seq + len(frames) - 1}")
        return 0
    failures = 0
    for index, item in enumerate(read_frames(args.frames)):
        header, body = decode_frame(item)
        if encode(header) + encode(body) != item:
            failures += 1
            print(f"frame {index}: re-encoding differs", file=sys.stderr)
    print(f"checked, {failures} differ")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
