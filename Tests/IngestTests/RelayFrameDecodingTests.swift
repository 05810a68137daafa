import Foundation
@testable import Ingest
import IPLD
import Testing

/// Relay frames → Jetstream v1 events, against the real corpus byte for byte, and the frame types,
/// skips and malformations the corpus does not contain.
@Suite("relay frame decoding")
struct RelayFrameDecodingTests {
    let decoder = RelayFrameDecoder()

    func text(_ event: Data) -> String { String(decoding: event, as: UTF8.self) }

    @Test("every corpus frame decodes to exactly the lines of expected_v1.jsonl, in order, byte for byte but time_us")
    func corpusConformance() throws {
        let frames = RelayCorpus.frames
        let expected = RelayCorpus.expectedLines
        #expect(frames.count == 150)
        #expect(expected.count == 152)
        var produced: [[UInt8]] = []
        var stamps: [Int64] = []
        for (index, frame) in frames.enumerated() {
            let stamp = 1_783_175_888_000_000 + Int64(index)
            let decoded = try decoder.decode(frame, timeMicroseconds: stamp)
            #expect(decoded.skippedOperations.isEmpty, "frame \(index): \(decoded.skippedOperations)")
            for event in decoded.events {
                produced.append([UInt8](event))
                stamps.append(stamp)
            }
        }
        #expect(produced.count == expected.count)
        for (index, line) in produced.enumerated() where index < expected.count {
            // Each event carries its frame's receive time.
            #expect(RelayCorpus.time(line) == stamps[index])
            let mine = RelayCorpus.withoutTime(line)
            let theirs = RelayCorpus.withoutTime(expected[index])
            #expect(mine == theirs, "line \(index + 1):\n\(String(decoding: mine, as: UTF8.self))\n\(String(decoding: theirs, as: UTF8.self))")
        }
    }

