import Foundation
@testable import Ingest
import JSON
import Testing

@Suite("Jetstream event decoding")
struct EventDecodingTests {
    @Test("every corpus line decodes, with the kinds the manifest lists")
    func corpusDecodes() throws {
        var commits: [String: Int] = [:]
        var identities = 0, accounts = 0
        for line in try IngestHarness.corpusLines() {
            let event = try JetstreamEventDecoder.decode(line).get()
            switch event.payload {
            case .commit(let operation): commits["\(operation.action.rawValue) \(operation.collection)", default: 0] += 1
            case .identity: identities += 1
            case .account: accounts += 1
            case .unsupported(let kind): Issue.record("unexpected kind \(kind)")
            }
        }
        #expect(commits["create app.bsky.feed.like"] == 105)
        #expect(commits["create app.bsky.feed.post"] == 17)
        #expect(commits["create app.bsky.feed.repost"] == 15)
        #expect(commits["create app.bsky.graph.follow"] == 6)
        #expect(commits["delete app.bsky.graph.follow"] == 3)
        #expect(commits["create app.bsky.graph.block"] == 1)
        #expect(commits["delete app.bsky.feed.post"] == 1)
        #expect(identities == 1 && accounts == 1)
    }

    @Test("a post keeps its raw record text and its indexed fields")
    func postFields() throws {
        let lines = try IngestHarness.corpusLines()
        let line = try #require(lines.first { $0.contains("3mptbyou7ls2i\",\"record") })
        let event = try JetstreamEventDecoder.decode(line).get()
        guard case .commit(let operation) = event.payload, case .post(let post) = operation.record else {
            Issue.record("not a post")
            return
        }
        #expect(operation.uri == "at://did:plc:u4lmvw4wwzaql3z5kcf3r7h4/app.bsky.feed.post/3mptbyou7ls2i")
        #expect(post.reply?.parent.uri.description == "at://did:plc:u4lmvw4wwzaql3z5kcf3r7h4/app.bsky.feed.post/3mptbyospqk2i")
        #expect(post.createdAtMilliseconds == RecordTimestamp.milliseconds("2026-07-04T14:38:06.691Z"))
        // The stored text is the exact substring of the line.
        #expect(line.contains(post.rawJSON))
        #expect(post.rawJSON.hasPrefix("{\"$type\":\"app.bsky.feed.post\""))
        #expect(event.indexedAtMilliseconds == event.timeMicroseconds / 1000)
    }

    @Test("facet mentions, quotes and media are recognised")
    func embedsAndMentions() throws {
        let bob = "did:plc:bbbbbbbbbbbbbbbbbbbbbbbb"
        let quoted = EventLines.postURI(bob, "3quoted")
        let line = EventLines.post("did:plc:aaaaaaaaaaaaaaaaaaaaaaaa", "3p", time: 1, quote: quoted, quoteWithMedia: true, mentions: [bob, bob])
        guard case .commit(let operation) = try JetstreamEventDecoder.decode(line).get().payload, case .post(let post) = operation.record else {
            Issue.record("not a post")
            return
        }
        #expect(post.mentionedDIDs == [bob])
        #expect(post.embed?.type == "recordWithMedia")
        #expect(post.embed?.record?.uri.description == quoted)
        #expect(post.embed?.hasMedia == true)
    }

