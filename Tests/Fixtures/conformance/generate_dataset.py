#!/usr/bin/env python3
"""Deterministic Jetstream JSONL that exercises every branch of every view the API renders.

`appview-ingest import dataset.jsonl` takes its output. Together with the real corpus it covers:
replies whose parent/root was never indexed, was deleted, is by a blocking/blocked or deactivated
author; quotes of existing, missing, deleted, blocked and non-post records; quote + media
(recordWithMedia); images with and without aspectRatio/alt; external links with and without thumb;
video; gallery; facets (mention, link, tag); langs; self-labels; reposts (of live, deleted and
blocked posts); a blocked author, an actor who blocks the viewer; deactivated and taken-down
accounts; a handle never resolved and one that is not a valid handle; profiles with and without
avatar/banner/description/displayName; notifications of every reason for the viewer.

All DIDs are `did:plc:lexconf…` (the corpus and demo data never use that prefix), so importing this
file into the database the other HTTP tests use is harmless and idempotent (a replay writes nothing).
The expected branches are described by `scenario.json`, written next to the dataset.

Run: python3 generate_dataset.py [OUT_DIR]  (default: this directory)
"""
import base64
import datetime
import hashlib
import json
import os
import sys

BASE_TIME_US = 1_783_180_000_000_000  # 2026-07-04T15:46:40Z, after the corpus
PREFIX = "lexconf"


def did_of(name):
    body = (PREFIX + name).lower()
    assert len(body) <= 24, name
    return "did:plc:" + body + "a" * (24 - len(body))


def b32(data):
    return base64.b32encode(data).decode().lower().rstrip("=")


def cid_of(kind, key):
    """A real CIDv1 (base32): raw codec for blobs, dag-cbor for records, sha2-256 of a derived key."""
    codec = 0x55 if kind == "blob" else 0x71
    return "b" + b32(bytes([0x01, codec, 0x12, 0x20]) + hashlib.sha256(f"{kind}:{key}".encode()).digest())


