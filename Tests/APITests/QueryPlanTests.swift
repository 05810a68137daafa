@testable import API
import Foundation
import JSON
import Storage
import Testing

/// Every read query constant, EXPLAINed with realistic parameters on a dataset large enough that
/// the planner prefers indexes (≈50k feed items, likes, notifications, follows; ANALYZEd), must not
/// sequentially scan any of the large tables.
@Suite(.serialized) struct QueryPlanTests {
    static let largeTables: Set<String> = ["feed_items", "posts", "likes", "reposts", "follows", "blocks", "notifications", "actors"]

    final class World: @unchecked Sendable {
        static let shared = Result { try World() }
        let fixture: Fixture
        init() throws {
            fixture = try Fixture(name: "api_query_plan_tests")
            try fixture.pool.withConnection { connection in
                try BulkDataset.build(.init(actors: 20_000, posts: 40_000, reposts: 20_000, likes: 50_000, randomFollows: 50_000),
                                      on: connection)
            }
        }
    }

    /// (name, sql, parameters) for every read statement the service issues.
    func cases(_ connection: PostgresConnection) throws -> [(String, String, [PostgresBindable?])] {
        let dense = "did:plc:viewer_dense2000"
        let follows = try connection.query("SELECT subject_did FROM follows WHERE creator_did = $1", [dense]).rows.compactMap { $0.string(0) }
        let recent = try connection.query(
            "SELECT post_uri, originator_did FROM feed_items WHERE originator_did = ANY($1::text[]) ORDER BY sort_at DESC LIMIT 50",
            [follows])
        let postURIs = recent.rows.compactMap { $0.string(0) }
        let actorDIDs = Array(Set(recent.rows.compactMap { $0.string(1) }))
        let notifiedURIs = try connection.query(
            "SELECT record_uri FROM notifications WHERE recipient_did = 'did:plc:bulk1' ORDER BY sort_at DESC LIMIT 50").rows.compactMap { $0.string(0) }
        let recordURIs = notifiedURIs + postURIs.prefix(10) + ["at://did:plc:viewer_dense2000/app.bsky.graph.follow/f1"]
        let tenMinutesAgo = Timestamp.iso8601(epochMilliseconds: Int64(Date().timeIntervalSince1970 * 1000) - 600_000)
        // A realistic cursor: the 100th newest item of the most active account.
        let middle = try connection.query("""
            SELECT floor(extract(epoch FROM sort_at) * 1000)::bigint, cid, uri FROM feed_items
            WHERE originator_did = 'did:plc:bulk1' ORDER BY sort_at DESC, cid DESC, uri DESC OFFSET 99 LIMIT 1
            """)
        let cursor = [Timestamp.iso8601(epochMilliseconds: middle[0].int64(0) ?? 0), middle[0].string(1) ?? "", middle[0].string(2) ?? ""]
        var list: [(String, String, [PostgresBindable?])] = [
            ("ActorQuery.profiles", ActorQuery.profiles, [actorDIDs, ["bulk5.test"], dense]),
            ("ActorQuery.profiles(anonymous)", ActorQuery.profiles, [actorDIDs, [String](), nil]),
            ("PostQuery.views", PostQuery.views, [postURIs, dense]),
            ("TimelineQuery.followsAndBlocks", TimelineQuery.followsAndBlocks, [dense]),
            ("TimelineQuery.page(dense, window)", TimelineQuery.page,
             [follows + [dense], ["did:plc:bulk3"], tenMinutesAgo, "infinity", "", "", 50]),
            ("TimelineQuery.page(dense, cursor)", TimelineQuery.page,
             [follows + [dense], [String](), "-infinity", cursor[0], cursor[1], cursor[2], 50]),
            ("TimelineQuery.page(sparse, unbounded)", TimelineQuery.page,
             [(19951...20000).map { "did:plc:bulk\($0)" } + ["did:plc:viewer_sparse"], [String](), "-infinity", "infinity", "", "", 50]),
            ("TimelineQuery.recentScan", TimelineQuery.recentScan,
             [dense, ["did:plc:bulk3", "did:plc:bulk7"], "infinity", "", "", 2500, 50]),
            ("TimelineQuery.recentScan(cursor)", TimelineQuery.recentScan,
             [dense, [String](), cursor[0], cursor[1], cursor[2], 2500, 50]),
            ("TimelineQuery.recentScanFloor", TimelineQuery.recentScanFloor, [cursor[0], cursor[1], cursor[2], 2500]),
            ("NotificationQuery.page", NotificationQuery.page, ["did:plc:bulk1", [String](), "infinity", "", "", 50]),
            ("NotificationQuery.page(reasons, cursor)", NotificationQuery.page,
             ["did:plc:bulk1", ["like", "follow"], cursor[0], cursor[1], cursor[2], 50]),
            ("NotificationQuery.lastSeen", NotificationQuery.lastSeen, ["did:plc:bulk1"]),
            ("NotificationQuery.records", NotificationQuery.records, [recordURIs]),
            ("NotificationQuery.unreadCount", NotificationQuery.unreadCount, ["did:plc:bulk1", nil]),
            ("NotificationQuery.unreadCount(seenAt)", NotificationQuery.unreadCount, ["did:plc:bulk1", tenMinutesAgo]),
            ("NotificationQuery.updateSeen", NotificationQuery.updateSeen, ["did:plc:bulk1", tenMinutesAgo]),
        ]
        for filter in ["posts_with_replies", "posts_no_replies", "posts_with_media", "posts_and_author_threads"] {
            list.append(("AuthorFeedQuery(\(filter))", AuthorFeedQuery.statement(filter: filter)!,
                         ["did:plc:bulk1", "infinity", "", "", 50]))
            list.append(("AuthorFeedQuery(\(filter), cursor)", AuthorFeedQuery.statement(filter: filter)!,
                         ["did:plc:bulk1", cursor[0], cursor[1], cursor[2], 50]))
        }
        return list
    }

