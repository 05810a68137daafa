@testable import API
import Foundation
import Storage
import Testing

@Suite(.serialized) struct ProfileAndNotificationTests {
    final class World: @unchecked Sendable {
        static let shared = Result { try World() }
        let f: Fixture
        let me, fan, friend, troll, quitter, banned, nohandle: String
        let myPost: (uri: String, cid: String)
        let likeByFan, repostByFriend, followByFan, replyByFriend, mentionByFriend, likeByTroll: (uri: String, cid: String)
        let t0 = Fixture.baseTime

        init() throws {
            let f = try Fixture(name: "api_profile_notification_tests")
            self.f = f
            me = try f.actor("me", displayName: "Me Myself", description: "about me", avatarCID: "bafkreiavatarme",
                             createdAt: Fixture.baseTime - 10 * 86_400_000)
            try f.sql("UPDATE actors SET banner_cid = 'bafkreibannerme' WHERE did = $1", [me])
            fan = try f.actor("fan")
            friend = try f.actor("friend")
            troll = try f.actor("troll")
            quitter = try f.actor("quitter", status: "deactivated")
            banned = try f.actor("banned", status: "takendown")
            nohandle = try f.actor("nohandle", handle: nil)
            try f.follow(me, friend)
            let fanFollow = try f.follow(fan, me)
            try f.follow(friend, me)
            try f.block(me, troll)
            myPost = try f.post(by: me, at: t0, text: "my post")
            for i in 0..<3 { try f.post(by: me, at: t0 + Int64(i) + 1, text: "more \(i)") }
            let minute: Int64 = 60_000
            likeByFan = try f.like(by: fan, of: myPost, at: t0 + 1 * minute)
            repostByFriend = try f.repost(by: friend, of: myPost, postAuthor: me, at: t0 + 2 * minute)
            followByFan = fanFollow
            replyByFriend = try f.post(by: friend, at: t0 + 4 * minute, text: "nice post", replyTo: myPost)
            mentionByFriend = try f.post(by: friend, at: t0 + 5 * minute, text: "hey @me.test")
            likeByTroll = try f.like(by: troll, of: myPost, at: t0 + 6 * minute)
            try f.notify(me, record: likeByFan, author: fan, reason: "like", subject: myPost.uri, at: t0 + 1 * minute)
            try f.notify(me, record: repostByFriend, author: friend, reason: "repost", subject: myPost.uri, at: t0 + 2 * minute)
            try f.notify(me, record: followByFan, author: fan, reason: "follow", subject: nil, at: t0 + 3 * minute)
            try f.notify(me, record: replyByFriend, author: friend, reason: "reply", subject: myPost.uri, at: t0 + 4 * minute)
            try f.notify(me, record: mentionByFriend, author: friend, reason: "mention", subject: nil, at: t0 + 5 * minute)
            try f.notify(me, record: likeByTroll, author: troll, reason: "like", subject: myPost.uri, at: t0 + 6 * minute)
            try f.recomputeAggregates()
        }
    }

    let w: World
    init() throws { w = try World.shared.get() }

    @Test func profileWithCountsImagesAndViewerState() throws {
        let answer = w.f.service(viewer: w.friend).call("app.bsky.actor.getProfile", "actor=ME.test")
        #expect(answer.status == 200)
        Lexicon.checkProfileDetailed(answer.json, "profile")
        let p = answer.json
        #expect(p["did"] as? String == w.me)
        #expect(p["handle"] as? String == "me.test")
        #expect(p["displayName"] as? String == "Me Myself")
        #expect(p["description"] as? String == "about me")
        #expect(p["followersCount"] as? Int == 2)
        #expect(p["followsCount"] as? Int == 1)
        #expect(p["postsCount"] as? Int == 4)
        #expect(p["avatar"] as? String == "https://cdn.bsky.app/img/avatar/plain/did:plc:me/bafkreiavatarme@jpeg")
        #expect(p["banner"] as? String == "https://cdn.bsky.app/img/banner/plain/did:plc:me/bafkreibannerme@jpeg")
        #expect(p["createdAt"] as? String == "2026-06-24T12:00:00.000Z")
        let viewer = try #require(p["viewer"] as? [String: Any])
        #expect((viewer["following"] as? String)?.hasPrefix("at://did:plc:friend/app.bsky.graph.follow/") == true)
        #expect((viewer["followedBy"] as? String)?.hasPrefix("at://did:plc:me/app.bsky.graph.follow/") == true)
        #expect(viewer["blockedBy"] as? Bool == false)

        let anonymous = w.f.service(viewer: nil).call("app.bsky.actor.getProfile", "actor=\(q(w.me))")
        #expect(anonymous.status == 200 && anonymous.json["viewer"] == nil)

        let trollView = w.f.service(viewer: w.troll).call("app.bsky.actor.getProfile", "actor=me.test")
        #expect((trollView.json["viewer"] as? [String: Any])?["blockedBy"] as? Bool == true)
        let myView = w.f.service(viewer: w.me).call("app.bsky.actor.getProfile", "actor=troll.test")
        #expect(((myView.json["viewer"] as? [String: Any])?["blocking"] as? String)?.contains("app.bsky.graph.block") == true)

        let invalid = w.f.service(viewer: nil).call("app.bsky.actor.getProfile", "actor=\(q(w.nohandle))")
        #expect(invalid.json["handle"] as? String == "handle.invalid")
    }

