import Foundation
@testable import Ingest
import Testing

/// Deletes leave tombstones: a create older than an applied delete of the same record never brings
/// it back, in one batch or across batches, while a newer create after a delete is applied.
@Suite("tombstones", .serialized)
struct TombstoneTests {
    static let alice = "did:plc:aliceaaaaaaaaaaaaaaaaaaa"
    static let bob = "did:plc:bobbbbbbbbbbbbbbbbbbbbbb"
    static let base: Int64 = 1_783_175_888_000_000
    static let bobPost = EventLines.postURI(bob, "3bp")
    static let likeURI = "at://\(alice)/app.bsky.feed.like/3l"
    static let followURI = "at://\(alice)/app.bsky.graph.follow/3f"

    /// A post by bob, then alice's like, repost, follow and reply, all at `base + 1…5`.
    static func creates(offset: Int64 = 0) -> [String] {
        [
            EventLines.like(alice, "3l", time: base + 1 + offset, subject: bobPost),
            EventLines.repost(alice, "3r", time: base + 2 + offset, subject: bobPost),
            EventLines.follow(alice, "3f", time: base + 3 + offset, subject: bob),
            EventLines.post(alice, "3reply", time: base + 4 + offset, reply: (bobPost, bobPost)),
            EventLines.block(alice, "3b", time: base + 5 + offset, subject: bob),
        ]
    }

    /// Deletes of what `creates` made, at `base + 100…104`.
    static var deletes: [String] {
        [
            EventLines.delete(alice, base + 100, "app.bsky.feed.like", "3l"),
            EventLines.delete(alice, base + 101, "app.bsky.feed.repost", "3r"),
            EventLines.delete(alice, base + 102, "app.bsky.graph.follow", "3f"),
            EventLines.delete(alice, base + 103, "app.bsky.feed.post", "3reply"),
            EventLines.delete(alice, base + 104, "app.bsky.graph.block", "3b"),
        ]
    }

    /// Rows of alice's records and everything derived from them, as one comparable line each.
    static func aliceState(_ harness: IngestHarness) throws -> [String] {
        try harness.strings("""
            SELECT 'posts ' || count(*) FROM posts WHERE author_did = $1
            UNION ALL SELECT 'likes ' || count(*) FROM likes WHERE author_did = $1
            UNION ALL SELECT 'reposts ' || count(*) FROM reposts WHERE author_did = $1
            UNION ALL SELECT 'follows ' || count(*) FROM follows WHERE creator_did = $1
            UNION ALL SELECT 'blocks ' || count(*) FROM blocks WHERE creator_did = $1
            UNION ALL SELECT 'feed_items ' || count(*) FROM feed_items WHERE originator_did = $1
            UNION ALL SELECT 'notifications ' || count(*) FROM notifications WHERE author_did = $1
            UNION ALL SELECT 'post counts ' || coalesce((SELECT concat_ws('|', like_count, repost_count, reply_count, quote_count)
                                                        FROM post_aggregates WHERE uri = $2), 'none')
            UNION ALL SELECT 'bob counts ' || coalesce((SELECT concat_ws('|', followers_count, follows_count, posts_count)
                                                       FROM actor_aggregates WHERE did = $3), 'none')
            UNION ALL SELECT 'alice counts ' || coalesce((SELECT concat_ws('|', followers_count, follows_count, posts_count)
                                                         FROM actor_aggregates WHERE did = $1), 'none')
            """, [alice, bobPost, bob])
    }

    static let nothing = ["posts 0", "likes 0", "reposts 0", "follows 0", "blocks 0", "feed_items 0", "notifications 0"]

    static func expectNothing(_ harness: IngestHarness) throws {
        let state = try aliceState(harness)
        #expect(Array(state.prefix(7)) == nothing)
        // No count moved, or it moved back to zero (bob keeps his own post).
        #expect(["post counts none", "post counts 0|0|0|0"].contains(state[7]), "\(state[7])")
        #expect(state[8] == "bob counts 0|0|1")
        #expect(["alice counts none", "alice counts 0|0|0"].contains(state[9]), "\(state[9])")
        try expectExactCounts(harness)
    }