    /// Every (node type, relation, index) in a JSON plan tree.
    static func nodes(_ plan: Any) -> [(type: String, relation: String?, index: String?)] {
        var found: [(String, String?, String?)] = []
        func visit(_ node: Any) {
            if let list = node as? [Any] { list.forEach(visit); return }
            guard let object = node as? [String: Any] else { return }
            if let type = object["Node Type"] as? String {
                found.append((type, object["Relation Name"] as? String, object["Index Name"] as? String))
            }
            if let inner = object["Plan"] { visit(inner) }
            if let children = object["Plans"] { visit(children) }
        }
        visit(plan)
        return found
    }

    @Test func noSequentialScanOfALargeTable() throws {
        let world = try World.shared.get()
        try world.fixture.pool.withConnection { connection in
            let counts = try connection.query("SELECT (SELECT count(*) FROM feed_items), (SELECT count(*) FROM likes), (SELECT count(*) FROM notifications), (SELECT count(*) FROM follows)")
            #expect((counts[0].int(0) ?? 0) >= 50_000 && (counts[0].int(1) ?? 0) >= 50_000)
            #expect((counts[0].int(2) ?? 0) >= 45_000 && (counts[0].int(3) ?? 0) >= 50_000)
            for (name, sql, parameters) in try cases(connection) {
                let result = try connection.query("EXPLAIN (FORMAT JSON) " + sql, parameters)
                let text = result[0].string(0) ?? "[]"
                let plan = try JSONSerialization.jsonObject(with: Data(text.utf8))
                let nodes = Self.nodes(plan)
                #expect(!nodes.isEmpty, "\(name)")
                let seqScans = nodes.filter { $0.type == "Seq Scan" && Self.largeTables.contains($0.relation ?? "") }
                #expect(seqScans.isEmpty, "\(name) scans \(seqScans.map { $0.relation ?? "" }) sequentially:\n\(text)")
                // The feed and notification pages must read through their ordered indexes.
                if name.hasPrefix("TimelineQuery.page") {
                    // Either the per-account ranges, or (narrow windows) the time range of feed_items_sort_idx.
                    #expect(nodes.contains { ($0.index ?? "").hasPrefix("feed_items_") }, "\(name):\n\(text)")
                }
                if name.hasPrefix("AuthorFeedQuery") {
                    #expect(nodes.contains { ($0.index ?? "").hasPrefix("feed_items_originator") }, "\(name):\n\(text)")
                }
                if name.hasPrefix("TimelineQuery.recentScan") {
                    #expect(nodes.contains { $0.index == "feed_items_sort_idx" }, "\(name):\n\(text)")
                    #expect(!nodes.contains { $0.type == "Sort" }, "the walk must stream in index order:\n\(text)")
                }
                if name.hasPrefix("NotificationQuery.page") {
                    #expect(nodes.contains { $0.index == "notifications_recipient_sort_idx" }, "\(name):\n\(text)")
                }
            }
        }
    }