    @Test func profileErrors() {
        let service = w.f.service(viewer: nil)
        let takedown = service.call("app.bsky.actor.getProfile", "actor=banned.test")
        #expect(takedown.status == 400 && takedown.error == "AccountTakedown")
        let deactivated = service.call("app.bsky.actor.getProfile", "actor=\(q(w.quitter))")
        #expect(deactivated.status == 400 && deactivated.error == "AccountDeactivated")
        let missing = service.call("app.bsky.actor.getProfile", "actor=ghost.test")
        #expect(missing.status == 400 && missing.message == "Profile not found")
        #expect(service.call("app.bsky.actor.getProfile", "actor=bad_handle").status == 400)
        #expect(service.call("app.bsky.actor.getProfile").status == 400)
    }

    @Test func getProfilesKeepsOrderAndSkipsUnknownAndInactive() throws {
        let query = ["fan.test", w.me, "ghost.test", "banned.test", "friend.test", w.fan].map { "actors=\(q($0))" }.joined(separator: "&")
        let answer = w.f.service(viewer: w.me).call("app.bsky.actor.getProfiles", query)
        #expect(answer.status == 200)
        let profiles = try #require(answer.json["profiles"] as? [[String: Any]])
        #expect(profiles.map { $0["did"] as? String } == [w.fan, w.me, w.friend])
        for (index, profile) in profiles.enumerated() { Lexicon.checkProfileDetailed(profile, "profiles[\(index)]") }
        let tooMany = (0..<26).map { "actors=a\($0).test" }.joined(separator: "&")
        #expect(w.f.service(viewer: nil).call("app.bsky.actor.getProfiles", tooMany).status == 400)
    }

    @Test func listNotificationsWithRecordsReasonsAndBlocksHidden() throws {
        let service = w.f.service(viewer: w.me)
        let answer = service.call("app.bsky.notification.listNotifications")
        #expect(answer.status == 200)
        Lexicon.checkNotifications(answer.json)
        let list = try #require(answer.json["notifications"] as? [[String: Any]])
        // The troll's like is hidden (the viewer blocks the troll); newest first.
        #expect(list.map { $0["reason"] as? String } == ["mention", "reply", "follow", "repost", "like"])
        #expect(list.map { $0["uri"] as? String } == [w.mentionByFriend.uri, w.replyByFriend.uri, w.followByFan.uri,
                                                      w.repostByFriend.uri, w.likeByFan.uri])
        let like = list[4]
        let likeRecord = try #require(like["record"] as? [String: Any])
        #expect(likeRecord["$type"] as? String == "app.bsky.feed.like")
        #expect((likeRecord["subject"] as? [String: Any])?["uri"] as? String == w.myPost.uri)
        #expect((likeRecord["subject"] as? [String: Any])?["cid"] as? String == w.myPost.cid)
        #expect(likeRecord["createdAt"] as? String == "2026-07-04T12:01:00.000Z")
        #expect(like["reasonSubject"] as? String == w.myPost.uri)
        #expect((like["author"] as? [String: Any])?["did"] as? String == w.fan)
        let follow = try #require(list[2]["record"] as? [String: Any])
        #expect(follow["$type"] as? String == "app.bsky.graph.follow" && follow["subject"] as? String == w.me)
        let reply = try #require(list[1]["record"] as? [String: Any])
        #expect(reply["text"] as? String == "nice post")
        #expect(list.allSatisfy { $0["isRead"] as? Bool == false })
        #expect(answer.json["seenAt"] == nil)

        let filtered = service.call("app.bsky.notification.listNotifications", "reasons=like&reasons=follow")
        let reasons = (filtered.json["notifications"] as? [[String: Any]] ?? []).map { $0["reason"] as? String }
        #expect(reasons == ["follow", "like"])
        #expect(service.call("app.bsky.notification.listNotifications", "reasons=bogus").status == 400)
        let known = service.call("app.bsky.notification.listNotifications", "reasons=verified")
        #expect(known.status == 200 && (known.json["notifications"] as? [Any])?.isEmpty == true)
        #expect(service.call("app.bsky.notification.listNotifications", "seenAt=yesterday").status == 400)
        #expect(w.f.service(viewer: nil).call("app.bsky.notification.listNotifications").status == 401)

        // Pages of two, walked with the cursor: the same six rows (troll's hidden) in the same order.
        var walked: [String] = []
        var cursor: String?
        var pages = 0
        repeat {
            let page = service.call("app.bsky.notification.listNotifications", "limit=2" + (cursor.map { "&cursor=\(q($0))" } ?? ""))
            walked += (page.json["notifications"] as? [[String: Any]] ?? []).map { $0["uri"] as? String ?? "" }
            cursor = page.json["cursor"] as? String
            pages += 1
        } while cursor != nil && pages < 10
        #expect(walked == list.map { $0["uri"] as? String ?? "" })
    }

    @Test func updateSeenAndUnreadCountInterplay() throws {
        let f = w.f
        try f.sql("DELETE FROM notification_seen")
        let service = f.service(viewer: w.me)
        func unread(_ query: String = "") -> Int? { service.call("app.bsky.notification.getUnreadCount", query).json["count"] as? Int }
        #expect(unread() == 5, "the troll's like is not counted: the viewer blocks the troll")

        // Seen up to the follow (t0+3min): like, repost, follow are read.
        let seen = service.call("app.bsky.notification.updateSeen", method: "POST", body: #"{"seenAt":"2026-07-04T12:03:00.000Z"}"#,
                                headers: ["content-type": "application/json"])
        #expect(seen.status == 200)
        #expect(unread() == 2)
        let list = service.call("app.bsky.notification.listNotifications")
        #expect(list.json["seenAt"] as? String == "2026-07-04T12:03:00.000Z")
        let isRead = (list.json["notifications"] as? [[String: Any]] ?? []).map { $0["isRead"] as? Bool }
        #expect(isRead == [false, false, true, true, true])

        // An older seenAt does not move the marker back.
        #expect(service.call("app.bsky.notification.updateSeen", method: "POST", body: #"{"seenAt":"2026-07-04T11:00:00Z"}"#).status == 200)
        #expect(unread() == 2)
        // A later one (with an offset and microseconds) moves it forward.
        #expect(service.call("app.bsky.notification.updateSeen", method: "POST",
                             body: #"{"seenAt":"2026-07-04T14:05:30.000999+02:00"}"#).status == 200)
        #expect(unread() == 0, "only the troll's like is newer, and it is hidden")
        // A seenAt parameter overrides the stored marker for the count.
        #expect(unread("seenAt=\(q("2026-07-04T12:00:00Z"))") == 5)
        #expect(unread("seenAt=\(q("2026-07-04T12:04:30Z"))") == 1)

        for body in ["", "{", "[]", #"{"seenAt":5}"#, #"{"seenAt":"not a date"}"#, #"{"other":"x"}"#] {
            let bad = service.call("app.bsky.notification.updateSeen", method: "POST", body: body)
            #expect(bad.status == 400 && bad.error == "InvalidRequest", "\(body)")
        }
        #expect(f.service(viewer: nil).call("app.bsky.notification.updateSeen", method: "POST", body: "{}").status == 401)
        #expect(f.service(viewer: nil).call("app.bsky.notification.getUnreadCount").status == 401)
    }
}

