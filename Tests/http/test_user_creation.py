"""User creation inside `appview-ingest run`: actors seen for the first time get their handle (from
their DID document, checked back against the DID by DNS TXT, then HTTPS) and profile (getRecord on
their PDS) in the background, through a loopback PLC directory + PDS stand-in and a DNS stand-in; a
slow PLC never slows the ingest, and what it could not resolve is filled in by the sweep once the
PLC answers again. Hosts taken from data (PDS, handle, did:web) on loopback are refused unless
FETCH_ALLOW_PRIVATE_ADDRESSES=1.

The stream comes from `appview-bench ingest-stream` and is fed through a FIFO kept open, so `run
--source file:` stays up (as a live consumer would) until SIGTERM.
"""
import json
import os
import re
import signal
import subprocess
import tempfile
import time

import pytest

from appview_env import psql, required_env, with_database
from dns_standin import DnsStandIn
from plc_standin import PlcStandIn
from test_ingest_run import fresh_database, ingest_binary, ingest_env

DID_PATTERN = re.compile(r"did:plc:[a-z2-7]{24}")


def environment(url, extra=None):
    """The ingest tests' environment (test_ingest_run) with two partitions and faster snapshots."""
    return ingest_env(url, {"INGEST_PARTITIONS": "2", "INGEST_METRICS_INTERVAL_MS": "300", **(extra or {})})


@pytest.fixture(scope="module")
def stream():
    directory = tempfile.mkdtemp(prefix="appview-user-creation-")
    path = os.path.join(directory, "stream.jsonl")
    bench = os.path.join(os.path.dirname(ingest_binary()), "appview-bench")
    subprocess.run([bench, "ingest-stream", "--events", "1500", "--actors", "60", "--seed", "11", "--out", path],
                   check=True, capture_output=True, timeout=120)
    with open(path, encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    events = [json.loads(line) for line in lines]
    dids = sorted({did for line in lines for did in DID_PATTERN.findall(line)})
    relay_handles = {}
    for event in events:
        if event.get("kind") == "identity" and event["identity"].get("handle"):
            relay_handles[event["did"]] = event["identity"]["handle"]
    firehose_profiles = {e["did"] for e in events if e.get("kind") == "commit" and e["commit"]["collection"] == "app.bsky.actor.profile"}
    return {"path": path, "lines": lines, "dids": dids, "relay_handles": relay_handles, "firehose_profiles": firehose_profiles,
            "last": max(e["time_us"] for e in events)}


@pytest.fixture
def standin(stream):
    plc = PlcStandIn(0)
    for index, did in enumerate(stream["dids"]):
        handle = f"u{index}.pds.test"
        plc.register(did, {"id": did, "alsoKnownAs": [f"at://{handle}"],
                           "service": [{"id": "#atproto_pds", "type": "AtprotoPersonalDataServer", "serviceEndpoint": plc.url}]})
        plc.register_handle(handle, did)
        if index % 4 != 3:  # every fourth account has no profile record
            plc.register_profile(did, f"bafyprofile{index}", {"$type": "app.bsky.actor.profile", "displayName": f"Fetched {index}",
                                                              "description": "from the PDS"})
    # Handles resolve by DNS first: the DNS stand-in answers NXDOMAIN unless a test registers a record.
    plc.dns = DnsStandIn()
    yield plc
    plc.dns.close()
    plc.close()


def user_creation_env(plc, extra=None):
    # The PDS stand-in is on loopback: data-derived hosts must be allowed to be private here.
    env = {"USER_CREATION": "on", "PLC_URL": plc.url, "DID_RESOLVE_TIMEOUT_MS": "1000",
           "HANDLE_VERIFICATION_URL": f"{plc.url}/handles/{{handle}}/.well-known/atproto-did",
           "HANDLE_DNS_SERVER": plc.dns.address, "FETCH_ALLOW_PRIVATE_ADDRESSES": "1", "USER_CREATION_FETCH_TIMEOUT_MS": "1000",
           "MAX_CONCURRENT_USER_CREATIONS": "3", "USER_CREATION_SWEEP_INTERVAL_S": "1", "USER_CREATION_RETRY_BASE_S": "1"}
    env.update(extra or {})
    return env


class RunningIngest:
    """`run --source file:<fifo>`: the stream is written once and the FIFO stays open."""

    def __init__(self, url, stream, env):
        directory = tempfile.mkdtemp(prefix="appview-user-creation-fifo-")
        self.fifo = os.path.join(directory, "events.fifo")
        os.mkfifo(self.fifo)
        self.log = tempfile.NamedTemporaryFile(prefix="appview-ingest-", suffix=".log", delete=False)
        self.process = subprocess.Popen([ingest_binary(), "run", "--source", f"file:{self.fifo}", "--cursor-source", "uc"],
                                        env=environment(url, env), stdout=self.log, stderr=subprocess.STDOUT)
        self.writer = self.open_writer()
        self.opened = time.monotonic()
        if stream["lines"]:
            self.writer.write("\n".join(stream["lines"]) + "\n")
            self.writer.flush()

    def open_writer(self):
        """Waits for the ingest to open the FIFO (it does once leading); fails if it exits first."""
        deadline = time.monotonic() + 30
        while True:
            try:
                descriptor = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
                break
            except OSError:  # ENXIO: no reader yet
                assert self.process.poll() is None, self.output()[-3000:]
                assert time.monotonic() < deadline, "the ingest never opened its source"
                time.sleep(0.05)
        os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "w", encoding="utf-8")

    def output(self):
        with open(self.log.name, encoding="utf-8", errors="replace") as handle:
            return handle.read()

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        finally:
            if self.process.poll() is None:
                self.process.kill()
            self.writer.close()
        return self.process.returncode