    @Test func filtersUseTheirPartialIndexes() throws {
        let world = try World.shared.get()
        let expected = ["posts_no_replies": "feed_items_originator_no_replies_idx",
                        "posts_with_media": "feed_items_originator_media_idx",
                        "posts_and_author_threads": "feed_items_originator_threads_idx"]
        try world.fixture.pool.withConnection { connection in
            for (filter, index) in expected {
                let result = try connection.query("EXPLAIN (FORMAT JSON) " + AuthorFeedQuery.statement(filter: filter)!,
                                                  ["did:plc:bulk1", "infinity", "", "", 50])
                let nodes = Self.nodes(try JSONSerialization.jsonObject(with: Data((result[0].string(0) ?? "[]").utf8)))
                #expect(nodes.contains { $0.index == index }, "\(filter)")
            }
        }
    }

    @Test func bulkTimelineThroughTheServiceFillsPagesForEveryViewerClass() throws {
        let world = try World.shared.get()
        for viewer in ["did:plc:viewer_sparse", "did:plc:viewer_dense500", "did:plc:viewer_dense2000"] {
            let service = world.fixture.service(viewer: viewer)
            let first = service.call("app.bsky.feed.getTimeline", "limit=50")
            #expect(first.status == 200)
            #expect(first.feed.count == 50, "\(viewer)")
            Lexicon.checkFeed(first.json)
            let second = service.call("app.bsky.feed.getTimeline", "limit=50&cursor=\(q(first.cursor ?? ""))")
            // Full pages whenever older items exist: the sparse viewer's 50 rare posters have fewer than 100.
            let available = try world.fixture.pool.withConnection { connection in
                try connection.query("""
                    SELECT count(*) FROM feed_items WHERE originator_did = $1
                       OR originator_did IN (SELECT subject_did FROM follows WHERE creator_did = $1)
                    """, [viewer])[0].int(0) ?? 0
            }
            #expect(available >= 50)
            if available >= 100 {
                #expect(second.feed.count == 50, "\(viewer)")
            } else {
                #expect(second.feed.count == available - 50, "\(viewer)")
            }
            // Blocks: dense500 blocks bulk3 and is blocked by bulk7; neither appears as author or reposter.
            if viewer.hasSuffix("dense500") {
                for item in first.feed + second.feed {
                    let author = ((item["post"] as? [String: Any])?["author"] as? [String: Any])?["did"] as? String
                    let by = ((item["reason"] as? [String: Any])?["by"] as? [String: Any])?["did"] as? String
                    #expect(author != "did:plc:bulk3" && author != "did:plc:bulk7" && by != "did:plc:bulk3" && by != "did:plc:bulk7")
                }
            }
        }
    }
}