/// Database failures map to retryable/explicit JSON errors, never a bare 500 for expected modes.
@Suite(.serialized) struct DatabaseFailureTests {
    @Test func exhaustedPoolIs503WithRetryAfter() throws {
        let f = try Fixture(name: "api_db_failure_tests")
        _ = try f.actor("someone")
        let tiny = ConnectionPool(configuration: DatabaseConfiguration(url: f.database.url, poolSize: 1, acquireTimeoutMilliseconds: 50))
        defer { tiny.close() }
        let held = try tiny.acquire()
        let answer = f.service(viewer: nil, pool: tiny).call("app.bsky.actor.getProfile", "actor=someone.test")
        tiny.release(held)
        #expect(answer.status == 503 && answer.error == "NotEnoughResources")
        #expect(answer.header("Retry-After") == "1")
        // Validation happens before a connection is needed: a bad request is still a 400.
        let held2 = try tiny.acquire()
        #expect(f.service(viewer: nil, pool: tiny).call("app.bsky.actor.getProfile", "actor=%%").status == 400)
        tiny.release(held2)
        #expect(f.service(viewer: nil, pool: tiny).call("app.bsky.actor.getProfile", "actor=someone.test").status == 200)
    }

    @Test func statementTimeoutIs504() throws {
        let f = try Fixture(name: "api_db_timeout_tests")
        _ = try f.actor("someone")
        let impatient = ConnectionPool(configuration: DatabaseConfiguration(url: f.database.url, poolSize: 1, statementTimeoutMilliseconds: 200))
        defer { impatient.close() }
        let locker = try PostgresConnection(conninfo: f.database.url)
        defer { locker.close() }
        try locker.execute("BEGIN; LOCK TABLE actors IN ACCESS EXCLUSIVE MODE")
        let answer = f.service(viewer: nil, pool: impatient).call("app.bsky.actor.getProfile", "actor=someone.test")
        try locker.execute("ROLLBACK")
        #expect(answer.status == 504 && answer.error == "UpstreamTimeout")
    }

    @Test func unexpectedDatabaseErrorIsGeneric500() throws {
        let f = try Fixture(name: "api_db_broken_tests")
        _ = try f.actor("someone")
        try f.sql("ALTER TABLE actors RENAME COLUMN display_name TO display_name_old")
        let answer = f.service(viewer: nil).call("app.bsky.actor.getProfile", "actor=someone.test")
        #expect(answer.status == 500 && answer.error == "InternalServerError")
        #expect(answer.message == "Internal Server Error", "no SQL detail leaks to clients")
    }
}
