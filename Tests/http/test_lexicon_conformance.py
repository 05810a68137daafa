"""Lexicon conformance of every implemented XRPC method, through real nginx.

Data: the real corpus plus the generated dataset of Tests/Fixtures/conformance (see
generate_dataset.py; `scenario.json` names its posts and actors). Every 200 body is validated with
`assert_valid_output` (lexrpc plus the stricter cid/datetime formats of lexicon_validation), and
each walk also asserts that the branch it is there for really appears: a quote of a missing post
as `app.bsky.embed.record#viewNotFound`, a reply to a deleted post as `#notFoundPost`,
`handle.invalid`, CDN URLs from the template, …

Viewer walks authenticate with real service-auth tokens: `service_auth.bearer_headers(did, nsid)`
(Tests/http/service_auth.py, keys published by the local PLC stand-in).
"""
import collections
import filecmp
import json
import os
import subprocess
import sys

import grapheme
import pytest
import requests
from lexrpc.base import ValidationError

from appview_env import REPO_ROOT, psql, required_env
from lexicon_validation import assert_valid_output, check_format
from service_auth import bearer_headers

FIXTURE_DIR = os.path.join(REPO_ROOT, "Tests", "Fixtures", "conformance")
DATASET = os.path.join(FIXTURE_DIR, "dataset.jsonl")
SCENARIO = json.load(open(os.path.join(FIXTURE_DIR, "scenario.json")))
CORPUS = os.path.join(REPO_ROOT, "Tests", "Fixtures", "firehose-2026-07-04", "expected_v1.jsonl")
DEFAULT_IMAGE_URL_TEMPLATE = "https://cdn.bsky.app/img/{preset}/plain/{did}/{cid}@jpeg"
FILTERS = ["posts_with_replies", "posts_no_replies", "posts_with_media", "posts_and_author_threads"]

ACTORS = SCENARIO["actors"]
POSTS = SCENARIO["posts"]
VIEWER = ACTORS["viewer"]["did"]

# How many bodies each method had validated, over the whole module.
VALIDATED = collections.Counter()


def did(name):
    return ACTORS[name]["did"]


def uri(label):
    return POSTS[label]["uri"]


def image_url(preset, owner, cid):
    template = os.environ.get("IMAGE_URL_TEMPLATE") or DEFAULT_IMAGE_URL_TEMPLATE
    return template.replace("{preset}", preset).replace("{did}", owner).replace("{cid}", cid)


def blob_cid(key):
    sys.path.insert(0, FIXTURE_DIR)
    import generate_dataset
    return generate_dataset.cid_of("blob", key)


def call(nsid, params=None, headers=None, method="GET", body=None):
    url = required_env("APPVIEW_URL").rstrip("/") + "/xrpc/" + nsid
    if method == "POST":
        return requests.post(url, json=body, headers=headers, timeout=15)
    return requests.get(url, params=params, headers=headers, timeout=15)


def ok(nsid, params=None, headers=None):
    response = call(nsid, params, headers)
    assert response.status_code == 200, f"{nsid} {params}: {response.status_code} {response.text[:500]}"
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert_valid_output(nsid, body)
    VALIDATED[nsid] += 1
    return body


def error(nsid, params, status, name, headers=None):
    response = call(nsid, params, headers)
    assert response.status_code == status, f"{nsid} {params}: {response.status_code} {response.text[:300]}"
    body = response.json()
    assert body["error"] == name, body
    return body


def walk(nsid, params, key, headers=None, limit=7):
    """Every page of a paginated list (cursor followed to the end); returns all items."""
    items, cursor, pages = [], None, 0
    while True:
        page_params = dict(params, limit=limit, **({"cursor": cursor} if cursor else {}))
        body = ok(nsid, page_params, headers)
        items.extend(body[key])
        pages += 1
        cursor = body.get("cursor")
        if not cursor:
            return items
        assert pages < 100, f"{nsid} {params}: pagination does not end"


def items_by_post(feed):
    """Feed items keyed by post uri (own posts only, not reposts)."""
    return {item["post"]["uri"]: item for item in feed if "reason" not in item}


