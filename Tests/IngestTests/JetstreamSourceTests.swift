import Foundation
@testable import Ingest
import Testing

/// The live Jetstream source against the local replayer (Tests/replayer) on loopback.
@Suite("Jetstream source", .serialized)
struct JetstreamSourceTests {
    @Test("every event of the corpus arrives through next(), in order, filtered by wantedCollections")
    func corpusInOrder() async throws {
        let replayer = try JetstreamReplayer(file: JetstreamTestStreams.corpus)
        let expected = try JetstreamTestStreams.corpusLines().filter { line in
            let object = try JSONSerialization.jsonObject(with: line) as! [String: Any]
            guard let commit = object["commit"] as? [String: Any] else { return true }
            return IndexedCollection(rawValue: commit["collection"] as! String) != nil
        }
        #expect(expected.count == 150)  // 152 events, 2 of collections the indexer does not write
        let source = JetstreamSource.forTest(url: replayer.url)
        let received = try await blocking { try source.take(expected.count) }
        #expect(received == expected)
        let statistics = source.statistics
        #expect(statistics.connects == 1)
        #expect(statistics.messages == expected.count)
        #expect(statistics.bytes == expected.reduce(0) { $0 + $1.count })
        #expect(statistics.lastEventTimeMicroseconds == timeMicroseconds(expected.last!))
        #expect(statistics.lastConnectCursor == nil)
        source.stop()
        #expect(try await blocking { try source.next() } == nil)
        let status = try await replayer.status()
        #expect(status.connections.count == 1)
        #expect(status.connections.first?.cursor == nil)
        #expect(status.connections.first?.wantedCollections == IndexedCollection.allCases.map(\.rawValue).sorted())
    }

    @Test("wss://: the TLS handshake verifies the server against JETSTREAM_CA_FILE, and events flow")
    func tls() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("jetstream-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let certificate = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        openssl.arguments = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                             "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                             "-keyout", key, "-out", certificate]
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        try #require(openssl.terminationStatus == 0)

        let replayer = try JetstreamReplayer(file: JetstreamTestStreams.corpus, arguments: ["--tls-cert", certificate, "--tls-key", key])
        let configuration = try JetstreamSourceConfiguration.fromEnvironment([
            "JETSTREAM_URL": "wss://localhost:\(replayer.port)/subscribe", "JETSTREAM_CA_FILE": certificate,
        ])
        let trusted = JetstreamSource(configuration: configuration, resumeCursor: { nil }, logger: .init(label: "test"))
        defer { trusted.stop() }
        let received = try await blocking { try trusted.take(150, timeout: 10) }
        #expect(received.count == 150)
        #expect(trusted.statistics.connects == 1)