    @Test("corpus frames: kinds, contiguous seqs, repos; identity and account carry their seq")
    func corpusFrames() throws {
        var kinds: [RelayFrame.Kind] = []
        var seqs: [Int64] = []
        for frame in RelayCorpus.frames {
            let decoded = try decoder.decode(frame, timeMicroseconds: 1)
            kinds.append(decoded.kind)
            seqs.append(try #require(decoded.seq))
            #expect(decoded.repo?.hasPrefix("did:plc:") == true)
            #expect(!decoded.tooBig)
            #expect(decoded.message == nil)
        }
        #expect(kinds.filter { $0 == .commit }.count == 148)
        #expect(kinds.suffix(2) == [.identity, .account])
        #expect(seqs == Array(31_527_015_322...31_527_015_471))
    }

    @Test("wantedCollections keeps only the ops of those collections (NSIDs and prefix.*); identity/account always")
    func wantedCollections() throws {
        func events(_ wanted: Set<String>) throws -> [String] {
            let filtered = RelayFrameDecoder(wantedCollections: wanted)
            return try RelayCorpus.frames.flatMap { try filtered.decode($0, timeMicroseconds: 1).events.map(text) }
        }
        let likes = try events(["app.bsky.feed.like"])
        #expect(likes.count == 105 + 2)
        #expect(likes.filter { $0.contains("\"collection\":\"app.bsky.feed.like\"") }.count == 105)
        let graph = try events(["app.bsky.graph.*"])
        #expect(graph.filter { $0.contains("\"kind\":\"commit\"") }.count == 6 + 3 + 1)
        #expect(try events([]).count == 2)
    }

    @Test("every truncation of real frames is an error value, never a crash")
    func truncations() throws {
        let frames = RelayCorpus.frames
        try #require(frames.count == 150)
        // A like, a post with an embed, the multi-op commit, a delete, identity, account.
        for index in [0, 1, 53, 11, 148, 149] {
            let frame = frames[index]
            for length in 0..<frame.count {
                #expect(throws: RelayDecodingError.self) { try decoder.decode(Array(frame[..<length]), timeMicroseconds: 1) }
            }
        }
    }

    @Test("error, info, sync, unknown and tooBig frames")
    func otherFrameTypes() throws {
        let error = try decoder.decode(RelayTestFrames.frame(
            header: RelayTestFrames.map(["op": .int(-1)]),
            body: RelayTestFrames.map(["error": .string("FutureCursor"), "message": .string("cursor in the future")])),
            timeMicroseconds: 1)
        #expect(error.kind == .error)
        #expect(error.message == "FutureCursor: cursor in the future")
        #expect(error.events.isEmpty && error.seq == nil)

        let info = try decoder.decode(RelayTestFrames.frame(
            header: RelayTestFrames.header("#info"), body: RelayTestFrames.map(["name": .string("OutdatedCursor")])),
            timeMicroseconds: 1)
        #expect(info.kind == .info)
        #expect(info.message == "OutdatedCursor")

        let sync = try decoder.decode(RelayTestFrames.frame(
            header: RelayTestFrames.header("#sync"),
            body: RelayTestFrames.map(["did": .string("did:plc:abc"), "seq": .int(42), "rev": .string("3m"),
                                       "time": .string("2026-07-04T14:38:07.877Z"), "blocks": .bytes([])])),
            timeMicroseconds: 1)
        #expect(sync.kind == .sync && sync.seq == 42 && sync.repo == "did:plc:abc" && sync.events.isEmpty)

        let unknown = try decoder.decode(RelayTestFrames.frame(
            header: RelayTestFrames.header("#handle"), body: RelayTestFrames.map(["did": .string("did:plc:abc")])),
            timeMicroseconds: 1)
        #expect(unknown.kind == .unknown("#handle"))
        #expect(unknown.events.isEmpty)

        let tooBig = try decoder.decode(RelayTestFrames.commit(
            seq: 99, ops: [RelayTestFrames.create("app.bsky.feed.like/3k", RelayTestFrames.map(["$type": .string("app.bsky.feed.like")]))],
            tooBig: true), timeMicroseconds: 1)
        #expect(tooBig.kind == .commit && tooBig.tooBig && tooBig.seq == 99 && tooBig.events.isEmpty)
    }

    @Test("identity with a handle and account with a status keep Jetstream's field order")
    func identityAndAccountShapes() throws {
        let identity = try decoder.decode(RelayTestFrames.frame(
            header: RelayTestFrames.header("#identity"),
            body: RelayTestFrames.map(["did": .string("did:plc:abc"), "seq": .int(5), "time": .string("2026-07-04T14:38:07.877Z"),
                                       "handle": .string("alice.test")])), timeMicroseconds: 17)
        #expect(identity.events.map(text) == [
            #"{"did":"did:plc:abc","time_us":17,"kind":"identity","identity":{"did":"did:plc:abc","handle":"alice.test","seq":5,"time":"2026-07-04T14:38:07.877Z"}}"#,
        ])
        let account = try decoder.decode(RelayTestFrames.frame(
            header: RelayTestFrames.header("#account"),
            body: RelayTestFrames.map(["did": .string("did:plc:abc"), "seq": .int(6), "time": .string("2026-07-04T14:38:07.877Z"),
                                       "active": .bool(false), "status": .string("takendown")])), timeMicroseconds: 18)
        #expect(account.events.map(text) == [
            #"{"did":"did:plc:abc","time_us":18,"kind":"account","account":{"active":false,"did":"did:plc:abc","seq":6,"status":"takendown","time":"2026-07-04T14:38:07.877Z"}}"#,
        ])
    }

    @Test("records: Go's escaping, sorted keys, $bytes, $link, blobs, integral floats")
    func recordConversion() throws {
        let blobCID = CID.sha256(of: [7], codec: CID.rawCodec)
        let record = RelayTestFrames.map([
            "$type": .string("app.bsky.feed.post"),
            "text": .string("a<b>&c \"q\" \\ \n\t\u{1} \u{2028}\u{2029} é"),
            "b": .int(-3),
            "B": .bytes([0xFB, 0xFF, 0x01]),
            "é": .bool(true),
            "aa": .float(2.0),
            "link": .link(blobCID),
            "blob": RelayTestFrames.map(["$type": .string("blob"), "mimeType": .string("image/png"),
                                         "ref": .link(blobCID), "size": .int(12)]),
            "nested": .array([.null, RelayTestFrames.map(["$bytes": .string("AQI")])]),
        ])
        let frame = RelayTestFrames.commit(ops: [RelayTestFrames.create("app.bsky.feed.post/3k", record)])
        let decoded = try decoder.decode(frame, timeMicroseconds: 5)
        let recordCID = CID.sha256(of: DAGCBOREncoder.encode(record)).string
        let link = blobCID.string
        #expect(decoded.events.map(text) == [
            #"{"did":"did:plc:testrepo","time_us":5,"kind":"commit","commit":{"rev":"3mtestrev0000","operation":"create","collection":"app.bsky.feed.post","rkey":"3k","record":{"$type":"app.bsky.feed.post","B":{"$bytes":"+/8B"},"aa":2,"b":-3,"blob":{"$type":"blob","ref":{"$link":"\#(link)"},"mimeType":"image/png","size":12},"link":{"$link":"\#(link)"},"nested":[null,{"$bytes":"AQI"}],"text":"a\u003cb\u003e\u0026c \"q\" \\ \n\t\u0001 \u2028\u2029 é","é":true},"cid":"\#(recordCID)"}}"#,
        ])
    }

    @Test("ops Jetstream skips are skipped and listed; deletes and updates come through")
    func skippedOperations() throws {
        let like = RelayTestFrames.map(["$type": .string("app.bsky.feed.like")])
        var missing = RelayTestFrames.create("app.bsky.feed.like/missing", RelayTestFrames.map(["$type": .string("app.bsky.feed.like"), "n": .int(2)]))
        missing.includeRecord = false
        var mismatch = RelayTestFrames.create("app.bsky.feed.like/mismatch", RelayTestFrames.map(["x": .int(1)]))
        mismatch.announcedCID = CID.sha256(of: [1])
        let ops = [
            RelayTestFrames.create("app.bsky.feed.like/ok", like),
            missing,
            mismatch,
            RelayTestFrames.create("app.bsky.feed.like/fraction", RelayTestFrames.map(["n": .float(1.5)])),
            RelayTestFrames.create("app.bsky.feed.like/mixed", RelayTestFrames.map(["a": .array([.int(1), .string("x")])])),
            RelayTestFrames.create("app.bsky.feed.like/badblob", RelayTestFrames.map(["b": RelayTestFrames.map(["$type": .string("blob")])])),
            RelayTestFrames.create("app.bsky.feed.like/emptytype", RelayTestFrames.map(["$type": .string("")])),
            RelayTestFrames.Op(action: "update", path: "app.bsky.feed.like/updated", record: like),
            RelayTestFrames.Op(action: "delete", path: "app.bsky.feed.like/gone", record: nil),
            RelayTestFrames.Op(action: "frobnicate", path: "app.bsky.feed.like/odd", record: nil),
            RelayTestFrames.Op(action: "delete", path: "noslash", record: nil),
        ]
        let decoded = try decoder.decode(RelayTestFrames.commit(ops: ops), timeMicroseconds: 1)
        let operations = decoded.events.map(text).map { line -> String in
            let rkey = line.components(separatedBy: "\"rkey\":\"")[1].prefix { $0 != "\"" }
            let operation = line.components(separatedBy: "\"operation\":\"")[1].prefix { $0 != "\"" }
            return "\(operation) \(rkey)"
        }
        #expect(operations == ["create ok", "update updated", "delete gone"])
        #expect(decoded.skippedOperations.map(\.path) == [
            "app.bsky.feed.like/missing", "app.bsky.feed.like/mismatch", "app.bsky.feed.like/fraction",
            "app.bsky.feed.like/mixed", "app.bsky.feed.like/badblob", "app.bsky.feed.like/emptytype",
            "app.bsky.feed.like/odd", "noslash",
        ])
        #expect(decoded.skippedOperations[1].reason == "record CID mismatch")
    }

    @Test("malformed frames are typed errors: bad header, bad op, missing fields, unreadable blocks, oversize")
    func malformedFrames() throws {
        let body = RelayTestFrames.map(["did": .string("did:plc:abc"), "seq": .int(1), "time": .string("t")])
        func decodeError(_ frame: [UInt8], limits: RelayDecodingLimits = .default) -> RelayDecodingError? {
            do {
                _ = try RelayFrameDecoder(limits: limits).decode(frame, timeMicroseconds: 1)
                return nil
            } catch {
                return error
            }
        }
        #expect(decodeError(RelayTestFrames.frame(header: .array([]), body: body)) == .invalidField("header.op"))
        #expect(decodeError(RelayTestFrames.frame(header: RelayTestFrames.map(["op": .int(2), "t": .string("#identity")]), body: body))
            == .invalidField("header.op"))
        #expect(decodeError(RelayTestFrames.frame(header: RelayTestFrames.map(["op": .int(1)]), body: body)) == .invalidField("header.t"))
        #expect(decodeError(RelayTestFrames.frame(header: RelayTestFrames.header("#identity"), body: .int(3))) == .invalidField("body"))
        #expect(decodeError(RelayTestFrames.frame(header: RelayTestFrames.header("#account"), body: body)) == .invalidField("#account.active"))
        #expect(decodeError(RelayTestFrames.frame(header: RelayTestFrames.header("#commit"), body: body)) == .invalidField("#commit.repo"))
        #expect(decodeError([0xA2, 0x62]) == .header(.unexpectedEnd(offset: 2)))
        if case .body(.trailingBytes)? = decodeError(RelayTestFrames.frame(header: RelayTestFrames.header("#identity"), body: body) + [0x00]) {
        } else {
            Issue.record("trailing byte after the body not refused")
        }
        let valid = RelayTestFrames.commit(ops: [RelayTestFrames.create("a.b.c/x", RelayTestFrames.map(["a": .int(1)]))])
        #expect(decodeError(valid, limits: RelayDecodingLimits(maximumFrameBytes: 10)) == .frameTooLarge(byteCount: valid.count, limit: 10))
        // A commit whose CAR is garbage: nothing can be resolved.
        let garbage = RelayTestFrames.frame(header: RelayTestFrames.header("#commit"), body: RelayTestFrames.map([
            "repo": .string("did:plc:abc"), "seq": .int(1), "rev": .string("r"), "time": .string("t"), "tooBig": .bool(false),
            "ops": .array([RelayTestFrames.map(["action": .string("delete"), "path": .string("a.b/c"), "cid": .null])]),
            "blocks": .bytes([0x05, 0x01, 0x02]),
        ]))
        if case .blocks? = decodeError(garbage) {} else { Issue.record("garbage CAR not refused") }
    }
}
