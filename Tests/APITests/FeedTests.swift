@testable import API
import Foundation
import Storage
import Testing

/// A small social graph shared by the feed tests (built once, read-only afterwards).
///   viewer follows alice, bob, dave (whom the viewer blocks) and erin (who blocks the viewer);
///   carol is not followed; alice replies to carol and to a post that was never indexed.
final class FeedWorld: @unchecked Sendable {
    static let shared = Result { try FeedWorld() }
    let fixture: Fixture
    let t0 = Fixture.baseTime
    let viewer, alice, bob, carol, dave, erin, gone: String
    let alicePost, bobPost, carolPost, viewerPost, aliceReply, orphanReply, bobRepostOfCarol, davePost, erinPost: (uri: String, cid: String)
    let erinRepostOfAlice, aliceRepostOfDave, goneRepostOfAlice, alicePostByGone: (uri: String, cid: String)
    let viewerLikeOfAlice, viewerRepostOfAlice: (uri: String, cid: String)
    let aliceMediaPost, aliceSelfReply, aliceReplyToDave: (uri: String, cid: String)

    init() throws {
        let f = try Fixture(name: "api_feed_tests")
        fixture = f
        let minute: Int64 = 60_000
        viewer = try f.actor("viewer", displayName: "The Viewer")
        alice = try f.actor("alice", displayName: "Alice", avatarCID: "bafkreiavatar1")
        bob = try f.actor("bob", handle: nil)
        carol = try f.actor("carol")
        dave = try f.actor("dave")
        erin = try f.actor("erin")
        gone = try f.actor("gone", status: "takendown")
        for subject in [alice, bob, dave, erin, gone] { try f.follow(viewer, subject) }
        try f.follow(alice, viewer)
        try f.block(viewer, dave)
        try f.block(erin, viewer)

        carolPost = try f.post(by: carol, at: t0 + 1 * minute, text: "carol says")
        alicePost = try f.post(by: alice, at: t0 + 2 * minute, text: "alice says")
        bobPost = try f.post(by: bob, at: t0 + 3 * minute, text: "bob says")
        bobRepostOfCarol = try f.repost(by: bob, of: carolPost, postAuthor: carol, at: t0 + 4 * minute)
        aliceReply = try f.post(by: alice, at: t0 + 5 * minute, text: "reply to carol", replyTo: carolPost)
        orphanReply = try f.post(by: alice, at: t0 + 6 * minute, text: "reply to the void",
                                 replyTo: ("at://did:plc:nobody/app.bsky.feed.post/missing", "bafyreimissing0"))
        viewerPost = try f.post(by: viewer, at: t0 + 7 * minute, text: "my own")
        davePost = try f.post(by: dave, at: t0 + 8 * minute, text: "blocked by viewer")
        erinPost = try f.post(by: erin, at: t0 + 9 * minute, text: "blocks viewer")
        erinRepostOfAlice = try f.repost(by: erin, of: alicePost, postAuthor: alice, at: t0 + 10 * minute)
        aliceRepostOfDave = try f.repost(by: alice, of: davePost, postAuthor: dave, at: t0 + 11 * minute)
        goneRepostOfAlice = try f.repost(by: gone, of: alicePost, postAuthor: alice, at: t0 + 12 * minute)
        alicePostByGone = try f.post(by: gone, at: t0 + 13 * minute, text: "taken down")
        aliceMediaPost = try f.post(by: alice, at: t0 + 14 * minute, text: "a picture", media: true)
        aliceSelfReply = try f.post(by: alice, at: t0 + 15 * minute, text: "thread 2/2", replyTo: alicePost, selfThread: true)
        viewerLikeOfAlice = try f.like(by: viewer, of: alicePost, at: t0 + 16 * minute)
        viewerRepostOfAlice = try f.repost(by: viewer, of: alicePost, postAuthor: alice, at: t0 + 17 * minute)
        try f.like(by: bob, of: alicePost, at: t0 + 18 * minute)
        aliceReplyToDave = try f.post(by: alice, at: t0 + 19 * minute, text: "@dave no", replyTo: davePost)
        try f.recomputeAggregates()
    }
}

@Suite(.serialized) struct FeedTests {
    let world: FeedWorld
    init() throws { world = try FeedWorld.shared.get() }

    func uris(_ feed: [[String: Any]]) -> [String] {
        feed.map { ($0["post"] as? [String: Any])?["uri"] as? String ?? "?" }
    }