        // Without the certificate among its trust roots the client refuses the server.
        let untrusted = JetstreamSource.forTest(url: "wss://localhost:\(replayer.port)/subscribe")
        Thread.detachNewThread { _ = try? untrusted.next() }
        try await eventually { untrusted.statistics.connectFailures >= 1 }
        let statistics = untrusted.statistics
        untrusted.stop()
        #expect(statistics.connects == 0)
        #expect(statistics.connectFailures >= 1)
        #expect(statistics.messages == 0)
    }

    @Test("a text message that is not a JSON object is counted and skipped; the stream goes on")
    func invalidMessagesSkipped() async throws {
        let lines = try JetstreamTestStreams.corpusLines().prefix(20)
        var content = Data()
        for (index, line) in lines.enumerated() {
            content.append(line)
            content.append(UInt8(ascii: "\n"))
            if index % 7 == 3 { content.append(contentsOf: Array("not json at all\n".utf8)) }
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("jetstream-invalid-\(UUID().uuidString).jsonl")
        try content.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let replayer = try JetstreamReplayer(file: file)
        let source = JetstreamSource.forTest(url: replayer.url) { $0.wantedCollections = ["app.bsky.feed.*", "app.bsky.graph.*"] }
        defer { source.stop() }
        let expected = Array(lines)
        let received = try await blocking { try source.take(expected.count, timeout: 10) }
        #expect(received == expected)
        #expect(source.statistics.invalidMessages == 3)
        #expect(source.statistics.connects == 1)
    }

    @Test("a server that accepts TCP but never answers the upgrade is given up on after the stall timeout, and retried")
    func hungHandshake() async throws {
        let listener = try SilentListener()
        let source = JetstreamSource.forTest(url: "ws://127.0.0.1:\(listener.port)/subscribe") { $0.stallTimeoutSeconds = 1 }
        Thread.detachNewThread { _ = try? source.next() }
        try await eventually { source.statistics.stalls >= 2 }
        let statistics = source.statistics
        source.stop()
        #expect(statistics.stalls >= 2)
        #expect(statistics.connectFailures >= 2)
        #expect(statistics.connects == 0)
    }

    @Test("a dropped connection resumes at the committed cursor minus the rewind: nothing missing, duplicates only inside the rewind window")
    func resumeAfterDrop() async throws {
        let (file, times) = try JetstreamTestStreams.sortedStream(count: 1000)  // 10 ms apart: 1 s rewind = 100 events
        defer { try? FileManager.default.removeItem(at: file) }
        let replayer = try JetstreamReplayer(file: file, arguments: ["--drop-after", "400"])
        let committed = LockedValue<Int64?>(nil)
        let cursorsAsked = LockedValue<[Int64?]>([])
        var configuration = JetstreamSourceConfiguration(url: replayer.url)
        configuration.reconnectMinimumMilliseconds = 20
        configuration.resumeRewindSeconds = 1
        let source = JetstreamSource(configuration: configuration, resumeCursor: {
            let value = committed.get()
            cursorsAsked.update { $0.append(value) }
            return value
        }, logger: .init(label: "test"))
        defer { source.stop() }

        // The "pipeline" commits each event as it takes it.
        let received = try await blocking { try source.takeUntilAllSeen(times, committing: committed) }
        #expect(Set(received) == Set(times), "nothing missing")
        let asked = cursorsAsked.get()
        #expect(asked.count == 2)
        #expect(asked.first! == nil)
        let committedAtReconnect = try #require(asked.last!)
        let status = try await replayer.status()
        #expect(status.connections.map(\.cursor) == [nil, committedAtReconnect - 1_000_000])
        // Duplicates: exactly the events the first connection delivered from (committed − rewind) on.
        let resumedAt = committedAtReconnect - 1_000_000
        var seen = Set<Int64>()
        let duplicates = received.filter { !seen.insert($0).inserted }
        #expect(!duplicates.isEmpty)
        #expect(Set(duplicates) == Set(received.prefix(400).filter { $0 >= resumedAt }))
        #expect(duplicates.count == Set(duplicates).count)
        let statistics = source.statistics
        #expect(statistics.connects == 2)
        #expect(statistics.reconnects == 1)
        #expect(statistics.lastConnectCursor == committedAtReconnect - 1_000_000)
    }

    @Test("a connection on which nothing arrives for the stall timeout is closed, counted and re-opened")
    func stallReconnects() async throws {
        let (file, times) = try JetstreamTestStreams.sortedStream(count: 300)
        defer { try? FileManager.default.removeItem(at: file) }
        let replayer = try JetstreamReplayer(file: file, arguments: ["--stall-after", "120"])
        let committed = LockedValue<Int64?>(nil)
        let source = JetstreamSource.forTest(url: replayer.url, committed: committed) { $0.stallTimeoutSeconds = 1 }
        defer { source.stop() }
        let started = Date()
        let received = try await blocking { try source.takeUntilAllSeen(times, committing: committed) }
        #expect(Set(received) == Set(times))
        #expect(Date().timeIntervalSince(started) < 15)
        let statistics = source.statistics
        #expect(statistics.stalls == 1)
        #expect(statistics.connects == 2)
        let connections = try await replayer.status().connections
        #expect(connections.count == 2)
    }

    @Test("a message over JETSTREAM_MAX_MESSAGE_BYTES is counted and skipped; the connection stays open")
    func oversizedMessageSkipped() async throws {
        let (file, times) = try JetstreamTestStreams.sortedStream(count: 100)
        defer { try? FileManager.default.removeItem(at: file) }
        let replayer = try JetstreamReplayer(file: file, arguments: ["--oversize-after", "40", "--oversize-bytes", "\(100 << 10)"])
        let source = JetstreamSource.forTest(url: replayer.url) { $0.maximumMessageBytes = 64 << 10 }
        defer { source.stop() }
        let received = try await blocking { try source.take(times.count).map(timeMicroseconds) }
        #expect(received == times, "every event exactly once, in order, without the oversized one")
        let statistics = source.statistics
        #expect(statistics.oversizedMessages == 1)
        #expect(statistics.connects == 1)
    }

    @Test("a frame over the frame limit (4 × the message limit) ends the connection: reconnected, nothing lost, no crash")
    func oversizedFrameRecycles() async throws {
        let (file, times) = try JetstreamTestStreams.sortedStream(count: 100)
        defer { try? FileManager.default.removeItem(at: file) }
        let replayer = try JetstreamReplayer(file: file, arguments: ["--oversize-after", "40", "--oversize-bytes", "\(1 << 20)"])
        let committed = LockedValue<Int64?>(nil)
        let source = JetstreamSource.forTest(url: replayer.url, committed: committed) { $0.maximumMessageBytes = 64 << 10 }
        defer { source.stop() }
        let received = try await blocking { try source.takeUntilAllSeen(times, committing: committed) }
        #expect(Set(received) == Set(times))
        let statistics = source.statistics
        // NIO's frame decoder refuses the frame and closes the connection (1009); swift-websocket
        // then ends the stream as if the server had closed, so it is counted as a reconnect only.
        #expect(statistics.connects == 2)
        #expect(statistics.reconnects == 1)
        #expect(statistics.messages >= times.count)
    }

    @Test("backpressure: a consumer that stops reading stops the replayer; the buffer stays within its capacity; nothing is lost")
    func backpressure() async throws {
        // 4000 events of ~8 KiB: 32 MiB, far more than the socket buffers on both sides hold.
        let (file, times) = try JetstreamTestStreams.sortedStream(count: 4000, padding: 8 << 10)
        defer { try? FileManager.default.removeItem(at: file) }
        let replayer = try JetstreamReplayer(file: file, arguments: ["--count-pings"])
        let source = JetstreamSource.forTest(url: replayer.url) {
            $0.bufferCapacity = 64
            $0.stallTimeoutSeconds = 1  // a pause longer than this must not count as a stall
            $0.pingIntervalSeconds = 1  // pings go out while nothing is read; no pong deadline kills the connection
        }
        defer { source.stop() }
        var received = try await blocking { try source.take(10).map(timeMicroseconds) }

        // The consumer pauses: the source fills its buffer, stops reading; the replayer blocks.
        try await eventually { source.statistics.backpressured }
        try await Task.sleep(for: .milliseconds(1500))  // longer than the stall timeout
        let statistics = source.statistics
        #expect(statistics.bufferDepth <= 64)
        #expect(statistics.bufferMaximumDepth <= 64)
        #expect(statistics.bufferDepth >= 60, "the buffer filled while the consumer paused")
        #expect(statistics.backpressured)
        let sentDuringPause = try await replayer.status().sent
        try await Task.sleep(for: .milliseconds(500))
        let sentLater = try await replayer.status().sent
        #expect(sentLater == sentDuringPause, "the replayer is blocked")
        #expect(sentLater < times.count / 2, "sent \(sentLater) of \(times.count)")
        #expect(try await replayer.status().pings >= 1, "keep-alive pings were sent while backpressured")

        received += try await blocking { try source.take(times.count - 10).map(timeMicroseconds) }
        #expect(received == times, "every event once, in order")
        let after = source.statistics
        #expect(after.stalls == 0)
        #expect(after.connects == 1)
        #expect(after.bufferMaximumDepth <= 64)
    }

    @Test("stop() makes a next() blocked on a silent connection return nil promptly")
    func stopUnblocksNext() async throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("jetstream-empty-\(UUID().uuidString).jsonl")
        try Data().write(to: empty)
        defer { try? FileManager.default.removeItem(at: empty) }
        let replayer = try JetstreamReplayer(file: empty)
        let source = JetstreamSource.forTest(url: replayer.url)
        let returned = DispatchSemaphore(value: 0)
        let result = LockedValue<SourceEvent??>(nil)
        Thread.detachNewThread {
            result.set(.some(try? source.next()))
            returned.signal()
        }
        try await Task.sleep(for: .milliseconds(500))
        #expect(result.get() == nil, "next() waits while nothing arrives")
        let stoppedAt = Date()
        source.stop()
        let woke = try await blocking { returned.wait(timeout: .now() + 2) }
        #expect(woke == .success)
        #expect(Date().timeIntervalSince(stoppedAt) < 1)
        #expect(result.get() == .some(nil))
        #expect(try await blocking { try source.next() } == nil)
    }

    @Test("an unreachable endpoint is retried with backoff and counted; stop() still ends it")
    func unreachableEndpoint() async throws {
        // A port nothing listens on: bind one, note it, close it.
        let socket = freeLoopbackPort()
        let source = JetstreamSource.forTest(url: "ws://127.0.0.1:\(socket)/subscribe")
        Thread.detachNewThread { _ = try? source.next() }
        try await eventually { source.statistics.connectFailures >= 3 }
        let statistics = source.statistics
        #expect(statistics.connectFailures >= 3)
        #expect(statistics.reconnects >= 2)
        #expect(statistics.connects == 0)
        source.stop()
        #expect(try await blocking { try source.next() } == nil)
    }
}

/// A loopback TCP socket that listens and never accepts: connections complete in the kernel and
/// then hear nothing.
final class SilentListener {
    let descriptor: Int32
    let port: Int

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) } }
        guard bound == 0, listen(descriptor, 16) == 0 else {
            close(descriptor)
            throw POSIXError(.EADDRINUSE)
        }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) } }
        self.descriptor = descriptor
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(descriptor) }
}

/// A loopback TCP port that was free a moment ago.
func freeLoopbackPort() -> Int {
    do {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
