import Testing

@testable import API

/// The pure parts of the FastCGI adapter: params → request, response → header block, FCGI_LISTEN.
struct FastCGIMappingTests {
    @Test func paramsBecomeARequest() {
        let params = [
            "REQUEST_METHOD": "get", "DOCUMENT_URI": "/xrpc/app.bsky.feed.getTimeline",
            "REQUEST_URI": "/xrpc/app.bsky.feed.getTimeline?limit=5", "QUERY_STRING": "limit=5",
            "HTTP_AUTHORIZATION": "Bearer abc", "HTTP_ACCEPT_ENCODING": "gzip", "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": "2", "REMOTE_ADDR": "10.0.0.7", "SERVER_SOFTWARE": "nginx",
        ]
        let request = FastCGIRequestMapping.request(params: params, body: Array("{}".utf8))
        #expect(request.method == "GET")
        #expect(request.path == "/xrpc/app.bsky.feed.getTimeline")
        #expect(request.query == "limit=5")
        #expect(request.headers["authorization"] == "Bearer abc")
        #expect(request.headers["accept-encoding"] == "gzip")
        #expect(request.headers["content-type"] == "application/json")
        #expect(request.headers["content-length"] == "2")
        #expect(request.headers["server-software"] == nil)
        #expect(request.remoteAddress == "10.0.0.7")
        #expect(request.body == Array("{}".utf8))
    }

    @Test func pathFallsBackToScriptNameThenRequestURI() {
        #expect(FastCGIRequestMapping.path(["SCRIPT_NAME": "/xrpc", "PATH_INFO": "/a.b.c"]) == "/xrpc/a.b.c")
        #expect(FastCGIRequestMapping.path(["REQUEST_URI": "/health?x=1"]) == "/health")
        #expect(FastCGIRequestMapping.path([:]) == "/")
    }

    @Test func contentLengthIsParsedDefensively() {
        #expect(FastCGIRequestMapping.contentLength(["CONTENT_LENGTH": "42"]) == 42)
        #expect(FastCGIRequestMapping.contentLength(["CONTENT_LENGTH": ""]) == nil)
        #expect(FastCGIRequestMapping.contentLength(["CONTENT_LENGTH": "-1"]) == nil)
        #expect(FastCGIRequestMapping.contentLength(["CONTENT_LENGTH": "12abc"]) == nil)
    }

    @Test func headerBlockCarriesStatusTypeAndExactLength() {
        let response = HTTPResponse.json(404, Array(#"{"error":"NotFound"}"#.utf8), headers: [("Cache-Control", "no-store")])
        let text = String(decoding: FastCGIResponseEncoding.headerBlock(for: response), as: UTF8.self)
        #expect(text.hasPrefix("Status: 404 Not Found\r\n"))
        #expect(text.contains("Content-Type: application/json; charset=utf-8\r\n"))
        #expect(text.contains("Cache-Control: no-store\r\n"))
        #expect(text.hasSuffix("Content-Length: 20\r\n\r\n"))
    }

    @Test func headerBlockCannotBeSplitOrMislabelled() {
        let response = HTTPResponse(
            status: 42, headers: [("X-Evil", "a\r\nSet-Cookie: x=1"), ("Content-Length", "999")], body: [1, 2, 3])
        let text = String(decoding: FastCGIResponseEncoding.headerBlock(for: response), as: UTF8.self)
        #expect(text.hasPrefix("Status: 500 Internal Server Error\r\n"))
        #expect(!text.contains("\r\nSet-Cookie"))
        #expect(!text.contains("999"))
        #expect(text.contains("Content-Length: 3\r\n"))
        #expect(text.contains("Content-Type: application/json"))
    }

    @Test func listenAddressForms() throws {
        #expect(try FastCGIListenAddress.parse(".local/run/appview-api.sock") == .unixSocket(path: ".local/run/appview-api.sock"))
        #expect(try FastCGIListenAddress.parse("/run/appview/api.sock") == .unixSocket(path: "/run/appview/api.sock"))
        #expect(try FastCGIListenAddress.parse("127.0.0.1:9000") == .tcp(host: "127.0.0.1", port: 9000))
        #expect(try FastCGIListenAddress.parse(":9000") == .tcp(host: "", port: 9000))
        #expect(throws: (any Error).self) { try FastCGIListenAddress.parse("localhost:http") }
        #expect(throws: (any Error).self) { try FastCGIListenAddress.parse(":70000") }
        #expect(throws: (any Error).self) { try FastCGIListenAddress.parse("") }
        #expect(throws: (any Error).self) { try FastCGIListenAddress.parse("/" + String(repeating: "a", count: 120)) }
    }
}