def wait_for(condition, seconds, message):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, message()
        time.sleep(0.1)


def cursor(url):
    value = psql("SELECT cursor FROM ingest_cursor WHERE source = 'uc'", url)
    return int(value) if value else 0


def pending(url):
    return int(psql("SELECT count(*) FROM user_creation_pending", url))


def metrics(url):
    return json.loads(psql("SELECT snapshot FROM ingest_metrics WHERE role = 'leader'", url) or "{}")


def expected_handle(stream, index, did):
    return stream["relay_handles"].get(did, f"u{index}.pds.test")


def test_new_actors_get_their_handle_and_profile(stream, standin):
    url = fresh_database("usercreation_http_fill")
    # One account's document claims a handle that belongs to another DID: it must stay handle.invalid.
    impostor_index = next(i for i, did in enumerate(stream["dids"]) if did not in stream["relay_handles"])
    impostor = stream["dids"][impostor_index]
    victim_index = next(i for i, did in enumerate(stream["dids"]) if i != impostor_index)
    standin.register(impostor, {"id": impostor, "alsoKnownAs": [f"at://u{victim_index}.pds.test"],
                                "service": [{"id": "#atproto_pds", "type": "AtprotoPersonalDataServer", "serviceEndpoint": standin.url}]})
    ingest = RunningIngest(url, stream, user_creation_env(standin))
    try:
        wait_for(lambda: cursor(url) == stream["last"] and pending(url) == 0, 60,
                 lambda: f"not settled: cursor {cursor(url)}, {pending(url)} pending\n{ingest.output()[-3000:]}")
        snapshot = metrics(url)
    finally:
        assert ingest.stop() == 0, ingest.output()[-3000:]

    rows = dict(line.split("|", 1) for line in psql("SELECT did, coalesce(handle, '') || '|' || coalesce(display_name, '') FROM actors", url).splitlines())
    assert len(rows) == len(stream["dids"])
    for index, did in enumerate(stream["dids"]):
        handle, name = rows[did].split("|", 1)
        if did == impostor:
            assert handle == "", "an unverified handle was stored"
            continue
        assert handle == expected_handle(stream, index, did), did
        if did not in stream["firehose_profiles"]:
            assert name == ("" if index % 4 == 3 else f"Fetched {index}"), did
        else:
            assert not name.startswith("Fetched"), "the fetched profile overwrote the firehose's"
    assert snapshot["maxConcurrentUserCreations"] == 3
    assert snapshot["pendingUserCreationOpsCount"] == 0
    assert snapshot["userCreation"]["running"] is True
    assert snapshot["userCreation"]["completed"] >= len(stream["dids"]) - len(stream["relay_handles"])
    assert snapshot["userCreation"]["failures"] == 0
    # Each DID document was fetched once (no duplicate work), and none while identity and profile were known.
    assert max(standin.request_count(did) for did in stream["dids"]) == 1