def types_in(value):
    """Every `$type` anywhere in a JSON value."""
    found = set()
    if isinstance(value, dict):
        if isinstance(value.get("$type"), str):
            found.add(value["$type"])
        for child in value.values():
            found |= types_in(child)
    elif isinstance(value, list):
        for child in value:
            found |= types_in(child)
    return found


def profiles_in(value, found=None):
    """Every object carrying did + handle (profile views), anywhere in a JSON value."""
    found = [] if found is None else found
    if isinstance(value, dict):
        if "did" in value and "handle" in value:
            found.append(value)
        for child in value.values():
            profiles_in(child, found)
    elif isinstance(value, list):
        for child in value:
            profiles_in(child, found)
    return found


@pytest.fixture(scope="module", autouse=True)
def imported_data():
    """Imports the corpus and the conformance dataset (idempotent: replays write nothing)."""
    ingest = required_env("APPVIEW_INGEST")
    for path in (CORPUS, DATASET):
        subprocess.run([ingest, "import", path], check=True, env=dict(os.environ), capture_output=True, timeout=120)


def viewer_headers_factory():
    return bearer_headers


# --- the validator itself -------------------------------------------------------------------------

@pytest.mark.parametrize("value,format", [
    ("notacid12345", "cid"), ("bafyrei", "cid"),
    ("2026-07-04T14:38Z", "datetime"), ("2026-07-04 14:38:08Z", "datetime"), ("2026-07-04T14:38:08", "datetime"),
    ("2026-07-04T14:38:08.000-00:00", "datetime"),
    ("not-a-did", "did"), ("did:PLC:abc", "did"),
    ("bad handle", "handle"), ("under_score.test", "handle"),
    ("https://example.com/no-at", "at-uri"), ("at://not a did/app.bsky.feed.post/x", "at-uri"),
    ("not a uri", "uri"), ("https:", "uri"),
])
def test_bad_format_values_are_rejected(value, format):
    with pytest.raises(ValidationError):
        check_format(value, format)


def test_a_bad_value_inside_a_response_is_caught():
    good = {"did": VIEWER, "handle": "viewer.lexconf.test", "followersCount": 0, "followsCount": 0,
            "postsCount": 0, "indexedAt": "2026-07-04T14:38:08.999Z"}
    assert_valid_output("app.bsky.actor.getProfile", good)
    for field, bad in [("did", "not-a-did"), ("handle", "bad handle"), ("indexedAt", "2026-07-04T14:38Z"),
                       ("avatar", "not a uri")]:
        with pytest.raises(ValidationError):
            assert_valid_output("app.bsky.actor.getProfile", dict(good, **{field: bad}))
    post = {"uri": "at://did:plc:lexconfaliceaaaaaaaaaaaa/app.bsky.feed.post/x", "cid": "notacid12345",
            "author": {"did": VIEWER, "handle": "viewer.lexconf.test"},
            "record": {"$type": "app.bsky.feed.post", "text": "", "createdAt": "2026-07-04T14:38:08.999Z"},
            "indexedAt": "2026-07-04T14:38:08.999Z"}
    with pytest.raises(ValidationError):
        assert_valid_output("app.bsky.feed.getPosts", {"posts": [post]})
    with pytest.raises(ValidationError):  # a required field missing
        assert_valid_output("app.bsky.feed.getPosts", {"posts": [{k: v for k, v in post.items() if k != "author"}]})


def test_dataset_matches_its_generator(tmp_path):
    subprocess.run([sys.executable, os.path.join(FIXTURE_DIR, "generate_dataset.py"), str(tmp_path)], check=True)
    for name in ("dataset.jsonl", "scenario.json"):
        assert filecmp.cmp(tmp_path / name, os.path.join(FIXTURE_DIR, name), shallow=False), \
            f"{name} is stale: run python3 Tests/Fixtures/conformance/generate_dataset.py"


# --- anonymous walks ------------------------------------------------------------------------------

def every_author():
    return psql("SELECT DISTINCT originator_did FROM feed_items ORDER BY 1").split("\n")


