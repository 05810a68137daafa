import Foundation
@testable import Ingest
import Logging
import Testing

/// The relay source against the local relay replayer (Tests/replayer/relay_replayer.py) on loopback.
@Suite("relay source", .serialized)
struct RelaySourceTests {
    static let corpusFrames = RelayCorpus.directory.appendingPathComponent("frames.bin.zst")
    static let firstSeq: Int64 = 31_527_015_322
    static let lastSeq: Int64 = 31_527_015_471

    /// The corpus's expected events of collections the indexer writes (what the source decodes), time_us zeroed.
    static func expectedCorpusEvents() throws -> [[UInt8]] {
        try RelayCorpus.expectedLines.filter { line in
            let object = try JSONSerialization.jsonObject(with: Data(line)) as! [String: Any]
            guard let commit = object["commit"] as? [String: Any] else { return true }
            return IndexedCollection(rawValue: commit["collection"] as! String) != nil
        }.map(RelayCorpus.withoutTime)
    }

    @Test("the corpus through the source: the events Jetstream produced, in order; seq cursors; frames counted by type")
    func corpus() async throws {
        let replayer = try RelayReplayer(file: Self.corpusFrames)
        let source = RelaySource.forTest(url: replayer.url)
        defer { source.stop() }
        let expected = try Self.expectedCorpusEvents()
        #expect(expected.count == 150)
        // 150 events plus the positions of the frames that yield none (ops of other collections only).
        let items = try await blocking { try source.takeUntil(seq: Self.lastSeq) }
        let events = items.filter { !$0.json.isEmpty }
        #expect(events.map { RelayCorpus.withoutTime([UInt8]($0.json)) } == expected)
        let times = events.map { RelayCorpus.time([UInt8]($0.json))! }
        #expect(zip(times, times.dropFirst()).allSatisfy { $0 <= $1 }, "time_us: the receiver's clock, never backwards")
        // Cursors: never decreasing; every frame's seq appears once, on its last item.
        let cursors = items.map { $0.cursor! }
        #expect(zip(cursors, cursors.dropFirst()).allSatisfy { $0 <= $1 })
        #expect(Set(cursors).isSuperset(of: Set(Self.firstSeq...Self.lastSeq)))
        #expect(cursors.last == Self.lastSeq)
        let statistics = source.statistics
        #expect(statistics.frames == ["commit": 148, "identity": 1, "account": 1])
        #expect(statistics.messages == 150)
        #expect(statistics.events == 150)
        #expect(statistics.lastSeq == Self.lastSeq)
        #expect(statistics.malformedFrames.isEmpty && statistics.outOfOrderFrames == 0 && statistics.replayedFrames == 0)
        #expect(statistics.connects == 1, "\(statistics)")
        #expect(try await replayer.status().connections.map(\.cursor) == [nil])
    }

    @Test("a dropped connection resumes at the committed seq: nothing lost, nothing delivered twice")
    func resumeAfterDrop() async throws {
        let replayer = try RelayReplayer(file: Self.corpusFrames, arguments: ["--drop-after", "60"])
        let committed = LockedValue<Int64?>(nil)
        // The reconnect waits 1.5 s: by then the reader has long taken its 30 frames.
        let source = RelaySource.forTest(url: replayer.url, committed: committed) {
            $0.reconnectMinimumMilliseconds = 1500
            $0.reconnectMaximumMilliseconds = 1500
        }
        defer { source.stop() }
        // The "pipeline" commits the first 30 frames, then stalls until the source has reconnected:
        // the frames after them that the first connection delivered are still in the buffer.
        let committedAtDrop = Self.firstSeq + 29
        var items = try await blocking { try source.takeUntil(seq: committedAtDrop, committing: committed) }
        try await eventually(timeout: 120) { ((try? replayer.statusNow())?.connections.count ?? 0) >= 2 }
        items += try await blocking { try source.takeUntil(seq: Self.lastSeq, committing: committed) }
        let events = items.filter { !$0.json.isEmpty }.map { RelayCorpus.withoutTime([UInt8]($0.json)) }
        #expect(events == (try Self.expectedCorpusEvents()), "every event once, in order")
        let connections = try await replayer.status().connections
        #expect(connections.map(\.cursor) == [nil, committedAtDrop])
        let statistics = source.statistics
        #expect(statistics.reconnects == 1)
        #expect(statistics.lastConnectCursor == committedAtDrop)
        // The second connection repeated what the first had delivered after the committed seq: skipped,
        // not re-delivered (the replayer's abort may lose the last few frames it wrote of the 60).
        #expect(statistics.replayedFrames >= 20 && statistics.replayedFrames <= 30, "\(statistics.replayedFrames)")
        #expect(statistics.outOfOrderFrames == 0)
        #expect(statistics.messages == 150 + statistics.replayedFrames)
    }