def ingest_seconds(url, stream, env):
    """Seconds from the ingest opening its source until the whole stream is committed; the ingest keeps running."""
    ingest = RunningIngest(url, stream, env)
    opened = ingest.opened
    try:
        wait_for(lambda: cursor(url) == stream["last"], 30,
                 lambda: f"the stream was not ingested: cursor {cursor(url)}\n{ingest.output()[-3000:]}")
    except BaseException:
        ingest.stop()
        raise
    return time.monotonic() - opened, ingest


def test_a_slow_plc_never_slows_the_ingest_and_the_sweep_fills_in_later(stream, standin):
    # The PLC answers after 3 s; resolutions give up after 300 ms. Two pool connections for
    # everything: were a connection held while waiting on the network, the ingest would stall.
    env = user_creation_env(standin, {"DID_RESOLVE_TIMEOUT_MS": "300", "USER_CREATION_WAIT_TIMEOUT_S": "1",
                                      "DB_POOL_SIZE": "2", "MAX_CONCURRENT_OPS": "1", "MAX_CONCURRENT_USER_CREATIONS": "2"})
    baseline, ingest = ingest_seconds(fresh_database("usercreation_http_baseline"), stream, {**env, "USER_CREATION": "off"})
    assert ingest.stop() == 0

    url = fresh_database("usercreation_http_slow")
    standin.outage(delay=3)
    elapsed, ingest = ingest_seconds(url, stream, env)
    try:
        # The whole stream is in while the PLC is still down: no handle could be resolved.
        unresolved = int(psql("SELECT count(*) FROM actors WHERE handle IS NULL", url))
        assert unresolved == len(stream["dids"]) - len(stream["relay_handles"]), "handles appeared while the PLC was down"
        assert pending(url) > 0
        wait_for(lambda: metrics(url).get("userCreation", {}).get("failures", 0) > 0, 10, lambda: f"no failure counted: {metrics(url)}")
        during = metrics(url)

        standin.outage()
        wait_for(lambda: pending(url) == 0, 90,
                 lambda: f"{pending(url)} still pending after the PLC came back\n{ingest.output()[-2000:]}")
        after = metrics(url)
    finally:
        assert ingest.stop() == 0, ingest.output()[-3000:]
    # Had the ingest waited on the PLC, 60 new actors behind 300 ms timeouts would take ≥ 9 s.
    assert elapsed < 3 * baseline + 2, f"{elapsed:.1f} s with the PLC down vs {baseline:.1f} s without user creation"
    assert during["userCreation"]["failures"] + during["userCreation"]["deferrals"] > 0
    assert after["userCreation"]["requeuedBySweep"] > 0
    assert psql("SELECT count(*) FROM actors WHERE handle IS NULL", url) == "0"
    print(f"{len(stream['lines'])} events: {elapsed:.2f} s with the PLC down vs {baseline:.2f} s without user creation; "
          f"while down: { {k: during['userCreation'][k] for k in ('failures', 'deferrals', 'evictions')} }")


