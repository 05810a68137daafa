import Foundation
@testable import Ingest
import Testing

/// Order inside a batch and across batches.
@Suite("ordering", .serialized)
struct BatchOrderingTests {
    static let alice = "did:plc:aliceaaaaaaaaaaaaaaaaaaa"
    static let bob = "did:plc:bobbbbbbbbbbbbbbbbbbbbbb"
    static let base: Int64 = 1_783_175_888_000_000

    @Test("within one batch the last operation on a URI wins")
    func lastOperationWins() throws {
        let harness = try IngestHarness("ingest_ordering_batch")
        let post = EventLines.postURI(Self.bob, "3p")
        try harness.apply([
            EventLines.post(Self.bob, "3p", time: Self.base),
            EventLines.like(Self.alice, "3gone", time: Self.base + 1, subject: post),
            EventLines.delete(Self.alice, Self.base + 2, "app.bsky.feed.like", "3gone"),
            EventLines.delete(Self.alice, Self.base + 3, "app.bsky.feed.like", "3back"),
            EventLines.like(Self.alice, "3back", time: Self.base + 4, subject: post),
            EventLines.follow(Self.alice, "3f", time: Self.base + 5, subject: Self.bob),
            EventLines.delete(Self.alice, Self.base + 6, "app.bsky.graph.follow", "3f"),
            EventLines.post(Self.alice, "3draft", time: Self.base + 7, text: "v1"),
            EventLines.post(Self.alice, "3draft", time: Self.base + 8, text: "v2", operation: "update"),
        ])
        #expect(try harness.strings("SELECT uri FROM likes") == ["at://\(Self.alice)/app.bsky.feed.like/3back"])
        #expect(try harness.int("SELECT like_count FROM post_aggregates WHERE uri = $1", [post]) == 1)
        #expect(try harness.int("SELECT count(*) FROM notifications WHERE reason = 'like'") == 1)
        #expect(try harness.int("SELECT count(*) FROM follows") == 0)
        #expect(try harness.int("SELECT count(*) FROM notifications WHERE reason = 'follow'") == 0)
        #expect(try harness.int("SELECT followers_count FROM actor_aggregates WHERE did = $1", [Self.bob]) == 0)
        #expect(try harness.strings("SELECT text FROM posts WHERE uri = $1", [EventLines.postURI(Self.alice, "3draft")]) == ["v2"])
        // actor first sight is the earliest event that mentioned it.
        #expect(try harness.strings("SELECT to_char(indexed_at, 'HH24:MI:SS.US') FROM actors WHERE did = $1", [Self.bob]) == ["14:38:08.000000"])
    }

    @Test("identity and account: an older event than the one applied is ignored")
    func identityAndAccount() throws {
        let harness = try IngestHarness("ingest_ordering_identity")
        try harness.apply([
            EventLines.identity(Self.alice, time: Self.base + 10, handle: "Alice.Example.com"),
            EventLines.identity(Self.alice, time: Self.base + 5, handle: "old.example.com"),
            EventLines.account(Self.alice, time: Self.base + 10, active: false, status: "takendown"),
        ])
        try harness.apply([
            EventLines.identity(Self.alice, time: Self.base + 7, handle: "older.example.com"),
            EventLines.account(Self.alice, time: Self.base + 8, active: true, status: nil),
        ])
        #expect(try harness.strings("SELECT concat_ws('|', handle, is_active, status) FROM actors WHERE did = $1", [Self.alice]) == ["alice.example.com|f|takendown"])
        try harness.apply([
            EventLines.identity(Self.alice, time: Self.base + 20, handle: "handle.invalid"),
            EventLines.account(Self.alice, time: Self.base + 20, active: true, status: nil),
        ])
        // handle.invalid carries no handle; the known one stays. Reactivation clears the status.
        #expect(try harness.strings("SELECT concat_ws('|', handle, is_active, coalesce(status, '-')) FROM actors WHERE did = $1", [Self.alice]) == ["alice.example.com|t|-"])
        try harness.apply([EventLines.identity(Self.alice, time: Self.base + 30, handle: "new.example.com")])
        #expect(try harness.strings("SELECT handle FROM actors WHERE did = $1", [Self.alice]) == ["new.example.com"])
    }

    @Test("profiles: create, update and delete set and clear the profile columns")
    func profiles() throws {
        let harness = try IngestHarness("ingest_ordering_profile")
        try harness.apply([EventLines.profile(Self.alice, time: Self.base, displayName: "Alice")])
        try harness.apply([EventLines.profile(Self.alice, time: Self.base + 1, displayName: "Alice 🌱", operation: "update")])
        #expect(try harness.strings("SELECT concat_ws('|', display_name, description, profile_record->>'displayName') FROM actors WHERE did = $1", [Self.alice]) == ["Alice 🌱|about me|Alice 🌱"])
        try harness.apply([EventLines.delete(Self.alice, Self.base + 2, "app.bsky.actor.profile", "self")])
        #expect(try harness.strings("SELECT concat_ws('|', coalesce(display_name, '-'), profile_record IS NULL) FROM actors WHERE did = $1", [Self.alice]) == ["-|t"])
    }

    @Test("any arrival order gives the same rows and exact counts", arguments: ["reversed", "shuffled"])
    func arrivalOrder(order: String) throws {
        // Demo data without deletes: with deletes, a delete arriving before its create is a
        // different history, not a different order of the same one.
        var generator = DemoDataGenerator(actorCount: 12, seed: 7)
        var lines: [String] = []
        _ = try generator.generate { lines.append($0) }
        lines = lines.filter { !$0.contains(#""operation":"delete""#) }
        #expect(lines.count > 200)

        let inOrder = try IngestHarness("ingest_order_\(order)_a")
        try inOrder.importLines(lines, batchSize: 50)
        let other = try IngestHarness("ingest_order_\(order)_b")
        var random = SplitMix64(seed: 42)
        var permuted = lines
        if order == "reversed" {
            permuted.reverse()
        } else {
            for index in permuted.indices.reversed() { permuted.swapAt(index, random.below(index + 1)) }
        }
        try other.importLines(permuted, batchSize: 13)
        let expected = try inOrder.dump()
        #expect(expected["post_aggregates"]!.count > 50)
        #expect(try inOrder.int("SELECT sum(like_count) FROM post_aggregates") == inOrder.int("SELECT count(*) FROM likes"))
        for (table, rows) in try other.dump() {
            #expect(rows == expected[table], "table \(table) differs")
        }
    }
}

@Suite("post versions", .serialized)
struct PostVersionTests {
    @Test("an older version of a post arriving after a newer one does not replace it")
    func olderVersionIgnored() throws {
        let harness = try IngestHarness("ingest_post_versions")
        let bob = BatchOrderingTests.bob
        let base = BatchOrderingTests.base
        try harness.apply([EventLines.post(bob, "3p", time: base + 10, text: "v2", operation: "update")])
        try harness.apply([EventLines.post(bob, "3p", time: base, text: "v1")])
        #expect(try harness.strings("SELECT text FROM posts") == ["v2"])
        try harness.apply([EventLines.post(bob, "3p", time: base + 20, text: "v3", operation: "update")])
        #expect(try harness.strings("SELECT text FROM posts") == ["v3"])
        #expect(try harness.int("SELECT count(*) FROM feed_items") == 1)
    }
}