def test_every_author_feed_with_every_filter_validates_to_the_last_page():
    inactive = {did("deact"): "AccountDeactivated", did("takedown"): "AccountTakedown", did("gone"): "InvalidRequest"}
    walked = 0
    for author in every_author():
        for filter_name in FILTERS:
            if author in inactive:
                error("app.bsky.feed.getAuthorFeed", {"actor": author, "filter": filter_name}, 400, inactive[author])
                continue
            feed = walk("app.bsky.feed.getAuthorFeed", {"actor": author, "filter": filter_name}, "feed")
            walked += len(feed)
            uris = [(item.get("reason", {}).get("uri"), item["post"]["uri"]) for item in feed]
            assert len(uris) == len(set(uris)), f"{author} {filter_name}: an item repeats across pages"
    assert walked > 100, "the walk validated almost nothing"
    # Alice has more than 4 pages at limit 7: pagination really was followed.
    alice = walk("app.bsky.feed.getAuthorFeed", {"actor": did("alice")}, "feed")
    assert len(alice) > 28


def test_quotes_render_every_record_embed_branch():
    feed = items_by_post(walk("app.bsky.feed.getAuthorFeed", {"actor": did("alice")}, "feed"))
    embed = lambda label: feed[uri(label)]["post"]["embed"]

    live = embed("quote-live")
    assert live["$type"] == "app.bsky.embed.record#view"
    assert live["record"]["$type"] == "app.bsky.embed.record#viewRecord"
    assert live["record"]["uri"] == uri("images-full") and live["record"]["cid"] == POSTS["images-full"]["cid"]
    assert live["record"]["author"]["did"] == did("carol")
    assert live["record"]["value"]["text"] == "two images with alt and aspect ratio"
    # the quoted post's own media comes along in `embeds`
    assert live["record"]["embeds"][0]["$type"] == "app.bsky.embed.images#view"

    assert embed("quote-back")["record"]["$type"] == "app.bsky.embed.record#viewRecord"
    for label in ("quote-missing", "quote-deleted", "quote-deact", "quote-feedgen", "quote-gone", "quote-takedown"):
        record = embed(label)["record"]
        assert record["$type"] == "app.bsky.embed.record#viewNotFound", (label, record)
        assert record["notFound"] is True
    assert embed("quote-missing")["record"]["uri"] == uri("never-indexed")
    assert embed("quote-deleted")["record"]["uri"] == uri("deleted-post")

    # anonymous: nobody is blocked, the quoted posts show
    assert embed("quote-blocker")["record"]["$type"] == "app.bsky.embed.record#viewRecord"

    quote_of_quote = embed("quote-of-quote")["record"]
    assert quote_of_quote["$type"] == "app.bsky.embed.record#viewRecord"
    assert quote_of_quote["value"]["embed"]["$type"] == "app.bsky.embed.record"
    assert "embeds" not in quote_of_quote, "a quote of a quote stops at depth one"

    with_images = embed("quote-with-images")
    assert with_images["$type"] == "app.bsky.embed.recordWithMedia#view"
    assert with_images["media"]["$type"] == "app.bsky.embed.images#view"
    assert with_images["record"]["record"]["$type"] == "app.bsky.embed.record#viewRecord"
    assert with_images["record"]["record"]["author"]["handle"] == "handle.invalid"
    assert embed("quote-external")["record"]["embeds"][0]["$type"] == "app.bsky.embed.external#view"
    assert embed("quote-video")["record"]["embeds"][0]["$type"] == "app.bsky.embed.video#view"
    with_link = embed("quote-with-external")
    assert with_link["media"]["$type"] == "app.bsky.embed.external#view"
    assert with_link["record"]["record"]["$type"] == "app.bsky.embed.record#viewNotFound"