def test_sigterm_leaves_unfinished_work_durable_for_the_next_leader(stream, standin):
    url = fresh_database("usercreation_http_restart")
    standin.outage(delay=5)
    env = user_creation_env(standin, {"DID_RESOLVE_TIMEOUT_MS": "4000"})
    ingest = RunningIngest(url, stream, env)
    try:
        wait_for(lambda: cursor(url) == stream["last"], 30, lambda: ingest.output()[-3000:])
    finally:
        stopped_at = time.monotonic()
        assert ingest.stop() == 0, ingest.output()[-3000:]
    assert time.monotonic() - stopped_at < 15, "stopping waited on the network"
    left = pending(url)
    assert left > 0
    # The next process picks the markers up (after the grace period, made due here) and finishes them.
    psql("UPDATE user_creation_pending SET next_attempt_at = now()", url)
    standin.outage()
    ingest = RunningIngest(url, {"lines": []}, env)
    try:
        wait_for(lambda: pending(url) == 0, 60, lambda: f"{pending(url)} pending\n{ingest.output()[-3000:]}")
    finally:
        assert ingest.stop() == 0, ingest.output()[-3000:]
    assert psql("SELECT count(*) FROM actors WHERE handle IS NULL", url) == "0"


@pytest.mark.parametrize("variable,value", [("USER_CREATION", "maybe"), ("USER_CREATION_QUEUE_LIMIT", "0"),
                                            ("USER_CREATION_WAIT_TIMEOUT_S", "-1"), ("HANDLE_VERIFICATION_URL", "https://example.test/"),
                                            ("PLC_URL", "ftp://plc"), ("HANDLE_DNS_SERVER", "localhost:53"),
                                            ("HANDLE_DNS_SERVER", "127.0.0.1:99999"), ("FETCH_ALLOW_PRIVATE_ADDRESSES", "yes")])
