import API
import Foundation
import Testing

/// Checks responses against the lexicon shapes the methods promise: required fields and the
/// string formats (did, handle, at-uri, cid, datetime with milliseconds and Z). Records a test
/// issue for every violation, with the path of the offending value.
enum Lexicon {
    static func isDatetime(_ value: Any?) -> Bool {
        guard let text = value as? String else { return false }
        return text.range(of: #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"#, options: .regularExpression) != nil
    }

    static func expect(_ condition: Bool, _ path: String, sourceLocation: SourceLocation = #_sourceLocation) {
        if !condition { Issue.record("lexicon violation at \(path)", sourceLocation: sourceLocation) }
    }

    static func checkProfileBasic(_ value: Any?, _ path: String) {
        guard let profile = value as? [String: Any] else { return expect(false, path) }
        expect(Identifiers.isDID(profile["did"] as? String ?? ""), path + ".did")
        let handle = profile["handle"] as? String ?? ""
        expect(handle == "handle.invalid" || Identifiers.isHandle(handle), path + ".handle")
        if let avatar = profile["avatar"] { expect((avatar as? String)?.hasPrefix("https://") == true, path + ".avatar") }
        if profile["createdAt"] != nil { expect(isDatetime(profile["createdAt"]), path + ".createdAt") }
        if let viewer = profile["viewer"] as? [String: Any] {
            for key in ["following", "followedBy", "blocking"] where viewer[key] != nil {
                expect(Identifiers.isATURI(viewer[key] as? String ?? ""), path + ".viewer." + key)
            }
        }
    }

    static func checkProfileDetailed(_ value: Any?, _ path: String) {
        checkProfileBasic(value, path)
        guard let profile = value as? [String: Any] else { return }
        for key in ["followersCount", "followsCount", "postsCount"] { expect(profile[key] is Int, path + "." + key) }
        expect(isDatetime(profile["indexedAt"]), path + ".indexedAt")
    }

    static func checkPostView(_ value: Any?, _ path: String) {
        guard let post = value as? [String: Any] else { return expect(false, path) }
        expect(Identifiers.isATURI(post["uri"] as? String ?? ""), path + ".uri")
        expect(Identifiers.isCID(post["cid"] as? String ?? ""), path + ".cid")
        checkProfileBasic(post["author"], path + ".author")
        expect(post["record"] is [String: Any], path + ".record")
        expect(isDatetime(post["indexedAt"]), path + ".indexedAt")
        for key in ["replyCount", "repostCount", "likeCount", "quoteCount"] { expect(post[key] is Int, path + "." + key) }
    }

    static func checkReplyTarget(_ value: Any?, _ path: String) {
        guard let target = value as? [String: Any], let type = target["$type"] as? String else { return expect(false, path) }
        switch type {
        case "app.bsky.feed.defs#postView": checkPostView(target, path)
        case "app.bsky.feed.defs#notFoundPost":
            expect(target["notFound"] as? Bool == true && Identifiers.isATURI(target["uri"] as? String ?? ""), path)
        case "app.bsky.feed.defs#blockedPost":
            expect(target["blocked"] as? Bool == true && (target["author"] as? [String: Any])?["did"] is String, path)
        default: expect(false, path + ".$type")
        }
    }

    static func checkFeed(_ json: [String: Any]) {
        guard let feed = json["feed"] as? [[String: Any]] else { return expect(false, "feed") }
        for (index, item) in feed.enumerated() {
            let path = "feed[\(index)]"
            checkPostView(item["post"], path + ".post")
            if let reply = item["reply"] as? [String: Any] {
                checkReplyTarget(reply["root"], path + ".reply.root")
                checkReplyTarget(reply["parent"], path + ".reply.parent")
            }
            if let reason = item["reason"] as? [String: Any] {
                expect(reason["$type"] as? String == "app.bsky.feed.defs#reasonRepost", path + ".reason.$type")
                checkProfileBasic(reason["by"], path + ".reason.by")
                expect(isDatetime(reason["indexedAt"]), path + ".reason.indexedAt")
            }
        }
        if let cursor = json["cursor"] { expect(cursor is String, "cursor") }
    }

    static func checkNotifications(_ json: [String: Any]) {
        guard let list = json["notifications"] as? [[String: Any]] else { return expect(false, "notifications") }
        for (index, item) in list.enumerated() {
            let path = "notifications[\(index)]"
            expect(Identifiers.isATURI(item["uri"] as? String ?? ""), path + ".uri")
            expect(Identifiers.isCID(item["cid"] as? String ?? ""), path + ".cid")
            checkProfileBasic(item["author"], path + ".author")
            expect(isDatetime((item["author"] as? [String: Any])?["indexedAt"]), path + ".author.indexedAt")
            expect(item["reason"] is String, path + ".reason")
            expect(item["record"] is [String: Any], path + ".record")
            expect(item["isRead"] is Bool, path + ".isRead")
            expect(isDatetime(item["indexedAt"]), path + ".indexedAt")
            if let subject = item["reasonSubject"] { expect(Identifiers.isATURI(subject as? String ?? ""), path + ".reasonSubject") }
        }
        if json["seenAt"] != nil { expect(isDatetime(json["seenAt"]), "seenAt") }
    }
}
