"""`appview-ingest run` and `import` as processes: kill -9 at random points of a long replay, SIGTERM
drain, standby takeover, bad configuration. Each test uses databases of its own on the test cluster.

The live Jetstream source is not used here: `run --source file:PATH` drives the same machinery
(leader lock, pipeline, cursor, metrics) from a generated stream.
"""
import json
import os
import random
import signal
import subprocess
import tempfile
import time

import pytest

import fastcgi_client
from appview_env import REPO_ROOT, ApiInstance, postgres_unix_socket, psql, required_env, with_database

TABLES = {
    "actors": "SELECT t::text FROM actors t",
    "posts": "SELECT t::text FROM posts t",
    "likes": "SELECT t::text FROM likes t",
    "reposts": "SELECT t::text FROM reposts t",
    "follows": "SELECT t::text FROM follows t",
    "blocks": "SELECT t::text FROM blocks t",
    "feed_items": "SELECT t::text FROM feed_items t",
    "notifications": "SELECT t::text FROM notifications t",
    # A row of zeros and no row read the same; whether one exists depends on batch boundaries.
    "post_aggregates": "SELECT t::text FROM post_aggregates t WHERE like_count + repost_count + reply_count + quote_count <> 0",
    "actor_aggregates": "SELECT t::text FROM actor_aggregates t WHERE followers_count + follows_count + posts_count <> 0",
    "ingest_cursor": "SELECT (source, cursor)::text FROM ingest_cursor",
}


def ingest_binary():
    return required_env("APPVIEW_INGEST")


def bench_binary():
    return os.path.join(os.path.dirname(ingest_binary()), "appview-bench")


def fresh_database(name):
    psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    psql(f"CREATE DATABASE {name}")
    url = with_database(required_env("DATABASE_URL"), name)
    subprocess.run([ingest_binary(), "migrate"], env=ingest_env(url), check=True, capture_output=True, timeout=60)
    return url


def ingest_env(url, extra=None):
    env = dict(os.environ)
    env.update({"DATABASE_URL": url, "MIGRATIONS_DIR": os.environ.get("MIGRATIONS_DIR") or os.path.join(REPO_ROOT, "migrations"),
                "INGEST_BATCH_SIZE": "100", "INGEST_QUEUE_CAPACITY": "400", "INGEST_PARTITIONS": "3",
                "INGEST_BATCH_MAX_DELAY_MS": "10", "INGEST_METRICS_INTERVAL_MS": "500", "INGEST_LEADER_POLL_MS": "300"})
    env.update(extra or {})
    return env


def dump(url):
    return {table: sorted(psql(sql, url).splitlines()) for table, sql in TABLES.items()}


def cursor(url, source):
    value = psql(f"SELECT cursor FROM ingest_cursor WHERE source = '{source}'", url)
    return int(value) if value else None


@pytest.fixture(scope="module")
def stream():
    directory = tempfile.mkdtemp(prefix="appview-ingest-run-")
    path = os.path.join(directory, "stream.jsonl")
    subprocess.run([bench_binary(), "ingest-stream", "--events", "12000", "--actors", "400", "--seed", "7", "--out", path],
                   check=True, capture_output=True, timeout=120)
    return path


