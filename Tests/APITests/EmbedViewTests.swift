@testable import API
import Foundation
import Storage
import Testing

/// Embed hydration's SQL uses indexes only, and text copied from records is clamped to the view limits.
@Suite(.serialized) struct EmbedViewTests {
    @Test func embedMediaQueryScansNoLargeTable() throws {
        let world = try QueryPlanTests.World.shared.get()
        try world.fixture.pool.withConnection { connection in
            let uris = try connection.query("SELECT uri FROM posts ORDER BY sort_at DESC LIMIT 50").rows.compactMap { $0.string(0) }
            #expect(uris.count == 50)
            for (name, sql) in [("EmbedMediaQuery.media", EmbedMediaQuery.media), ("PostQuery.views", PostQuery.views)] {
                let parameters: [PostgresBindable?] = name == "PostQuery.views" ? [uris, "did:plc:viewer_dense2000"] : [uris]
                let text = try connection.query("EXPLAIN (FORMAT JSON) " + sql, parameters)[0].string(0) ?? "[]"
                let nodes = QueryPlanTests.nodes(try JSONSerialization.jsonObject(with: Data(text.utf8)))
                #expect(!nodes.isEmpty, "\(name)")
                let seqScans = nodes.filter { $0.type == "Seq Scan" && QueryPlanTests.largeTables.contains($0.relation ?? "") }
                #expect(seqScans.isEmpty, "\(name) scans \(seqScans.map { $0.relation ?? "" }) sequentially:\n\(text)")
            }
        }
    }

    @Test func overlongProfileTextIsClampedToWholeGraphemes() {
        let accented = String(repeating: "e\u{301}", count: 70)
        #expect(LexiconText.displayName(accented) == String(repeating: "e\u{301}", count: 64))
        #expect(LexiconText.displayName("short") == "short")
        // The byte limit binds first for wide graphemes: 64 family emoji are far over 640 bytes.
        let families = String(repeating: "👨‍👩‍👧‍👦", count: 64)
        let clamped = LexiconText.displayName(families)
        #expect(clamped.utf8.count <= 640 && clamped.count == 640 / "👨‍👩‍👧‍👦".utf8.count)
        #expect(LexiconText.description(String(repeating: "a", count: 300)).count == 256)
    }

    @Test func uriFormatMatchesTheLexiconsSyntax() {
        for good in ["https://example.com", "http://a.b/c?d#e", "mailto:x@y.z", "at://did:plc:abc/app.bsky.feed.post/1"] {
            #expect(Identifiers.isURI(good), "\(good)")
        }
        for bad in ["not a uri", "https:", ":nothing", "1http://x", "https://exa mple.com", ""] {
            #expect(!Identifiers.isURI(bad), "\(bad)")
        }
    }
}
