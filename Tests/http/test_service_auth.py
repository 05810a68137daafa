"""atproto service auth through real nginx: tokens signed here with real keys of both curves,
DID documents served by the PLC stand-in (service_auth.py / plc_standin.py) on loopback.

The dataset is generated here so the expected timelines are known exactly: viewer V (secp256k1)
follows author A, viewer W (P-256) follows author B; A and B post.
"""
import base64
import concurrent.futures
import hashlib
import json
import os
import secrets
import subprocess
import time

import pytest
import requests

import fastcgi_client
import service_auth
from appview_env import ApiInstance, psql, required_env
from lexicon_validation import assert_valid_output
from service_auth import SERVICE_DID, SigningKey, b64url, json_part, make_token, new_plc_did, register

TIMELINE = "app.bsky.feed.getTimeline"
PROFILE = "app.bsky.actor.getProfile"


def xrpc(nsid, params=None, headers=None):
    return requests.get(required_env("APPVIEW_URL").rstrip("/") + "/xrpc/" + nsid,
                        params=params, headers=headers, timeout=20)


def rejected(response, status, name):
    assert response.status_code == status, response.text[:500]
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error"] == name, body
    assert body["message"]
    return body


def bearer(token):
    return {"Authorization": "Bearer " + token}


# ---------------------------------------------------------------- dataset

_TID = "234567abcdefghijklmnopqrstuvwxyz"


def tid():
    return "3" + "".join(secrets.choice(_TID) for _ in range(12))


def cid():
    """A real CIDv1 (dag-cbor, sha2-256 of random bytes): responses are validated with strict CID syntax."""
    digest = hashlib.sha256(secrets.token_bytes(32)).digest()
    return "b" + base64.b32encode(bytes([0x01, 0x71, 0x12, 0x20]) + digest).decode().lower().rstrip("=")