@pytest.fixture(scope="module")
def reference(stream):
    """The stream through one uninterrupted `run --source file`."""
    url = fresh_database("ingest_run_reference")
    result = subprocess.run([ingest_binary(), "run", "--source", f"file:{stream}"], env=ingest_env(url),
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return dump(url)


def start(arguments, url, extra=None):
    log = tempfile.NamedTemporaryFile(prefix="appview-ingest-", suffix=".log", delete=False)
    process = subprocess.Popen([ingest_binary(), *arguments], env=ingest_env(url, extra), stdout=log, stderr=subprocess.STDOUT)
    process.log_path = log.name
    return process


def committed_since(process, url, source, before, timeout=60):
    """Waits until the stored cursor moves past `before` while `process` runs; False when it ended first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        now = cursor(url, source)
        if now is not None and (before is None or now > before):
            return True
        time.sleep(0.05)
    return False


def log_of(process):
    with open(process.log_path, encoding="utf-8", errors="replace") as handle:
        return handle.read()


def roles_by_pid(url):
    """Role of each ingest process by pid, from the metrics rows (instance is '<host>:<pid>')."""
    rows = psql("SELECT instance, role FROM ingest_metrics", url).splitlines()
    return {int(instance.rsplit(":", 1)[1]): role for instance, role in (row.split("|") for row in rows)}


def differences(actual, expected):
    found = []
    for table in TABLES:
        if actual[table] != expected[table]:
            extra = sorted(set(actual[table]) - set(expected[table]))[:2]
            missing = sorted(set(expected[table]) - set(actual[table]))[:2]
            found.append(f"{table}: {len(actual[table])} rows vs {len(expected[table])}; extra {extra}; missing {missing}")
    return found


def test_kill_9_at_random_points_then_restart_gives_the_uninterrupted_tables(stream, reference):
    url = fresh_database("ingest_run_killed")
    source = "file:stream.jsonl"
    rng = random.Random(20260704)
    cursors = []
    kills = 0
    for round_number in range(8):
        # Alternate the live command and the bulk import: both must survive kill -9 anywhere.
        if round_number % 3 == 2:
            arguments = ["import", stream, "--cursor-source", source, "--resume"]
        else:
            arguments = ["run", "--source", f"file:{stream}"]
        before = cursor(url, source)
        process = start(arguments, url)
        # Kill mid-stream, after this process has committed something: a fixed delay from start lands
        # before the first commit on a loaded machine, and such a kill proves nothing.
        if not committed_since(process, url, source, before):
            break
        time.sleep(rng.uniform(0.0, 0.4))
        if process.poll() is not None:
            break
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        kills += 1
        cursors.append(cursor(url, source))
    final = subprocess.run([ingest_binary(), "run", "--source", f"file:{stream}"], env=ingest_env(url),
                           capture_output=True, text=True, timeout=600)
    assert final.returncode == 0, final.stderr[-3000:]
    assert kills >= 3 and any(c is not None for c in cursors), f"{kills} kills, cursors {cursors}: the test proved nothing"
    assert differences(dump(url), reference) == []


def test_full_import_killed_at_random_points_is_exact_once_an_import_completes(stream, reference):
    url = fresh_database("ingest_import_killed")
    rng = random.Random(4)
    arguments = ["import", stream, "--cursor-source", "file:stream.jsonl"]
    kills = 0
    for _ in range(3):
        process = start(arguments, url)
        time.sleep(rng.uniform(0.5, 2.0))
        if process.poll() is not None:
            break
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        kills += 1
    assert kills >= 2, "the imports finished before being killed: the test proved nothing"
    final = subprocess.run([ingest_binary(), *arguments], env=ingest_env(url), capture_output=True, text=True, timeout=600)
    assert final.returncode == 0, final.stderr[-3000:]
    assert differences(dump(url), reference) == []


def test_sigterm_drains_commits_and_exits_0_with_the_cursor_at_the_last_event_read(stream):
    url = fresh_database("ingest_run_sigterm")
    process = start(["run", "--source", f"file:{stream}"], url)
    deadline = time.monotonic() + 60
    while (cursor(url, "file:stream.jsonl") or 0) == 0:
        assert process.poll() is None, log_of(process)[-3000:]
        assert time.monotonic() < deadline, "no commit within 60 s"
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0, log_of(process)[-3000:]
    stored = cursor(url, "file:stream.jsonl")
    events = int(psql("SELECT (snapshot->>'eventsReceived')::int FROM ingest_metrics WHERE role = 'stopped'", url))
    # Everything read was committed: the cursor is the time of the last event read, and every
    # event up to it is in the tables (a resumed run skips exactly those).
    with open(stream, encoding="utf-8") as handle:
        read = [line for _, line in zip(range(events), handle)]
    assert stored == max(json.loads(line)["time_us"] for line in read)
    assert events < 12000, "the run finished before SIGTERM: nothing was drained"
    resumed = subprocess.run([ingest_binary(), "run", "--source", f"file:{stream}"], env=ingest_env(url),
                             capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    skipped = int(psql("SELECT (snapshot->>'eventsSkippedAlreadyApplied')::int FROM ingest_metrics WHERE role = 'stopped' ORDER BY updated_at DESC LIMIT 1", url))
    assert skipped == events


def test_a_standby_takes_over_within_seconds_when_the_leader_is_killed(stream):
    url = fresh_database("ingest_run_failover")
    # Slow the leader down so the stream outlasts the test: one event per transaction.
    slow = {"INGEST_BATCH_SIZE": "1", "INGEST_QUEUE_CAPACITY": "10", "INGEST_PARTITIONS": "1"}
    leader = start(["run", "--source", f"file:{stream}"], url, slow)
    time.sleep(1.5)
    standby = start(["run", "--source", f"file:{stream}"], url, slow)
    api = ApiInstance(url, threads=2)
    try:
        time.sleep(2)
        roles = roles_by_pid(url)
        assert roles == {leader.pid: "leader", standby.pid: "standby"}, roles
        # The API serves the leader's snapshot, fresh, under the names operators know.
        response = fastcgi_client.request(api.socket_path, "/api/metrics/event-processor")
        assert response.status == 200, response.body
        metrics = json.loads(response.body)
        assert metrics["leader"].endswith(f":{leader.pid}") and metrics["role"] == "leader"
        assert metrics["ageSeconds"] < 5 and metrics["stale"] is False
        assert metrics["eventsApplied"] > 0 and metrics["cursor"] > 0
        for name in ("activeUserCreations", "maxConcurrentUserCreations", "userCreationUtilization",
                     "pendingUserCreationOpsCount", "pendingUserCreationDeduplication", "eventsPerSecond", "lagSeconds",
                     "queueDepths", "batchSize", "transactionRetries", "deadlocks", "evictions", "errors"):
            assert name in metrics, name
        assert metrics["maxConcurrentUserCreations"] == 5 and metrics["userCreationUtilization"] == "0%"
        assert sorted(i["role"] for i in metrics["instances"]) == ["leader", "standby"]
        health = json.loads(fastcgi_client.request(api.socket_path, "/health").body)
        assert health["ingest"]["status"] in ("ok", "lagging") and health["ingest"]["leader"] == metrics["leader"]
        before = cursor(url, "file:stream.jsonl") or 0
        leader.send_signal(signal.SIGKILL)
        leader.wait(timeout=10)
        killed_at = time.monotonic()
        deadline = killed_at + 10
        while True:
            now_roles = roles_by_pid(url)
            if now_roles.get(standby.pid) == "leader" and (cursor(url, "file:stream.jsonl") or 0) > before:
                break
            assert standby.poll() is None, log_of(standby)[-3000:]
            assert time.monotonic() < deadline, f"no takeover within 10 s: {now_roles}\n{log_of(standby)[-2000:]}"
            time.sleep(0.2)
        assert "leading source" in log_of(standby)
    finally:
        api.close()
        for process in (leader, standby):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=60)
    assert standby.returncode == 0, log_of(standby)[-3000:]


@pytest.mark.parametrize("variable, value", [
    ("INGEST_BATCH_SIZE", "0"), ("INGEST_PARTITIONS", "many"), ("MAX_CONCURRENT_OPS", "8"),
    ("INGEST_QUEUE_CAPACITY", "10"), ("INGEST_METRICS_INTERVAL_MS", "9000"), ("MAX_CONCURRENT_USER_CREATIONS", "-2"),
])
def test_invalid_knobs_exit_2_naming_the_variable(variable, value, stream):
    url = with_database(required_env("DATABASE_URL"), "ingest_run_unused")
    result = subprocess.run([ingest_binary(), "run", "--source", f"file:{stream}"], env=ingest_env(url, {variable: value}),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert variable in result.stderr


def test_database_unreachable_mid_stream_pauses_then_resumes_and_loses_nothing(stream, reference):
    from test_lifecycle import PostgresProxy
    url = fresh_database("ingest_run_outage")
    unix_path, database, user = postgres_unix_socket(url)
    proxy = PostgresProxy(unix_path)
    proxied = f"postgresql://{user + '@' if user else ''}127.0.0.1:{proxy.port}/{database}"
    # Small batches: many transactions, so the outage lands mid-stream.
    process = start(["run", "--source", f"file:{stream}"], proxied,
                    {"DB_CONNECT_TIMEOUT_S": "2", "INGEST_BATCH_SIZE": "20", "INGEST_QUEUE_CAPACITY": "40"})
    try:
        deadline = time.monotonic() + 60
        while (cursor(url, "file:stream.jsonl") or 0) == 0:
            assert process.poll() is None, log_of(process)[-3000:]
            assert time.monotonic() < deadline, "no commit within 60 s"
            time.sleep(0.1)
        proxy.cut()
        before = cursor(url, "file:stream.jsonl")
        time.sleep(3)
        assert process.poll() is None, "the ingest died during the outage:\n" + log_of(process)[-3000:]
        assert cursor(url, "file:stream.jsonl") == before, "committed while the database was unreachable?"
        proxy.start()
        assert process.wait(timeout=600) == 0, log_of(process)[-3000:]
    finally:
        if process.poll() is None:
            process.kill()
        if proxy.listener is not None:
            proxy.cut()
    # The leader lock's session died with the outage: the process drained, stood by, led again.
    assert "leadership lost: standing by again" in log_of(process)
    assert log_of(process).count("leading source") == 2
    assert differences(dump(url), reference) == []


def test_import_from_an_idle_stdin_pipe_stops_on_sigterm_with_what_it_read_committed():
    corpus = os.path.join(REPO_ROOT, "Tests", "Fixtures", "firehose-2026-07-04", "expected_v1.jsonl")
    url = fresh_database("ingest_import_stdin")
    with open(corpus, encoding="utf-8") as handle:
        last = max(json.loads(line)["time_us"] for line in handle if line.strip())
    process = subprocess.Popen([ingest_binary(), "import", "-"], env=ingest_env(url), stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        with open(corpus, "rb") as handle:
            process.stdin.write(handle.read())
        process.stdin.flush()  # …and the pipe stays open: the importer waits for more.
        deadline = time.monotonic() + 30
        while (cursor(url, "import:stdin") or 0) != last:
            assert process.poll() is None, process.stderr.read().decode()[-3000:]
            assert time.monotonic() < deadline, "the corpus was not committed within 30 s"
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr.decode()[-3000:]
    assert "imported 150 events from 152 lines" in stdout.decode()
    assert psql("SELECT count(*) FROM posts", url) == "17"
    assert psql("SELECT count(*) FROM likes", url) == "105"


@pytest.mark.parametrize("which", ["corpus", "generated"])
def test_run_and_import_give_the_same_database(which, stream):
    path = stream if which == "generated" else \
        os.path.join(REPO_ROOT, "Tests", "Fixtures", "firehose-2026-07-04", "expected_v1.jsonl")
    source = "file:" + os.path.basename(path)
    through_run = fresh_database("ingest_same_run")
    result = subprocess.run([ingest_binary(), "run", "--source", f"file:{path}"], env=ingest_env(through_run),
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    through_import = fresh_database("ingest_same_import")
    result = subprocess.run([ingest_binary(), "import", path, "--cursor-source", source], env=ingest_env(through_import),
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    expected = dump(through_import)
    assert int(psql("SELECT count(*) FROM likes", through_import)) > 100
    assert differences(dump(through_run), expected) == []