    @Test("a drop before anything is committed resumes before the first frame received, not at the live head")
    func resumeBeforeAnyCommit() async throws {
        let replayer = try RelayReplayer(file: Self.corpusFrames, arguments: ["--drop-after", "40"])
        let source = RelaySource.forTest(url: replayer.url)  // never commits
        defer { source.stop() }
        let items = try await blocking { try source.takeUntil(seq: Self.lastSeq) }
        let events = items.filter { !$0.json.isEmpty }.map { RelayCorpus.withoutTime([UInt8]($0.json)) }
        #expect(events == (try Self.expectedCorpusEvents()), "every event once, in order")
        #expect(try await replayer.status().connections.map(\.cursor) == [nil, Self.firstSeq - 1])
        #expect(source.statistics.replayedFrames >= 30)
    }

    @Test("an error frame is counted and ends the connection; it is re-opened at the committed seq; nothing lost")
    func errorFrameReconnects() async throws {
        let replayer = try RelayReplayer(file: Self.corpusFrames, arguments: ["--error-after", "40"])
        let committed = LockedValue<Int64?>(nil)
        let source = RelaySource.forTest(url: replayer.url, committed: committed)
        defer { source.stop() }
        let items = try await blocking { try source.takeUntil(seq: Self.lastSeq, committing: committed) }
        let events = items.filter { !$0.json.isEmpty }.map { RelayCorpus.withoutTime([UInt8]($0.json)) }
        #expect(events == (try Self.expectedCorpusEvents()))
        let statistics = source.statistics
        #expect(statistics.errorFrames == ["ConsumerTooSlow": 1])
        #expect(statistics.frames["error"] == 1)
        #expect(statistics.connects == 2)
        #expect(try await replayer.status().connections.count == 2)
    }

    @Test("FutureCursor: counted on every attempt, retried with a growing backoff rather than a hot loop")
    func futureCursorBacksOff() async throws {
        let replayer = try RelayReplayer(file: Self.corpusFrames)
        let source = RelaySource.forTest(url: replayer.url, committed: LockedValue<Int64?>(Self.lastSeq + 1_000)) {
            $0.reconnectMinimumMilliseconds = 50
            $0.reconnectMaximumMilliseconds = 400
        }
        Thread.detachNewThread { _ = try? source.next() }
        let started = Date()
        try await Task.sleep(for: .seconds(3))
        try await eventually(timeout: 120) { (source.statistics.errorFrames["FutureCursor"] ?? 0) >= 3 }
        let elapsed = Date().timeIntervalSince(started)
        let statistics = source.statistics
        source.stop()
        let failures = statistics.errorFrames["FutureCursor"] ?? 0
        #expect(failures >= 3)
        // Every connection got the error: none counted as healthy, so the delays grew towards the 400 ms
        // cap (about 4 attempts a second; a backoff reset after each would allow about 20).
        #expect(Double(failures) <= 8 * elapsed + 2, "\(failures) attempts in \(elapsed) s")
        #expect(statistics.events == 0 && statistics.lastSeq == nil)
        #expect(statistics.connects - failures <= 1, "each connection ended by its error frame")
    }

    @Test("an out-of-order seq, a garbage frame, a text message and an #info frame are each counted and skipped")
    func faultsCountedAndSkipped() async throws {
        let replayer = try RelayReplayer(file: Self.corpusFrames, arguments: [
            "--repeat-after", "20", "--garbage-after", "30", "--text-after", "50", "--info-after", "70",
        ])
        let source = RelaySource.forTest(url: replayer.url)
        defer { source.stop() }
        let items = try await blocking { try source.takeUntil(seq: Self.lastSeq) }
        let events = items.filter { !$0.json.isEmpty }.map { RelayCorpus.withoutTime([UInt8]($0.json)) }
        #expect(events == (try Self.expectedCorpusEvents()), "every event once, in order")
        let statistics = source.statistics
        #expect(statistics.outOfOrderFrames == 1)
        #expect(statistics.malformedFrames.values.reduce(0, +) == 1)
        #expect(statistics.invalidMessages == 1)
        #expect(statistics.infoFrames == ["OutdatedCursor": 1])
        #expect(statistics.connects == 1, "none of these ends the connection")
    }