class World:
    """Accounts and records imported for this module."""

    def __init__(self):
        self.viewer = register(curve="secp256k1")   # V
        self.other = register(curve="p256")         # W
        self.author_a = new_plc_did()
        self.author_b = new_plc_did()
        self.handle_a = "auth-a-" + secrets.token_hex(4) + ".bsky.social"
        self.events = []
        self.cids = {}
        self.now_us = int(time.time() * 1_000_000) - 60_000_000
        self.identity(self.author_a, self.handle_a)
        self.identity(self.author_b, "auth-b-" + secrets.token_hex(4) + ".bsky.social")
        self.follow_v_a = self.record(self.viewer.did, "app.bsky.graph.follow", {"subject": self.author_a})
        self.record(self.other.did, "app.bsky.graph.follow", {"subject": self.author_b})
        self.record(self.author_a, "app.bsky.graph.follow", {"subject": self.author_b})
        self.posts_a = [self.record(self.author_a, "app.bsky.feed.post", {"text": f"A says {i}", "langs": ["en"]})
                        for i in range(3)]
        self.posts_b = [self.record(self.author_b, "app.bsky.feed.post", {"text": f"B says {i}", "langs": ["en"]})
                        for i in range(2)]
        liked = self.posts_a[0]
        self.like_v = self.record(self.viewer.did, "app.bsky.feed.like", {"subject": {"uri": liked, "cid": self.cids[liked]}})

    def tick(self):
        self.now_us += 1_000_000
        return self.now_us

    def iso(self, time_us):
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time_us / 1e6)) + ".%03dZ" % (time_us // 1000 % 1000)

    def identity(self, did, handle):
        t = self.tick()
        self.events.append({"did": did, "time_us": t, "kind": "identity",
                            "identity": {"did": did, "handle": handle, "seq": t, "time": self.iso(t)}})

    def record(self, did, collection, fields):
        t = self.tick()
        rkey = tid()
        record = {"$type": collection, "createdAt": self.iso(t), **fields}
        uri = f"at://{did}/{collection}/{rkey}"
        self.cids[uri] = cid()
        self.events.append({"did": did, "time_us": t, "kind": "commit", "commit": {
            "rev": tid(), "operation": "create", "collection": collection, "rkey": rkey, "record": record,
            "cid": self.cids[uri]}})
        return uri

    def load(self):
        lines = "".join(json.dumps(e) + "\n" for e in self.events)
        subprocess.run([required_env("APPVIEW_INGEST"), "import", "-"], input=lines.encode(), check=True,
                       capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def world():
    w = World()
    w.load()
    return w


def timeline_uris(headers):
    response = xrpc(TIMELINE, {"limit": 50}, headers)
    assert response.status_code == 200, response.text[:500]
    body = response.json()
    assert_valid_output(TIMELINE, body)
    return [item["post"]["uri"] for item in body["feed"]]


# ---------------------------------------------------------------- accepted tokens

def test_valid_secp256k1_token_gets_the_viewers_own_timeline(world):
    uris = timeline_uris(world.viewer.headers(TIMELINE))
    assert uris == list(reversed(world.posts_a))


def test_valid_p256_token_gets_that_viewers_timeline(world):
    assert world.other.key.alg == "ES256"
    uris = timeline_uris(world.other.headers(TIMELINE))
    assert uris == list(reversed(world.posts_b))


def test_token_without_lxm_is_accepted(world):
    assert timeline_uris(world.viewer.headers(None)) == list(reversed(world.posts_a))


def test_alternate_bearer_spelling_and_fragment_iss_are_accepted(world):
    token = world.viewer.token(TIMELINE, payload={"iss": world.viewer.did + "#atproto"})
    response = xrpc(TIMELINE, {"limit": 5}, {"Authorization": "bearer " + token})
    assert response.status_code == 200, response.text
    assert [i["post"]["uri"] for i in response.json()["feed"]] == list(reversed(world.posts_a))


def test_bearer_headers_helper_registers_any_did_once(world):
    did = new_plc_did()
    first = service_auth.bearer_headers(did, TIMELINE)
    second = service_auth.bearer_headers(did, TIMELINE)
    assert first["Authorization"].startswith("Bearer ") and first != second
    for headers in (first, second):
        response = xrpc(TIMELINE, {"limit": 1}, headers)
        assert response.status_code == 200, response.text
    assert service_auth.plc().request_count(did) == 1


# ---------------------------------------------------------------- nobody else's timeline

def test_no_token_is_authentication_required(world):
    rejected(xrpc(TIMELINE, {"limit": 5}), 401, "AuthenticationRequired")
    rejected(xrpc("app.bsky.notification.listNotifications", {"limit": 5}), 401, "AuthenticationRequired")


def test_another_viewers_token_never_yields_this_timeline(world):
    uris = timeline_uris(world.other.headers(TIMELINE))
    assert not set(uris) & set(world.posts_a)
    # Neither a header nor a query parameter can choose the viewer.
    for attempt in ({"headers": {"X-Viewer-Did": world.viewer.did, **world.other.headers(TIMELINE)}},
                    {"params": {"viewer": world.viewer.did, "limit": 50}, "headers": world.other.headers(TIMELINE)}):
        response = xrpc(TIMELINE, attempt.get("params", {"limit": 50}), attempt["headers"])
        if response.status_code == 200:
            assert not {i["post"]["uri"] for i in response.json()["feed"]} & set(world.posts_a)
        else:
            assert response.status_code == 400


def test_notification_methods_use_the_token_viewer(world):
    b = register(world.author_b)  # B's document now comes from the stand-in
    listed = xrpc("app.bsky.notification.listNotifications", {"limit": 50}, b.headers("app.bsky.notification.listNotifications"))
    assert listed.status_code == 200, listed.text
    assert_valid_output("app.bsky.notification.listNotifications", listed.json())
    follows = {n["author"]["did"] for n in listed.json()["notifications"] if n["reason"] == "follow"}
    assert follows == {world.other.did, world.author_a}
    # V was followed by nobody: the same call with V's token lists none of B's.
    mine = xrpc("app.bsky.notification.listNotifications", {"limit": 50}, world.viewer.headers(None))
    assert mine.status_code == 200 and mine.json()["notifications"] == []

    unread = xrpc("app.bsky.notification.getUnreadCount", {}, b.headers("app.bsky.notification.getUnreadCount"))
    assert unread.status_code == 200 and unread.json()["count"] == 2, unread.text
    seen = requests.post(required_env("APPVIEW_URL") + "/xrpc/app.bsky.notification.updateSeen",
                         json={"seenAt": "2099-01-01T00:00:00.000Z"}, headers=b.headers("app.bsky.notification.updateSeen"),
                         timeout=20)
    assert seen.status_code == 200, seen.text
    unread = xrpc("app.bsky.notification.getUnreadCount", {}, b.headers(None))
    assert unread.json()["count"] == 0
    # Without a token the procedure is refused, and V's token does not touch B's state.
    assert requests.post(required_env("APPVIEW_URL") + "/xrpc/app.bsky.notification.updateSeen",
                         json={"seenAt": "2099-01-01T00:00:00.000Z"}, timeout=20).status_code == 401


# ---------------------------------------------------------------- rejections

def tamper_signature(token):
    head, body, signature = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=="))
    raw[10] ^= 0x01
    return f"{head}.{body}.{b64url(bytes(raw))}"


def test_forged_signature_is_bad_jwt_signature(world):
    body = rejected(xrpc(TIMELINE, {"limit": 5}, bearer(tamper_signature(world.viewer.token(TIMELINE)))),
                    401, "BadJwtSignature")
    assert world.viewer.did in body["message"]


def test_payload_edited_after_signing_is_bad_jwt_signature(world):
    token = world.other.token(TIMELINE)
    head, _, signature = token.split(".")
    now = int(time.time())
    forged_payload = json_part({"iss": world.viewer.did, "aud": SERVICE_DID, "exp": now + 60, "lxm": TIMELINE})
    rejected(xrpc(TIMELINE, {"limit": 5}, bearer(f"{head}.{forged_payload}.{signature}")), 401, "BadJwtSignature")


def test_wrong_key_is_bad_jwt_signature(world):
    stranger = SigningKey("secp256k1")
    rejected(xrpc(TIMELINE, {"limit": 5}, bearer(make_token(stranger, world.viewer.did, lxm=TIMELINE))),
             401, "BadJwtSignature")


def test_wrong_curve_is_bad_jwt_signature(world):
    p256 = SigningKey("p256")  # V's document holds a secp256k1 key
    rejected(xrpc(TIMELINE, {"limit": 5}, bearer(make_token(p256, world.viewer.did, lxm=TIMELINE))),
             401, "BadJwtSignature")
    # The same P-256 signature claiming ES256K.
    rejected(xrpc(TIMELINE, {"limit": 5}, bearer(make_token(p256, world.viewer.did, lxm=TIMELINE,
                                                            header={"alg": "ES256K"}))),
             401, "BadJwtSignature")


def test_high_s_signature_is_bad_jwt_signature(world):
    body = rejected(xrpc(TIMELINE, {"limit": 5}, bearer(world.viewer.token(TIMELINE, high_s=True))), 401, "BadJwtSignature")
    assert "high-s" in body["message"].lower()
    # The low-S twin of the same key is accepted.
    assert xrpc(TIMELINE, {"limit": 5}, world.viewer.headers(TIMELINE)).status_code == 200


def test_expired_token_is_expired_token(world):
    body = rejected(xrpc(TIMELINE, {"limit": 5}, world.viewer.headers(TIMELINE, exp_in=-120)), 401, "ExpiredToken")
    assert "expired" in body["message"]
    # Inside the clock-skew allowance (default 10 s) it still passes.
    assert xrpc(TIMELINE, {"limit": 5}, world.viewer.headers(TIMELINE, exp_in=-2)).status_code == 200


@pytest.mark.parametrize("aud", ["did:web:api.bsky.app", "did:web:appview.test.evil", SERVICE_DID + "#bsky_appview", ""])
def test_wrong_audience_is_invalid_token(world, aud):
    body = rejected(xrpc(TIMELINE, {"limit": 5}, world.viewer.headers(TIMELINE, aud=aud)), 401, "InvalidToken")
    assert "aud" in body["message"]


def test_wrong_lxm_is_invalid_token(world):
    body = rejected(xrpc(TIMELINE, {"limit": 5}, world.viewer.headers("app.bsky.notification.listNotifications")),
                    401, "InvalidToken")
    assert "lxm" in body["message"]


@pytest.mark.parametrize("typ", ["at+jwt", "refresh+jwt", "dpop+jwt", "AT+JWT"])
def test_other_token_types_are_invalid_token(world, typ):
    body = rejected(xrpc(TIMELINE, {"limit": 5}, world.viewer.headers(TIMELINE, header={"typ": typ})), 401, "InvalidToken")
    assert "typ" in body["message"]


@pytest.mark.parametrize("alg", ["none", "HS256", "RS256", "ES384", "es256k"])
def test_other_algorithms_are_invalid_token(world, alg):
    token = world.viewer.token(TIMELINE, header={"alg": alg})
    body = rejected(xrpc(TIMELINE, {"limit": 5}, bearer(token)), 401, "InvalidToken")
    assert "alg" in body["message"]


def test_alg_none_with_empty_signature_is_invalid_token(world):
    now = int(time.time())
    token = json_part({"typ": "JWT", "alg": "none"}) + "." + json_part(
        {"iss": world.viewer.did, "aud": SERVICE_DID, "exp": now + 60}) + "."
    rejected(xrpc(TIMELINE, {"limit": 5}, bearer(token)), 401, "InvalidToken")


def malformed_variants(token):
    head, body, signature = token.split(".")
    return {
        "padding": f"{head}==.{body}.{signature}",
        "standard alphabet": f"{head}.{body}.{signature.replace('-', '+').replace('_', '/')}" if ("-" in signature or "_" in signature) else f"{head}.{body}+/.{signature}",
        "invalid character": f"{head}.{body[:-1]}!.{signature}",
        "impossible length": f"{head}.{body}A.{signature}" if len(body) % 4 == 0 else f"{head}.{body}.{signature}AAAAA"[:len(token) + 1],
        "two parts": f"{head}.{body}",
        "four parts": f"{token}.{signature}",
        "empty part": f"{head}..{signature}",
        "not json": f"{b64url(b'not json')}.{body}.{signature}",
        "json array": f"{b64url(b'[1,2]')}.{body}.{signature}",
    }


@pytest.mark.parametrize("variant", ["padding", "standard alphabet", "invalid character", "impossible length",
                                     "two parts", "four parts", "empty part", "not json", "json array"])
def test_malformed_base64_and_structure_are_invalid_token(world, variant):
    token = malformed_variants(world.viewer.token(TIMELINE))[variant]
    rejected(xrpc(TIMELINE, {"limit": 5}, bearer(token)), 401, "InvalidToken")


@pytest.mark.parametrize("cut", [1, 4, 20, 90])
def test_truncated_token_is_invalid_token(world, cut):
    token = world.viewer.token(TIMELINE)
    rejected(xrpc(TIMELINE, {"limit": 5}, bearer(token[:-cut])), 401, "InvalidToken")


def test_huge_token_is_401_through_nginx_and_never_a_500(world):
    token = world.viewer.token(TIMELINE, payload={"padding": "x" * 3000})
    body = rejected(xrpc(TIMELINE, {"limit": 5}, bearer(token)), 401, "InvalidToken")
    assert "too large" in body["message"]
    # Beyond nginx's header buffers nginx itself answers (JSON 4xx): still no 500.
    response = xrpc(TIMELINE, {"limit": 5}, bearer("a" * 100_000))
    assert 400 <= response.status_code < 500, response.status_code
    assert response.headers["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("value", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Token abc.def.ghi", "abc.def.ghi"])
def test_authorization_that_is_not_a_bearer_token_is_invalid_token(world, value):
    rejected(xrpc(TIMELINE, {"limit": 5}, {"Authorization": value}), 401, "InvalidToken")


@pytest.mark.parametrize("iss", ["did:plc:short", "did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme",
                                 "alice.bsky.social", "did:web:localhost:users:alice"])
def test_issuer_that_is_not_a_resolvable_did_is_invalid_token(world, iss):
    body = rejected(xrpc(TIMELINE, {"limit": 5}, world.viewer.headers(TIMELINE, payload={"iss": iss})), 401, "InvalidToken")
    assert "iss" in body["message"]


@pytest.mark.parametrize("claim", ["iss", "aud", "exp"])
def test_missing_required_claim_is_invalid_token(world, claim):
    rejected(xrpc(TIMELINE, {"limit": 5}, world.viewer.headers(TIMELINE, payload={claim: None})), 401, "InvalidToken")


def test_unknown_did_is_invalid_token(world):
    stranger = SigningKey("secp256k1")
    did = new_plc_did()
    body = rejected(xrpc(TIMELINE, {"limit": 5}, bearer(make_token(stranger, did, lxm=TIMELINE))), 401, "InvalidToken")
    assert did in body["message"]


def test_directory_outage_is_a_503_never_a_500(world):
    account = register()
    service_auth.plc().fail(account.did, 500)
    try:
        body = rejected(xrpc(TIMELINE, {"limit": 5}, account.headers(TIMELINE)), 503, "UpstreamFailure")
        assert account.did in body["message"]
    finally:
        service_auth.plc().fail(account.did, None)


# ---------------------------------------------------------------- optional viewer

def test_optional_viewer_methods_add_viewer_state_with_a_token(world):
    anonymous = xrpc(PROFILE, {"actor": world.author_a})
    assert anonymous.status_code == 200, anonymous.text
    assert "following" not in anonymous.json().get("viewer", {})
    viewed = xrpc(PROFILE, {"actor": world.author_a}, world.viewer.headers(PROFILE))
    assert viewed.status_code == 200, viewed.text
    assert_valid_output(PROFILE, viewed.json())
    assert viewed.json()["viewer"]["following"] == world.follow_v_a
    # W does not follow A.
    other = xrpc(PROFILE, {"actor": world.author_a}, world.other.headers(PROFILE))
    assert "following" not in other.json().get("viewer", {})


def test_posts_and_author_feed_carry_the_token_viewers_like(world):
    liked = world.posts_a[0]
    anonymous = xrpc("app.bsky.feed.getPosts", {"uris": liked})
    assert anonymous.status_code == 200 and "like" not in anonymous.json()["posts"][0].get("viewer", {})
    viewed = xrpc("app.bsky.feed.getPosts", {"uris": liked}, world.viewer.headers("app.bsky.feed.getPosts"))
    assert viewed.status_code == 200, viewed.text
    assert_valid_output("app.bsky.feed.getPosts", viewed.json())
    assert viewed.json()["posts"][0]["viewer"]["like"] == world.like_v
    feed = xrpc("app.bsky.feed.getAuthorFeed", {"actor": world.author_a}, world.viewer.headers("app.bsky.feed.getAuthorFeed"))
    assert feed.status_code == 200, feed.text
    likes = {item["post"]["uri"]: item["post"].get("viewer", {}).get("like") for item in feed.json()["feed"]}
    assert likes[liked] == world.like_v
    assert all(like is None for uri, like in likes.items() if uri != liked)
    other = xrpc("app.bsky.feed.getPosts", {"uris": liked}, world.other.headers("app.bsky.feed.getPosts"))
    assert "like" not in other.json()["posts"][0].get("viewer", {})


@pytest.mark.parametrize("nsid, params", [
    (PROFILE, {"actor": "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"}),
    ("app.bsky.actor.getProfiles", {"actors": "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"}),
    ("app.bsky.feed.getAuthorFeed", {"actor": "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"}),
    ("app.bsky.feed.getPosts", {"uris": "at://did:plc:aaaaaaaaaaaaaaaaaaaaaaaa/app.bsky.feed.post/3aaaaaaaaaaaa"}),
])
def test_optional_viewer_methods_still_reject_a_bad_token(world, nsid, params):
    rejected(xrpc(nsid, params, bearer(tamper_signature(world.viewer.token(nsid)))), 401, "BadJwtSignature")
    rejected(xrpc(nsid, params, world.viewer.headers(nsid, exp_in=-300)), 401, "ExpiredToken")


# ---------------------------------------------------------------- resolution: rotation, dedup, rate limit

def test_key_rotation_is_picked_up_by_a_forced_re_resolve(world):
    account = register()
    assert xrpc(TIMELINE, {"limit": 5}, account.headers(TIMELINE)).status_code == 200
    old = account.token(TIMELINE)
    rotated = register(account.did)  # new key published; the API still caches the old document
    response = xrpc(TIMELINE, {"limit": 5}, rotated.headers(TIMELINE))
    assert response.status_code == 200, response.text
    assert service_auth.plc().request_count(account.did) == 2
    rejected(xrpc(TIMELINE, {"limit": 5}, bearer(old)), 401, "BadJwtSignature")


def test_forged_tokens_refetch_a_document_at_most_once_per_interval(world):
    account = register()
    assert xrpc(TIMELINE, {"limit": 5}, account.headers(TIMELINE)).status_code == 200
    stranger = SigningKey("secp256k1")
    for _ in range(6):
        rejected(xrpc(TIMELINE, {"limit": 5}, bearer(make_token(stranger, account.did, lxm=TIMELINE))), 401, "BadJwtSignature")
    assert service_auth.plc().request_count(account.did) == 2  # first fetch + one forced re-resolve


def test_concurrent_first_requests_share_one_fetch(world):
    account = register()
    service_auth.plc().fail(account.did, None, delay=0.6)
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=5) as pool:
            statuses = list(pool.map(lambda _: xrpc(TIMELINE, {"limit": 1}, account.headers(TIMELINE)).status_code, range(5)))
    finally:
        service_auth.plc().fail(account.did, None)
    assert statuses == [200] * 5
    assert service_auth.plc().request_count(account.did) == 1


