import Foundation
@testable import Ingest
import Storage
import Testing

/// The source's parts that need no network: configuration, assembly of frames, the buffer, the
/// subscription URL, the backoff and the time_us scanner.
@Suite("Jetstream source parts")
struct JetstreamSourceUnitTests {
    // MARK: configuration

    @Test("defaults: the public Jetstream, the indexed collections, bounded buffer")
    func defaults() throws {
        let configuration = try JetstreamSourceConfiguration.fromEnvironment([:])
        #expect(configuration.url == "wss://jetstream2.us-east.bsky.network/subscribe")
        #expect(Set(configuration.wantedCollections) == Set([
            "app.bsky.feed.post", "app.bsky.feed.like", "app.bsky.feed.repost",
            "app.bsky.graph.follow", "app.bsky.graph.block", "app.bsky.actor.profile",
        ]))
        #expect(configuration.stallTimeoutSeconds == 30)
        #expect(configuration.resumeRewindSeconds == 5)
        #expect(configuration.bufferCapacity == 4096)
        #expect(configuration.frameSizeLimit == 4 * configuration.maximumMessageBytes)
    }

    @Test("every variable is read")
    func reads() throws {
        let configuration = try JetstreamSourceConfiguration.fromEnvironment([
            "JETSTREAM_URL": "ws://127.0.0.1:6008/subscribe",
            "JETSTREAM_WANTED_COLLECTIONS": "app.bsky.feed.post, app.bsky.graph.*",
            "JETSTREAM_STALL_TIMEOUT_S": "7", "JETSTREAM_RESUME_REWIND_S": "0",
            "JETSTREAM_RECONNECT_MIN_MS": "100", "JETSTREAM_RECONNECT_MAX_MS": "100",
            "JETSTREAM_PING_INTERVAL_S": "3", "JETSTREAM_BUFFER_CAPACITY": "10",
            "JETSTREAM_MAX_MESSAGE_BYTES": "2048", "JETSTREAM_BUFFER_MAX_BYTES": "4096",
        ])
        #expect(configuration.url == "ws://127.0.0.1:6008/subscribe")
        #expect(configuration.wantedCollections == ["app.bsky.feed.post", "app.bsky.graph.*"])
        #expect(configuration.stallTimeoutSeconds == 7)
        #expect(configuration.resumeRewindSeconds == 0)
        #expect(configuration.reconnectMinimumMilliseconds == 100)
        #expect(configuration.reconnectMaximumMilliseconds == 100)
        #expect(configuration.pingIntervalSeconds == 3)
        #expect(configuration.bufferCapacity == 10)
        #expect(configuration.maximumMessageBytes == 2048)
        #expect(configuration.bufferMaximumBytes == 4096)
    }

    @Test("an invalid value is rejected with the variable and what it accepts", arguments: [
        ("JETSTREAM_STALL_TIMEOUT_S", "0", "between 1 and 3600"),
        ("JETSTREAM_STALL_TIMEOUT_S", "ten", "between 1 and 3600"),
        ("JETSTREAM_RESUME_REWIND_S", "-1", "between 0 and 3600"),
        ("JETSTREAM_RECONNECT_MIN_MS", "0", "between 1 and 60000"),
        ("JETSTREAM_PING_INTERVAL_S", "99999", "between 1 and 3600"),
        ("JETSTREAM_BUFFER_CAPACITY", "0", "between 1 and 1000000"),
        ("JETSTREAM_MAX_MESSAGE_BYTES", "100", "between 1024 and 67108864"),
        ("JETSTREAM_URL", "http://example.com/subscribe", "ws://"),
        ("JETSTREAM_URL", "wss://example.com/subscribe?cursor=1", "without a query string"),
        ("JETSTREAM_WANTED_COLLECTIONS", "app.bsky.feed.post,not a collection", "NSIDs"),
        ("JETSTREAM_WANTED_COLLECTIONS", "app.*.post", "NSIDs"),
        ("JETSTREAM_CA_FILE", "/nonexistent/ca.pem", "readable PEM file"),
    ])
    func invalid(variable: String, value: String, accepted: String) {
        do {
            _ = try JetstreamSourceConfiguration.fromEnvironment([variable: value])
            Issue.record("\(variable)=\(value) was accepted")
        } catch let error as ConfigurationError {
            #expect(error.description.contains("\(variable)"))
            #expect(error.description.contains(accepted), "\(error.description)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test("bounds that depend on each other: maximum backoff ≥ minimum, buffer bytes ≥ one message")
    func dependentBounds() {
        #expect(throws: ConfigurationError.self) {
            try JetstreamSourceConfiguration.fromEnvironment(["JETSTREAM_RECONNECT_MIN_MS": "5000", "JETSTREAM_RECONNECT_MAX_MS": "1000"])
        }
        #expect(throws: ConfigurationError.self) {
            try JetstreamSourceConfiguration.fromEnvironment(["JETSTREAM_MAX_MESSAGE_BYTES": "1048576", "JETSTREAM_BUFFER_MAX_BYTES": "1024"])
        }
    }

    // MARK: subscription URL and backoff

    @Test("the subscription repeats wantedCollections and resumes at the cursor minus the rewind")
    func subscriptionURL() {
        let resumed = JetstreamSubscription(baseURL: "wss://js.example/subscribe", wantedCollections: ["app.bsky.feed.post", "app.bsky.feed.like"],
                                            committedCursor: 1_783_175_888_085_434, rewindSeconds: 5)
        #expect(resumed.cursor == 1_783_175_883_085_434)
        #expect(resumed.url == "wss://js.example/subscribe?wantedCollections=app.bsky.feed.post&wantedCollections=app.bsky.feed.like&cursor=1783175883085434")
        let live = JetstreamSubscription(baseURL: "ws://127.0.0.1:1/subscribe", wantedCollections: ["app.bsky.feed.post"], committedCursor: nil, rewindSeconds: 5)
        #expect(live.cursor == nil)
        #expect(live.url == "ws://127.0.0.1:1/subscribe?wantedCollections=app.bsky.feed.post")
    }

    @Test("backoff doubles from the minimum to the cap, with jitter inside the bounds")
    func backoff() {
        let backoff = ReconnectBackoff(minimumMilliseconds: 250, maximumMilliseconds: 30_000)
        #expect((0..<9).map { backoff.ceilingMilliseconds(attempt: $0) } == [250, 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000])
        #expect(backoff.ceilingMilliseconds(attempt: 1000) == 30_000)
        var generator = SystemRandomNumberGenerator()
        let delays = (0..<200).map { _ in backoff.delayMilliseconds(attempt: 4, using: &generator) }
        #expect(delays.allSatisfy { (250...4000).contains($0) })
        #expect(Set(delays).count > 50, "jittered")
    }

    // MARK: frames → messages

    @Test("whole and fragmented text messages are assembled")
    func assembly() {
        var assembler = WebSocketMessageAssembler(maximumMessageBytes: 16)
        #expect(assembler.consume(kind: .text, payload: Data("{\"a\":1}".utf8), fin: true) == .message(Data("{\"a\":1}".utf8)))
        #expect(assembler.consume(kind: .text, payload: Data("{\"b\"".utf8), fin: false) == .incomplete)
        #expect(assembler.consume(kind: .continuation, payload: Data(":2".utf8), fin: false) == .incomplete)
        #expect(assembler.consume(kind: .continuation, payload: Data("}".utf8), fin: true) == .message(Data("{\"b\":2}".utf8)))
    }

    @Test("an oversized message is dropped whole, even across fragments, and the next one is intact")
    func oversized() {
        var assembler = WebSocketMessageAssembler(maximumMessageBytes: 16)
        #expect(assembler.consume(kind: .text, payload: Data("{\"time_us\":12,".utf8), fin: false) == .incomplete)
        #expect(assembler.consume(kind: .continuation, payload: Data(repeating: 120, count: 100), fin: false) == .incomplete)
        guard case .oversized(let size, let prefix) = assembler.consume(kind: .continuation, payload: Data("}".utf8), fin: true) else {
            Issue.record("not reported as oversized")
            return
        }
        #expect(size == 115)
        #expect(JetstreamTimeField.timeMicroseconds(in: prefix) == 12)
        #expect(assembler.consume(kind: .text, payload: Data("{}".utf8), fin: true) == .message(Data("{}".utf8)))
        #expect(assembler.consume(kind: .text, payload: Data(repeating: 120, count: 17), fin: true) == .oversized(size: 17, prefix: Data(repeating: 120, count: 17)))
    }

    @Test("binary messages and out-of-sequence continuations are reported, not delivered")
    func invalidFrames() {
        var assembler = WebSocketMessageAssembler(maximumMessageBytes: 16)
        #expect(assembler.consume(kind: .binary, payload: Data([1, 2, 3]), fin: false) == .incomplete)
        #expect(assembler.consume(kind: .continuation, payload: Data([4]), fin: true) == .unexpectedKind(size: 4))
        #expect(assembler.consume(kind: .continuation, payload: Data([4]), fin: true) == .protocolViolation)
        var inMessage = WebSocketMessageAssembler(maximumMessageBytes: 16)
        _ = inMessage.consume(kind: .text, payload: Data("{".utf8), fin: false)
        #expect(inMessage.consume(kind: .text, payload: Data("{}".utf8), fin: true) == .protocolViolation)
    }

    @Test("time_us is read from the head of a message")
    func timeField() {
        #expect(JetstreamTimeField.timeMicroseconds(in: Data(#"{"did":"did:plc:x","time_us":1783175888085434,"kind":"commit"}"#.utf8)) == 1_783_175_888_085_434)
        #expect(JetstreamTimeField.timeMicroseconds(in: Data(#"{"did":"did:plc:x","kind":"commit"}"#.utf8)) == nil)
        #expect(JetstreamTimeField.timeMicroseconds(in: Data(#"{"time_us":}"#.utf8)) == nil)
        #expect(JetstreamTimeField.timeMicroseconds(in: Data()) == nil)
    }

    // MARK: buffer

    @Test("the buffer holds at most its capacity; a full buffer suspends the producer until the consumer takes")
    func bufferBounds() async throws {
        let buffer = WebSocketMessageBuffer(capacity: 3, maximumBytes: 1 << 20)
        let produced = LockedValue(0)
        let producer = Task {
            for index in 0..<10 {
                guard await buffer.put(Data("\(index)".utf8)) else { return }
                produced.update { $0 += 1 }
            }
        }
        try await Task.sleep(for: .milliseconds(200))
        #expect(produced.get() == 3)
        #expect(buffer.state.depth == 3)
        #expect(buffer.state.producerWaiting)
        // The consumer blocks its own thread, as the pipeline's reader does.
        let taken = await withCheckedContinuation { (continuation: CheckedContinuation<[String], Never>) in
            Thread.detachNewThread {
                continuation.resume(returning: (0..<10).map { _ in String(decoding: buffer.take()!, as: UTF8.self) })
            }
        }
        #expect(taken == (0..<10).map(String.init))
        await producer.value
        #expect(buffer.state.maximumDepth == 3)
    }

    @Test("the byte limit also suspends the producer, but a single message larger than it still passes")
    func bufferBytes() async throws {
        let buffer = WebSocketMessageBuffer(capacity: 100, maximumBytes: 10)
        #expect(await buffer.put(Data(count: 50)))  // empty buffer: always admitted
        let second = Task { await buffer.put(Data(count: 5)) }
        try await Task.sleep(for: .milliseconds(100))
        #expect(buffer.state.depth == 1)
        #expect(buffer.take()?.count == 50)
        #expect(await second.value)
        #expect(buffer.take()?.count == 5)
    }

    @Test("close() wakes a waiting consumer and a waiting producer")
    func bufferClose() async throws {
        let buffer = WebSocketMessageBuffer(capacity: 1, maximumBytes: 100)
        #expect(await buffer.put(Data("a".utf8)))
        let producer = Task { await buffer.put(Data("b".utf8)) }
        try await Task.sleep(for: .milliseconds(50))
        buffer.close()
        #expect(await producer.value == false)
        #expect(buffer.take() == nil)
    }
}