def iso(time_us):
    seconds, micro = divmod(time_us, 1_000_000)
    moment = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{micro // 1000:03d}Z"


class Dataset:
    def __init__(self):
        self.events = []
        self.clock = BASE_TIME_US
        self.rkeys = 0
        self.scenario = {"actors": {}, "posts": {}, "expect": {}}

    def tick(self, seconds=1):
        self.clock += seconds * 1_000_000
        return self.clock

    def rkey(self):
        self.rkeys += 1
        return f"3lcf{self.rkeys:09d}"

    def emit(self, did, kind, payload):
        event = {"did": did, "time_us": self.tick(), "kind": kind, kind: payload}
        self.events.append(event)
        return event

    def commit(self, did, collection, record=None, rkey=None, operation="create"):
        rkey = rkey or self.rkey()
        commit = {"rev": f"3lcfrev{self.rkeys:06d}", "operation": operation, "collection": collection, "rkey": rkey}
        uri = f"at://{did}/{collection}/{rkey}"
        cid = None
        if operation != "delete":
            record = dict(record)
            record.setdefault("createdAt", iso(self.clock + 1_000_000))
            commit["record"] = record
            cid = cid_of("record", uri + json.dumps(record, sort_keys=True))
            commit["cid"] = cid
        self.emit(did, "commit", commit)
        return {"uri": uri, "cid": cid}

    # --- actors -----------------------------------------------------------------------------------
    def actor(self, name, handle="default", profile=None):
        did = did_of(name)
        resolved = f"{name}.lexconf.test" if handle == "default" else handle
        if handle is not None:
            self.emit(did, "identity", {"did": did, "handle": resolved, "seq": self.rkeys, "time": iso(self.clock)})
        if profile is not None:
            record = {"$type": "app.bsky.actor.profile"}
            for key in ("displayName", "description"):
                if key in profile:
                    record[key] = profile[key]
            for key in ("avatar", "banner"):
                if profile.get(key):
                    record[key] = self.blob(f"{name}-{key}")
            self.commit(did, "app.bsky.actor.profile", record, rkey="self")
        self.scenario["actors"][name] = {"did": did, "handle": resolved if handle not in (None,) else None,
                                         "profile": {k: (v if k not in ("avatar", "banner") else
                                                         (cid_of("blob", f"{name}-{k}") if v else None))
                                                     for k, v in (profile or {}).items()}}
        return did

    def account(self, did, active, status=None):
        payload = {"active": active, "did": did, "seq": self.rkeys, "time": iso(self.clock)}
        if status:
            payload["status"] = status
        self.emit(did, "account", payload)

    def blob(self, key, mime="image/jpeg"):
        return {"$type": "blob", "ref": {"$link": cid_of("blob", key)}, "mimeType": mime, "size": 12345}

    # --- records ----------------------------------------------------------------------------------
    def post(self, name, text, label=None, reply=None, embed=None, facets=None, langs=None, labels=None,
             created_at=None):
        did = did_of(name)
        record = {"$type": "app.bsky.feed.post", "text": text}
        if created_at:
            record["createdAt"] = created_at
        if reply:
            parent, root = reply
            record["reply"] = {"root": {"uri": root["uri"], "cid": root["cid"]},
                               "parent": {"uri": parent["uri"], "cid": parent["cid"]}}
        if embed:
            record["embed"] = embed
        if facets:
            record["facets"] = facets
        if langs:
            record["langs"] = langs
        if labels:
            record["labels"] = {"$type": "com.atproto.label.defs#selfLabels", "values": [{"val": v} for v in labels]}
        ref = self.commit(did, "app.bsky.feed.post", record)
        if label:
            self.scenario["posts"][label] = ref | {"author": name}
        return ref

    def delete(self, ref):
        _, _, did, collection, rkey = ref["uri"].split("/")
        self.commit(did, collection, rkey=rkey, operation="delete")

    def subject(self, name, collection, target, label=None):
        ref = self.commit(did_of(name), collection, {"$type": collection,
                                                      "subject": {"uri": target["uri"], "cid": target["cid"]}})
        if label:
            self.scenario["posts"][label] = ref | {"author": name}
        return ref

    def graph(self, name, collection, subject_name, label=None):
        ref = self.commit(did_of(name), collection, {"$type": collection, "subject": did_of(subject_name)})
        if label:
            self.scenario["posts"][label] = ref | {"author": name}
        return ref

    @staticmethod
    def quote(target):
        return {"$type": "app.bsky.embed.record", "record": {"uri": target["uri"], "cid": target["cid"]}}

    def images(self, key, count=2, aspect=True, alt=True):
        images = []
        for i in range(count):
            image = {"image": self.blob(f"{key}-{i}")}
            image["alt"] = f"picture {i} of {key}" if alt else ""
            if aspect:
                image["aspectRatio"] = {"width": 1200 + i, "height": 800}
            images.append(image)
        return {"$type": "app.bsky.embed.images", "images": images}

    def external(self, key, thumb=True):
        external = {"uri": f"https://example.com/{key}", "title": f"Title of {key}", "description": f"About {key}"}
        if thumb:
            external["thumb"] = self.blob(f"{key}-thumb")
        return {"$type": "app.bsky.embed.external", "external": external}

    def video(self, key):
        return {"$type": "app.bsky.embed.video", "video": self.blob(f"{key}-video", "video/mp4"),
                "alt": f"video {key}", "aspectRatio": {"width": 1920, "height": 1080}}


def build():
    d = Dataset()
    s = d.scenario
    # Actors: the viewer and everyone whose relationship or state a view must show.
    d.actor("viewer", profile={"displayName": "The Viewer", "description": "I look at things", "avatar": True,
                               "banner": True})
    d.actor("alice", profile={"displayName": "Alice", "avatar": True})
    d.actor("bob", profile={})                                        # profile without any optional field
    d.actor("carol", profile={"displayName": "Carol", "description": "media poster", "banner": True})
    d.actor("nohandle", handle=None)                                  # never resolved: handle.invalid
    d.actor("badhandle", handle="not_a_valid_handle")                 # not a syntactically valid handle
    d.actor("blocker", profile={"displayName": "Blocks the viewer"})
    d.actor("blocked", profile={"displayName": "Blocked by the viewer"})
    d.actor("deact", profile={"displayName": "Deactivated later"})
    d.actor("takedown", profile={"displayName": "Taken down later"})
    d.actor("gone", profile={"displayName": "Deletes the account later"})
    d.actor("back", profile={"displayName": "Deactivates, then comes back"})
    # A profile record over its lexicon's limits (a PDS would refuse it; the firehose may still carry
    # one): 70 one-grapheme "é" (e + combining acute) as displayName, 300 as description.
    d.actor("longname", profile={"displayName": "e\u0301" * 70, "description": "e\u0301" * 300, "avatar": True})
    # A handle that changes: the newest identity event wins.
    d.actor("renamed", handle="before.lexconf.test", profile={"displayName": "Renamed"})
    d.emit(did_of("renamed"), "identity", {"did": did_of("renamed"), "handle": "after.lexconf.test",
                                           "seq": 1, "time": iso(d.clock)})
    d.scenario["actors"]["renamed"]["handle"] = "after.lexconf.test"

    # Graph: viewer follows alice, carol, blocker, blocked, nohandle; alice follows viewer.
    for subject in ("alice", "carol", "blocker", "blocked", "nohandle", "deact"):
        d.graph("viewer", "app.bsky.graph.follow", subject, label=f"follow-viewer-{subject}")
    d.graph("alice", "app.bsky.graph.follow", "viewer", label="follow-alice-viewer")
    d.graph("blocker", "app.bsky.graph.block", "viewer", label="block-blocker-viewer")
    d.graph("viewer", "app.bsky.graph.block", "blocked", label="block-viewer-blocked")

    # The viewer's own posts (subjects of notifications).
    v1 = d.post("viewer", "my first post", label="viewer-1", langs=["en"])
    v2 = d.post("viewer", "my second post", label="viewer-2")

    # Posts of those whose state hides or replaces them.
    blocker_post = d.post("blocker", "a post by someone who blocks the viewer", label="blocker-post")
    blocked_post = d.post("blocked", "a post by someone the viewer blocks", label="blocked-post")
    deact_post = d.post("deact", "posted before deactivating", label="deact-post")
    takedown_post = d.post("takedown", "posted before the takedown", label="takedown-post")
    gone_post = d.post("gone", "posted before deleting the account", label="gone-post")
    d.post("back", "posted before a break", label="back-post")
    nohandle_post = d.post("nohandle", "posted by an actor with no handle", label="nohandle-post")
    d.post("badhandle", "posted by an actor with an invalid handle", label="badhandle-post")
    doomed = d.post("bob", "this post will be deleted", label="deleted-post")
    never = {"uri": f"at://{did_of('bob')}/app.bsky.feed.post/3lcfnever00001",
             "cid": cid_of("record", "never indexed")}
    s["posts"]["never-indexed"] = never | {"author": "bob"}

    # Carol: every media shape, facets, langs, labels.
    mention_text = "hello @viewer.lexconf.test see https://example.com #lexconf"
    d.post("carol", mention_text, label="facets", langs=["en", "fr"], facets=[
        {"index": {"byteStart": 6, "byteEnd": 26},
         "features": [{"$type": "app.bsky.richtext.facet#mention", "did": did_of("viewer")}]},
        {"index": {"byteStart": 31, "byteEnd": 50},
         "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com"}]},
        {"index": {"byteStart": 51, "byteEnd": 59},
         "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "lexconf"}]},
    ])
    images_full = d.post("carol", "two images with alt and aspect ratio", label="images-full",
                         embed=d.images("full"))
    d.post("carol", "one image without alt or aspect ratio", label="images-bare",
           embed=d.images("bare", count=1, aspect=False, alt=False))
    d.post("carol", "a link with a thumb", label="external-thumb", embed=d.external("thumbed"))
    d.post("carol", "a link without a thumb", label="external-plain", embed=d.external("plain", thumb=False))
    d.post("carol", "a video", label="video", embed=d.video("clip"))
    d.post("carol", "a gallery", label="gallery", embed={"$type": "app.bsky.embed.gallery", "items": [
        {"$type": "app.bsky.embed.gallery#image", "image": d.blob("gallery-0"), "alt": "first",
         "aspectRatio": {"width": 4, "height": 3}}]})
    d.post("carol", "an image in the legacy blob format", label="images-legacy-blob", embed={
        "$type": "app.bsky.embed.images",
        "images": [{"image": {"cid": cid_of("blob", "legacy-0"), "mimeType": "image/jpeg"}, "alt": "legacy"}]})
    d.post("carol", "a labelled post", label="self-labels", labels=["nudity"], langs=["de"])
    d.post("carol", "a post dated in the future", label="future",
           created_at="2030-01-01T00:00:00.000Z")
    thread_root = d.post("carol", "thread start", label="self-thread-root")
    thread_reply = d.post("carol", "thread continues", label="self-thread-reply", reply=(thread_root, thread_root))

    # Quotes (by alice) of every kind of target.
    d.post("alice", "quoting a live post", label="quote-live", embed=d.quote(images_full))
    d.post("alice", "quoting a never-indexed post", label="quote-missing", embed=d.quote(never))
    d.post("alice", "quoting a post that gets deleted", label="quote-deleted", embed=d.quote(doomed))
    d.post("alice", "quoting a post by a blocker", label="quote-blocker", embed=d.quote(blocker_post))
    d.post("alice", "quoting a post by a blocked actor", label="quote-blocked", embed=d.quote(blocked_post))
    d.post("alice", "quoting a deactivated actor", label="quote-deact", embed=d.quote(deact_post))
    feedgen = {"uri": f"at://{did_of('carol')}/app.bsky.feed.generator/lexconf", "cid": cid_of("record", "feedgen")}
    d.post("alice", "quoting a feed generator", label="quote-feedgen", embed=d.quote(feedgen))
    d.post("alice", "quoting a deleted account", label="quote-gone", embed=d.quote(gone_post))
    d.post("alice", "quoting a taken-down account", label="quote-takedown", embed=d.quote(takedown_post))
    d.post("alice", "quoting someone who came back", label="quote-back", embed=d.quote(s["posts"]["back-post"]))
    d.post("alice", "quote with images", label="quote-with-images", embed={
        "$type": "app.bsky.embed.recordWithMedia", "record": d.quote(nohandle_post), "media": d.images("rwm", count=1)})
    d.post("alice", "quote with a link", label="quote-with-external", embed={
        "$type": "app.bsky.embed.recordWithMedia", "record": d.quote(never), "media": d.external("rwm-link")})
    quote_of_quote_target = d.post("alice", "quoting a quote", label="quote-of-quote",
                                   embed=d.quote(s["posts"]["quote-live"]))
    d.post("alice", "quoting the viewer", label="quote-viewer", embed=d.quote(v1))
    d.post("alice", "quoting a link post", label="quote-external", embed=d.quote(s["posts"]["external-thumb"]))
    d.post("alice", "quoting a video", label="quote-video", embed=d.quote(s["posts"]["video"]))
    d.post("longname", "a post by an actor whose profile is too long", label="longname-post")

    # Replies (by alice) to every kind of parent/root.
    d.post("alice", "reply to a never-indexed post", label="reply-missing-parent", reply=(never, never))
    d.post("alice", "reply to a post that gets deleted", label="reply-deleted-parent", reply=(doomed, doomed))
    d.post("alice", "reply to a blocker", label="reply-blocker-parent", reply=(blocker_post, blocker_post))
    d.post("alice", "reply to a blocked actor", label="reply-blocked-parent", reply=(blocked_post, blocked_post))
    d.post("alice", "reply to a deactivated actor", label="reply-deact-parent", reply=(deact_post, deact_post))
    d.post("alice", "reply whose root is missing", label="reply-missing-root", reply=(images_full, never))
    d.post("alice", "reply in a live thread", label="reply-live", reply=(thread_root, thread_root))
    d.post("alice", "reply to a reply", label="reply-to-reply", reply=(thread_reply, thread_root))
    d.post("alice", "reply to a reply whose parent is gone", label="reply-to-reply-of-missing",
           reply=(s["posts"]["reply-missing-parent"], never))

    # Reposts (by alice): live, of a post to be deleted, of a blocked actor's post, of a quote.
    d.subject("alice", "app.bsky.feed.repost", images_full, label="repost-live")
    d.subject("alice", "app.bsky.feed.repost", doomed, label="repost-deleted")
    d.subject("alice", "app.bsky.feed.repost", blocked_post, label="repost-blocked")
    d.subject("alice", "app.bsky.feed.repost", quote_of_quote_target, label="repost-quote")

    # Pages: alice posts enough for several pages at limit 7.
    for i in range(24):
        d.post("alice", f"filler {i}", label=f"filler-{i}")

    # The viewer's state on posts.
    d.subject("viewer", "app.bsky.feed.like", images_full, label="viewer-like")
    d.subject("viewer", "app.bsky.feed.repost", images_full, label="viewer-repost")

    # Notifications for the viewer: like, repost, follow (above), mention (facets), reply, quote (above).
    d.subject("alice", "app.bsky.feed.like", v1, label="notif-like")
    d.subject("alice", "app.bsky.feed.repost", v2, label="notif-repost")
    d.post("bob", "replying to the viewer", label="notif-reply", reply=(v1, v1))
    d.subject("blocker", "app.bsky.feed.like", v1, label="notif-like-from-blocker")  # hidden: blocks the viewer
    d.subject("deact", "app.bsky.feed.like", v2, label="notif-like-from-deact")  # hidden once deactivated

    # The viewer's profile, updated: pronouns, website, a pinned post and an account self-label.
    d.commit(did_of("viewer"), "app.bsky.actor.profile", {
        "$type": "app.bsky.actor.profile", "displayName": "The Viewer", "description": "I look at things",
        "avatar": d.blob("viewer-avatar"), "banner": d.blob("viewer-banner"), "pronouns": "they/them",
        "website": "https://viewer.example.com", "pinnedPost": {"uri": v1["uri"], "cid": v1["cid"]},
        "labels": {"$type": "com.atproto.label.defs#selfLabels", "values": [{"val": "!no-unauthenticated"}]},
        "createdAt": "2026-07-01T00:00:00.000Z"}, rkey="self", operation="update")

    # State changes last: deletion, deactivation, takedown.
    d.delete(doomed)
    d.account(did_of("deact"), False, "deactivated")
    d.account(did_of("takedown"), False, "takendown")
    d.account(did_of("gone"), False, "deleted")
    d.account(did_of("back"), False, "deactivated")
    d.account(did_of("back"), True)
    d.scenario["lastTimeUs"] = d.clock
    return d


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    dataset = build()
    with open(os.path.join(out_dir, "dataset.jsonl"), "w") as out:
        for event in dataset.events:
            out.write(json.dumps(event, sort_keys=True, separators=(",", ":")) + "\n")
    with open(os.path.join(out_dir, "scenario.json"), "w") as out:
        json.dump(dataset.scenario, out, indent=1, sort_keys=True)
        out.write("\n")


if __name__ == "__main__":
    main()