    @Test("backpressure: a reader that stops reading stops the replayer; the buffer stays within its capacity; nothing lost")
    func backpressure() async throws {
        let stream = try RelayTestStreams.generated(events: 3000, paddingBytes: 8 << 10)
        defer { stream.remove() }
        let replayer = try RelayReplayer(file: stream.frames)
        let source = RelaySource.forTest(url: replayer.url) {
            $0.bufferCapacity = 32
            $0.stallTimeoutSeconds = 1  // a pause longer than this is not a stall
        }
        defer { source.stop() }
        var items = try await blocking { try source.take(10) }
        try await eventually(timeout: 120) { source.statistics.backpressured }
        try await Task.sleep(for: .milliseconds(1500))
        let statistics = source.statistics
        #expect(statistics.bufferDepth <= 32 && statistics.bufferMaximumDepth <= 32)
        #expect(statistics.backpressured)
        let sentDuringPause = try await replayer.status().sent
        try await Task.sleep(for: .milliseconds(500))
        let sentLater = try await replayer.status().sent
        #expect(sentLater == sentDuringPause, "the replayer is blocked")
        #expect(sentLater < stream.frameCount / 2, "sent \(sentLater) of \(stream.frameCount)")
        items += try await blocking { try source.takeUntil(seq: Int64(stream.frameCount)) }
        let events = items.filter { !$0.json.isEmpty }
        #expect(events.count == stream.expectedEvents)
        let after = source.statistics
        #expect(after.stalls == 0 && after.connects == 1 && after.bufferMaximumDepth <= 32)
        #expect(after.lastSeq == Int64(stream.frameCount))
    }
}

/// Tests/replayer/relay_replayer.py run as a subprocess on a free loopback port.
final class RelayReplayer {
    struct Status {
        var sent: Int
        var connections: [(cursor: Int64?, sent: Int)]
    }

    let process = Process()
    let port: Int
    let statusFile: URL

    static let replayerDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("replayer")

    init(file: URL, arguments: [String] = []) throws {
        statusFile = FileManager.default.temporaryDirectory.appendingPathComponent("relay-replayer-\(UUID().uuidString).json")
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.replayerDirectory.appendingPathComponent("relay_replayer.py").path, "--file", file.path,
                             "--port", "0", "--status-file", statusFile.path] + arguments
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(15)
        var listening: Int?
        while listening == nil {
            guard process.isRunning, Date() < deadline else {
                kill(process.processIdentifier, SIGKILL)
                throw JetstreamReplayer.ReplayerError.didNotStart
            }
            Thread.sleep(forTimeInterval: 0.02)
            listening = (try? Self.readStatusObject(statusFile))?["listening"] as? Int
        }
        port = listening!
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: statusFile)
    }

    var url: String { "ws://127.0.0.1:\(port)" }

    /// The replayer rewrites its status every 50 ms; this waits one period so it is current.
    func status() async throws -> Status {
        try await Task.sleep(for: .milliseconds(120))
        return try statusNow()
    }

    /// The status as last written (up to 50 ms old).
    func statusNow() throws -> Status {
        guard let object = try Self.readStatusObject(statusFile) else { throw JetstreamReplayer.ReplayerError.noStatus }
        let connections = (object["connections"] as? [[String: Any]] ?? []).map { connection in
            ((connection["cursor"] as? NSNumber)?.int64Value, connection["sent"] as? Int ?? 0)
        }
        return Status(sent: object["sent"] as? Int ?? 0, connections: connections)
    }

    private static func readStatusObject(_ url: URL) throws -> [String: Any]? {
        guard let data = try? Data(contentsOf: url) else { return nil }
        return try JSONSerialization.jsonObject(with: data) as? [String: Any]
    }
}

