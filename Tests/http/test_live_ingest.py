"""`appview-ingest run` through the LIVE source: JETSTREAM_URL points at the local Jetstream replayer
(Tests/replayer/jetstream_replayer.py) on loopback. Same database as `import`; kill -9 at random
points with resume at the committed cursor; a real PostgreSQL restart mid-stream (a throwaway
cluster of the test's own); a 10x burst under a memory bound with backpressure; a Jetstream that
is not there at start. Each test uses databases of its own.
"""
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import pytest

import fastcgi_client
from appview_env import REPO_ROOT, ApiInstance, psql
from test_ingest_run import bench_binary, differences, dump, fresh_database, ingest_binary, ingest_env, log_of

REPLAYER = os.path.join(REPO_ROOT, "Tests", "replayer", "jetstream_replayer.py")
CORPUS = os.path.join(REPO_ROOT, "Tests", "Fixtures", "firehose-2026-07-04", "expected_v1.jsonl")
SOURCE = "jetstream"


class Replayer:
    """The local Jetstream serving `path`, on `port` (0: a free one), with its status file."""

    def __init__(self, path, port=0, *options):
        self.directory = tempfile.mkdtemp(prefix="appview-live-replayer-")
        self.status_path = os.path.join(self.directory, "status.json")
        # stderr to a file: a pipe nobody reads would block the replayer once full.
        self.log_path = os.path.join(self.directory, "replayer.log")
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, REPLAYER, "--file", path, "--port", str(port), "--status-file", self.status_path, *options],
                stdout=subprocess.PIPE, stderr=log, text=True)
        line = self.process.stdout.readline()
        assert line.startswith("LISTENING "), f"replayer did not start: {line!r} {self.log()}"
        self.port = int(line.split()[1])
        self.url = f"ws://127.0.0.1:{self.port}/subscribe"

    def status(self):
        deadline = time.monotonic() + 5
        while True:
            try:
                with open(self.status_path, encoding="utf-8") as handle:
                    return json.load(handle)
            except (OSError, ValueError):
                assert time.monotonic() < deadline, "the replayer wrote no status file"
                time.sleep(0.05)

    def log(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as handle:
            return handle.read()[-3000:]

    def close(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


def live_env(url, jetstream_url, extra=None):
    env = ingest_env(url, {"JETSTREAM_URL": jetstream_url, "JETSTREAM_RECONNECT_MIN_MS": "50",
                           "JETSTREAM_RECONNECT_MAX_MS": "500", "DB_CONNECT_TIMEOUT_S": "2"})
    env.update(extra or {})
    return env


def start_live(url, jetstream_url, extra=None):
    log = tempfile.NamedTemporaryFile(prefix="appview-ingest-live-", suffix=".log", delete=False)
    process = subprocess.Popen([ingest_binary(), "run"], env=live_env(url, jetstream_url, extra),
                               stdout=log, stderr=subprocess.STDOUT)
    process.log_path = log.name
    return process


def stored_cursor(url):
    value = psql(f"SELECT cursor FROM ingest_cursor WHERE source = '{SOURCE}'", url)
    return int(value) if value else None


def wait_for_cursor(url, target, process, timeout=120):
    """Until the committed cursor reaches `target` (the live source never ends by itself)."""
    deadline = time.monotonic() + timeout
    while (stored_cursor(url) or 0) < target:
        assert process.poll() is None, "the ingest exited:\n" + log_of(process)[-3000:]
        assert time.monotonic() < deadline, f"cursor {stored_cursor(url)} < {target} after {timeout} s:\n" + log_of(process)[-3000:]
        time.sleep(0.1)


def wait_for_connection(replayer, count, process, timeout=30):
    """Until the replayer has seen `count` connections (this process has subscribed)."""
    deadline = time.monotonic() + timeout
    while len(replayer.status()["connections"]) < count:
        assert process.poll() is None, "the ingest exited:\n" + log_of(process)[-3000:]
        assert time.monotonic() < deadline, "no connection to the replayer:\n" + log_of(process)[-3000:]
        time.sleep(0.05)


def stop(process):
    """SIGTERM: drains, commits and exits 0."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    code = process.wait(timeout=60)
    assert code == 0, log_of(process)[-3000:]


def snapshot(url):
    text = psql("SELECT snapshot::text FROM ingest_metrics WHERE role IN ('leader', 'stopped') ORDER BY updated_at DESC LIMIT 1", url)
    return json.loads(text) if text else None


def vm_hwm_kilobytes(pid):
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM in /proc status")


def free_port():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


def import_reference(path, name):
    """`path` through `import` under the live source's cursor name: the database the live path must give."""
    url = fresh_database(name)
    result = subprocess.run([ingest_binary(), "import", path, "--cursor-source", SOURCE], env=ingest_env(url),
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return url


@pytest.fixture(scope="module")
def live_stream():
    directory = tempfile.mkdtemp(prefix="appview-live-")
    path = os.path.join(directory, "stream.jsonl")
    subprocess.run([bench_binary(), "ingest-stream", "--events", "3000", "--actors", "150", "--seed", "11", "--out", path],
                   check=True, capture_output=True, timeout=120)
    yield path
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def live_reference(live_stream):
    url = import_reference(live_stream, "live_reference")
    return {"tables": dump(url), "cursor": stored_cursor(url)}


@pytest.mark.parametrize("which", ["corpus", "generated"])
def test_live_source_gives_the_import_database(which, live_stream, live_reference):
    if which == "corpus":
        expected_url = import_reference(CORPUS, "live_same_import")
        path, expected = CORPUS, {"tables": dump(expected_url), "cursor": stored_cursor(expected_url)}
    else:
        path, expected = live_stream, live_reference
    url = fresh_database("live_same_run")
    replayer = Replayer(path)
    process = start_live(url, replayer.url)
    try:
        wait_for_cursor(url, expected["cursor"], process)
        stop(process)
        connections = replayer.status()["connections"]
    finally:
        if process.poll() is None:
            process.kill()
        replayer.close()
    # One connection from the start (nothing committed yet: no cursor), filtered to what we index.
    assert connections[0]["cursor"] is None and "app.bsky.feed.like" in connections[0]["wantedCollections"]
    assert int(psql("SELECT count(*) FROM likes", url)) > 50
    assert differences(dump(url), expected["tables"]) == []


def test_live_kill_9_at_random_points_resumes_at_the_committed_cursor_and_gives_the_uninterrupted_tables(live_stream, live_reference):
    url = fresh_database("live_killed")
    # Paced so that the replay outlasts several kills at this debug build's speed.
    replayer = Replayer(live_stream, 0, "--rate", "300")
    rng = random.Random(20261123)
    # Rewind 0 makes the resume point exactly the committed cursor (checked below); one round and
    # the final run keep the default 5 s rewind, which re-applies everything before the cursor.
    rewinds = [0, 0, 0, 5, 0, 0, 5]
    cursors_at_kills = []
    try:
        for round_number, rewind in enumerate(rewinds[:-1]):
            process = start_live(url, replayer.url, {"JETSTREAM_RESUME_REWIND_S": str(rewind)})
            wait_for_connection(replayer, round_number + 1, process)
            time.sleep(rng.uniform(0.3, 1.5))
            assert process.poll() is None, log_of(process)[-3000:]
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
            cursors_at_kills.append(stored_cursor(url))
        process = start_live(url, replayer.url, {"JETSTREAM_RESUME_REWIND_S": str(rewinds[-1])})
        wait_for_connection(replayer, len(rewinds), process)
        wait_for_cursor(url, live_reference["cursor"], process)
        stop(process)
        connections = replayer.status()["connections"]
    finally:
        if process.poll() is None:
            process.kill()
        replayer.close()
    assert sum(1 for cursor in cursors_at_kills if cursor) >= 3, f"cursors at the kills: {cursors_at_kills}: the test proved nothing"
    assert cursors_at_kills[-1] < live_reference["cursor"], "the stream ended before the last kill: the test proved less"
    # Each restart subscribed at the cursor the killed process had committed, minus its rewind.
    assert len(connections) == len(rewinds), connections
    expected = [None] + [None if cursor is None else cursor - rewind * 1_000_000
                         for cursor, rewind in zip(cursors_at_kills, rewinds[1:])]
    assert [connection["cursor"] for connection in connections] == expected, cursors_at_kills
    assert differences(dump(url), live_reference["tables"]) == []


def test_live_postgresql_restarted_mid_stream_pauses_reconnects_and_loses_nothing(live_stream, live_reference):
    state = tempfile.mkdtemp(prefix="appview-live-pg-")
    cluster = os.path.join(REPO_ROOT, "scripts", "pg-cluster.sh")
    port = str(free_port())
    url = subprocess.run([cluster, "start", state, port, "--fast"], check=True, capture_output=True, text=True,
                         timeout=120).stdout.strip()
    replayer = process = None
    try:
        subprocess.run([ingest_binary(), "migrate"], env=ingest_env(url), check=True, capture_output=True, timeout=60)
        replayer = Replayer(live_stream, 0, "--rate", "300")
        process = start_live(url, replayer.url, {"INGEST_BATCH_SIZE": "20", "INGEST_QUEUE_CAPACITY": "40"})
        wait_for_cursor(url, 1, process, timeout=60)
        subprocess.run([cluster, "stop", state], check=True, capture_output=True, timeout=120)
        time.sleep(3)
        assert process.poll() is None, "the ingest died while PostgreSQL was down:\n" + log_of(process)[-3000:]
        sent_while_down = replayer.status()["sent"]
        subprocess.run([cluster, "start", state, port, "--fast"], check=True, capture_output=True, timeout=120)
        before = stored_cursor(url)
        assert before < live_reference["cursor"], "the stream ended before the restart: the test proved nothing"
        wait_for_cursor(url, live_reference["cursor"], process)
        stop(process)
        tables = dump(url)
        log = log_of(process)
    finally:
        if process is not None and process.poll() is None:
            process.kill()
        if replayer is not None:
            replayer.close()
        subprocess.run([cluster, "stop", state], capture_output=True, timeout=120)
        shutil.rmtree(state, ignore_errors=True)
    assert sent_while_down < 3000
    # The leader lock's session died with the server: drained, stood by, led again, resumed.
    assert "leadership lost: standing by again" in log and log.count("leading source") >= 2
    assert differences(tables, live_reference["tables"]) == []


def test_live_burst_ten_times_the_rate_stays_under_200_mb_backpressures_and_drops_nothing(live_stream, live_reference):
    url = fresh_database("live_burst")
    knobs = {"JETSTREAM_BUFFER_CAPACITY": "64", "INGEST_PARTITIONS": "2", "INGEST_QUEUE_CAPACITY": "40",
             "INGEST_BATCH_SIZE": "20", "MAX_CONCURRENT_OPS": "1", "INGEST_METRICS_INTERVAL_MS": "200"}
    # Everything between the socket and a commit: the source's buffer, the partition queues, the
    # batch each partition is filling, and the event the reader holds.
    capacity = 64 + 2 * (40 + 20) + 1
    normal, burst, burst_after = 300, 3000, 300
    replayer = Replayer(live_stream, 0, "--rate", str(normal), "--burst-after", str(burst_after), "--burst-rate", str(burst))
    process = start_live(url, replayer.url, knobs)
    samples = []
    try:
        deadline = time.monotonic() + 120
        while (stored_cursor(url) or 0) < live_reference["cursor"]:
            assert process.poll() is None, log_of(process)[-3000:]
            assert time.monotonic() < deadline, "not all committed within 120 s:\n" + log_of(process)[-3000:]
            current = snapshot(url)
            sent = replayer.status()["sent"]
            if current and "jetstream" in current:
                samples.append((time.monotonic(), sent, current))
            time.sleep(0.1)
        peak_kilobytes = vm_hwm_kilobytes(process.pid)
        stop(process)
        final = snapshot(url)
    finally:
        if process.poll() is None:
            process.kill()
        replayer.close()
    assert samples, "no metrics snapshot with the source's statistics"
    # In the process: never more read from the socket than the buffers hold beyond what is committed.
    ahead = [s["jetstream"]["messages"] - s["eventsApplied"] for _, _, s in samples]
    assert max(ahead) <= capacity, f"read ahead of commits by {max(ahead)} > {capacity}"
    # The reader stopped reading: the source's buffer filled and its reader waited for the pipeline
    # while the replayer had more to send. (What the replayer counts as sent also includes the
    # kernel's socket buffers, a few MB on loopback: more than this whole stream.)
    assert final["jetstream"]["bufferMaximumDepth"] == 64, final["jetstream"]
    assert any(s["jetstream"]["backpressured"] or s["jetstream"]["bufferDepth"] == 64 for _, _, s in samples)
    assert peak_kilobytes <= 200 * 1024, f"peak resident memory {peak_kilobytes / 1024:.0f} MB"
    # Nothing dropped: every event sent was received, applied or counted, and the tables are import's.
    assert final["jetstream"]["messages"] == final["eventsReceived"] == 3000 == sum(1 for _ in open(live_stream))
    assert final["eventsApplied"] + sum(final["ignored"].values()) + sum(final["errors"].values()) == 3000
    assert final["jetstream"]["reconnects"] == 0
    assert differences(dump(url), live_reference["tables"]) == []


def test_live_unreachable_jetstream_at_start_is_retried_with_backoff_and_recovers(live_stream, live_reference):
    url = fresh_database("live_unreachable")
    port = free_port()
    process = start_live(url, f"ws://127.0.0.1:{port}/subscribe",
                         {"JETSTREAM_RECONNECT_MIN_MS": "100", "JETSTREAM_RECONNECT_MAX_MS": "800"})
    api = ApiInstance(url, threads=2)
    replayer = None
    try:
        time.sleep(3)
        assert process.poll() is None, "run gave up on an unreachable Jetstream:\n" + log_of(process)[-3000:]
        response = fastcgi_client.request(api.socket_path, "/api/metrics/event-processor")
        assert response.status == 200, response.body
        down = json.loads(response.body)["jetstream"]
        assert down["connects"] == 0 and down["connected"] is False
        # Retried, with backoff: a hot loop would have made hundreds of attempts in 3 s.
        assert 2 <= down["connectFailures"] <= 40, down
        assert down["reconnects"] >= down["connectFailures"] - 1
        replayer = Replayer(live_stream, port)
        wait_for_cursor(url, live_reference["cursor"], process, timeout=120)
        time.sleep(0.6)  # one more snapshot
        metrics = json.loads(fastcgi_client.request(api.socket_path, "/api/metrics/event-processor").body)
        stop(process)
    finally:
        if process.poll() is None:
            process.kill()
        api.close()
        if replayer is not None:
            replayer.close()
    source = metrics["jetstream"]
    assert source["connected"] is True and source["connects"] == 1, source
    assert source["connectFailures"] >= down["connectFailures"] and source["reconnects"] >= down["reconnects"]
    assert source["messages"] == 3000 and source["lastEventTimeUs"] == live_reference["cursor"]
    assert source["lagSeconds"] > 0 and metrics["lagSeconds"] > 0
    assert differences(dump(url), live_reference["tables"]) == []