    @Test func timelineShowsFollowsAndOwnPostsNewestFirstWithoutBlockedOrInactive() throws {
        let answer = world.fixture.service(viewer: world.viewer).call("app.bsky.feed.getTimeline")
        #expect(answer.status == 200)
        Lexicon.checkFeed(answer.json)
        // Expected: newest first; dave (viewer blocks) and erin (blocks viewer) and gone (taken down)
        // are left out, and so is alice's repost of dave's post; carol is only seen via bob's repost.
        #expect(uris(answer.feed) == [
            world.aliceReplyToDave.uri, // 19: shown, its parent rendered as #blockedPost
            world.alicePost.uri,        // viewer's own repost of alice (17 min)
            world.aliceSelfReply.uri,   // 15
            world.aliceMediaPost.uri,   // 14
            world.viewerPost.uri,       // 7
            world.orphanReply.uri,      // 6
            world.aliceReply.uri,       // 5
            world.carolPost.uri,        // bob's repost (4)
            world.bobPost.uri,          // 3
            world.alicePost.uri,        // 2
        ])
        #expect(answer.cursor == nil, "a short page carries no cursor")

        let bobRepost = answer.feed[7]
        let reason = try #require(bobRepost["reason"] as? [String: Any])
        #expect((reason["by"] as? [String: Any])?["did"] as? String == world.bob)
        #expect((reason["by"] as? [String: Any])?["handle"] as? String == "handle.invalid")
        #expect(reason["uri"] as? String == world.bobRepostOfCarol.uri)
        #expect(reason["indexedAt"] as? String == "2026-07-04T12:04:00.000Z")

        let alice = answer.feed[9]["post"] as! [String: Any]
        #expect(alice["likeCount"] as? Int == 2)
        #expect(alice["repostCount"] as? Int == 3)  // erin, gone, viewer: counts are of live records
        #expect(alice["replyCount"] as? Int == 1)
        let viewerState = try #require(alice["viewer"] as? [String: Any])
        #expect(viewerState["like"] as? String == world.viewerLikeOfAlice.uri)
        #expect(viewerState["repost"] as? String == world.viewerRepostOfAlice.uri)
        let author = try #require(alice["author"] as? [String: Any])
        #expect(author["avatar"] as? String == "https://cdn.bsky.app/img/avatar/plain/did:plc:alice/bafkreiavatar1@jpeg")
        #expect((author["viewer"] as? [String: Any])?["followedBy"] is String)
        #expect((alice["record"] as? [String: Any])?["text"] as? String == "alice says")
    }

    @Test func replyCarriesParentAndRootOrNotFound() throws {
        let answer = world.fixture.service(viewer: world.viewer).call("app.bsky.feed.getTimeline")
        let byURI = Dictionary(answer.feed.map { (uris([$0])[0] + (($0["reason"] != nil) ? "#r" : ""), $0) }, uniquingKeysWith: { a, _ in a })
        let reply = try #require(byURI[world.aliceReply.uri]?["reply"] as? [String: Any])
        let parent = try #require(reply["parent"] as? [String: Any])
        #expect(parent["$type"] as? String == "app.bsky.feed.defs#postView")
        #expect(parent["uri"] as? String == world.carolPost.uri)
        #expect((reply["root"] as? [String: Any])?["uri"] as? String == world.carolPost.uri)

        let orphan = try #require(byURI[world.orphanReply.uri]?["reply"] as? [String: Any])
        let missing = try #require(orphan["parent"] as? [String: Any])
        #expect(missing["$type"] as? String == "app.bsky.feed.defs#notFoundPost")
        #expect(missing["notFound"] as? Bool == true)
        #expect(missing["uri"] as? String == "at://did:plc:nobody/app.bsky.feed.post/missing")

        let toBlocked = try #require(byURI[world.aliceReplyToDave.uri]?["reply"] as? [String: Any])
        let blocked = try #require(toBlocked["parent"] as? [String: Any])
        #expect(blocked["$type"] as? String == "app.bsky.feed.defs#blockedPost")
        #expect(blocked["blocked"] as? Bool == true)
        #expect((blocked["author"] as? [String: Any])?["did"] as? String == world.dave)
        #expect(blocked["record"] == nil, "a blocked post's content is not shown")
    }

    @Test func timelineRequiresAViewerAndRejectsTokensByDefault() {
        let anonymous = world.fixture.service(viewer: nil).call("app.bsky.feed.getTimeline")
        #expect(anonymous.status == 401 && anonymous.error == "AuthenticationRequired")
        let production = world.fixture.service(viewer: nil, authenticator: UnconfiguredServiceAuth())
        let withToken = production.call("app.bsky.feed.getTimeline", headers: ["authorization": "Bearer abc.def.ghi"])
        #expect(withToken.status == 401 && withToken.error == "InvalidToken")
        #expect(withToken.message == "service auth verification is not configured on this server")
        // A header or parameter naming a DID never makes a viewer.
        let spoof = production.call("app.bsky.feed.getTimeline", "viewer=\(q(world.viewer))",
                                    headers: ["atproto-proxy": world.viewer, "x-viewer-did": world.viewer])
        #expect(spoof.status == 401 && spoof.error == "AuthenticationRequired")
        // Anonymous reads still work with the production authenticator.
        #expect(production.call("app.bsky.actor.getProfile", "actor=alice.test").status == 200)
    }

    @Test func authorFeedFilters() {
        let service = world.fixture.service(viewer: nil)
        func feed(_ filter: String?) -> [String] {
            let answer = service.call("app.bsky.feed.getAuthorFeed", "actor=\(q(world.alice))" + (filter.map { "&filter=\($0)" } ?? ""))
            #expect(answer.status == 200, "\(filter ?? "default") \(answer.json)")
            Lexicon.checkFeed(answer.json)
            return uris(answer.feed)
        }
        let all = [world.aliceReplyToDave.uri, world.aliceSelfReply.uri, world.aliceMediaPost.uri, world.davePost.uri, world.orphanReply.uri,
                   world.aliceReply.uri, world.alicePost.uri]
        #expect(feed(nil) == all)
        #expect(feed("posts_with_replies") == all)
        #expect(feed("posts_no_replies") == [world.aliceMediaPost.uri, world.davePost.uri, world.alicePost.uri])
        #expect(feed("posts_with_media") == [world.aliceMediaPost.uri])
        #expect(feed("posts_and_author_threads") == [world.aliceSelfReply.uri, world.aliceMediaPost.uri,
                                                      world.davePost.uri, world.alicePost.uri])
    }

    @Test func authorFeedByHandleHidesRepostsOfBlockedAuthorsForTheViewer() {
        let answer = world.fixture.service(viewer: world.viewer).call("app.bsky.feed.getAuthorFeed", "actor=ALICE.test&limit=100")
        #expect(answer.status == 200)
        #expect(!uris(answer.feed).contains(world.davePost.uri))
        #expect(uris(answer.feed).count == 6)
    }

    @Test func authorFeedBlocksAndMissingActors() {
        let service = world.fixture.service(viewer: world.viewer)
        let blocking = service.call("app.bsky.feed.getAuthorFeed", "actor=\(q(world.dave))")
        #expect(blocking.status == 400 && blocking.error == "BlockedActor")
        let blockedBy = service.call("app.bsky.feed.getAuthorFeed", "actor=erin.test")
        #expect(blockedBy.status == 400 && blockedBy.error == "BlockedByActor")
        let unknown = service.call("app.bsky.feed.getAuthorFeed", "actor=nobody.test")
        #expect(unknown.status == 400 && unknown.error == "InvalidRequest" && unknown.message == "Profile not found")
        let takendown = service.call("app.bsky.feed.getAuthorFeed", "actor=\(q(world.gone))")
        #expect(takendown.status == 400 && takendown.error == "AccountTakedown")
    }

    @Test func badParametersAre400() {
        let service = world.fixture.service(viewer: world.viewer)
        for query in ["limit=0", "limit=101", "limit=abc", "limit=", "limit=5&limit=6", "cursor=garbage",
                      "cursor=1::x::y", "limit=%zz"] {
            let answer = service.call("app.bsky.feed.getTimeline", query)
            #expect(answer.status == 400 && answer.error == "InvalidRequest", "\(query)")
        }
        for query in ["", "actor=", "actor=not%20a%20handle", "actor=did:plc:", "actor=alice.test&filter=bogus",
                      "actor=alice.test&filter=posts_with_video", "actor=alice.test&cursor=%3A%3A"] {
            let answer = service.call("app.bsky.feed.getAuthorFeed", query)
            #expect(answer.status == 400 && answer.error == "InvalidRequest", "\(query)")
        }
    }

    @Test func getPostsInRequestedOrderSkippingUnknownAndHidden() throws {
        let service = world.fixture.service(viewer: world.viewer)
        let wanted = [world.bobPost.uri, "at://did:plc:nobody/app.bsky.feed.post/x", world.alicePostByGone.uri, world.alicePost.uri,
                      world.bobPost.uri]
        let answer = service.call("app.bsky.feed.getPosts", wanted.map { "uris=\(q($0))" }.joined(separator: "&"))
        #expect(answer.status == 200)
        let posts = try #require(answer.json["posts"] as? [[String: Any]])
        #expect(posts.map { $0["uri"] as? String } == [world.bobPost.uri, world.alicePost.uri])
        for (index, post) in posts.enumerated() { Lexicon.checkPostView(post, "posts[\(index)]") }
        #expect((posts[1]["viewer"] as? [String: Any])?["like"] as? String == world.viewerLikeOfAlice.uri)

        let tooMany = (0..<26).map { "uris=\(q("at://did:plc:a/app.bsky.feed.post/\($0)"))" }.joined(separator: "&")
        #expect(service.call("app.bsky.feed.getPosts", tooMany).status == 400)
        #expect(service.call("app.bsky.feed.getPosts", "uris=https%3A%2F%2Fexample.com").status == 400)
        #expect(service.call("app.bsky.feed.getPosts").status == 400)
    }

    @Test func routingErrors() {
        let service = world.fixture.service(viewer: world.viewer)
        let unknown = service.call("app.bsky.feed.getNothing")
        #expect(unknown.status == 501 && unknown.error == "MethodNotImplemented")
        let wrongMethod = service.call("app.bsky.feed.getTimeline", method: "POST", body: "{}")
        #expect(wrongMethod.status == 405 && wrongMethod.error == "InvalidRequest")
        let wrongMethod2 = service.call("app.bsky.notification.updateSeen")
        #expect(wrongMethod2.status == 405 && wrongMethod2.header("Allow") == "POST")
        #expect(unknown.header("Content-Type")?.hasPrefix("application/json") == true)
    }
}