def test_media_embeds_use_the_cdn_template_with_the_owner_and_blob():
    feed = items_by_post(walk("app.bsky.feed.getAuthorFeed", {"actor": did("carol")}, "feed"))
    embed = lambda label: feed[uri(label)]["post"].get("embed")
    carol = did("carol")

    full = embed("images-full")
    assert full["$type"] == "app.bsky.embed.images#view"
    assert [image["thumb"] for image in full["images"]] == [
        image_url("feed_thumbnail", carol, blob_cid(f"full-{i}")) for i in range(2)]
    assert [image["fullsize"] for image in full["images"]] == [
        image_url("feed_fullsize", carol, blob_cid(f"full-{i}")) for i in range(2)]
    assert full["images"][0]["alt"] == "picture 0 of full"
    assert full["images"][1]["aspectRatio"] == {"width": 1201, "height": 800}
    legacy = embed("images-legacy-blob")["images"][0]
    assert legacy["thumb"] == image_url("feed_thumbnail", carol, blob_cid("legacy-0"))
    bare = embed("images-bare")["images"][0]
    assert bare["alt"] == "" and "aspectRatio" not in bare

    thumbed = embed("external-thumb")["external"]
    assert thumbed["uri"] == "https://example.com/thumbed" and thumbed["title"] == "Title of thumbed"
    assert thumbed["thumb"] == image_url("feed_thumbnail", carol, blob_cid("thumbed-thumb"))
    assert "thumb" not in embed("external-plain")["external"]

    video = embed("video")
    assert video["$type"] == "app.bsky.embed.video#view"
    assert video["cid"] == blob_cid("clip-video")
    assert carol in video["playlist"] and video["cid"] in video["playlist"]
    assert video["aspectRatio"] == {"width": 1920, "height": 1080}

    gallery = embed("gallery")
    assert gallery["$type"] == "app.bsky.embed.gallery#view"
    assert gallery["items"][0]["thumbnail"] == image_url("feed_thumbnail", carol, blob_cid("gallery-0"))

    facets = feed[uri("facets")]["post"]["record"]
    assert {f["features"][0]["$type"] for f in facets["facets"]} == {
        "app.bsky.richtext.facet#mention", "app.bsky.richtext.facet#link", "app.bsky.richtext.facet#tag"}
    assert facets["langs"] == ["en", "fr"]
    labelled = feed[uri("self-labels")]["post"]
    assert labelled["record"]["labels"]["values"] == [{"val": "nudity"}]
    assert [(l["src"], l["uri"], l["cid"], l["val"], l["cts"]) for l in labelled["labels"]] == [
        (carol, uri("self-labels"), POSTS["self-labels"]["cid"], "nudity", labelled["record"]["createdAt"])]
    assert "labels" not in feed[uri("facets")]["post"]

    media_only = walk("app.bsky.feed.getAuthorFeed", {"actor": carol, "filter": "posts_with_media"}, "feed")
    assert {item["post"]["embed"]["$type"] for item in media_only} == {
        "app.bsky.embed.images#view", "app.bsky.embed.video#view", "app.bsky.embed.gallery#view"}
    threads = items_by_post(walk("app.bsky.feed.getAuthorFeed",
                                 {"actor": carol, "filter": "posts_and_author_threads"}, "feed"))
    assert uri("self-thread-reply") in threads


def test_replies_render_missing_deleted_and_inactive_parents_as_not_found():
    feed = items_by_post(walk("app.bsky.feed.getAuthorFeed", {"actor": did("alice")}, "feed"))
    reply = lambda label: feed[uri(label)]["reply"]
    for label, parent in [("reply-missing-parent", "never-indexed"), ("reply-deleted-parent", "deleted-post"),
                          ("reply-deact-parent", "deact-post")]:
        target = reply(label)["parent"]
        assert target == {"$type": "app.bsky.feed.defs#notFoundPost", "uri": uri(parent), "notFound": True}, label
    assert reply("reply-missing-root")["root"]["$type"] == "app.bsky.feed.defs#notFoundPost"
    assert reply("reply-missing-root")["parent"]["$type"] == "app.bsky.feed.defs#postView"
    assert reply("reply-missing-root")["parent"]["embed"]["$type"] == "app.bsky.embed.images#view"
    assert reply("reply-live")["parent"]["uri"] == uri("self-thread-root")
    assert "grandparentAuthor" not in reply("reply-live"), "the parent is not a reply"
    assert reply("reply-to-reply")["grandparentAuthor"]["did"] == did("carol")
    assert reply("reply-to-reply")["root"]["uri"] == uri("self-thread-root")
    # the parent replies to a post never indexed: its author (bob) is still known
    assert reply("reply-to-reply-of-missing")["grandparentAuthor"]["did"] == did("bob")
    no_replies = walk("app.bsky.feed.getAuthorFeed", {"actor": did("alice"), "filter": "posts_no_replies"}, "feed")
    assert not any("reply" in item["post"]["record"] for item in no_replies)