/// Relay frame files generated from synthetic Jetstream streams (Tests/replayer/relay_frames.py).
enum RelayTestStreams {
    struct Stream {
        let directory: URL
        let frames: URL
        let expected: URL
        let frameCount: Int
        let expectedEvents: Int
        func remove() { try? FileManager.default.removeItem(at: directory) }
    }

    /// `events` synthetic events (`SyntheticStreamGenerator`), each record padded with `paddingBytes`,
    /// as frames with seq 1…n and the Jetstream events they decode to.
    static func generated(events: Int, paddingBytes: Int = 0, opsPerCommit: Int = 1) throws -> Stream {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("relay-stream-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var generator = SyntheticStreamGenerator(actorCount: 200, seed: 5)
        var lines = ""
        let padding = String(repeating: "p", count: paddingBytes)
        generator.generate(count: events) { line in
            if paddingBytes > 0, line.contains("\"record\":{") {
                lines += line.replacingOccurrences(of: "\"record\":{", with: "\"record\":{\"padding\":\"\(padding)\",")
            } else {
                lines += line
            }
            lines += "\n"
        }
        let jsonl = directory.appendingPathComponent("events.jsonl")
        try lines.write(to: jsonl, atomically: true, encoding: .utf8)
        let frames = directory.appendingPathComponent("frames.bin")
        let expected = directory.appendingPathComponent("expected.jsonl")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", RelayReplayer.replayerDirectory.appendingPathComponent("relay_frames.py").path, "generate",
                             "--jsonl", jsonl.path, "--out", frames.path, "--expected", expected.path,
                             "--ops-per-commit", String(opsPerCommit)]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let summary = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0, let count = Int(summary.split(separator: " ").first ?? "") else {
            throw JetstreamReplayer.ReplayerError.didNotStart
        }
        let expectedEvents = try String(contentsOf: expected, encoding: .utf8).split(separator: "\n").filter { line in
            guard let collection = line.firstRange(of: "\"collection\":\"") else { return true }
            let rest = line[collection.upperBound...]
            return IndexedCollection(rawValue: String(rest.prefix { $0 != "\"" })) != nil
        }.count
        return Stream(directory: directory, frames: frames, expected: expected, frameCount: count, expectedEvents: expectedEvents)
    }
}

extension RelaySource {
    /// A source with test-friendly timings against a local replayer.
    static func forTest(url: String, committed: LockedValue<Int64?>? = nil,
                        _ adjust: (inout RelaySourceConfiguration) -> Void = { _ in }) -> RelaySource {
        var configuration = RelaySourceConfiguration(url: url)
        configuration.reconnectMinimumMilliseconds = 20
        configuration.reconnectMaximumMilliseconds = 200
        adjust(&configuration)
        var logger = Logger(label: "test.relay")
        logger.logLevel = ProcessInfo.processInfo.environment["RELAY_TEST_LOG"] == nil ? .critical : .debug
        return RelaySource(configuration: configuration, resumeCursor: { committed?.get() ?? nil }, logger: logger)
    }

    /// Reads `count` items on this thread, failing after `timeout` seconds instead of hanging.
    func take(_ count: Int, timeout: TimeInterval = 120) throws -> [SourceEvent] {
        var items: [SourceEvent] = []
        let watchdog = DispatchWorkItem { [weak self] in self?.stop() }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
        defer { watchdog.cancel() }
        while items.count < count, let item = try next() { items.append(item) }
        return items
    }

    /// Reads items until one carries `seq`, "committing" each item's cursor as the pipeline would
    /// (optionally pausing every `pauseEvery` items, a slow pipeline).
    func takeUntil(seq: Int64, committing committed: LockedValue<Int64?>? = nil, pauseEvery: Int? = nil,
                   timeout: TimeInterval = 120) throws -> [SourceEvent] {
        var items: [SourceEvent] = []
        let watchdog = DispatchWorkItem { [weak self] in self?.stop() }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
        defer { watchdog.cancel() }
        while let item = try next() {
            items.append(item)
            if let cursor = item.cursor { committed?.set(cursor) }
            if let pauseEvery, items.count % pauseEvery == 0 { Thread.sleep(forTimeInterval: 0.02) }
            if item.cursor == seq { break }
        }
        return items
    }
}