def test_did_web_on_localhost_is_resolved_over_http(world):
    standin = service_auth.plc()
    account = register(standin.web_did, curve="p256")
    response = xrpc(TIMELINE, {"limit": 5}, account.headers(TIMELINE))
    assert response.status_code == 200, response.text
    assert response.json()["feed"] == []
    assert standin.request_count(standin.web_did) >= 1


def test_documents_persist_in_the_database(world):
    assert xrpc(TIMELINE, {"limit": 1}, world.viewer.headers(TIMELINE)).status_code == 200
    stored = psql(f"SELECT is_local, document::json->>'id' FROM did_documents WHERE did = '{world.viewer.did}'")
    assert stored == f"f|{world.viewer.did}"


def test_a_restarted_api_serves_stored_documents_without_the_directory(world):
    assert xrpc(TIMELINE, {"limit": 1}, world.viewer.headers(TIMELINE)).status_code == 200
    # A fresh process whose PLC directory is unreachable: V's key must come from did_documents.
    api = ApiInstance(required_env("DATABASE_URL"), threads=2, extra_env={"PLC_URL": "http://127.0.0.1:9"})
    try:
        response = fastcgi_client.request(api.socket_path, "/xrpc/" + TIMELINE, query="limit=50",
                                          headers={"Authorization": "Bearer " + world.viewer.token(TIMELINE)})
        assert response.status == 200, response.body
        assert [i["post"]["uri"] for i in json.loads(response.body)["feed"]] == list(reversed(world.posts_a))
        # A DID it has never seen: the directory is down → 503, not 500.
        unseen = register()
        response = fastcgi_client.request(api.socket_path, "/xrpc/" + TIMELINE, query="limit=1",
                                          headers={"Authorization": "Bearer " + unseen.token(TIMELINE)})
        assert response.status == 503, response.body
        assert json.loads(response.body)["error"] == "UpstreamFailure"
    finally:
        api.terminate()
        api.close()


