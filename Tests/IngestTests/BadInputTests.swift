import Foundation
@testable import Ingest
import Storage
import Testing

/// Bad input never stops an import: it is counted, logged and skipped.
@Suite("bad input and cursor", .serialized)
struct BadInputTests {
    static let alice = "did:plc:aliceaaaaaaaaaaaaaaaaaaa"
    static let bob = "did:plc:bobbbbbbbbbbbbbbbbbbbbbb"
    static let base: Int64 = 1_783_175_888_000_000

    @Test("malformed lines are counted by kind and skipped; unknown collections and kinds ignored; the rest applied")
    func malformedLines() throws {
        let harness = try IngestHarness("ingest_bad_lines")
        let lines = [
            EventLines.post(Self.bob, "3ok1", time: Self.base),
            "{\"did\": \"did:plc:abc\", \"time_us\": 1, \"kind\": ",
            "   ",
            #"{"did":"did:plc:abc","time_us":1,"kind":"commit"}"#,
            EventLines.like(Self.alice, "3badlike", time: Self.base + 1, subject: "at://bob.example.com/app.bsky.feed.post/3x"),
            #"{"did":"did:plc:abc","time_us":1,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.like","rkey":"a b","cid":"bafyreiabc","record":{}}}"#,
            EventLines.commit(Self.alice, Self.base + 2, "com.example.unknown", "3x", record: #"{"x":1}"#),
            #"{"did":"did:plc:aliceaaaaaaaaaaaaaaaaaaa","time_us":1783175888000003,"kind":"sync","sync":{}}"#,
            EventLines.like(Self.alice, "3ok2", time: Self.base + 4, subject: EventLines.postURI(Self.bob, "3ok1")),
        ]
        let statistics = try harness.importLines(lines, batchSize: 2)
        #expect(statistics.lines == 8)
        #expect(statistics.errors == ["invalid_json": 1, "missing_field": 1, "invalid_record": 1, "invalid_field": 1])
        #expect(statistics.ignored == ["collection:com.example.unknown": 1, "kind:sync": 1])
        #expect(statistics.applied == 2)
        #expect(try harness.int("SELECT like_count FROM post_aggregates WHERE uri = $1", [EventLines.postURI(Self.bob, "3ok1")]) == 1)
        #expect(try harness.int("SELECT count(*) FROM actors") == 2)
        // Ignored events advance the cursor too: they have been seen.
        #expect(try harness.indexer.cursor(source: "import:test") == Self.base + 4)
    }

    @Test("createdAt: unparseable falls back to the event time; a future one cannot pin a post on top")
    func createdAt() throws {
        let harness = try IngestHarness("ingest_bad_created_at")
        try harness.apply([
            EventLines.post(Self.bob, "3garbage", time: Self.base + 123_456, createdAt: "last tuesday"),
            EventLines.post(Self.bob, "3future", time: Self.base, createdAt: "2099-01-01T00:00:00Z"),
            EventLines.post(Self.bob, "3past", time: Self.base, createdAt: "2026-07-04T10:00:00.123456Z"),
        ])
        let rows = try harness.strings("""
            SELECT concat_ws('|', split_part(uri, '/', 5), to_char(created_at, 'YYYY-MM-DD HH24:MI:SS.US'), to_char(sort_at, 'YYYY-MM-DD HH24:MI:SS.US'))
            FROM posts ORDER BY uri
            """)
        #expect(rows == [
            "3future|2099-01-01 00:00:00.000000|2026-07-04 14:38:08.000000",
            "3garbage|2026-07-04 14:38:08.123000|2026-07-04 14:38:08.123000",
            "3past|2026-07-04 10:00:00.123000|2026-07-04 10:00:00.123000",
        ])
        #expect(try harness.strings("SELECT to_char(sort_at, 'YYYY-MM-DD HH24:MI:SS.US') FROM feed_items WHERE uri LIKE '%3future'") == ["2026-07-04 14:38:08.000000"])
    }

    @Test("texts with quotes, backslashes, braces, commas, NULL words and emoji are stored exactly")
    func awkwardText() throws {
        let harness = try IngestHarness("ingest_awkward_text")
        let texts = [#"he said "hi", {x,y}"#, #"back\slash \"#, "NULL", "", "🌱 é 日本", "line\nbreak\ttab"]
        try harness.apply(texts.enumerated().map { index, text in
            EventLines.post(Self.bob, "3t\(index)", time: Self.base + Int64(index), text: text)
        })
        #expect(try harness.strings("SELECT text FROM posts ORDER BY uri") == texts)
        #expect(try harness.strings("SELECT record->>'text' FROM posts ORDER BY uri") == texts)
    }

    @Test("the cursor is written with its batch and only moves forward")
    func cursor() throws {
        let harness = try IngestHarness("ingest_cursor")
        try harness.apply([EventLines.post(Self.bob, "3a", time: Self.base)], cursor: IngestCursor(source: "jetstream", position: Self.base))
        #expect(try harness.indexer.cursor(source: "jetstream") == Self.base)
        #expect(try harness.int("SELECT count(*) FROM posts") == 1)
        try harness.apply([EventLines.post(Self.bob, "3b", time: Self.base - 10)], cursor: IngestCursor(source: "jetstream", position: Self.base - 10))
        #expect(try harness.indexer.cursor(source: "jetstream") == Self.base)
        #expect(try harness.indexer.cursor(source: "elsewhere") == nil)
    }

    @Test("a record the database refuses is skipped alone; its batch and cursor still commit")
    func databaseRefusal() throws {
        let harness = try IngestHarness("ingest_db_refusal")
        // A DID long enough that the follows index row exceeds PostgreSQL's B-tree limit.
        var random = SplitMix64(seed: 3)
        let longDID = "did:web:" + DemoIdentifiers.base32(DemoIdentifiers.randomBytes(1000, &random))
        let otherLongDID = "did:web:" + DemoIdentifiers.base32(DemoIdentifiers.randomBytes(1000, &random))
        let lines = [
            EventLines.post(Self.bob, "3ok", time: Self.base),
            EventLines.follow(longDID, "3huge", time: Self.base + 1, subject: otherLongDID),
            EventLines.like(Self.alice, "3ok", time: Self.base + 2, subject: EventLines.postURI(Self.bob, "3ok")),
        ]
        let statistics = try harness.importLines(lines)
        #expect(statistics.errors == ["database": 1])
        #expect(statistics.applied == 2)
        #expect(try harness.int("SELECT count(*) FROM posts") == 1)
        #expect(try harness.int("SELECT count(*) FROM likes") == 1)
        #expect(try harness.int("SELECT count(*) FROM follows") == 0)
        #expect(try harness.indexer.cursor(source: "import:test") == Self.base + 2)
    }
}
