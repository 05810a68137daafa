-- Core schema: what the indexer writes and the read path serves.
-- Conventions: every timestamp is stored truncated to milliseconds (the API's cursor and output
-- precision), so keyset cursors compare exactly. `indexed_at` is the event's own time (Jetstream
-- `time_us`), never now(), so a replay produces identical rows.

CREATE TABLE actors (
    did               text PRIMARY KEY,
    handle            text,               -- NULL until known: views show handle.invalid
    display_name      text,
    description       text,
    avatar_cid        text,
    banner_cid        text,
    profile_cid       text,
    profile_record    jsonb,
    profile_created_at timestamptz,
    status            text,               -- NULL when active; else takendown, suspended, deactivated, deleted, …
    is_active         boolean NOT NULL DEFAULT true,
    indexed_at        timestamptz NOT NULL, -- first sight
    identity_time_us  bigint,             -- event time of the identity event applied last (ignore older ones)
    account_time_us   bigint              -- event time of the account event applied last
);
-- getProfile/getAuthorFeed(actor=<handle>): WHERE lower(handle) = lower($1)
CREATE INDEX actors_handle_idx ON actors (lower(handle));

CREATE TABLE posts (
    uri               text PRIMARY KEY,
    cid               text NOT NULL,
    author_did        text NOT NULL,
    record            jsonb NOT NULL,      -- the full record as received
    text              text NOT NULL DEFAULT '',
    reply_root_uri    text,
    reply_root_cid    text,
    reply_parent_uri  text,
    reply_parent_cid  text,
    embed_type        text,                -- images | external | record | recordWithMedia | video
    embed_record_uri  text,                -- the quoted record (record / recordWithMedia)
    has_media         boolean NOT NULL DEFAULT false,
    created_at        timestamptz NOT NULL,
    indexed_at        timestamptz NOT NULL,
    sort_at           timestamptz NOT NULL, -- least(created_at, indexed_at)
    commit_time_us    bigint NOT NULL       -- source event time (Jetstream time_us) of the version stored
);
-- reply counts: SELECT count(*) FROM posts WHERE reply_parent_uri = ANY($1)
CREATE INDEX posts_reply_parent_idx ON posts (reply_parent_uri) WHERE reply_parent_uri IS NOT NULL;
-- quote counts: SELECT count(*) FROM posts WHERE embed_record_uri = ANY($1)
CREATE INDEX posts_embed_record_idx ON posts (embed_record_uri) WHERE embed_record_uri IS NOT NULL;
-- posts count per actor: SELECT count(*) FROM posts WHERE author_did = ANY($1)
CREATE INDEX posts_author_idx ON posts (author_did, sort_at DESC);

CREATE TABLE likes (
    uri          text PRIMARY KEY,
    cid          text NOT NULL,
    author_did   text NOT NULL,
    subject_uri  text NOT NULL,
    subject_cid  text NOT NULL,
    created_at   timestamptz NOT NULL,
    indexed_at   timestamptz NOT NULL
);
-- like counts: SELECT count(*) FROM likes WHERE subject_uri = ANY($1)
CREATE INDEX likes_subject_idx ON likes (subject_uri);
-- viewer state: SELECT subject_uri, uri FROM likes WHERE author_did = $viewer AND subject_uri = ANY($1)
CREATE INDEX likes_author_subject_idx ON likes (author_did, subject_uri);

CREATE TABLE reposts (
    uri          text PRIMARY KEY,
    cid          text NOT NULL,
    author_did   text NOT NULL,
    subject_uri  text NOT NULL,
    subject_cid  text NOT NULL,
    created_at   timestamptz NOT NULL,
    indexed_at   timestamptz NOT NULL
);
CREATE INDEX reposts_subject_idx ON reposts (subject_uri);
CREATE INDEX reposts_author_subject_idx ON reposts (author_did, subject_uri);

CREATE TABLE follows (
    uri          text PRIMARY KEY,
    cid          text NOT NULL,
    creator_did  text NOT NULL,
    subject_did  text NOT NULL,
    created_at   timestamptz NOT NULL,
    indexed_at   timestamptz NOT NULL
);
-- the viewer's follows (timeline) and viewer.following: WHERE creator_did = $1 [AND subject_did = ANY($2)]
CREATE INDEX follows_creator_subject_idx ON follows (creator_did, subject_did);
-- followers count and viewer.followedBy: WHERE subject_did = ANY($1)
CREATE INDEX follows_subject_creator_idx ON follows (subject_did, creator_did);

CREATE TABLE blocks (
    uri          text PRIMARY KEY,
    cid          text NOT NULL,
    creator_did  text NOT NULL,
    subject_did  text NOT NULL,
    created_at   timestamptz NOT NULL,
    indexed_at   timestamptz NOT NULL
);
CREATE INDEX blocks_creator_subject_idx ON blocks (creator_did, subject_did);
CREATE INDEX blocks_subject_creator_idx ON blocks (subject_did, creator_did);

