"""`appview-ingest run --source relay` against the local relay replayer (Tests/replayer/relay_replayer.py)
on loopback: the corpus's real frames and generated streams give the database `import` gives from the
same events; kill -9 at random points resumes at the committed seq; protocol faults (error frame,
#info, repeated seq, garbage) are counted and lose nothing; bad RELAY_* knobs exit 2.

The relay path stamps events with its own receive clock (as Jetstream does), so the comparisons leave
out the columns derived from `time_us`: every `indexed_at`, `sort_at`, `commit_time_us`,
`identity_time_us`, `account_time_us`. Everything else must be identical row for row.
"""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

import fastcgi_client
from appview_env import REPO_ROOT, ApiInstance, psql
from test_ingest_run import bench_binary, fresh_database, ingest_binary, ingest_env, log_of

REPLAYER = os.path.join(REPO_ROOT, "Tests", "replayer", "relay_replayer.py")
FRAMES_TOOL = os.path.join(REPO_ROOT, "Tests", "replayer", "relay_frames.py")
FIXTURES = os.path.join(REPO_ROOT, "Tests", "Fixtures", "firehose-2026-07-04")
CORPUS_FRAMES = os.path.join(FIXTURES, "frames.bin.zst")
CORPUS_EVENTS = os.path.join(FIXTURES, "expected_v1.jsonl")
CORPUS_LAST_SEQ = 31527015471
SOURCE = "relay"

TIME_COLUMNS = "'indexed_at', 'sort_at', 'commit_time_us', 'identity_time_us', 'account_time_us'"
TABLES = {
    table: f"SELECT (to_jsonb(t) - ARRAY[{TIME_COLUMNS}])::text FROM {table} t {where}"
    for table, where in [
        ("actors", ""), ("posts", ""), ("likes", ""), ("reposts", ""), ("follows", ""), ("blocks", ""),
        ("feed_items", ""), ("notifications", ""),
        ("post_aggregates", "WHERE like_count + repost_count + reply_count + quote_count <> 0"),
        ("actor_aggregates", "WHERE followers_count + follows_count + posts_count <> 0"),
    ]
}


def dump(url):
    return {table: sorted(psql(sql, url).splitlines()) for table, sql in TABLES.items()}


def differences(actual, expected):
    found = []
    for table in TABLES:
        if actual[table] != expected[table]:
            extra = sorted(set(actual[table]) - set(expected[table]))[:2]
            missing = sorted(set(expected[table]) - set(actual[table]))[:2]
            found.append(f"{table}: {len(actual[table])} rows vs {len(expected[table])}; extra {extra}; missing {missing}")
    return found


