"""The XRPC read methods through real nginx, on the real corpus plus generated demo data.

Every successful response is validated against the official lexicons (Tests/Fixtures/lexicons);
figures are checked against the database rows they come from.
"""
import os
import subprocess

import pytest
import requests

from appview_env import REPO_ROOT, psql, required_env
from lexicon_validation import assert_valid_output


def xrpc(nsid, params=None, headers=None):
    return requests.get(
        required_env("APPVIEW_URL").rstrip("/") + "/xrpc/" + nsid, params=params, headers=headers, timeout=15)


def ok(nsid, params=None):
    response = xrpc(nsid, params)
    assert response.status_code == 200, f"{nsid} {params}: {response.status_code} {response.text[:500]}"
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert_valid_output(nsid, body)
    return body


def error(nsid, params, status, name, headers=None):
    response = xrpc(nsid, params, headers)
    assert response.status_code == status, f"{nsid} {params}: {response.status_code} {response.text[:300]}"
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error"] == name, body
    assert body["message"]
    return body


@pytest.fixture(scope="module", autouse=True)
def imported_data(tmp_path_factory):
    """Imports the corpus and the demo data into the API's database once for this module."""
    ingest = required_env("APPVIEW_INGEST")
    env = dict(os.environ)
    corpus = os.path.join(REPO_ROOT, "Tests", "Fixtures", "firehose-2026-07-04", "expected_v1.jsonl")
    demo = str(tmp_path_factory.mktemp("demo") / "demo.jsonl")
    subprocess.run([ingest, "demo-data", "--out", demo, "--actors", "40"], check=True, env=env, capture_output=True, timeout=60)
    for path in (corpus, demo):
        subprocess.run([ingest, "import", path], check=True, env=env, capture_output=True, timeout=120)


def busiest_author():
    return psql("SELECT originator_did FROM feed_items GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")


def test_get_profile_by_did_and_handle_matches_live_counts():
    did = busiest_author()
    profile = ok("app.bsky.actor.getProfile", {"actor": did})
    assert profile["did"] == did
    posts = int(psql(f"SELECT count(*) FROM posts WHERE author_did = '{did}'"))
    followers = int(psql(f"SELECT count(*) FROM follows WHERE subject_did = '{did}'"))
    follows = int(psql(f"SELECT count(*) FROM follows WHERE creator_did = '{did}'"))
    assert (profile["postsCount"], profile["followersCount"], profile["followsCount"]) == (posts, followers, follows)
    if profile["handle"] != "handle.invalid":
        by_handle = ok("app.bsky.actor.getProfile", {"actor": profile["handle"]})
        assert by_handle["did"] == did


def test_get_profiles_returns_each_known_actor_once():
    dids = psql("SELECT did FROM actors WHERE is_active ORDER BY did LIMIT 5").split("\n")
    body = ok("app.bsky.actor.getProfiles", [("actors", d) for d in dids])
    assert sorted(p["did"] for p in body["profiles"]) == sorted(dids)


def test_unknown_actor_is_a_400_profile_not_found():
    body = error("app.bsky.actor.getProfile", {"actor": "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"}, 400, "InvalidRequest")
    assert "not found" in body["message"].lower()


@pytest.mark.parametrize("filter_name", ["posts_with_replies", "posts_no_replies", "posts_with_media", "posts_and_author_threads"])
def test_author_feed_walks_every_item_once_in_order(filter_name):
    did = busiest_author()
    seen, cursor, pages = [], None, 0
    while True:
        params = {"actor": did, "filter": filter_name, "limit": 7}
        if cursor:
            params["cursor"] = cursor
        body = ok("app.bsky.feed.getAuthorFeed", params)
        pages += 1
        for item in body["feed"]:
            key = item["reason"]["indexedAt"] + item["post"]["uri"] if "reason" in item else item["post"]["uri"]
            seen.append((key, item))
        cursor = body.get("cursor")
        if not cursor or pages > 200:
            break
    keys = [k for k, _ in seen]
    assert len(keys) == len(set(keys)), "no item repeated across pages"
    if filter_name == "posts_with_replies":
        live = int(psql(
            f"SELECT count(*) FROM feed_items f JOIN posts p ON p.uri = f.post_uri "
            f"JOIN actors a ON a.did = p.author_did AND a.is_active WHERE f.originator_did = '{did}'"))
        assert len(seen) == live
    for _, item in seen:
        post = item["post"]
        if filter_name == "posts_no_replies" and "reason" not in item:
            assert "reply" not in post["record"]
        if filter_name == "posts_with_media":
            assert "reason" not in item
            assert post["record"]["embed"]["$type"] in (
                "app.bsky.embed.images", "app.bsky.embed.video", "app.bsky.embed.recordWithMedia")


def test_get_posts_returns_views_with_counts_from_live_rows():
    rows = psql("SELECT uri FROM posts p JOIN actors a ON a.did = p.author_did AND a.is_active "
                "ORDER BY (SELECT count(*) FROM likes l WHERE l.subject_uri = p.uri) DESC, uri LIMIT 5").split("\n")
    body = ok("app.bsky.feed.getPosts", [("uris", u) for u in rows])
    views = {p["uri"]: p for p in body["posts"]}
    assert set(views) == set(rows)
    for uri, view in views.items():
        likes = int(psql(f"SELECT count(*) FROM likes WHERE subject_uri = '{uri}'"))
        reposts = int(psql(f"SELECT count(*) FROM reposts WHERE subject_uri = '{uri}'"))
        assert (view["likeCount"], view["repostCount"]) == (likes, reposts)


def test_methods_needing_a_viewer_answer_401_json():
    for nsid in ("app.bsky.feed.getTimeline", "app.bsky.notification.listNotifications",
                 "app.bsky.notification.getUnreadCount"):
        error(nsid, {}, 401, "AuthenticationRequired")
        error(nsid, {}, 401, "InvalidToken", headers={"Authorization": "Bearer abc.def.ghi"})


@pytest.mark.parametrize("params", [
    {"limit": "0"}, {"limit": "101"}, {"limit": "ten"}, {"cursor": "not-a-cursor"},
    {"filter": "everything"}, {"actor": "not a handle!"},
])
def test_bad_parameters_are_400_invalid_request(params):
    full = {"actor": busiest_author(), **params}
    error("app.bsky.feed.getAuthorFeed", full, 400, "InvalidRequest")


def test_too_many_uris_is_400():
    uris = [("uris", f"at://did:plc:aaaaaaaaaaaaaaaaaaaaaaaa/app.bsky.feed.post/{i}") for i in range(26)]
    error("app.bsky.feed.getPosts", uris, 400, "InvalidRequest")
