import API
import Foundation
import Ingest
import Testing
import TestSupport

/// The viewer branches of every view, in-process (service auth through nginx is another part's work):
/// the corpus plus the conformance dataset (Tests/Fixtures/conformance) imported by the real importer,
/// the service driven with a fixed viewer. Asserts the branches here, checks shapes with `Lexicon`, and
/// writes every body to `.local/conformance/viewer-bodies.jsonl`, which the HTTP suite
/// (test_lexicon_conformance.py) validates against the lexicons with lexrpc.
@Suite(.serialized)
struct ViewerConformanceTests {
    static let scenario: [String: Any] = {
        let url = TestDatabase.fixturesDirectory().appendingPathComponent("conformance/scenario.json")
        return (try? JSONSerialization.jsonObject(with: Data(contentsOf: url))) as? [String: Any] ?? [:]
    }()

    static func did(_ name: String) -> String {
        ((scenario["actors"] as? [String: Any])?[name] as? [String: Any])?["did"] as? String ?? "missing:\(name)"
    }

    static func uri(_ label: String) -> String {
        ((scenario["posts"] as? [String: Any])?[label] as? [String: Any])?["uri"] as? String ?? "missing:\(label)"
    }

    /// Collects the bodies to hand to the lexicon validator.
    final class BodyLog {
        var lines: [String] = []

        func record(_ nsid: String, _ answer: Answer) {
            let body = String(decoding: answer.body, as: UTF8.self)
            lines.append(#"{"nsid":"\#(nsid)","body":\#(body.isEmpty ? "null" : body)}"#)
        }

        func write() throws {
            let directory = TestDatabase.packageRoot().appendingPathComponent(".local/conformance")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try (lines.joined(separator: "\n") + "\n").write(
                to: directory.appendingPathComponent("viewer-bodies.jsonl"), atomically: true, encoding: .utf8)
        }
    }

    static func importDataset(into fixture: Fixture) throws {
        for path in ["firehose-2026-07-04/expected_v1.jsonl", "conformance/dataset.jsonl"] {
            let file = TestDatabase.fixturesDirectory().appendingPathComponent(path).path
            let pipeline = IngestPipeline(indexer: Indexer(pool: fixture.pool), configuration: IngestPipelineConfiguration(),
                                          cursorSource: "import:conformance")
            let counters = try pipeline.run(FileEventSource(reader: try JSONLineReader(path: file)))
            #expect(counters.errors.isEmpty, "\(path) imports without errors")
        }
    }

    /// Follows cursors to the end; every page is logged and must be a 200.
    static func walk(_ service: AppViewService, _ nsid: String, _ query: String, key: String, log: BodyLog,
                     limit: Int = 5) -> [[String: Any]] {
        var items: [[String: Any]] = []
        var cursor: String?
        for _ in 0..<100 {
            let answer = service.call(nsid, query + "&limit=\(limit)" + (cursor.map { "&cursor=\(q($0))" } ?? ""))
            #expect(answer.status == 200, "\(nsid) \(query): \(answer.status) \(answer.json)")
            log.record(nsid, answer)
            items += answer.json[key] as? [[String: Any]] ?? []
            guard let next = answer.cursor else { return items }
            cursor = next
        }
        Issue.record("\(nsid) \(query): pagination does not end")
        return items
    }

    static func byPost(_ feed: [[String: Any]]) -> [String: [String: Any]] {
        var result: [String: [String: Any]] = [:]
        for item in feed where item["reason"] == nil {
            if let post = item["post"] as? [String: Any], let uri = post["uri"] as? String { result[uri] = post }
        }
        return result
    }

    @Test func viewerBranchesRenderAndConform() throws {
        let fixture = try Fixture(name: "conformance_viewer")
        try Self.importDataset(into: fixture)
        let viewer = Self.did("viewer")
        let service = fixture.service(viewer: viewer)
        let log = BodyLog()

        // Timeline: blocks either way hide posts; quotes/replies of them render as blocked.
        let timeline = Self.walk(service, "app.bsky.feed.getTimeline", "", key: "feed", log: log)
        Lexicon.checkFeed(["feed": timeline])
        let authors = Set(timeline.compactMap { (($0["post"] as? [String: Any])?["author"] as? [String: Any])?["did"] as? String })
        #expect(!authors.contains(Self.did("blocker")) && !authors.contains(Self.did("blocked")))
        #expect(authors.contains(Self.did("alice")) && authors.contains(viewer))
        let repostURIs = Set(timeline.compactMap { ($0["reason"] as? [String: Any])?["uri"] as? String })
        #expect(repostURIs.contains(Self.uri("repost-live")))
        #expect(!repostURIs.contains(Self.uri("repost-blocked")), "a repost of a blocked actor's post is hidden")
        #expect(!repostURIs.contains(Self.uri("repost-deleted")))
        let posts = Self.byPost(timeline)
        let liked = posts[Self.uri("images-full")]?["viewer"] as? [String: Any]
        #expect(liked?["like"] as? String == Self.uri("viewer-like"))
        #expect(liked?["repost"] as? String == Self.uri("viewer-repost"))
        let quoteOfBlocker = (posts[Self.uri("quote-blocker")]?["embed"] as? [String: Any])?["record"] as? [String: Any]
        #expect(quoteOfBlocker?["$type"] as? String == "app.bsky.embed.record#viewBlocked")
        #expect(((quoteOfBlocker?["author"] as? [String: Any])?["viewer"] as? [String: Any])?["blockedBy"] as? Bool == true)
        let quoteOfBlocked = (posts[Self.uri("quote-blocked")]?["embed"] as? [String: Any])?["record"] as? [String: Any]
        #expect(((quoteOfBlocked?["author"] as? [String: Any])?["viewer"] as? [String: Any])?["blocking"] as? String
                == Self.uri("block-viewer-blocked"))
        let replyItem = timeline.first { ($0["post"] as? [String: Any])?["uri"] as? String == Self.uri("reply-blocker-parent") }
        #expect(((replyItem?["reply"] as? [String: Any])?["parent"] as? [String: Any])?["$type"] as? String
                == "app.bsky.feed.defs#blockedPost")
        #expect(posts.values.allSatisfy { $0["viewer"] is [String: Any] }, "every post view carries viewer state")