    /// Every stored count equals a count of the live rows, and none is negative.
    static func expectExactCounts(_ harness: IngestHarness) throws {
        #expect(try harness.int("""
            SELECT count(*) FROM post_aggregates g WHERE like_count <> (SELECT count(*) FROM likes WHERE subject_uri = g.uri)
                OR repost_count <> (SELECT count(*) FROM reposts WHERE subject_uri = g.uri)
                OR reply_count <> (SELECT count(*) FROM posts WHERE reply_parent_uri = g.uri)
                OR quote_count <> (SELECT count(*) FROM posts WHERE embed_record_uri = g.uri)
            """) == 0)
        #expect(try harness.int("""
            SELECT count(*) FROM actor_aggregates g WHERE followers_count <> (SELECT count(*) FROM follows WHERE subject_did = g.did)
                OR follows_count <> (SELECT count(*) FROM follows WHERE creator_did = g.did)
                OR posts_count <> (SELECT count(*) FROM posts WHERE author_did = g.did)
            """) == 0)
        // Every subject with live rows has its count row.
        #expect(try harness.int("""
            SELECT count(*) FROM (SELECT subject_uri FROM likes UNION SELECT subject_uri FROM reposts
                                  UNION SELECT reply_parent_uri FROM posts WHERE reply_parent_uri IS NOT NULL) s(uri)
            WHERE NOT EXISTS (SELECT 1 FROM post_aggregates g WHERE g.uri = s.uri)
            """) == 0)
    }

    @Test("a delete then an older create in one batch leaves nothing")
    func deleteThenOlderCreateInOneBatch() throws {
        let harness = try IngestHarness("ingest_tombstone_batch")
        try harness.apply([EventLines.post(Self.bob, "3bp", time: Self.base)] + Self.deletes + Self.creates())
        try Self.expectNothing(harness)
        #expect(try harness.int("SELECT count(*) FROM record_tombstones") == 5)
    }

    @Test("a delete then an older create in a later batch leaves nothing, also over a stored record")
    func deleteThenOlderCreateAcrossBatches() throws {
        let harness = try IngestHarness("ingest_tombstone_batches")
        try harness.apply([EventLines.post(Self.bob, "3bp", time: Self.base)])
        try harness.apply(Self.deletes)
        for create in Self.creates() { try harness.apply([create]) }
        try Self.expectNothing(harness)

        // Stored first, deleted, then the create replayed (a rewind) with the delete in the same batch.
        let other = try IngestHarness("ingest_tombstone_replay")
        try other.apply([EventLines.post(Self.bob, "3bp", time: Self.base)] + Self.creates())
        #expect(try other.int("SELECT like_count FROM post_aggregates WHERE uri = $1", [Self.bobPost]) == 1)
        try other.apply(Self.deletes + Self.creates())
        try Self.expectNothing(other)
        try other.apply(Self.creates())
        try Self.expectNothing(other)
    }

    @Test("a create newer than the delete is applied, in one batch and across batches")
    func newerCreateAfterDelete() throws {
        let harness = try IngestHarness("ingest_tombstone_newer")
        try harness.apply([EventLines.post(Self.bob, "3bp", time: Self.base)] + Self.creates())
        try harness.apply(Self.deletes)
        try Self.expectNothing(harness)
        try harness.apply(Self.creates(offset: 1000))
        let expected = ["posts 1", "likes 1", "reposts 1", "follows 1", "blocks 1", "feed_items 2", "notifications 4",
                        "post counts 1|1|1|0", "bob counts 1|0|1", "alice counts 0|1|1"]
        #expect(try Self.aliceState(harness) == expected)

        let oneBatch = try IngestHarness("ingest_tombstone_newer_batch")
        try oneBatch.apply([EventLines.post(Self.bob, "3bp", time: Self.base)] + Self.deletes + Self.creates(offset: 1000))
        #expect(try Self.aliceState(oneBatch) == expected)
        try Self.expectExactCounts(oneBatch)
        // The older creates replayed afterwards change nothing.
        try oneBatch.apply(Self.creates())
        #expect(try Self.aliceState(oneBatch) == expected)
    }

    @Test("a delete of a record never seen removes nothing and moves no count")
    func deleteOfUnknown() throws {
        let harness = try IngestHarness("ingest_tombstone_unknown")
        try harness.apply([EventLines.post(Self.bob, "3bp", time: Self.base), EventLines.like(Self.bob, "3own", time: Self.base + 1, subject: Self.bobPost)])
        try harness.apply(Self.deletes)
        try harness.apply(Self.deletes)
        #expect(try harness.strings("SELECT concat_ws('|', like_count, repost_count, reply_count, quote_count) FROM post_aggregates WHERE uri = $1",
                                    [Self.bobPost]) == ["1|0|0|0"])
        #expect(try harness.int("SELECT count(*) FROM actor_aggregates WHERE followers_count < 0 OR follows_count < 0 OR posts_count < 0") == 0)
        try Self.expectExactCounts(harness)
    }

    @Test("deletes included, any arrival order gives the same rows and exact counts", arguments: ["reversed", "shuffled"])
    func arrivalOrderWithDeletes(order: String) throws {
        // Profile deletes clear columns of the actor row and keep no tombstone: left out.
        var generator = DemoDataGenerator(actorCount: 12, seed: 7)
        var lines: [String] = []
        _ = try generator.generate { lines.append($0) }
        lines = lines.filter { !($0.contains(#""operation":"delete""#) && $0.contains("app.bsky.actor.profile")) }
        let deletes = lines.filter { $0.contains(#""operation":"delete""#) }.count
        #expect(deletes >= 5)

        let inOrder = try IngestHarness("ingest_tombstone_order_\(order)_a")
        try inOrder.importLines(lines, batchSize: 50)
        let other = try IngestHarness("ingest_tombstone_order_\(order)_b")
        var random = SplitMix64(seed: 43)
        var permuted = lines
        if order == "reversed" {
            permuted.reverse()
        } else {
            for index in permuted.indices.reversed() { permuted.swapAt(index, random.below(index + 1)) }
        }
        try other.importLines(permuted, batchSize: 13)
        let tables = IngestHarness.tables.filter { $0 != "ingest_cursor" }
        let expected = try inOrder.dump(tables)
        #expect(IngestHarness.differences(try other.dump(tables), expected) == [])
        try Self.expectExactCounts(other)
        try Self.expectExactCounts(inOrder)
    }

    @Test("tombstones older than the horizon behind the newest event are pruned")
    func pruning() throws {
        let harness = try IngestHarness("ingest_tombstone_prune")
        let indexer = Indexer(pool: harness.pool, tombstoneHorizonSeconds: 60)
        indexer.tombstonePruneInterval = 0
        func apply(_ lines: [String]) throws { try indexer.apply(lines.map { try JetstreamEventDecoder.decode($0).get() }) }
        try apply(Self.deletes)
        try apply([EventLines.post(Self.bob, "3p1", time: Self.base + 30_000_000)])
        #expect(try harness.int("SELECT count(*) FROM record_tombstones") == 5)
        // 61 s after the deletes: they are beyond the horizon.
        try apply([EventLines.post(Self.bob, "3p2", time: Self.base + 104 + 61_000_000)])
        #expect(try harness.int("SELECT count(*) FROM record_tombstones") == 0)
        // Without its tombstone, a create older than the (forgotten) delete is applied again: the
        // horizon bounds how late a create may arrive.
        try apply([Self.creates()[0]])
        #expect(try harness.int("SELECT count(*) FROM likes") == 1)
    }
}

/// Counts move by exactly the rows a batch inserts and removes.
@Suite("aggregate deltas", .serialized)
struct AggregateDeltaTests {
    static let alice = TombstoneTests.alice
    static let bob = TombstoneTests.bob
    static let carol = "did:plc:carolccccccccccccccccccc"
    static let base = TombstoneTests.base

    @Test("an update that changes a record's subject moves the count from the old subject to the new one")
    func updateChangesSubject() throws {
        let harness = try IngestHarness("ingest_delta_subject")
        let first = EventLines.postURI(Self.bob, "3one"), second = EventLines.postURI(Self.carol, "3two")
        try harness.apply([EventLines.post(Self.bob, "3one", time: Self.base), EventLines.post(Self.carol, "3two", time: Self.base + 1),
                           EventLines.like(Self.alice, "3l", time: Self.base + 2, subject: first),
                           EventLines.follow(Self.alice, "3f", time: Self.base + 3, subject: Self.bob),
                           EventLines.post(Self.alice, "3q", time: Self.base + 4, quote: first)])
        func counts() throws -> [String] {
            try harness.strings("""
                SELECT uri || ' ' || concat_ws('|', like_count, repost_count, reply_count, quote_count) FROM post_aggregates
                UNION ALL SELECT did || ' ' || concat_ws('|', followers_count, follows_count, posts_count) FROM actor_aggregates
                ORDER BY 1
                """)
        }
        #expect(try counts() == ["\(first) 1|0|0|1", "\(second) 0|0|0|0", "\(Self.alice) 0|1|1", "\(Self.bob) 1|0|1", "\(Self.carol) 0|0|1"]
            .sorted().filter { !$0.hasSuffix(" 0|0|0|0") })
        // Updates (new CIDs) pointing at the other subjects.
        try harness.apply([
            EventLines.commit(Self.alice, Self.base + 10, "app.bsky.feed.like", "3l",
                              record: #"{"$type":"app.bsky.feed.like","subject":{"uri":"\#(second)","cid":"\#(EventLines.fakeCID(second))"},"createdAt":"2026-07-04T14:38:00.000Z"}"#,
                              operation: "update"),
            EventLines.commit(Self.alice, Self.base + 11, "app.bsky.graph.follow", "3f",
                              record: #"{"$type":"app.bsky.graph.follow","subject":"\#(Self.carol)","createdAt":"2026-07-04T14:38:00.000Z"}"#,
                              operation: "update"),
            EventLines.post(Self.alice, "3q", time: Self.base + 12, text: "v2", quote: second, operation: "update"),
        ])
        #expect(try counts() == ["\(first) 0|0|0|0", "\(second) 1|0|0|1", "\(Self.alice) 0|1|1", "\(Self.bob) 0|0|1", "\(Self.carol) 1|0|1"].sorted())
        // The same updates again: nothing moves.
        try harness.apply([EventLines.post(Self.alice, "3q", time: Self.base + 12, text: "v2", quote: second, operation: "update")])
        #expect(try counts() == ["\(first) 0|0|0|0", "\(second) 1|0|0|1", "\(Self.alice) 0|1|1", "\(Self.bob) 0|0|1", "\(Self.carol) 1|0|1"].sorted())
        #expect(try harness.int("SELECT count(*) FROM notifications WHERE recipient_did = $1", [Self.bob]) == 0)
        #expect(try harness.int("SELECT count(*) FROM notifications WHERE recipient_did = $1", [Self.carol]) == 3)
        try TombstoneTests.expectExactCounts(harness)
    }

    @Test("a tiny known-actor cache (constant eviction) still gives every actor its earliest first sight")
    func tinyActorCache() throws {
        var generator = DemoDataGenerator(actorCount: 12, seed: 11)
        var lines: [String] = []
        _ = try generator.generate { lines.append($0) }
        let reference = try IngestHarness("ingest_delta_cache_ref")
        try reference.applySequentially(lines, batchSize: 40)
        let harness = try IngestHarness("ingest_delta_cache_tiny")
        let indexer = Indexer(pool: harness.pool, knownActorCapacity: 2)
        var random = SplitMix64(seed: 5)
        var shuffled = lines
        for index in shuffled.indices.reversed() { shuffled.swapAt(index, random.below(index + 1)) }
        let events = shuffled.compactMap { try? JetstreamEventDecoder.decode($0).get() }.filter { IgnoredEvents.reason($0) == nil }
        for start in stride(from: 0, to: events.count, by: 17) { try indexer.apply(Array(events[start..<min(events.count, start + 17)])) }
        #expect(try harness.strings("SELECT did || ' ' || indexed_at FROM actors ORDER BY did")
            == reference.strings("SELECT did || ' ' || indexed_at FROM actors ORDER BY did"))
        try TombstoneTests.expectExactCounts(harness)
    }
}