def test_invalid_user_creation_knobs_exit_2_naming_the_variable(variable, value, stream):
    url = with_database(required_env("DATABASE_URL"), "usercreation_http_knobs")
    result = subprocess.run([ingest_binary(), "run", "--source", f"file:{stream['path']}"], env=environment(url, {variable: value}),
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2, result.stderr[-2000:]
    assert variable in result.stderr


def unverified_dids(stream):
    """Indices and DIDs whose handle only user creation can set (no identity event in the stream)."""
    return [(index, did) for index, did in enumerate(stream["dids"]) if did not in stream["relay_handles"]]


def handles(url):
    return dict(line.split("|", 1) for line in psql("SELECT did, coalesce(handle, '') FROM actors", url).splitlines())


def test_handles_resolve_by_dns_txt_first_then_https(stream, standin):
    """TXT naming the DID verifies it (even with no HTTPS answer); TXT naming another DID is an
    impostor even where HTTPS agrees; NXDOMAIN, SERVFAIL, silence and malformed answers fall back to HTTPS."""
    url = fresh_database("usercreation_http_dns")
    candidates = unverified_dids(stream)
    (dns_only, dns_did), (impostor, impostor_did), (silent, _), (malformed, _), (failing, _) = candidates[:5]
    dns = standin.dns
    standin.handles.pop(f"u{dns_only}.pds.test")           # only DNS knows this one
    dns.txt(f"u{dns_only}.pds.test", "v=spf1 -all", ("did=", dns_did))
    dns.txt(f"u{impostor}.pds.test", f"did={stream['dids'][(impostor + 1) % len(stream['dids'])]}")
    dns.misbehave(f"u{silent}.pds.test", "silent")
    dns.misbehave(f"u{malformed}.pds.test", "malformed")
    dns.misbehave(f"u{failing}.pds.test", "servfail")
    ingest = RunningIngest(url, stream, user_creation_env(standin))
    try:
        wait_for(lambda: cursor(url) == stream["last"] and pending(url) == 0, 60,
                 lambda: f"not settled: {pending(url)} pending\n{ingest.output()[-3000:]}")
        snapshot = metrics(url)
    finally:
        assert ingest.stop() == 0, ingest.output()[-3000:]
    stored = handles(url)
    assert stored[dns_did] == f"u{dns_only}.pds.test", "the DNS TXT record did not verify the handle"
    assert stored[impostor_did] == "", "a handle whose TXT record names another DID was stored"
    for index in (silent, malformed, failing):
        assert stored[stream["dids"][index]] == f"u{index}.pds.test", f"no HTTPS fallback for u{index}"
        assert dns.query_count(f"u{index}.pds.test") >= 1
    for index, did in candidates[5:]:
        assert stored[did] == f"u{index}.pds.test", did  # NXDOMAIN → HTTPS
    creation = snapshot["userCreation"]
    assert creation["handlesVerifiedByDNS"] >= 1
    assert creation["handlesNamingAnotherDID"] >= 1
    assert creation["handlesVerifiedByHTTPS"] >= len(candidates) - 2
    assert creation["failures"] == 0


def did_web_stream(stream, standin):
    """The stream plus one post by the stand-in's did:web (whose document names the stand-in as PDS)."""
    post = next(json.loads(line) for line in stream["lines"] if '"collection":"app.bsky.feed.post"' in line.replace(" ", ""))
    post.update({"did": standin.web_did, "time_us": stream["last"] + 1})
    post["commit"]["rkey"] = "3webpost22222"
    standin.register(standin.web_did, {"id": standin.web_did, "alsoKnownAs": ["at://web.pds.test"],
                                       "service": [{"id": "#atproto_pds", "type": "AtprotoPersonalDataServer",
                                                    "serviceEndpoint": standin.url}]})
    standin.register_handle("web.pds.test", standin.web_did)
    return {**stream, "lines": stream["lines"] + [json.dumps(post)], "last": stream["last"] + 1}


def profile_requests(standin, dids):
    return sum(standin.request_count("getRecord:" + did) for did in dids)


def test_private_addresses_from_data_are_refused_unless_allowed(stream, standin):
    """FETCH_ALLOW_PRIVATE_ADDRESSES=0: the PDS endpoints (loopback), a handle host on *.localhost and a
    did:web on localhost are never contacted, and the refusals are counted as failures; PLC_URL, the
    operator's, is still used. With it on, the same data is fetched."""
    web_stream = did_web_stream(stream, standin)
    template = f"http://{{handle}}.localhost:{standin.port}/handles/{{handle}}/.well-known/atproto-did"
    env = user_creation_env(standin, {"FETCH_ALLOW_PRIVATE_ADDRESSES": "0", "HANDLE_VERIFICATION_URL": template})
    url = fresh_database("usercreation_http_ssrf_off")
    ingest = RunningIngest(url, web_stream, env)
    try:
        wait_for(lambda: cursor(url) == web_stream["last"] and metrics(url).get("userCreation", {}).get("refusedAddresses", 0) >= 10, 60,
                 lambda: f"no refusals counted: {metrics(url).get('userCreation')}\n{ingest.output()[-3000:]}")
        time.sleep(1.5)  # a sweep's worth of retries: still nothing may reach the stand-in
        snapshot = metrics(url)
    finally:
        assert ingest.stop() == 0, ingest.output()[-3000:]
    assert profile_requests(standin, stream["dids"] + [standin.web_did]) == 0, "a PDS on loopback was asked"
    assert standin.request_count(standin.web_did) == 0, "a did:web on localhost was fetched"
    assert max(standin.request_count(did) for did in stream["dids"]) >= 1, "the operator's PLC_URL was not used"
    stored = handles(url)
    assert all(stored[did] == "" for _, did in unverified_dids(stream)), "a handle was verified through a refused host"
    creation = snapshot["userCreation"]
    assert creation["failures"] >= creation["refusedAddresses"] // 2 > 0
    assert pending(url) > 0  # refused work stays pending (retried with backoff), never marked done

    # The same data with private addresses allowed: everything is fetched.
    allowed = fresh_database("usercreation_http_ssrf_on")
    ingest = RunningIngest(allowed, web_stream, {**env, "FETCH_ALLOW_PRIVATE_ADDRESSES": "1"})
    try:
        wait_for(lambda: cursor(allowed) == web_stream["last"] and pending(allowed) == 0, 60,
                 lambda: f"{pending(allowed)} pending\n{ingest.output()[-3000:]}")
    finally:
        assert ingest.stop() == 0, ingest.output()[-3000:]
    assert standin.request_count(standin.web_did) >= 1
    assert profile_requests(standin, stream["dids"]) > 0
    stored = handles(allowed)
    assert all(stored[did] == f"u{index}.pds.test" for index, did in unverified_dids(stream))
    assert stored[standin.web_did] == "web.pds.test"
