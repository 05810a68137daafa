@testable import API
import Foundation
import Testing

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