def test_reposts_of_live_posts_show_and_of_deleted_posts_do_not():
    feed = walk("app.bsky.feed.getAuthorFeed", {"actor": did("alice")}, "feed")
    reposts = {item["reason"]["uri"]: item for item in feed if "reason" in item}
    live = reposts[uri("repost-live")]
    assert live["reason"]["$type"] == "app.bsky.feed.defs#reasonRepost"
    assert live["reason"]["by"]["did"] == did("alice")
    assert live["post"]["uri"] == uri("images-full")
    assert uri("repost-deleted") not in reposts
    assert uri("repost-quote") in reposts


def test_include_pins_puts_the_pinned_post_first_on_the_first_page_only():
    pin = {"$type": "app.bsky.feed.defs#reasonPin"}
    first = ok("app.bsky.feed.getAuthorFeed", {"actor": VIEWER, "includePins": "true", "limit": 1})
    assert first["feed"][0]["reason"] == pin and first["feed"][0]["post"]["uri"] == uri("viewer-1")
    pinned = walk("app.bsky.feed.getAuthorFeed", {"actor": VIEWER, "includePins": "true"}, "feed", limit=1)
    plain = walk("app.bsky.feed.getAuthorFeed", {"actor": VIEWER}, "feed", limit=1)
    assert [item.get("reason") for item in pinned].count(pin) == 1
    assert not any(item.get("reason") == pin for item in plain)
    assert pinned[1:] == plain, "the pin is added on the first page; the post keeps its place too"
    for other in ("posts_no_replies", "posts_with_media"):
        body = ok("app.bsky.feed.getAuthorFeed", {"actor": did("alice"), "includePins": "true", "filter": other})
        assert not any(item.get("reason") == pin for item in body["feed"]), "alice pinned nothing"


def test_get_posts_keeps_order_and_omits_missing_deleted_and_inactive():
    asked = [uri("quote-live"), uri("never-indexed"), uri("images-full"), uri("deleted-post"),
             uri("deact-post"), uri("takedown-post"), uri("nohandle-post"), uri("quote-with-images"),
             uri("video"), uri("gallery"), uri("reply-missing-root")]
    body = ok("app.bsky.feed.getPosts", [("uris", u) for u in asked])
    assert [p["uri"] for p in body["posts"]] == [
        uri("quote-live"), uri("images-full"), uri("nohandle-post"), uri("quote-with-images"), uri("video"),
        uri("gallery"), uri("reply-missing-root")]
    nohandle = body["posts"][2]
    assert nohandle["author"]["handle"] == "handle.invalid"
    assert "viewer" not in nohandle, "anonymous: no viewer state"
    counts = body["posts"][1]
    assert (counts["likeCount"], counts["repostCount"], counts["quoteCount"], counts["replyCount"]) == (1, 2, 1, 1)