def test_slow_directory_is_cut_off_by_the_resolve_timeout(world):
    account = register()
    service_auth.plc().fail(account.did, None, delay=3)
    api = ApiInstance(required_env("DATABASE_URL"), threads=2, extra_env={"DID_RESOLVE_TIMEOUT_MS": "300"})
    try:
        started = time.monotonic()
        response = fastcgi_client.request(api.socket_path, "/xrpc/" + TIMELINE, query="limit=1",
                                          headers={"Authorization": "Bearer " + account.token(TIMELINE)}, timeout=10)
        elapsed = time.monotonic() - started
        assert response.status == 503, response.body
        assert elapsed < 2.5, elapsed
    finally:
        service_auth.plc().fail(account.did, None)
        api.terminate()
        api.close()


def test_no_database_connection_is_held_while_a_document_is_fetched(world):
    # One pooled connection: if resolution held it during the slow fetch, the anonymous request would wait.
    account = register()
    service_auth.plc().fail(account.did, None, delay=1.5)
    api = ApiInstance(required_env("DATABASE_URL"), threads=4, extra_env={"DB_POOL_SIZE": "1"})
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            slow = pool.submit(fastcgi_client.request, api.socket_path, "/xrpc/" + TIMELINE, query="limit=1",
                               headers={"Authorization": "Bearer " + account.token(TIMELINE)}, timeout=10)
            time.sleep(0.4)
            started = time.monotonic()
            anonymous = fastcgi_client.request(api.socket_path, "/xrpc/" + PROFILE, query="actor=" + world.author_a)
            elapsed = time.monotonic() - started
            assert anonymous.status == 200, anonymous.body
            assert not slow.done(), "the fetch should still be running"
            assert elapsed < 0.8, elapsed
            assert slow.result().status == 200
    finally:
        service_auth.plc().fail(account.did, None)
        api.terminate()
        api.close()


