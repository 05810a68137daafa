import Foundation
import Testing
@testable import Identity
#if canImport(Glibc)
import Glibc
#endif

/// A one-connection-at-a-time HTTP server on 127.0.0.1 that answers every request the same way.
final class LoopbackServer: @unchecked Sendable {
    let port: UInt16
    private let listener: Int32
    private var response: [UInt8] = []
    private let delay: Double
    private let lock = NSLock()
    private var requests: [String] = []

    convenience init(status: Int = 200, body: [UInt8], delay: Double = 0) throws {
        try self.init(status: status, delay: delay) { _ in body }
    }

    /// `body` is built from the port the server listens on (a did:web document names it).
    init(status: Int = 200, delay: Double = 0, body: (UInt16) -> [UInt8]) throws {
        self.delay = delay
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.listener = listener
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) } }
        guard bound == 0, listen(listener, 16) == 0 else { throw POSIXError(.EADDRINUSE) }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
        port = UInt16(bigEndian: address.sin_port)
        let body = body(port)
        response = Array("HTTP/1.1 \(status) X\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n".utf8) + body
        let thread = Thread { [self] in serve() }
        thread.start()
    }

    var receivedRequests: [String] { lock.withLock { requests } }

    private func serve() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else {
                // Closed here, by the only thread using it, so the descriptor number cannot be reused
                // by another test's socket while this loop still accepts on it.
                close(listener)
                return
            }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = read(client, &buffer, buffer.count)
            if count > 0 { lock.withLock { requests.append(String(decoding: buffer.prefix(count), as: UTF8.self)) } }
            if delay > 0 { Thread.sleep(forTimeInterval: delay) }
            _ = response.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            close(client)
        }
    }

    /// Makes the blocked `accept` fail; the serving thread then closes the socket.
    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
    }
}

@Suite struct CurlFetcherTests {
    @Test func fetchesTheBodyAndStatus() throws {
        let server = try LoopbackServer(body: Array(plcDocument.utf8))
        defer { server.stop() }
        let response = try CurlFetcher().get("http://127.0.0.1:\(server.port)/did:plc:ewvi7nxzyoun6zhxrhs64oiz",
                                             timeoutMilliseconds: 2000, maxBytes: 65536)
        #expect(response.status == 200)
        #expect(response.body == Array(plcDocument.utf8))
        #expect(server.receivedRequests.first?.hasPrefix("GET /did:plc:ewvi7nxzyoun6zhxrhs64oiz HTTP/1.1") == true)
    }

    @Test func notFoundIsAStatusNotAnError() throws {
        let server = try LoopbackServer(status: 404, body: Array("{}".utf8))
        defer { server.stop() }
        #expect(try CurlFetcher().get("http://127.0.0.1:\(server.port)/x", timeoutMilliseconds: 2000, maxBytes: 100).status == 404)
    }

    @Test func bodiesOverTheCapAreCutOff() throws {
        let server = try LoopbackServer(body: [UInt8](repeating: 0x20, count: 200_000))
        defer { server.stop() }
        #expect(throws: FetchError.tooLarge(limit: 65536)) {
            try CurlFetcher().get("http://127.0.0.1:\(server.port)/big", timeoutMilliseconds: 2000, maxBytes: 65536)
        }
    }

    @Test func slowServersTimeOut() throws {
        let server = try LoopbackServer(body: Array("{}".utf8), delay: 3)
        defer { server.stop() }
        let started = Date()
        #expect(throws: FetchError.timeout) {
            try CurlFetcher().get("http://127.0.0.1:\(server.port)/slow", timeoutMilliseconds: 200, maxBytes: 100)
        }
        #expect(Date().timeIntervalSince(started) < 2.5, "well before the server would answer")
    }

    @Test func refusedConnectionsAndOtherSchemesAreNetworkErrors() throws {
        #expect(throws: FetchError.self) { try CurlFetcher().get("http://127.0.0.1:9/", timeoutMilliseconds: 1000, maxBytes: 100) }
        #expect(throws: FetchError.self) { try CurlFetcher().get("file:///etc/passwd", timeoutMilliseconds: 1000, maxBytes: 100_000) }
    }
}