def test_profiles_with_and_without_optional_fields():
    expect = {
        "viewer": {"displayName", "description", "avatar", "banner"},
        "alice": {"displayName", "avatar"},
        "bob": set(),
        "carol": {"displayName", "description", "banner"},
        "nohandle": set(),
    }
    optional = {"displayName", "description", "avatar", "banner"}
    for name, present in expect.items():
        profile = ok("app.bsky.actor.getProfile", {"actor": did(name)})
        assert optional & profile.keys() == present, (name, profile)
        if "avatar" in present:
            assert profile["avatar"] == image_url("avatar", did(name), ACTORS[name]["profile"]["avatar"])
        if "banner" in present:
            assert profile["banner"] == image_url("banner", did(name), ACTORS[name]["profile"]["banner"])
    assert ok("app.bsky.actor.getProfile", {"actor": did("nohandle")})["handle"] == "handle.invalid"
    assert ok("app.bsky.actor.getProfile", {"actor": did("badhandle")})["handle"] == "handle.invalid"
    viewer = ok("app.bsky.actor.getProfile", {"actor": VIEWER})
    assert (viewer["pronouns"], viewer["website"]) == ("they/them", "https://viewer.example.com")
    assert viewer["pinnedPost"] == {"uri": uri("viewer-1"), "cid": POSTS["viewer-1"]["cid"]}
    assert [(l["src"], l["uri"], l["val"], l["cts"]) for l in viewer["labels"]] == [
        (VIEWER, f"at://{VIEWER}/app.bsky.actor.profile/self", "!no-unauthenticated", "2026-07-01T00:00:00.000Z")]
    assert "labels" not in ok("app.bsky.actor.getProfile", {"actor": did("alice")})
    longname = ok("app.bsky.actor.getProfile", {"actor": did("longname")})
    assert grapheme.length(longname["displayName"]) == 64 and longname["displayName"] == "e\u0301" * 64
    assert grapheme.length(longname["description"]) == 256
    assert ok("app.bsky.actor.getProfile", {"actor": "after.lexconf.test"})["did"] == did("renamed")
    error("app.bsky.actor.getProfile", {"actor": "before.lexconf.test"}, 400, "InvalidRequest")
    by_handle = ok("app.bsky.actor.getProfile", {"actor": "carol.lexconf.test"})
    assert by_handle["did"] == did("carol")
    error("app.bsky.actor.getProfile", {"actor": did("deact")}, 400, "AccountDeactivated")
    error("app.bsky.actor.getProfile", {"actor": "takedown.lexconf.test"}, 400, "AccountTakedown")
    error("app.bsky.actor.getProfile", {"actor": did("gone")}, 400, "InvalidRequest")
    assert ok("app.bsky.actor.getProfile", {"actor": did("back")})["did"] == did("back")

    asked = [did("viewer"), "alice.lexconf.test", did("deact"), did("nohandle"), "takedown.lexconf.test",
             "nobody.lexconf.test", did("carol")]
    body = ok("app.bsky.actor.getProfiles", [("actors", a) for a in asked])
    assert [p["did"] for p in body["profiles"]] == [did("viewer"), did("alice"), did("nohandle"), did("carol")]


def test_every_profile_everywhere_uses_the_cdn_template_and_a_valid_handle():
    bodies = [ok("app.bsky.actor.getProfiles", [("actors", a) for a in every_author()[i:i + 25]])
              for i in range(0, len(every_author()), 25)]
    bodies += [ok("app.bsky.feed.getAuthorFeed", {"actor": a, "limit": 100}) for a in every_author()[:40]
               if a not in (did("deact"), did("takedown"), did("gone"))]
    seen = profiles_in(bodies)
    assert len(seen) > 20
    rows = psql("SELECT did || ' ' || coalesce(avatar_cid, '-') FROM actors WHERE did = ANY(ARRAY[%s])"
                % ",".join(f"'{p['did']}'" for p in seen)).split("\n")
    avatars = dict(row.split(" ") for row in rows)
    with_avatar = 0
    for profile in seen:
        stored = avatars.get(profile["did"], "-")
        if stored == "-":
            assert "avatar" not in profile, profile
        else:
            assert profile["avatar"] == image_url("avatar", profile["did"], stored)
            with_avatar += 1
    assert with_avatar > 0, "no avatar in the walk: the template branch was not exercised"


# --- viewer walks (service auth) ------------------------------------------------------------------

