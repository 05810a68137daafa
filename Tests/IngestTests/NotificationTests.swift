import Foundation
@testable import Ingest
import Testing

/// Notifications derived from records (REFERENCE §3).
@Suite("notifications", .serialized)
struct NotificationTests {
    static let alice = "did:plc:aliceaaaaaaaaaaaaaaaaaaa"
    static let bob = "did:plc:bobbbbbbbbbbbbbbbbbbbbbb"
    static let carol = "did:plc:carolccccccccccccccccccc"
    static let dave = "did:plc:davedddddddddddddddddddd"
    static let base: Int64 = 1_783_175_888_000_000

    /// recipient → "reason|reason_subject" for one causing record.
    func notifications(_ harness: IngestHarness, record: String) throws -> [String] {
        try harness.strings("""
            SELECT concat_ws('|', recipient_did, reason, coalesce(reason_subject, '-'), author_did) FROM notifications
            WHERE record_uri = $1 ORDER BY recipient_did
            """, [record])
    }

    @Test("each reason, nothing for your own content, one per recipient by priority, removed on delete")
    func reasons() throws {
        let harness = try IngestHarness("ingest_notifications")
        let (alice, bob, carol, dave) = (Self.alice, Self.bob, Self.carol, Self.dave)
        let bobPost = EventLines.postURI(bob, "3bobpost")
        let carolReply = EventLines.postURI(carol, "3carolreply")
        let daveReply = EventLines.postURI(dave, "3davereply")
        let aliceQuote = EventLines.postURI(alice, "3alicequote")
        let aliceLike = "at://\(alice)/app.bsky.feed.like/3alicelike"
        try harness.apply([
            EventLines.post(bob, "3bobpost", time: Self.base),
            EventLines.like(alice, "3alicelike", time: Self.base + 1999, subject: bobPost),
            EventLines.like(bob, "3boblike", time: Self.base + 2000, subject: bobPost),
            EventLines.repost(carol, "3carolrepost", time: Self.base + 3000, subject: bobPost),
            EventLines.follow(alice, "3alicefollow", time: Self.base + 4000, subject: bob),
            EventLines.follow(bob, "3bobself", time: Self.base + 5000, subject: bob),
            // A reply that also mentions the parent's author (reply wins) and alice (mention).
            EventLines.post(carol, "3carolreply", time: Self.base + 6000, reply: (bobPost, bobPost), mentions: [bob, alice, carol]),
            // A reply deeper in the thread: the parent's and the root's authors.
            EventLines.post(dave, "3davereply", time: Self.base + 7000, reply: (bobPost, carolReply)),
            // A quote (with media) that also mentions the quoted author: quote wins.
            EventLines.post(alice, "3alicequote", time: Self.base + 8000, quote: bobPost, quoteWithMedia: true, mentions: [bob]),
            // Quoting yourself notifies nobody.
            EventLines.post(bob, "3bobquote", time: Self.base + 9000, quote: bobPost),
        ])
        #expect(try notifications(harness, record: aliceLike) == ["\(bob)|like|\(bobPost)|\(alice)"])
        #expect(try notifications(harness, record: "at://\(bob)/app.bsky.feed.like/3boblike") == [])
        #expect(try notifications(harness, record: "at://\(carol)/app.bsky.feed.repost/3carolrepost") == ["\(bob)|repost|\(bobPost)|\(carol)"])
        #expect(try notifications(harness, record: "at://\(alice)/app.bsky.graph.follow/3alicefollow") == ["\(bob)|follow|-|\(alice)"])
        #expect(try notifications(harness, record: "at://\(bob)/app.bsky.graph.follow/3bobself") == [])
        #expect(try notifications(harness, record: carolReply) == ["\(alice)|mention|-|\(carol)", "\(bob)|reply|\(bobPost)|\(carol)"])
        #expect(try notifications(harness, record: daveReply) == ["\(bob)|reply|\(bobPost)|\(dave)", "\(carol)|reply|\(carolReply)|\(dave)"])
        #expect(try notifications(harness, record: aliceQuote) == ["\(bob)|quote|\(bobPost)|\(alice)"])
        #expect(try notifications(harness, record: EventLines.postURI(bob, "3bobquote")) == [])
        // sort_at is the causing event's time.
        #expect(try harness.strings("SELECT to_char(sort_at, 'HH24:MI:SS.MS') FROM notifications WHERE record_uri = $1", [aliceLike]) == ["14:38:08.001"]) // 1.999 ms truncated
        #expect(try harness.strings("SELECT concat_ws('|', like_count, repost_count, reply_count, quote_count) FROM post_aggregates WHERE uri = $1", [bobPost]) == ["2|1|1|2"])

        // Deleting the causing records removes what they caused, and the counts follow.
        try harness.apply([
            EventLines.delete(alice, Self.base + 10_000, "app.bsky.feed.like", "3alicelike"),
            EventLines.delete(carol, Self.base + 11_000, "app.bsky.feed.post", "3carolreply"),
            EventLines.delete(alice, Self.base + 12_000, "app.bsky.graph.follow", "3alicefollow"),
            EventLines.delete(alice, Self.base + 13_000, "app.bsky.feed.post", "3alicequote"),
        ])
        #expect(try notifications(harness, record: aliceLike) == [])
        #expect(try notifications(harness, record: carolReply) == [])
        #expect(try notifications(harness, record: aliceQuote) == [])
        #expect(try notifications(harness, record: "at://\(alice)/app.bsky.graph.follow/3alicefollow") == [])
        #expect(try harness.strings("SELECT reason FROM notifications WHERE recipient_did = $1 ORDER BY reason", [bob]) == ["reply", "repost"])
        #expect(try harness.strings("SELECT concat_ws('|', like_count, repost_count, reply_count, quote_count) FROM post_aggregates WHERE uri = $1", [bobPost]) == ["1|1|0|1"])
        #expect(try harness.strings("SELECT concat_ws('|', followers_count, follows_count, posts_count) FROM actor_aggregates WHERE did = $1", [bob]) == ["1|1|2"])
        #expect(try harness.strings("SELECT concat_ws('|', followers_count, follows_count, posts_count) FROM actor_aggregates WHERE did = $1", [alice]) == ["0|0|0"])
    }

