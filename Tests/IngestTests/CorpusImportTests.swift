import Foundation
@testable import Ingest
import Testing

/// The real firehose corpus (Tests/Fixtures/firehose-2026-07-04) through the importer.
@Suite("corpus import", .serialized)
struct CorpusImportTests {
    static let identityDID = "did:plc:hqvhxrowqbemo5e4wjnj6zao"
    /// The subject of the corpus's first like; the post itself is not in the corpus.
    static let likedPost = "at://did:plc:r2zybk6op3ymzpz6jhqpkoy5/app.bsky.feed.post/3mpsjbtci2c2o"
    /// The three follows the corpus deletes (created long before the capture).
    static let deletedFollows = [
        ("did:plc:ux2eeflheratfrvp3xfbp4zi", "3m3q3ut7jsm2m"),
        ("did:plc:yolivd2peys4cyqjmto7pijs", "3la5ybe53hl24"),
        ("did:plc:slnms2y7yvbjr5l4ry6qzj3y", "3lgp4k5bedt2l"),
    ]
    static let followed = "did:plc:followedbeforecapture000"

    @Test("imports with zero errors; rows, counts, identity, account and cursor as the events say")
    func corpus() throws {
        let harness = try IngestHarness("ingest_corpus")
        // The follows deleted in the corpus, as they existed before the capture.
        try harness.apply(Self.deletedFollows.enumerated().map { index, follow in
            EventLines.follow(follow.0, follow.1, time: 1_700_000_000_000_000 + Int64(index), subject: Self.followed)
        })
        #expect(try harness.int("SELECT followers_count FROM actor_aggregates WHERE did = $1", [Self.followed]) == 3)

        let statistics = try harness.importFile(IngestHarness.corpusURL.path, source: "import:corpus")
        #expect(statistics.lines == 152)
        #expect(statistics.errorCount == 0, "\(statistics.errors)")
        #expect(statistics.applied == 150)
        #expect(statistics.ignored == ["collection:app.bsky.actor.status": 1, "collection:fm.teal.alpha.actor.status": 1])

        #expect(try harness.int("SELECT count(*) FROM posts") == 17)
        #expect(try harness.int("SELECT count(*) FROM likes") == 105)
        #expect(try harness.int("SELECT count(*) FROM reposts") == 15)
        #expect(try harness.int("SELECT count(*) FROM blocks") == 1)
        #expect(try harness.int("SELECT count(*) FROM feed_items WHERE type = 'post'") == 17)
        #expect(try harness.int("SELECT count(*) FROM feed_items WHERE type = 'repost'") == 15)

        // The three follow deletes applied: only the corpus's six new follows remain, counts follow.
        #expect(try harness.int("SELECT count(*) FROM follows") == 6)
        #expect(try harness.int("SELECT count(*) FROM follows WHERE subject_did = $1", [Self.followed]) == 0)
        #expect(try harness.int("SELECT followers_count FROM actor_aggregates WHERE did = $1", [Self.followed]) == 0)
        for (creator, _) in Self.deletedFollows {
            #expect(try harness.int("SELECT follows_count FROM actor_aggregates WHERE did = $1", [creator]) == 0)
        }
        #expect(try harness.int("SELECT followers_count FROM actor_aggregates WHERE did = 'did:plc:mlbpil2fwz43vfn6uuysxtqa'") == 1)

        // The like arrived before its post: counted on the aggregate already.
        #expect(try harness.int("SELECT like_count FROM post_aggregates WHERE uri = $1", [Self.likedPost]) == 1)
        #expect(try harness.strings("SELECT author_did FROM likes WHERE subject_uri = $1", [Self.likedPost]) == ["did:plc:wq4aajammjtxdomz3e23667t"])

        // Identity event (no handle in it) and account event (active) reflected on the actor.
        let identity = try harness.strings("SELECT concat_ws('|', coalesce(handle, 'NULL'), identity_time_us, is_active, coalesce(status, 'NULL'), account_time_us) FROM actors WHERE did = $1", [Self.identityDID])
        #expect(identity == ["NULL|1783175888384849|t|NULL|1783175888390226"])

        // A self-thread: replies to one's own posts count, mark the feed item, notify nobody.
        let threadRoot = "at://did:plc:u4lmvw4wwzaql3z5kcf3r7h4/app.bsky.feed.post/3mptbyospqk2i"
        #expect(try harness.int("SELECT reply_count FROM post_aggregates WHERE uri = $1", [threadRoot]) == 1)
        #expect(try harness.int("SELECT count(*) FROM feed_items WHERE originator_did = 'did:plc:u4lmvw4wwzaql3z5kcf3r7h4' AND is_reply AND is_self_thread") == 2)
        #expect(try harness.int("SELECT count(*) FROM notifications WHERE author_did = 'did:plc:u4lmvw4wwzaql3z5kcf3r7h4'") == 0)
        #expect(try harness.int("SELECT posts_count FROM actor_aggregates WHERE did = 'did:plc:u4lmvw4wwzaql3z5kcf3r7h4'") == 3)

        // A reply to someone else's post notifies the parent's author.
        let reply = try harness.strings("""
            SELECT concat_ws('|', recipient_did, reason, reason_subject) FROM notifications
            WHERE record_uri = 'at://did:plc:o2rolxey6s5k7d4lxcz3inl4/app.bsky.feed.post/3mptbyp7lu223'
            """)
        #expect(reply == ["did:plc:i5y2f3gtpjxs3qg6fwgb6jb4|reply|at://did:plc:i5y2f3gtpjxs3qg6fwgb6jb4/app.bsky.feed.post/3mpt7u2vlgs2c"])

        // Timestamps: indexed_at is the event time truncated to ms; sort_at the earlier of the two;
        // the `+00:00` createdAt parses.
        let post = try harness.strings("""
            SELECT concat_ws('|', to_char(created_at, 'YYYY-MM-DD"T"HH24:MI:SS.MS'), to_char(indexed_at, 'YYYY-MM-DD"T"HH24:MI:SS.MS'),
                sort_at = created_at, embed_type, has_media, record->>'text' <> '')
            FROM posts WHERE uri = 'at://did:plc:ybqkf2mtfbwx3qhga63mttja/app.bsky.feed.post/3mptbyoigog2b'
            """)
        #expect(post == ["2026-07-04T14:38:02.000|2026-07-04T14:38:08.267|t|external|f|t"])
        #expect(try harness.int("SELECT count(*) FROM posts WHERE has_media") == 2)

        // Every DID seen has an actor row: authors, follow/block subjects, like/repost subject authors.
        #expect(try harness.int("""
            SELECT count(*) FROM (SELECT author_did AS did FROM likes UNION SELECT subject_did FROM follows UNION SELECT subject_did FROM blocks
                UNION SELECT post_author_did FROM feed_items UNION SELECT recipient_did FROM notifications) d
            WHERE NOT EXISTS (SELECT 1 FROM actors a WHERE a.did = d.did)
            """) == 0)

        // The cursor was written with the batch: the highest time_us of the file.
        #expect(try harness.indexer.cursor(source: "import:corpus") == 1_783_175_888_403_568)

        // The post the like refers to arrives later: it exists and the count is unchanged.
        try harness.apply([EventLines.post("did:plc:r2zybk6op3ymzpz6jhqpkoy5", "3mpsjbtci2c2o", time: 1_783_175_889_000_000)])
        #expect(try harness.int("SELECT like_count FROM post_aggregates WHERE uri = $1", [Self.likedPost]) == 1)
        #expect(try harness.int("SELECT count(*) FROM posts WHERE uri = $1", [Self.likedPost]) == 1)
    }

    @Test("importing the corpus twice leaves every table identical")
    func idempotent() throws {
        let harness = try IngestHarness("ingest_corpus_twice")
        try harness.importFile(IngestHarness.corpusURL.path)
        let first = try harness.dump()
        #expect(first["posts"]?.count == 17)
        let again = try harness.importFile(IngestHarness.corpusURL.path, batchSize: 7)
        #expect(again.errorCount == 0)
        #expect(try harness.dump() == first)
    }
}