    @Test("malformed lines are errors with a kind and a reason", arguments: [
        ("{not json", EventDecodingError.Kind.invalidJSON),
        ("[1,2]", .invalidJSON),
        (#"{"time_us":1,"kind":"commit"}"#, .missingField),
        (#"{"did":"did:plc:abc","kind":"commit"}"#, .missingField),
        (#"{"did":"not-a-did","time_us":1,"kind":"commit","commit":{}}"#, .invalidField),
        (#"{"did":"did:plc:abc","time_us":"soon","kind":"commit"}"#, .invalidField),
        (#"{"did":"did:plc:abc","time_us":1,"kind":"commit","commit":{"operation":"upsert","collection":"app.bsky.feed.like","rkey":"a"}}"#, .invalidField),
        (#"{"did":"did:plc:abc","time_us":1,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.like","rkey":"a/b","cid":"bafyreiabc","record":{}}}"#, .invalidField),
        (#"{"did":"did:plc:abc","time_us":1,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.like","rkey":"a","cid":"bafyreiabc"}}"#, .missingField),
        (#"{"did":"did:plc:abc","time_us":1,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.like","rkey":"a","cid":"bafyreiabc","record":{"subject":{"uri":"https://x","cid":"bafyreiabc"}}}}"#, .invalidRecord),
        (#"{"did":"did:plc:abc","time_us":1,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.graph.follow","rkey":"a","cid":"bafyreiabc","record":{"subject":"bob"}}}"#, .invalidRecord),
        (#"{"did":"did:plc:abc","time_us":1,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.post","rkey":"a","cid":"bafyreiabc","record":{"text":"x","reply":{"root":{"uri":"at://did:plc:abc/app.bsky.feed.post/1"}}}}}"#, .invalidRecord),
        (#"{"did":"did:plc:abc","time_us":1,"kind":"account","account":{"status":"deleted"}}"#, .invalidField),
    ])
    func malformed(line: String, kind: EventDecodingError.Kind) {
        switch JetstreamEventDecoder.decode(line) {
        case .success: Issue.record("accepted: \(line)")
        case .failure(let error):
            #expect(error.kind == kind, "\(error)")
            #expect(!error.reason.isEmpty)
        }
    }

    @Test("records of unknown collections are not decoded, even when odd")
    func unknownCollection() throws {
        let line = #"{"did":"did:plc:abc","time_us":5,"kind":"commit","commit":{"operation":"create","collection":"fm.teal.alpha.actor.status","rkey":"self","record":{"anything":[1,2]}}}"#
        guard case .commit(let operation) = try JetstreamEventDecoder.decode(line).get().payload else {
            Issue.record("not a commit")
            return
        }
        #expect(operation.indexedCollection == nil)
        #expect(operation.record == nil)
    }

    @Test("NUL characters become U+FFFD in the stored text and record")
    func nulCharacters() throws {
        let line = EventLines.commit("did:plc:abc", 1, "app.bsky.feed.post", "3a", record: #"{"text":"a\u0000b","createdAt":"2026-07-04T14:38:00Z"}"#)
        guard case .commit(let operation) = try JetstreamEventDecoder.decode(line).get().payload, case .post(let post) = operation.record else {
            Issue.record("not a post")
            return
        }
        #expect(post.text == "a\u{FFFD}b")
        #expect(post.rawJSON == #"{"text":"a\ufffdb","createdAt":"2026-07-04T14:38:00Z"}"#)
    }

    @Test("record timestamps: zones, fractions, and rejects", arguments: [
        ("2026-07-04T14:38:08.999Z", Int64(1_783_175_888_999)),
        ("2026-07-04T14:38:02+00:00", 1_783_175_882_000),
        ("2026-07-04T16:38:02.5+02:00", 1_783_175_882_500),
        ("2026-07-04T14:38:08.123456789Z", 1_783_175_888_123),
        ("1970-01-01T00:00:00Z", 0),
        ("2024-02-29T00:00:00Z", 1_709_164_800_000),
        ("2026-07-04 14:38:08.999Z", 1_783_175_888_999),
        ("2026-07-04t14:38:08.999z", 1_783_175_888_999),
    ])
    func timestamps(text: String, expected: Int64) {
        #expect(RecordTimestamp.milliseconds(text) == expected)
        if expected > 0, !text.contains("+") { #expect(RecordTimestamp.milliseconds(Timestamp.iso8601(epochMilliseconds: expected)) == expected) }
    }

    @Test("unparseable timestamps", arguments: ["", "yesterday", "2026-07-04", "2026-07-04T14:38:08", "2026-13-01T00:00:00Z",
                                                 "2023-02-29T00:00:00Z", "2026-07-04T14:38:08.Z", "0000-01-01T00:00:00Z"])
    func badTimestamps(text: String) {
        #expect(RecordTimestamp.milliseconds(text) == nil)
    }

    @Test("AT URIs need a DID authority, a collection and a record key", arguments: [
        ("at://did:plc:abc/app.bsky.feed.post/3k", true),
        ("at://alice.bsky.social/app.bsky.feed.post/3k", false),
        ("at://did:plc:abc/app.bsky.feed.post", false),
        ("at://did:plc:abc/app.bsky.feed.post/3k/x", false),
        ("https://did:plc:abc/app.bsky.feed.post/3k", false),
        ("at://did:plc:abc/post/3k", false),
    ])
    func uris(text: String, valid: Bool) {
        #expect((ATURI(text) != nil) == valid)
    }
}
