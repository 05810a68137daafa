@testable import API
import Foundation
import Storage
import Testing

/// Keyset pagination: walking every page must return each row exactly once, in the database's
/// (sort_at, cid, uri) order, even when many rows share a timestamp and some share a cid.
@Suite(.serialized) struct PaginationTests {
    static let world = Result { try PaginationWorld() }

    final class PaginationWorld: @unchecked Sendable {
        let fixture: Fixture
        let viewer: String
        let authors: [String]
        /// Expected timeline order (uris), computed by sorting in Swift independently of the SQL.
        let expected: [String]
        let sparseViewer: String
        let sparseExpected: [String]

        init() throws {
            let f = try Fixture(name: "api_pagination_tests")
            fixture = f
            viewer = try f.actor("pager")
            authors = try (0..<3).map { try f.actor("author\($0)") }
            for author in authors { try f.follow(viewer, author) }
            // 90 items in three timestamp clumps of 30; inside a clump several rows share a cid too.
            var rows: [(time: Int64, cid: String, uri: String)] = []
            for index in 0..<90 {
                let time = Fixture.baseTime + Int64(index / 30) * 1000
                let author = authors[index % 3]
                let sharedCID = index % 4 == 0 ? "bafyreisharedcid\(index / 30)" : nil
                if index % 5 == 0 && index > 0 {
                    let post = try f.post(by: authors[(index + 1) % 3], at: time - 1, cid: nil)
                    let repost = try f.repost(by: author, of: post, postAuthor: authors[(index + 1) % 3], at: time, cid: sharedCID)
                    rows.append((time, repost.cid, repost.uri))
                    rows.append((time - 1, post.cid, post.uri))
                } else {
                    let post = try f.post(by: author, at: time, cid: sharedCID)
                    rows.append((time, post.cid, post.uri))
                }
            }
            // Byte order equals the database's order here: all strings are ASCII lower-case/digits/punctuation
            // in the C-compatible subset the test cluster sorts identically.
            expected = rows.sorted { a, b in
                if a.time != b.time { return a.time > b.time }
                if a.cid != b.cid { return a.cid > b.cid }
                return a.uri > b.uri
            }.map(\.uri)

            // A sparse viewer: one followee whose posts are 1–40 days old, so the first windows are empty.
            sparseViewer = try f.actor("sparse")
            let quiet = try f.actor("quiet")
            try f.follow(sparseViewer, quiet)
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            var sparse: [String] = []
            for day in 1...40 {
                sparse.append(try f.post(by: quiet, at: now - Int64(day) * 86_400_000 - 17).uri)
            }
            sparseExpected = sparse
            try f.recomputeAggregates()
        }
    }

    func walk(_ service: AppViewService, _ nsid: String, _ query: String, limit: Int) -> (uris: [String], pages: Int) {
        var collected: [String] = []
        var cursor: String?
        var pages = 0
        repeat {
            let answer = service.call(nsid, query + "&limit=\(limit)" + (cursor.map { "&cursor=\(q($0))" } ?? ""))
            #expect(answer.status == 200, "\(answer.json)")
            Lexicon.checkFeed(answer.json)
            let page = answer.feed.map { item in
                (item["reason"] as? [String: Any])?["uri"] as? String ?? ((item["post"] as? [String: Any])?["uri"] as? String ?? "?")
            }
            collected += page
            cursor = answer.cursor
            if cursor != nil { #expect(page.count == limit, "a cursor only comes with a full page") }
            pages += 1
        } while cursor != nil && pages < 200
        return (collected, pages)
    }

    @Test(arguments: [1, 7, 30, 100])
    func timelineWalkNeverSkipsOrRepeats(limit: Int) throws {
        let world = try Self.world.get()
        let (uris, _) = walk(world.fixture.service(viewer: world.viewer), "app.bsky.feed.getTimeline", "x=1", limit: limit)
        #expect(uris.count == world.expected.count)
        #expect(Set(uris).count == uris.count, "no repeats")
        #expect(uris == world.expected)
    }

    @Test(arguments: [1, 4, 50])
    func authorFeedWalkNeverSkipsOrRepeats(limit: Int) throws {
        let world = try Self.world.get()
        let author = world.authors[1]
        let service = world.fixture.service(viewer: nil)
        let everything = service.call("app.bsky.feed.getAuthorFeed", "actor=\(q(author))&limit=100")
        let all = everything.feed.map { item in
            (item["reason"] as? [String: Any])?["uri"] as? String ?? ((item["post"] as? [String: Any])?["uri"] as? String ?? "?")
        }
        #expect(all.count > 30)
        let (uris, _) = walk(service, "app.bsky.feed.getAuthorFeed", "actor=\(q(author))", limit: limit)
        #expect(uris == all)
    }

    /// The dense path (recent-items walk with a tiny budget, then windows below its floor) walks the
    /// same rows in the same order as the expected list: no skip, no repeat at the hand-over.
    @Test(arguments: [(1, 3), (4, 7), (7, 40), (30, 10)])
    func denseStrategyHandOverNeverSkipsOrRepeats(limit: Int, budget: Int) throws {
        let world = try Self.world.get()
        try world.fixture.pool.withConnection { connection in
            var collected: [String] = []
            var cursor: FeedCursor?
            for _ in 0..<200 {
                let rows = try GetTimeline.fetchPage(
                    viewer: world.viewer, originators: world.authors + [world.viewer], blocked: [], excluded: [],
                    cursor: cursor, limit: limit, now: Int64(Date().timeIntervalSince1970 * 1000),
                    denseThreshold: 1, budget: budget, on: connection)
                collected += rows.map(\.uri)
                guard rows.count == limit, let last = rows.last else { break }
                cursor = last.cursor
            }
            #expect(collected == world.expected)
        }
    }

    /// The handler is called from many transport threads at once: answers stay identical and correct.
    @Test func concurrentCallersGetIdenticalAnswers() throws {
        let world = try Self.world.get()
        let service = world.fixture.service(viewer: world.viewer)
        let reference = service.call("app.bsky.feed.getTimeline", "limit=40").body
        let results = ResultBox()
        DispatchQueue.concurrentPerform(iterations: 16) { _ in
            for _ in 0..<5 {
                let answer = service.call("app.bsky.feed.getTimeline", "limit=40")
                results.append(answer.status == 200 && answer.body == reference)
            }
        }
        #expect(results.values.count == 80 && results.values.allSatisfy { $0 })
    }

    final class ResultBox: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var values: [Bool] = []
        func append(_ value: Bool) { lock.lock(); values.append(value); lock.unlock() }
    }

    @Test func sparseTimelineStillFillsPagesFromOldItems() throws {
        let world = try Self.world.get()
        let service = world.fixture.service(viewer: world.sparseViewer)
        let first = service.call("app.bsky.feed.getTimeline", "limit=10")
        #expect(first.feed.count == 10, "the adaptive window widens until the page is full")
        #expect(first.cursor != nil)
        let (uris, pages) = walk(service, "app.bsky.feed.getTimeline", "x=1", limit: 10)
        #expect(uris == world.sparseExpected)
        #expect(pages == 5)  // 4 full pages, then an empty last page (the 4th was full, so more might have followed)
    }
}