def test_huge_token_straight_to_the_api_is_401(world):
    api = ApiInstance(required_env("DATABASE_URL"), threads=2)
    try:
        response = fastcgi_client.request(api.socket_path, "/xrpc/" + TIMELINE, query="limit=1",
                                          headers={"Authorization": "Bearer " + "a" * 200_000})
        assert response.status == 401, response.body
        assert json.loads(response.body)["error"] == "InvalidToken"
    finally:
        api.terminate()
        api.close()


def test_without_service_did_every_token_is_refused(world):
    api = ApiInstance(required_env("DATABASE_URL"), threads=2, extra_env={"SERVICE_DID": ""})
    try:
        response = fastcgi_client.request(api.socket_path, "/xrpc/" + TIMELINE, query="limit=1",
                                          headers={"Authorization": "Bearer " + world.viewer.token(TIMELINE)})
        assert response.status == 401 and json.loads(response.body)["error"] == "InvalidToken", response.body
    finally:
        api.terminate()
        api.close()


@pytest.mark.parametrize("changes, named", [
    ({"SERVICE_DID": "appview.test"}, "SERVICE_DID"),
    ({"SERVICE_DID_ALTERNATES": "did:web:a.test,nope"}, "SERVICE_DID_ALTERNATES"),
    ({"PLC_URL": "ftp://plc"}, "PLC_URL"),
    ({"AUTH_CLOCK_SKEW_S": "-1"}, "AUTH_CLOCK_SKEW_S"),
    ({"AUTH_CLOCK_SKEW_S": "3600"}, "AUTH_CLOCK_SKEW_S"),
    ({"DID_CACHE_TTL_S": "0"}, "DID_CACHE_TTL_S"),
    ({"DID_CACHE_SIZE": "lots"}, "DID_CACHE_SIZE"),
    ({"DID_RESOLVE_TIMEOUT_MS": "0"}, "DID_RESOLVE_TIMEOUT_MS"),
])
def test_invalid_auth_configuration_exits_2_naming_the_variable(changes, named):
    from test_startup import run_api
    env = {"DATABASE_URL": required_env("DATABASE_URL")}
    env.update(changes)
    result = run_api(env)
    assert result.returncode == 2, result.stderr
    assert named in result.stderr