    @Test("an update of a post replaces its notifications and derived rows")
    func postUpdate() throws {
        let harness = try IngestHarness("ingest_notifications_update")
        let bobPost = EventLines.postURI(Self.bob, "3bobpost")
        let carolPost = EventLines.postURI(Self.carol, "3carolpost")
        try harness.apply([
            EventLines.post(Self.bob, "3bobpost", time: Self.base),
            EventLines.post(Self.carol, "3carolpost", time: Self.base + 1000, reply: (bobPost, bobPost)),
        ])
        #expect(try notifications(harness, record: carolPost) == ["\(Self.bob)|reply|\(bobPost)|\(Self.carol)"])
        try harness.apply([
            EventLines.post(Self.carol, "3carolpost", time: Self.base + 2000, text: "edited", images: true, mentions: [Self.dave], operation: "update"),
        ])
        #expect(try notifications(harness, record: carolPost) == ["\(Self.dave)|mention|-|\(Self.carol)"])
        #expect(try harness.int("SELECT reply_count FROM post_aggregates WHERE uri = $1", [bobPost]) == 0)
        #expect(try harness.strings("SELECT concat_ws('|', text, reply_parent_uri IS NULL, has_media) FROM posts WHERE uri = $1", [carolPost]) == ["edited|t|t"])
        #expect(try harness.strings("SELECT concat_ws('|', is_reply, has_media) FROM feed_items WHERE uri = $1", [carolPost]) == ["f|t"])
        #expect(try harness.int("SELECT count(*) FROM actors WHERE did = $1 AND handle IS NULL", [Self.dave]) == 1)
    }
}
