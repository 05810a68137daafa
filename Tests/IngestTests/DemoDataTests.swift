import Foundation
@testable import Ingest
import Testing

@Suite("demo data", .serialized)
struct DemoDataTests {
    func generate(actors: Int, seed: UInt64) throws -> (DemoDataGenerator.Summary, [String]) {
        var generator = DemoDataGenerator(actorCount: actors, seed: seed)
        var lines: [String] = []
        let summary = try generator.generate { lines.append($0) }
        return (summary, lines)
    }

    @Test("the same seed gives the same file; another seed another")
    func deterministic() throws {
        let (summary, first) = try generate(actors: 10, seed: 5)
        let (_, second) = try generate(actors: 10, seed: 5)
        let (_, other) = try generate(actors: 10, seed: 6)
        #expect(first == second)
        #expect(first != other)
        #expect(summary.events == first.count)
        #expect(summary.handles.prefix(3) == ["alice.demo", "bob.demo", "carol.demo"])
    }

    @Test("mention facets point at the @handle by UTF-8 byte offsets")
    func mentionOffsets() throws {
        let (_, lines) = try generate(actors: 20, seed: 9)
        var checked = 0
        for line in lines where line.contains("facet#mention") {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let record = try #require((object["commit"] as? [String: Any])?["record"] as? [String: Any])
            let text = Array(try #require(record["text"] as? String).utf8)
            let facet = try #require((record["facets"] as? [[String: Any]])?.first)
            let index = try #require(facet["index"] as? [String: Int])
            let mentioned = String(decoding: text[index["byteStart"]!..<index["byteEnd"]!], as: UTF8.self)
            #expect(mentioned.hasPrefix("@") && mentioned.hasSuffix(".demo"))
            checked += 1
        }
        #expect(checked > 10)
    }

    @Test("imports with zero errors into a populated AppView")
    func imports() throws {
        let harness = try IngestHarness("ingest_demo")
        let (_, lines) = try generate(actors: 30, seed: 1)
        let statistics = try harness.importLines(lines, batchSize: 250)
        #expect(statistics.errorCount == 0)
        #expect(statistics.ignoredCount == 0)
        #expect(try harness.strings("SELECT handle FROM actors WHERE display_name = 'Alice Demo'") == ["alice.demo"])
        #expect(try harness.int("SELECT count(*) FROM actors WHERE handle IS NULL") == 0)
        for reason in ["like", "repost", "follow", "mention", "reply", "quote"] {
            #expect(try harness.int("SELECT count(*) FROM notifications WHERE reason = $1", [reason])! > 0, "no \(reason) notifications")
        }
        for embed in ["images", "external", "record", "recordWithMedia"] {
            #expect(try harness.int("SELECT count(*) FROM posts WHERE embed_type = $1", [embed])! > 0, "no \(embed) embeds")
        }
        #expect(try harness.int("SELECT count(*) FROM blocks")! > 0)
        #expect(try harness.int("SELECT count(*) FROM feed_items WHERE type = 'repost'")! > 0)
        // alice follows many, so her timeline has content.
        #expect(try harness.int("""
            SELECT count(*) FROM feed_items f JOIN follows ON follows.subject_did = f.originator_did
            JOIN actors a ON a.did = follows.creator_did AND a.handle = 'alice.demo'
            """)! > 100)
        // Counts equal the live rows.
        #expect(try harness.int("""
            SELECT count(*) FROM actor_aggregates g WHERE followers_count <> (SELECT count(*) FROM follows WHERE subject_did = g.did)
                OR posts_count <> (SELECT count(*) FROM posts WHERE author_did = g.did)
            """) == 0)
        #expect(try harness.int("""
            SELECT count(*) FROM post_aggregates g WHERE like_count <> (SELECT count(*) FROM likes WHERE subject_uri = g.uri)
                OR reply_count <> (SELECT count(*) FROM posts WHERE reply_parent_uri = g.uri)
                OR quote_count <> (SELECT count(*) FROM posts WHERE embed_record_uri = g.uri)
            """) == 0)
    }
}