# ---------------------------------------------------------------- mint-token

def mint(actor, *extra, service_did=SERVICE_DID):
    env = dict(os.environ, SERVICE_DID=service_did)
    return subprocess.run([required_env("APPVIEW_INGEST"), "mint-token", "--actor", actor, *extra],
                          env=env, capture_output=True, text=True, timeout=30)


def test_mint_token_by_handle_gets_that_accounts_timeline_and_re_minting_rotates(world):
    first = mint(world.handle_a)
    assert first.returncode == 0, first.stderr
    token = first.stdout.strip()
    assert token.count(".") == 2
    uris = timeline_uris(bearer(token))
    own_and_followed = list(reversed(world.posts_a + world.posts_b))  # A follows B; B posted last
    assert uris == own_and_followed
    assert psql(f"SELECT is_local FROM did_documents WHERE did = '{world.author_a}'") == "t"

    # A new key: the API still has the old document in memory and must re-read the database.
    second = mint(world.author_a, "--curve", "p256", "--lxm", TIMELINE)
    assert second.returncode == 0, second.stderr
    assert timeline_uris(bearer(second.stdout.strip())) == own_and_followed
    rejected(xrpc(TIMELINE, {"limit": 5}, bearer(token)), 401, "BadJwtSignature")
    # lxm was set: another method refuses it.
    rejected(xrpc("app.bsky.notification.listNotifications", {}, bearer(second.stdout.strip())), 401, "InvalidToken")


@pytest.mark.parametrize("service_did", ["did:web:api.bsky.app", "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa", "did:web:localhost.evil.com"])
def test_mint_token_is_refused_for_a_non_local_service_did(world, service_did):
    result = mint(world.author_a, service_did=service_did)
    assert result.returncode == 2, result.stderr
    assert "not a local service DID" in result.stderr
    assert result.stdout == ""


def test_mint_token_for_an_unknown_handle_fails_clearly(world):
    result = mint("nobody-" + secrets.token_hex(4) + ".bsky.social")
    assert result.returncode == 1
    assert "no account with handle" in result.stderr