def test_viewer_timeline_walks_to_the_end_with_viewer_state():
    bearer_headers = viewer_headers_factory()
    headers = bearer_headers(VIEWER, "app.bsky.feed.getTimeline")
    feed = walk("app.bsky.feed.getTimeline", {}, "feed", headers=headers)
    authors = {item["post"]["author"]["did"] for item in feed}
    assert did("blocker") not in authors and did("blocked") not in authors
    assert did("alice") in authors and VIEWER in authors
    reposts = {item["reason"]["uri"] for item in feed if "reason" in item}
    assert uri("repost-live") in reposts
    assert uri("repost-blocked") not in reposts and uri("repost-deleted") not in reposts
    posts = {item["post"]["uri"]: item["post"] for item in feed}
    liked = posts[uri("images-full")]
    assert liked["viewer"]["like"] == uri("viewer-like") and liked["viewer"]["repost"] == uri("viewer-repost")
    by_uri = items_by_post(feed)
    assert by_uri[uri("quote-blocker")]["post"]["embed"]["record"]["$type"] == "app.bsky.embed.record#viewBlocked"
    assert by_uri[uri("quote-blocked")]["post"]["embed"]["record"]["author"]["viewer"]["blocking"] == \
        uri("block-viewer-blocked")
    assert by_uri[uri("reply-blocker-parent")]["reply"]["parent"]["$type"] == "app.bsky.feed.defs#blockedPost"
    assert by_uri[uri("reply-blocked-parent")]["reply"]["parent"]["author"]["viewer"]["blocking"]
    assert all("viewer" in p for p in posts.values())


def test_viewer_state_on_profiles_posts_and_author_feeds():
    bearer_headers = viewer_headers_factory()
    h = lambda nsid: bearer_headers(VIEWER, nsid)
    alice = ok("app.bsky.actor.getProfile", {"actor": did("alice")}, h("app.bsky.actor.getProfile"))
    assert alice["viewer"]["following"] == uri("follow-viewer-alice")
    assert alice["viewer"]["followedBy"] == uri("follow-alice-viewer")
    assert alice["viewer"]["muted"] is False and alice["viewer"]["blockedBy"] is False
    blocker = ok("app.bsky.actor.getProfile", {"actor": did("blocker")}, h("app.bsky.actor.getProfile"))
    assert blocker["viewer"]["blockedBy"] is True
    blocked = ok("app.bsky.actor.getProfile", {"actor": did("blocked")}, h("app.bsky.actor.getProfile"))
    assert blocked["viewer"]["blocking"] == uri("block-viewer-blocked")
    profiles = ok("app.bsky.actor.getProfiles", [("actors", did(n)) for n in ("alice", "bob", "carol")],
                  h("app.bsky.actor.getProfiles"))
    assert all("viewer" in p for p in profiles["profiles"])

    error("app.bsky.feed.getAuthorFeed", {"actor": did("blocker")}, 400, "BlockedByActor", h("app.bsky.feed.getAuthorFeed"))
    error("app.bsky.feed.getAuthorFeed", {"actor": did("blocked")}, 400, "BlockedActor", h("app.bsky.feed.getAuthorFeed"))
    for filter_name in FILTERS:
        walk("app.bsky.feed.getAuthorFeed", {"actor": did("alice"), "filter": filter_name}, "feed",
             headers=h("app.bsky.feed.getAuthorFeed"))

    posts = ok("app.bsky.feed.getPosts", [("uris", uri(l)) for l in ("images-full", "quote-blocker", "blocker-post")],
               h("app.bsky.feed.getPosts"))["posts"]
    assert posts[0]["viewer"] == {"like": uri("viewer-like"), "repost": uri("viewer-repost")}
    assert posts[1]["embed"]["record"]["$type"] == "app.bsky.embed.record#viewBlocked"
    assert posts[2]["author"]["viewer"]["blockedBy"] is True


