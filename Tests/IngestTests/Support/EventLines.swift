import Foundation
@testable import Ingest

/// Builds Jetstream JSON lines for tests, shaped like production Jetstream's.
enum EventLines {
    static func escape(_ text: String) -> String {
        DemoJSON.string(text).text
    }

    static func commit(_ did: String, _ time: Int64, _ collection: String, _ rkey: String, record: String, cid: String? = nil,
                       operation: String = "create") -> String {
        let recordCID = cid ?? fakeCID("\(did)/\(collection)/\(rkey)/\(time)")
        return #"{"did":"\#(did)","time_us":\#(time),"kind":"commit","commit":{"rev":"3mptbypluud2a","operation":"\#(operation)","collection":"\#(collection)","rkey":"\#(rkey)","record":\#(record),"cid":"\#(recordCID)"}}"#
    }

    static func delete(_ did: String, _ time: Int64, _ collection: String, _ rkey: String) -> String {
        #"{"did":"\#(did)","time_us":\#(time),"kind":"commit","commit":{"rev":"3mptbypluud2a","operation":"delete","collection":"\#(collection)","rkey":"\#(rkey)"}}"#
    }

    static func post(_ did: String, _ rkey: String, time: Int64, text: String = "hello", createdAt: String = "2026-07-04T14:38:00.000Z",
                     reply: (root: String, parent: String)? = nil, quote: String? = nil, quoteWithMedia: Bool = false,
                     images: Bool = false, mentions: [String] = [], operation: String = "create") -> String {
        var record = #"{"$type":"app.bsky.feed.post","text":\#(escape(text)),"createdAt":"\#(createdAt)""#
        if let reply {
            record += #","reply":{"root":{"uri":"\#(reply.root)","cid":"\#(fakeCID(reply.root))"},"parent":{"uri":"\#(reply.parent)","cid":"\#(fakeCID(reply.parent))"}}"#
        }
        if let quote {
            let reference = #"{"uri":"\#(quote)","cid":"\#(fakeCID(quote))"}"#
            if quoteWithMedia {
                record += #","embed":{"$type":"app.bsky.embed.recordWithMedia","record":{"$type":"app.bsky.embed.record","record":\#(reference)},"media":{"$type":"app.bsky.embed.images","images":[]}}"#
            } else {
                record += #","embed":{"$type":"app.bsky.embed.record","record":\#(reference)}"#
            }
        } else if images {
            record += #","embed":{"$type":"app.bsky.embed.images","images":[]}"#
        }
        if !mentions.isEmpty {
            let facets = mentions.map { #"{"index":{"byteStart":0,"byteEnd":1},"features":[{"$type":"app.bsky.richtext.facet#mention","did":"\#($0)"}]}"# }
            record += #","facets":[\#(facets.joined(separator: ","))]"#
        }
        record += "}"
        return commit(did, time, "app.bsky.feed.post", rkey, record: record, operation: operation)
    }

    static func like(_ did: String, _ rkey: String, time: Int64, subject: String, collection: String = "app.bsky.feed.like") -> String {
        commit(did, time, collection, rkey, record: #"{"$type":"\#(collection)","subject":{"uri":"\#(subject)","cid":"\#(fakeCID(subject))"},"createdAt":"2026-07-04T14:38:00.000Z"}"#)
    }

    static func repost(_ did: String, _ rkey: String, time: Int64, subject: String) -> String {
        like(did, rkey, time: time, subject: subject, collection: "app.bsky.feed.repost")
    }

    static func follow(_ did: String, _ rkey: String, time: Int64, subject: String, collection: String = "app.bsky.graph.follow") -> String {
        commit(did, time, collection, rkey, record: #"{"$type":"\#(collection)","subject":"\#(subject)","createdAt":"2026-07-04T14:38:00.000Z"}"#)
    }

    static func block(_ did: String, _ rkey: String, time: Int64, subject: String) -> String {
        follow(did, rkey, time: time, subject: subject, collection: "app.bsky.graph.block")
    }

    static func profile(_ did: String, time: Int64, displayName: String, operation: String = "create") -> String {
        commit(did, time, "app.bsky.actor.profile", "self", record: #"{"$type":"app.bsky.actor.profile","displayName":\#(escape(displayName)),"description":"about me"}"#, operation: operation)
    }

    static func identity(_ did: String, time: Int64, handle: String?) -> String {
        let handleField = handle.map { #","handle":"\#($0)""# } ?? ""
        return #"{"did":"\#(did)","time_us":\#(time),"kind":"identity","identity":{"did":"\#(did)"\#(handleField),"seq":1,"time":"2026-07-04T14:38:07.877Z"}}"#
    }

    static func account(_ did: String, time: Int64, active: Bool, status: String?) -> String {
        let statusField = status.map { #","status":"\#($0)""# } ?? ""
        return #"{"did":"\#(did)","time_us":\#(time),"kind":"account","account":{"active":\#(active)\#(statusField),"did":"\#(did)","seq":2,"time":"2026-07-04T14:38:07.877Z"}}"#
    }

    static func postURI(_ did: String, _ rkey: String) -> String { "at://\(did)/app.bsky.feed.post/\(rkey)" }

    /// A CID-shaped string derived from `seed` (stable across runs).
    static func fakeCID(_ seed: String) -> String {
        var random = SplitMix64(seed: seed.utf8.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 })
        return DemoIdentifiers.cid(codec: 0x71, &random)
    }
}
