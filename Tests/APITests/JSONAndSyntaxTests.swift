@testable import API
import Foundation
import Testing

@Suite struct JSONWriterTests {
    func decode(_ bytes: [UInt8]) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
    }

    @Test func escapesQuotesBackslashesAndEveryControlCharacter() throws {
        var text = "q\"b\\s/"
        for scalar in 0..<0x20 { text.unicodeScalars.append(Unicode.Scalar(UInt8(scalar))) }
        text += "\u{7F}é😀"
        var writer = JSONWriter()
        writer.string(text)
        let encoded = String(decoding: writer.bytes, as: UTF8.self)
        #expect(encoded.contains("\\u0000") && encoded.contains("\\u001f") && encoded.contains("\\n") && encoded.contains("\\\""))
        #expect(try decode(writer.bytes) as? String == text)
    }

    @Test func invalidUTF8BecomesReplacementCharacters() throws {
        let inputs: [[UInt8]] = [
            [0x61, 0xFF, 0x62],                 // invalid byte
            [0x61, 0xC3],                       // truncated 2-byte sequence
            [0xED, 0xA0, 0x80],                 // UTF-16 surrogate
            [0xC0, 0xAF],                       // overlong '/'
            [0xF4, 0x90, 0x80, 0x80],           // beyond U+10FFFF
        ]
        for input in inputs {
            var writer = JSONWriter()
            input.withUnsafeBufferPointer { writer.string(utf8: $0) }
            let decoded = try decode(writer.bytes) as? String
            #expect(decoded?.contains("\u{FFFD}") == true, "input \(input)")
            #expect(String(validating: writer.bytes, as: UTF8.self) != nil)
        }
    }

    @Test func objectsArraysAndSplicedJSON() throws {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("a", 1)
        writer.key("list")
        writer.beginArray()
        writer.int(-42)
        writer.bool(true)
        writer.null()
        writer.beginObject()
        writer.endObject()
        writer.rawJSON(Array(#"{"x": [1, 2]}"#.utf8))
        writer.endArray()
        writer.optionalField("absent", nil)
        writer.key("t")
        writer.datetime(epochMilliseconds: 0)
        writer.endObject()
        #expect(String(decoding: writer.bytes, as: UTF8.self)
            == #"{"a":1,"list":[-42,true,null,{},{"x": [1, 2]}],"t":"1970-01-01T00:00:00.000Z"}"#)
        #expect(try decode(writer.bytes) is [String: Any])
    }
}

@Suite struct TimestampTests {
    @Test func formatsEpochMillisecondsWithMillisAndZ() {
        #expect(Timestamp.iso8601(epochMilliseconds: 1_783_176_288_999) == "2026-07-04T14:44:48.999Z")
        #expect(Timestamp.iso8601(epochMilliseconds: 951_782_400_000) == "2000-02-29T00:00:00.000Z")
        #expect(Timestamp.iso8601(epochMilliseconds: -1) == "1969-12-31T23:59:59.999Z")
    }

    @Test func formatMatchesFoundationOverManyInstants() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var ms: Int64 = 0
        while ms < 4_102_444_800_000 {  // to 2100
            let expected = formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
            #expect(Timestamp.iso8601(epochMilliseconds: ms) == expected)
            #expect(Timestamp.parseISO8601(expected) == ms)
            ms += 86_399_123_457
        }
    }

    @Test func parsesOffsetsFractionsAndRejectsGarbage() {
        #expect(Timestamp.parseISO8601("2026-07-04T14:38:08Z") == 1_783_175_888_000)
        #expect(Timestamp.parseISO8601("2026-07-04T16:38:08.123456+02:00") == 1_783_175_888_123)
        #expect(Timestamp.parseISO8601("2026-07-04T14:38:08.1Z") == 1_783_175_888_100)
        for bad in ["", "2026-07-04", "2026-02-30T00:00:00Z", "2026-07-04T24:00:00Z", "2026-07-04T14:38:08",
                    "2026-07-04T14:38:08.Z", "yesterday", "2026-07-04T14:38:08Zjunk"] {
            #expect(Timestamp.parseISO8601(bad) == nil, "\(bad)")
        }
    }
}

@Suite struct SyntaxTests {
    @Test func identifiers() {
        #expect(Identifiers.isDID("did:plc:abc123"))
        #expect(Identifiers.isDID("did:web:example.com"))
        #expect(!Identifiers.isDID("did:plc:"))
        #expect(!Identifiers.isDID("did:PLC:abc"))
        #expect(!Identifiers.isDID("did:plc:a b"))
        #expect(Identifiers.isHandle("alice.bsky.social"))
        #expect(!Identifiers.isHandle("alice"))
        #expect(!Identifiers.isHandle("-a.com"))
        #expect(!Identifiers.isHandle("a.123"))
        #expect(Identifiers.isATURI("at://did:plc:abc/app.bsky.feed.post/3k2a"))
        #expect(Identifiers.isATURI("at://alice.test/app.bsky.feed.post/3k2a"))
        #expect(!Identifiers.isATURI("https://x.com/a"))
        #expect(!Identifiers.isATURI("at://did:plc:abc/app.bsky.feed.post/a b"))
        #expect(!Identifiers.isATURI("at://not an id/x.y.z"))
    }

    @Test func queryParameters() throws {
        let parameters = try QueryParameters(parsing: "uris=a%2Fb&uris=c+d&limit=5&empty=")
        #expect(parameters.all("uris") == ["a/b", "c d"])
        #expect(try parameters.single("limit") == "5")
        #expect(try parameters.single("empty") == "")
        #expect(throws: XRPCError.self) { try QueryParameters(parsing: "a=%zz") }
        #expect(throws: XRPCError.self) { try QueryParameters(parsing: "a=%ff") }
        #expect(throws: XRPCError.self) { try QueryParameters(parsing: "limit=1&limit=2").single("limit") }
    }

    @Test func cursorRoundTripsAndRejectsMalformed() throws {
        let cursor = FeedCursor(sortAtMilliseconds: 1_783_166_400_000, cid: "bafyreiabc123",
                                uri: "at://did:web:host%3A8080/app.bsky.feed.post/a::b")
        #expect(try FeedCursor(parsing: cursor.encoded) == cursor)
        for bad in ["", "abc", "123::bafyreiabc123", "x::bafyreiabc123::at://did:plc:a/app.bsky.feed.post/b",
                    "-5::bafyreiabc123::at://did:plc:a/app.bsky.feed.post/b", "1::b::at://did:plc:a/app.bsky.feed.post/b",
                    "99999999999999999::bafyreiabc123::at://did:plc:a/app.bsky.feed.post/b", "1::bafyreiabc123::nope"] {
            #expect(throws: XRPCError.self, "\(bad)") { try FeedCursor(parsing: bad) }
        }
    }

    @Test func imageTemplate() {
        let template = ImageURLTemplate()
        #expect(template.url(preset: "avatar", did: "did:plc:a", cid: "bafkreiabcdef")
            == "https://cdn.bsky.app/img/avatar/plain/did:plc:a/bafkreiabcdef@jpeg")
        #expect(template.url(preset: "avatar", did: "did:plc:a", cid: "../x") == nil)
        #expect(ImageURLTemplate("https://img.test/{cid}?d={did}&{x}").url(preset: "banner", did: "did:plc:a", cid: "bafkreiabcdef")
            == "https://img.test/bafkreiabcdef?d=did:plc:a&{x}")
    }
}
