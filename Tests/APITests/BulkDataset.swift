import Foundation
import Storage

/// Generates a large, power-law shaped dataset straight in SQL (generate_series), for EXPLAIN tests
/// and local timing. Account `bulk<i>` is more active the lower `i` is (author = A·u³ for uniform u).
/// Viewer classes (as in the benchmark): `did:plc:viewer_sparse` follows the 50 least active
/// accounts, `did:plc:viewer_dense500` / `did:plc:viewer_dense2000` follow the 500 / 2000 most
/// active ones. Times are spread over the 30 days before now, truncated to milliseconds.
enum BulkDataset {
    struct Scale {
        var actors: Int
        var posts: Int
        var reposts: Int
        var likes: Int
        var randomFollows: Int
    }

    static func build(_ scale: Scale, on connection: PostgresConnection) throws {
        let statements: [(String, [PostgresBindable?])] = [
            ("SELECT setseed(0.42)", []),
            ("""
             INSERT INTO actors (did, handle, display_name, is_active, status, indexed_at)
             SELECT 'did:plc:bulk' || i, 'bulk' || i || '.test', 'Bulk ' || i,
                    i % 997 <> 0, CASE WHEN i % 997 = 0 THEN 'takendown' END, now() - interval '60 days'
             FROM generate_series(1, $1::int) i
             UNION ALL
             SELECT 'did:plc:' || v, v || '.test', NULL, true, NULL, now() - interval '60 days'
             FROM unnest(ARRAY['viewer_sparse', 'viewer_dense500', 'viewer_dense2000']) v
             """, [scale.actors]),
            ("""
             CREATE TEMP TABLE bulk_posts AS
             SELECT j, 1 + floor($1::int * power(random(), 3))::int AS a,
                    date_trunc('milliseconds', now() - random() * interval '30 days') AS t
             FROM generate_series(1, $2::int) j
             """, [scale.actors, scale.posts]),
            ("""
             INSERT INTO posts (uri, cid, author_did, record, text, reply_parent_uri, reply_root_uri, has_media,
                                created_at, indexed_at, sort_at, commit_time_us)
             SELECT 'at://did:plc:bulk' || a || '/app.bsky.feed.post/p' || j, 'bafyrei' || md5('p' || j), 'did:plc:bulk' || a,
                    jsonb_build_object('$type', 'app.bsky.feed.post', 'text', 'post number ' || j, 'createdAt', t),
                    'post number ' || j,
                    CASE WHEN j % 5 = 0 THEN 'at://did:plc:bulk1/app.bsky.feed.post/p' || (j - 1) END,
                    CASE WHEN j % 5 = 0 THEN 'at://did:plc:bulk1/app.bsky.feed.post/p' || (j - 1) END,
                    j % 7 = 0, t, t, t, (extract(epoch FROM t) * 1e6)::bigint
             FROM bulk_posts
             """, []),
            ("""
             INSERT INTO feed_items (uri, cid, type, post_uri, post_author_did, originator_did, sort_at, is_reply, is_self_thread, has_media)
             SELECT 'at://did:plc:bulk' || a || '/app.bsky.feed.post/p' || j, 'bafyrei' || md5('p' || j), 'post',
                    'at://did:plc:bulk' || a || '/app.bsky.feed.post/p' || j, 'did:plc:bulk' || a, 'did:plc:bulk' || a,
                    t, j % 5 = 0, j % 10 = 0, j % 7 = 0
             FROM bulk_posts
             """, []),
            ("""
             CREATE TEMP TABLE bulk_reposts AS
             SELECT r, 1 + floor($1::int * power(random(), 3))::int AS a, p.j, p.a AS post_author,
                    date_trunc('milliseconds', p.t + random() * interval '1 day') AS t
             FROM (SELECT r, 1 + floor(random() * $3::int)::int AS k FROM generate_series(1, $2::int) r) s
             JOIN bulk_posts p ON p.j = s.k
             """, [scale.actors, scale.reposts, scale.posts]),
            ("""
             INSERT INTO reposts (uri, cid, author_did, subject_uri, subject_cid, created_at, indexed_at)
             SELECT 'at://did:plc:bulk' || a || '/app.bsky.feed.repost/r' || r, 'bafyrei' || md5('r' || r), 'did:plc:bulk' || a,
                    'at://did:plc:bulk' || post_author || '/app.bsky.feed.post/p' || j, 'bafyrei' || md5('p' || j), t, t
             FROM bulk_reposts
             """, []),
            ("""
             INSERT INTO feed_items (uri, cid, type, post_uri, post_author_did, originator_did, sort_at)
             SELECT 'at://did:plc:bulk' || a || '/app.bsky.feed.repost/r' || r, 'bafyrei' || md5('r' || r), 'repost',
                    'at://did:plc:bulk' || post_author || '/app.bsky.feed.post/p' || j, 'did:plc:bulk' || post_author,
                    'did:plc:bulk' || a, t
             FROM bulk_reposts
             """, []),
            ("""
             CREATE TEMP TABLE bulk_likes AS
             SELECT l, 1 + floor($1::int * power(random(), 2))::int AS a, p.j, p.a AS post_author,
                    date_trunc('milliseconds', p.t + random() * interval '1 day') AS t
             FROM (SELECT l, 1 + floor(random() * $3::int)::int AS k FROM generate_series(1, $2::int) l) s
             JOIN bulk_posts p ON p.j = s.k
             """, [scale.actors, scale.likes, scale.posts]),
            ("""
             INSERT INTO likes (uri, cid, author_did, subject_uri, subject_cid, created_at, indexed_at)
             SELECT 'at://did:plc:bulk' || a || '/app.bsky.feed.like/l' || l, 'bafyrei' || md5('l' || l), 'did:plc:bulk' || a,
                    'at://did:plc:bulk' || post_author || '/app.bsky.feed.post/p' || j, 'bafyrei' || md5('p' || j), t, t
             FROM bulk_likes
             """, []),
            ("""
             INSERT INTO notifications (recipient_did, record_uri, record_cid, author_did, reason, reason_subject, sort_at)
             SELECT 'did:plc:bulk' || post_author, 'at://did:plc:bulk' || a || '/app.bsky.feed.like/l' || l,
                    'bafyrei' || md5('l' || l), 'did:plc:bulk' || a, 'like',
                    'at://did:plc:bulk' || post_author || '/app.bsky.feed.post/p' || j, t
             FROM bulk_likes WHERE a <> post_author
             """, []),
            ("""
             INSERT INTO follows (uri, cid, creator_did, subject_did, created_at, indexed_at)
             SELECT 'at://did:plc:' || v || '/app.bsky.graph.follow/f' || s, 'bafyrei' || md5(v || s), 'did:plc:' || v,
                    'did:plc:bulk' || s, now() - interval '40 days', now() - interval '40 days'
             FROM (SELECT 'viewer_sparse' AS v, s FROM generate_series($1::int - 49, $1::int) s
                   UNION ALL SELECT 'viewer_dense500', s FROM generate_series(1, 500) s
                   UNION ALL SELECT 'viewer_dense2000', s FROM generate_series(1, 2000) s) f
             """, [scale.actors]),
            ("""
             INSERT INTO follows (uri, cid, creator_did, subject_did, created_at, indexed_at)
             SELECT 'at://did:plc:bulk' || c || '/app.bsky.graph.follow/g' || i, 'bafyrei' || md5('g' || i),
                    'did:plc:bulk' || c, 'did:plc:bulk' || (1 + floor($1::int * power(random(), 3))::int),
                    now() - interval '40 days', now() - interval '40 days'
             FROM (SELECT i, 1 + floor(random() * $1::int)::int AS c FROM generate_series(1, $2::int) i) s
             """, [scale.actors, scale.randomFollows]),
            ("""
             INSERT INTO blocks (uri, cid, creator_did, subject_did, created_at, indexed_at)
             SELECT 'at://did:plc:bulk' || c || '/app.bsky.graph.block/b' || i, 'bafyrei' || md5('b' || i),
                    'did:plc:bulk' || c, 'did:plc:bulk' || (1 + (c * 7919) % $1::int), now(), now()
             FROM (SELECT i, 1 + floor(random() * $1::int)::int AS c FROM generate_series(1, $2::int) i) s
             UNION ALL
             SELECT 'at://did:plc:viewer_dense500/app.bsky.graph.block/b1', 'bafyreiviewerblock1',
                    'did:plc:viewer_dense500', 'did:plc:bulk3', now(), now()
             UNION ALL
             SELECT 'at://did:plc:bulk7/app.bsky.graph.block/bv', 'bafyreiviewerblock2',
                    'did:plc:bulk7', 'did:plc:viewer_dense500', now(), now()
             """, [scale.actors, max(100, scale.randomFollows / 50)]),
            ("""
             INSERT INTO notification_seen (did, last_seen_notifs)
             SELECT 'did:plc:bulk' || i, date_trunc('milliseconds', now() - interval '3 days') FROM generate_series(1, 100) i
             """, []),
            ("""
             INSERT INTO post_aggregates (uri, like_count, repost_count)
             SELECT subject_uri, count(*) FILTER (WHERE kind = 'l'), count(*) FILTER (WHERE kind = 'r')
             FROM (SELECT subject_uri, 'l' AS kind FROM likes UNION ALL SELECT subject_uri, 'r' FROM reposts) x
             GROUP BY subject_uri
             """, []),
            ("""
             INSERT INTO actor_aggregates (did, followers_count, follows_count, posts_count)
             SELECT a.did, coalesce(fr.n, 0), coalesce(fo.n, 0), coalesce(p.n, 0)
             FROM actors a
             LEFT JOIN (SELECT subject_did, count(*) n FROM follows GROUP BY 1) fr ON fr.subject_did = a.did
             LEFT JOIN (SELECT creator_did, count(*) n FROM follows GROUP BY 1) fo ON fo.creator_did = a.did
             LEFT JOIN (SELECT author_did, count(*) n FROM posts GROUP BY 1) p ON p.author_did = a.did
             """, []),
        ]
        for (sql, parameters) in statements { try connection.query(sql, parameters) }
        try connection.execute("DROP TABLE bulk_posts, bulk_reposts, bulk_likes")
        try connection.execute("VACUUM ANALYZE")
    }
}