class Replayer:
    """The local relay serving a frames file, on a free port, with its status file."""

    def __init__(self, path, *options):
        self.directory = tempfile.mkdtemp(prefix="appview-relay-replayer-")
        self.status_path = os.path.join(self.directory, "status.json")
        self.log_path = os.path.join(self.directory, "replayer.log")
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, REPLAYER, "--file", path, "--port", "0", "--status-file", self.status_path, *options],
                stdout=subprocess.PIPE, stderr=log, text=True)
        line = self.process.stdout.readline()
        assert line.startswith("LISTENING "), f"replayer did not start: {line!r}"
        self.url = f"ws://127.0.0.1:{int(line.split()[1])}"

    def status(self):
        deadline = time.monotonic() + 5
        while True:
            try:
                with open(self.status_path, encoding="utf-8") as handle:
                    return json.load(handle)
            except (OSError, ValueError):
                assert time.monotonic() < deadline, "the replayer wrote no status file"
                time.sleep(0.05)

    def close(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


def relay_env(url, relay_url, extra=None):
    env = ingest_env(url, {"RELAY_URL": relay_url, "RELAY_RECONNECT_MIN_MS": "50", "RELAY_RECONNECT_MAX_MS": "500",
                           "DB_CONNECT_TIMEOUT_S": "2", "USER_CREATION": "off"})
    env.update(extra or {})
    return env


def start_relay(url, relay_url, extra=None):
    log = tempfile.NamedTemporaryFile(prefix="appview-ingest-relay-", suffix=".log", delete=False)
    process = subprocess.Popen([ingest_binary(), "run", "--source", "relay"], env=relay_env(url, relay_url, extra),
                               stdout=log, stderr=subprocess.STDOUT)
    process.log_path = log.name
    return process


def stored_cursor(url, source=SOURCE):
    value = psql(f"SELECT cursor FROM ingest_cursor WHERE source = '{source}'", url)
    return int(value) if value else None


def wait_for_cursor(url, target, process, timeout=120):
    deadline = time.monotonic() + timeout
    while (stored_cursor(url) or 0) < target:
        assert process.poll() is None, "the ingest exited:\n" + log_of(process)[-3000:]
        assert time.monotonic() < deadline, f"cursor {stored_cursor(url)} < {target} after {timeout} s:\n" + log_of(process)[-3000:]
        time.sleep(0.1)


def wait_for_connection(replayer, count, process, timeout=30):
    deadline = time.monotonic() + timeout
    while len(replayer.status()["connections"]) < count:
        assert process.poll() is None, "the ingest exited:\n" + log_of(process)[-3000:]
        assert time.monotonic() < deadline, "no connection to the replayer:\n" + log_of(process)[-3000:]
        time.sleep(0.05)


def stop(process):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    code = process.wait(timeout=60)
    assert code == 0, log_of(process)[-3000:]


def snapshot(url):
    text = psql("SELECT snapshot::text FROM ingest_metrics WHERE role IN ('leader', 'stopped') ORDER BY updated_at DESC LIMIT 1", url)
    return json.loads(text) if text else None


def import_reference(path, name):
    url = fresh_database(name)
    result = subprocess.run([ingest_binary(), "import", path], env=ingest_env(url), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return url


@pytest.fixture(scope="module")
def relay_stream():
    """A generated stream (3000 events, commits of up to 3 ops) as relay frames, and the events they decode to."""
    directory = tempfile.mkdtemp(prefix="appview-relay-stream-")
    jsonl = os.path.join(directory, "stream.jsonl")
    subprocess.run([bench_binary(), "ingest-stream", "--events", "3000", "--actors", "150", "--seed", "13", "--out", jsonl],
                   check=True, capture_output=True, timeout=120)
    frames, expected = os.path.join(directory, "frames.bin"), os.path.join(directory, "expected.jsonl")
    summary = subprocess.run([sys.executable, FRAMES_TOOL, "generate", "--jsonl", jsonl, "--out", frames, "--expected", expected,
                              "--ops-per-commit", "3", "--first-seq", "1000"],
                             check=True, capture_output=True, text=True, timeout=300).stdout
    count = int(summary.split()[0])
    yield {"frames": frames, "expected": expected, "last_seq": 1000 + count - 1, "count": count}
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def relay_reference(relay_stream):
    return dump(import_reference(relay_stream["expected"], "relay_reference"))


def test_relay_corpus_gives_the_import_database():
    expected = dump(import_reference(CORPUS_EVENTS, "relay_corpus_import"))
    url = fresh_database("relay_corpus_run")
    replayer = Replayer(CORPUS_FRAMES)
    process = start_relay(url, replayer.url)
    try:
        wait_for_cursor(url, CORPUS_LAST_SEQ, process)
        time.sleep(0.7)  # one more metrics snapshot
        stop(process)
        connections = replayer.status()["connections"]
        final = snapshot(url)
    finally:
        if process.poll() is None:
            process.kill()
        replayer.close()
    assert [connection["cursor"] for connection in connections] == [None]
    assert stored_cursor(url) == CORPUS_LAST_SEQ
    assert int(psql("SELECT count(*) FROM likes", url)) > 50
    assert differences(dump(url), expected) == []
    relay = final["relay"]
    assert relay["frames"] == {"account": 1, "commit": 148, "identity": 1}, relay
    assert relay["events"] == final["eventsReceived"] == 150 and relay["lastSeq"] == CORPUS_LAST_SEQ
    assert final["cursor"] == CORPUS_LAST_SEQ and final["lagSeconds"] is None  # a seq is not a time
    assert "jetstream" not in final


def test_relay_generated_stream_gives_the_import_database(relay_stream, relay_reference):
    url = fresh_database("relay_generated_run")
    replayer = Replayer(relay_stream["frames"])
    process = start_relay(url, replayer.url)
    try:
        wait_for_cursor(url, relay_stream["last_seq"], process)
        stop(process)
    finally:
        if process.poll() is None:
            process.kill()
        replayer.close()
    assert stored_cursor(url) == relay_stream["last_seq"]
    assert differences(dump(url), relay_reference) == []


def test_relay_kill_9_at_random_points_resumes_at_the_committed_seq_and_gives_the_uninterrupted_tables(relay_stream, relay_reference):
    url = fresh_database("relay_killed")
    # Paced so that the replay outlasts several kills at this debug build's speed.
    replayer = Replayer(relay_stream["frames"], "--rate", "250")
    rng = random.Random(20261123)
    rounds = 5
    cursors_at_kills = []
    try:
        for round_number in range(rounds):
            process = start_relay(url, replayer.url)
            wait_for_connection(replayer, round_number + 1, process)
            time.sleep(rng.uniform(0.4, 1.6))
            assert process.poll() is None, log_of(process)[-3000:]
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
            cursors_at_kills.append(stored_cursor(url))
        process = start_relay(url, replayer.url)
        wait_for_connection(replayer, rounds + 1, process)
        wait_for_cursor(url, relay_stream["last_seq"], process)
        stop(process)
        connections = replayer.status()["connections"]
    finally:
        if process.poll() is None:
            process.kill()
        replayer.close()
    assert sum(1 for cursor in cursors_at_kills if cursor) >= 3, f"cursors at the kills: {cursors_at_kills}: the test proved nothing"
    assert cursors_at_kills[-1] < relay_stream["last_seq"], "the stream ended before the last kill: the test proved less"
    # Each restart subscribed at exactly the seq the killed process had committed (no rewind).
    assert [connection["cursor"] for connection in connections] == [None] + cursors_at_kills, cursors_at_kills
    assert differences(dump(url), relay_reference) == []


def test_relay_error_frame_is_counted_reconnected_and_loses_nothing(relay_stream, relay_reference):
    """An error frame (ConsumerTooSlow) ends the first connection: counted, served by the metrics
    endpoint, re-opened at the committed seq; the tables are still import's."""
    url = fresh_database("relay_faults")
    replayer = Replayer(relay_stream["frames"], "--error-after", "300", "--rate", "2000")
    process = start_relay(url, replayer.url, {"INGEST_METRICS_INTERVAL_MS": "200"})
    api = ApiInstance(url, threads=2)
    try:
        wait_for_connection(replayer, 2, process)
        wait_for_cursor(url, relay_stream["last_seq"], process)
        time.sleep(0.5)
        response = fastcgi_client.request(api.socket_path, "/api/metrics/event-processor")
        stop(process)
        connections = replayer.status()["connections"]
    finally:
        if process.poll() is None:
            process.kill()
        api.close()
        replayer.close()
    assert response.status == 200, response.body
    relay = json.loads(response.body)["relay"]
    assert relay["errorFrames"] == {"ConsumerTooSlow": 1}, relay
    assert relay["connects"] == 2 and relay["reconnects"] == 1, relay
    assert len(connections) == 2 and connections[1]["cursor"] is not None
    assert connections[1]["cursor"] <= 1000 + 299
    assert differences(dump(url), relay_reference) == []


def test_relay_connection_dropped_again_and_again_resumes_at_the_committed_seq_and_loses_nothing(relay_stream, relay_reference):
    """Every connection is cut (no close frame) after 400 frames: each reconnect subscribes at the
    committed seq, frames already read are skipped as replayed, none is lost or applied twice."""
    url = fresh_database("relay_drops")
    replayer = Replayer(relay_stream["frames"], "--drop-after", "400", "--faults-on-every-connection")
    process = start_relay(url, replayer.url, {"INGEST_METRICS_INTERVAL_MS": "200"})
    try:
        wait_for_cursor(url, relay_stream["last_seq"], process, timeout=180)
        time.sleep(0.5)
        stop(process)
        final = snapshot(url)
        connections = replayer.status()["connections"]
    finally:
        if process.poll() is None:
            process.kill()
        replayer.close()
    relay = final["relay"]
    assert len(connections) >= relay_stream["count"] // 400, connections
    cursors = [connection["cursor"] for connection in connections]
    assert cursors[0] is None and all(cursor is not None for cursor in cursors[1:])
    assert cursors[1:] == sorted(cursors[1:]), "a resume never goes back"
    assert relay["reconnects"] == len(connections) - 1 and relay["outOfOrderFrames"] == 0, relay
    # Each frame was accepted exactly once: what the connections sent is the stream plus the skipped overlaps.
    assert relay["messages"] == relay_stream["count"] + relay["replayedFrames"], relay
    assert differences(dump(url), relay_reference) == []


def test_relay_info_repeat_garbage_and_text_are_counted_and_skipped():
    expected = dump(import_reference(CORPUS_EVENTS, "relay_skips_import"))
    url = fresh_database("relay_skips_run")
    replayer = Replayer(CORPUS_FRAMES, "--info-after", "10", "--repeat-after", "20", "--garbage-after", "30", "--text-after", "40")
    process = start_relay(url, replayer.url, {"INGEST_METRICS_INTERVAL_MS": "200"})
    try:
        wait_for_cursor(url, CORPUS_LAST_SEQ, process)
        time.sleep(0.5)
        stop(process)
        final = snapshot(url)
        log = log_of(process)
    finally:
        if process.poll() is None:
            process.kill()
        replayer.close()
    relay = final["relay"]
    assert relay["infoFrames"] == {"OutdatedCursor": 1}, relay
    assert relay["outOfOrderFrames"] == 1 and sum(relay["malformedFrames"].values()) == 1 and relay["invalidMessages"] == 1, relay
    assert relay["connects"] == 1 and relay["events"] == 150
    assert "relay: skipped a frame that cannot be decoded" in log and "relay: info frame" in log
    assert differences(dump(url), expected) == []


@pytest.mark.parametrize("variable,value", [
    ("RELAY_URL", "https://bsky.network"),
    ("RELAY_STALL_TIMEOUT_S", "0"),
    ("RELAY_BUFFER_CAPACITY", "lots"),
    ("RELAY_MAX_MESSAGE_BYTES", "10"),
])
def test_relay_invalid_knobs_exit_2_naming_the_variable(variable, value):
    url = fresh_database("relay_knobs")
    env = relay_env(url, "ws://127.0.0.1:9", {variable: value})
    result = subprocess.run([ingest_binary(), "run", "--source", "relay"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert variable in result.stderr