        // Profiles: following / followedBy / blocking / blockedBy / muted.
        let alice = service.call("app.bsky.actor.getProfile", "actor=\(q(Self.did("alice")))")
        log.record("app.bsky.actor.getProfile", alice)
        Lexicon.checkProfileDetailed(alice.json, "alice")
        let aliceViewer = alice.json["viewer"] as? [String: Any]
        #expect(aliceViewer?["following"] as? String == Self.uri("follow-viewer-alice"))
        #expect(aliceViewer?["followedBy"] as? String == Self.uri("follow-alice-viewer"))
        #expect(aliceViewer?["muted"] as? Bool == false)
        let blocker = service.call("app.bsky.actor.getProfile", "actor=\(q(Self.did("blocker")))")
        log.record("app.bsky.actor.getProfile", blocker)
        #expect((blocker.json["viewer"] as? [String: Any])?["blockedBy"] as? Bool == true)
        let blocked = service.call("app.bsky.actor.getProfile", "actor=blocked.lexconf.test")
        log.record("app.bsky.actor.getProfile", blocked)
        #expect((blocked.json["viewer"] as? [String: Any])?["blocking"] as? String == Self.uri("block-viewer-blocked"))
        let many = service.call("app.bsky.actor.getProfiles",
                                ["alice", "bob", "carol", "blocker", "nohandle"].map { "actors=\(q(Self.did($0)))" }.joined(separator: "&"))
        log.record("app.bsky.actor.getProfiles", many)
        #expect((many.json["profiles"] as? [[String: Any]])?.count == 5)

        // Author feeds: blocks answer 400; the others carry viewer state on every filter.
        #expect(service.call("app.bsky.feed.getAuthorFeed", "actor=\(q(Self.did("blocker")))").error == "BlockedByActor")
        #expect(service.call("app.bsky.feed.getAuthorFeed", "actor=\(q(Self.did("blocked")))").error == "BlockedActor")
        for filter in ["posts_with_replies", "posts_no_replies", "posts_with_media", "posts_and_author_threads"] {
            for name in ["alice", "carol", "viewer"] {
                let feed = Self.walk(service, "app.bsky.feed.getAuthorFeed", "actor=\(q(Self.did(name)))&filter=\(filter)",
                                     key: "feed", log: log)
                Lexicon.checkFeed(["feed": feed])
            }
        }

        // getPosts with a viewer.
        let asked = ["images-full", "quote-blocker", "blocker-post", "never-indexed", "reply-blocked-parent"].map(Self.uri)
        let got = service.call("app.bsky.feed.getPosts", asked.map { "uris=\(q($0))" }.joined(separator: "&"))
        log.record("app.bsky.feed.getPosts", got)
        let gotPosts = got.json["posts"] as? [[String: Any]] ?? []
        #expect(gotPosts.map { $0["uri"] as? String } == [asked[0], asked[1], asked[2], asked[4]])

        // Notifications: every reason, filters, read state, updateSeen, unread count.
        let every = Self.walk(service, "app.bsky.notification.listNotifications", "", key: "notifications", log: log, limit: 2)
        Lexicon.checkNotifications(["notifications": every])
        let reasons = Set(every.compactMap { $0["reason"] as? String })
        #expect(reasons == ["like", "repost", "follow", "mention", "reply", "quote"])
        #expect(!every.contains { ($0["author"] as? [String: Any])?["did"] as? String == Self.did("blocker") })
        for reason in reasons {
            let only = Self.walk(service, "app.bsky.notification.listNotifications", "reasons=\(reason)",
                                 key: "notifications", log: log)
            #expect(Set(only.compactMap { $0["reason"] as? String }) == [reason])
        }
        let times = every.compactMap { $0["indexedAt"] as? String }.sorted()
        let split = service.call("app.bsky.notification.listNotifications", "seenAt=\(q(times.first ?? ""))")
        log.record("app.bsky.notification.listNotifications", split)
        let readStates = Set((split.json["notifications"] as? [[String: Any]] ?? []).compactMap { $0["isRead"] as? Bool })
        #expect(readStates == [true, false])
        #expect(!every.contains { ($0["author"] as? [String: Any])?["did"] as? String == Self.did("deact") })
        let unreadBefore = service.call("app.bsky.notification.getUnreadCount")
        log.record("app.bsky.notification.getUnreadCount", unreadBefore)
        // The count matches the list: the blocker's and the deactivated account's likes count for neither.
        #expect(unreadBefore.json["count"] as? Int == every.count)
        let seen = service.call("app.bsky.notification.updateSeen", method: "POST",
                                body: #"{"seenAt":"\#(times.last ?? "")"}"#)
        #expect(seen.status == 200)
        log.record("app.bsky.notification.updateSeen", seen)
        let unreadAfter = service.call("app.bsky.notification.getUnreadCount")
        log.record("app.bsky.notification.getUnreadCount", unreadAfter)
        #expect(unreadAfter.json["count"] as? Int == 0)
        let read = service.call("app.bsky.notification.listNotifications")
        log.record("app.bsky.notification.listNotifications", read)
        #expect((read.json["notifications"] as? [[String: Any]] ?? []).allSatisfy { $0["isRead"] as? Bool == true })

        try log.write()
    }
}