-- One row per post (type 'post', uri = post uri) and per repost (type 'repost', uri = repost uri,
-- post_uri = the reposted post, originator = the reposter). Ordered everywhere by
-- (sort_at, cid, uri) descending; uri breaks the (rare) ties of equal sort_at and cid.
CREATE TABLE feed_items (
    uri              text PRIMARY KEY,
    cid              text NOT NULL,
    type             text NOT NULL CHECK (type IN ('post', 'repost')),
    post_uri         text NOT NULL,
    post_author_did  text NOT NULL,
    originator_did   text NOT NULL,
    sort_at          timestamptz NOT NULL,
    is_reply         boolean NOT NULL DEFAULT false, -- a post that replies (reposts: false)
    is_self_thread   boolean NOT NULL DEFAULT false, -- a reply whose root and parent are by the same author
    has_media        boolean NOT NULL DEFAULT false  -- a post with images/video (reposts: false)
);
-- getTimeline and getAuthorFeed(posts_with_replies):
--   WHERE originator_did = $1 AND (sort_at, cid, uri) < ($2, $3, $4) ORDER BY sort_at DESC, cid DESC, uri DESC
CREATE INDEX feed_items_originator_sort_idx ON feed_items (originator_did, sort_at DESC, cid DESC, uri DESC);
-- getAuthorFeed(posts_no_replies)
CREATE INDEX feed_items_originator_no_replies_idx ON feed_items (originator_did, sort_at DESC, cid DESC, uri DESC)
    WHERE NOT is_reply;
-- getAuthorFeed(posts_with_media)
CREATE INDEX feed_items_originator_media_idx ON feed_items (originator_did, sort_at DESC, cid DESC, uri DESC)
    WHERE has_media;
-- getAuthorFeed(posts_and_author_threads)
CREATE INDEX feed_items_originator_threads_idx ON feed_items (originator_did, sort_at DESC, cid DESC, uri DESC)
    WHERE NOT is_reply OR is_self_thread;
-- removing the feed items of a deleted post: WHERE post_uri = $1
CREATE INDEX feed_items_post_uri_idx ON feed_items (post_uri);

-- One row per (recipient, causing record). reason: like, repost, follow, mention, reply, quote.
-- A record that is both a reply to and a mention of the same recipient notifies once
-- (priority reply > quote > mention).
CREATE TABLE notifications (
    recipient_did   text NOT NULL,
    record_uri      text NOT NULL,
    record_cid      text NOT NULL,
    author_did      text NOT NULL,
    reason          text NOT NULL CHECK (reason IN ('like', 'repost', 'follow', 'mention', 'reply', 'quote')),
    reason_subject  text,
    sort_at         timestamptz NOT NULL, -- the causing event's time (indexed_at)
    PRIMARY KEY (recipient_did, record_uri)
);
-- listNotifications: WHERE recipient_did = $1 AND (sort_at, record_cid, record_uri) < (…) ORDER BY … DESC
CREATE INDEX notifications_recipient_sort_idx
    ON notifications (recipient_did, sort_at DESC, record_cid DESC, record_uri DESC);
-- deleting a record removes what it caused: WHERE record_uri = $1
CREATE INDEX notifications_record_idx ON notifications (record_uri);

-- Exact aggregates, recomputed from the live rows of every subject a batch touched (never
-- incremented), so they stay exact under replays and any arrival order. A row may exist before its
-- post does (likes that arrive first).
CREATE TABLE post_aggregates (
    uri           text PRIMARY KEY,
    like_count    integer NOT NULL DEFAULT 0,
    repost_count  integer NOT NULL DEFAULT 0,
    reply_count   integer NOT NULL DEFAULT 0,
    quote_count   integer NOT NULL DEFAULT 0
);

CREATE TABLE actor_aggregates (
    did              text PRIMARY KEY,
    followers_count  integer NOT NULL DEFAULT 0,
    follows_count    integer NOT NULL DEFAULT 0,
    posts_count      integer NOT NULL DEFAULT 0
);

-- Per-viewer notification read marker (updateSeen).
CREATE TABLE notification_seen (
    did               text PRIMARY KEY,
    last_seen_notifs  timestamptz NOT NULL
);

-- Resume position of each event source, written in the same transaction as the events it covers.
CREATE TABLE ingest_cursor (
    source      text PRIMARY KEY,     -- e.g. 'jetstream', 'import:<file>'
    cursor      bigint NOT NULL,      -- Jetstream time_us / relay seq
    updated_at  timestamptz NOT NULL DEFAULT now()
);