def test_viewer_notifications_every_reason_read_and_unread():
    bearer_headers = viewer_headers_factory()
    h = lambda nsid: bearer_headers(VIEWER, nsid)
    every = walk("app.bsky.notification.listNotifications", {}, "notifications",
                 headers=h("app.bsky.notification.listNotifications"), limit=2)
    reasons = collections.Counter(n["reason"] for n in every)
    assert set(reasons) == {"like", "repost", "follow", "mention", "reply", "quote"}, reasons
    assert all(n["author"]["did"] not in (did("blocker"), did("deact")) for n in every), \
        "likes by a blocker and by a deactivated account are hidden"
    for reason in reasons:
        only = walk("app.bsky.notification.listNotifications", {"reasons": reason}, "notifications",
                    headers=h("app.bsky.notification.listNotifications"))
        assert {n["reason"] for n in only} == {reason}
    both = ok("app.bsky.notification.listNotifications", [("reasons", "like"), ("reasons", "follow")],
              h("app.bsky.notification.listNotifications"))
    assert {n["reason"] for n in both["notifications"]} == {"like", "follow"}

    newest = max(n["indexedAt"] for n in every)
    oldest = min(n["indexedAt"] for n in every)
    split = ok("app.bsky.notification.listNotifications", {"seenAt": oldest},
               h("app.bsky.notification.listNotifications"))
    assert split["seenAt"] == oldest
    assert {n["isRead"] for n in split["notifications"]} == {True, False}

    # updateSeen: everything read, unread count 0; it never moves back.
    seen_at = newest
    response = call("app.bsky.notification.updateSeen", headers=h("app.bsky.notification.updateSeen"),
                    method="POST", body={"seenAt": seen_at})
    assert response.status_code == 200, response.text
    VALIDATED["app.bsky.notification.updateSeen"] += 1
    assert ok("app.bsky.notification.getUnreadCount", {}, h("app.bsky.notification.getUnreadCount"))["count"] == 0
    read = ok("app.bsky.notification.listNotifications", {}, h("app.bsky.notification.listNotifications"))
    assert all(n["isRead"] for n in read["notifications"]) and read["seenAt"] == seen_at
    unread = ok("app.bsky.notification.getUnreadCount", {"seenAt": oldest}, h("app.bsky.notification.getUnreadCount"))
    assert unread["count"] == len(every) - sum(1 for n in every if n["indexedAt"] <= oldest)


def test_viewer_bodies_of_the_in_process_walk_validate():
    """Tests/APITests/ViewerConformanceTests (run by `make test` before pytest) drives every viewer
    method in-process with a fixed viewer and writes each body; here they meet the lexicons."""
    path = os.path.join(REPO_ROOT, ".local", "conformance", "viewer-bodies.jsonl")
    if not os.path.exists(path):
        pytest.skip(f"{path} not written: run ViewerConformanceTests (swift test) first")
    if os.path.getmtime(path) < os.path.getmtime(DATASET):
        pytest.skip(f"{path} predates {DATASET}: run ViewerConformanceTests (swift test) again")
    counts = collections.Counter()
    with open(path) as bodies:
        for line in bodies:
            entry = json.loads(line)
            if entry["body"] is not None:
                assert_valid_output(entry["nsid"], entry["body"])
            counts[entry["nsid"]] += 1
    for nsid in ["app.bsky.feed.getTimeline", "app.bsky.feed.getAuthorFeed", "app.bsky.feed.getPosts",
                 "app.bsky.actor.getProfile", "app.bsky.actor.getProfiles", "app.bsky.notification.listNotifications",
                 "app.bsky.notification.getUnreadCount", "app.bsky.notification.updateSeen"]:
        assert counts[nsid] > 0, f"{nsid}: no viewer body in {path}"
    types = set()
    with open(path) as bodies:
        for line in bodies:
            types |= types_in(json.loads(line)["body"])
    assert {"app.bsky.embed.record#viewBlocked", "app.bsky.feed.defs#blockedPost",
            "app.bsky.embed.record#viewRecord", "app.bsky.embed.record#viewNotFound"} <= types


# --- the walk as a whole --------------------------------------------------------------------------

def test_zz_every_implemented_method_had_bodies_validated():
    anonymous = ["app.bsky.feed.getAuthorFeed", "app.bsky.feed.getPosts", "app.bsky.actor.getProfile",
                 "app.bsky.actor.getProfiles"]
    for nsid in anonymous:
        assert VALIDATED[nsid] > 0, f"{nsid}: no body validated"
    for nsid in ["app.bsky.feed.getTimeline", "app.bsky.notification.listNotifications",
                 "app.bsky.notification.getUnreadCount", "app.bsky.notification.updateSeen"]:
        assert VALIDATED[nsid] > 0, f"{nsid}: no body validated"
