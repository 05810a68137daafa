import Foundation
@testable import Ingest
import Logging

/// Tests/replayer/jetstream_replayer.py run as a subprocess on a free loopback port.
final class JetstreamReplayer {
    struct Status {
        var sent: Int
        /// Per connection: the `cursor` it asked for and how many events it was sent.
        var connections: [(cursor: Int64?, wantedCollections: [String], sent: Int)]
        /// Ping frames received from clients (with `--count-pings`).
        var pings: Int
    }

    let process = Process()
    let port: Int
    let statusFile: URL

    static var scriptPath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("replayer/jetstream_replayer.py").path
    }

    init(file: URL, arguments: [String] = []) throws {
        statusFile = FileManager.default.temporaryDirectory.appendingPathComponent("jetstream-replayer-\(UUID().uuidString).json")
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.scriptPath, "--file", file.path, "--port", "0",
                             "--status-file", statusFile.path] + arguments
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(15)
        var listening: Int?
        while listening == nil {
            guard process.isRunning, Date() < deadline else {
                kill(process.processIdentifier, SIGKILL)
                throw ReplayerError.didNotStart
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

    var url: String { "ws://127.0.0.1:\(port)/subscribe" }

    enum ReplayerError: Error { case didNotStart, noStatus }

    /// The replayer rewrites its status every 50 ms; this waits one period so it is current.
    func status() async throws -> Status {
        try await Task.sleep(for: .milliseconds(120))
        guard let object = try Self.readStatusObject(statusFile) else { throw ReplayerError.noStatus }
        let connections = (object["connections"] as? [[String: Any]] ?? []).map { connection in
            ((connection["cursor"] as? NSNumber)?.int64Value, connection["wantedCollections"] as? [String] ?? [],
             connection["sent"] as? Int ?? 0)
        }
        return Status(sent: object["sent"] as? Int ?? 0, connections: connections, pings: object["pings"] as? Int ?? 0)
    }

    private static func readStatusObject(_ url: URL) throws -> [String: Any]? {
        guard let data = try? Data(contentsOf: url) else { return nil }
        return try JSONSerialization.jsonObject(with: data) as? [String: Any]
    }
}

/// Event files for the source tests.
enum JetstreamTestStreams {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/firehose-2026-07-04/expected_v1.jsonl")

    static func corpusLines() throws -> [Data] {
        try Data(contentsOf: corpus).split(separator: UInt8(ascii: "\n")).filter { !$0.isEmpty }.map { Data($0) }
    }

    /// `count` events cycled from the corpus, re-stamped `time_us = start + i · step` so the file
    /// is in cursor order and every event is identified by its time; `padding` bytes are added to
    /// each record (to make a stream large in bytes).
    static func sortedStream(count: Int, start: Int64 = 1_783_000_000_000_000, stepMicroseconds: Int64 = 10_000,
                             padding: Int = 0) throws -> (file: URL, times: [Int64]) {
        let corpusLines = try corpusLines().filter { line in
            // keep only events every subscription receives (indexed collections, identity, account)
            guard let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any] else { return false }
            guard let commit = object["commit"] as? [String: Any] else { return true }
            return IndexedCollection(rawValue: commit["collection"] as? String ?? "") != nil
        }
        let pad = String(repeating: "p", count: padding)
        var output = Data()
        var times: [Int64] = []
        for index in 0..<count {
            let time = start + Int64(index) * stepMicroseconds
            var text = String(decoding: corpusLines[index % corpusLines.count], as: UTF8.self)
            text = text.replacingOccurrences(of: #""time_us":[0-9]+"#, with: "\"time_us\":\(time)", options: .regularExpression)
            if padding > 0 { text = String(text.dropLast()) + ",\"padding\":\"\(pad)\"}" }
            output.append(contentsOf: text.utf8)
            output.append(UInt8(ascii: "\n"))
            times.append(time)
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("jetstream-stream-\(UUID().uuidString).jsonl")
        try output.write(to: file)
        return (file, times)
    }
}

/// Thread-safe cell for values a test shares with the source's callbacks.
final class LockedValue<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func get() -> Value { lock.withLock { value } }
    func set(_ newValue: Value) { lock.withLock { value = newValue } }
    func update(_ body: (inout Value) -> Void) { lock.withLock { body(&value) } }
}

extension JetstreamSource {
    /// A source with test-friendly timings against a local replayer.
    static func forTest(url: String, committed: LockedValue<Int64?>? = nil,
                        _ adjust: (inout JetstreamSourceConfiguration) -> Void = { _ in }) -> JetstreamSource {
        var configuration = JetstreamSourceConfiguration(url: url)
        configuration.reconnectMinimumMilliseconds = 20
        configuration.reconnectMaximumMilliseconds = 200
        configuration.resumeRewindSeconds = 1
        adjust(&configuration)
        var logger = Logger(label: "test.jetstream")
        logger.logLevel = ProcessInfo.processInfo.environment["JETSTREAM_TEST_LOG"] == nil ? .critical : .debug
        return JetstreamSource(configuration: configuration, resumeCursor: { committed?.get() ?? nil }, logger: logger)
    }

    /// Reads `count` messages on this thread, failing after `timeout` seconds instead of hanging.
    func take(_ count: Int, timeout: TimeInterval = 20, onEach: (Data) -> Void = { _ in }) throws -> [Data] {
        var messages: [Data] = []
        let watchdog = DispatchWorkItem { [weak self] in self?.stop() }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
        defer { watchdog.cancel() }
        while messages.count < count, let message = try next()?.json {
            onEach(message)
            messages.append(message)
        }
        return messages
    }

    /// Takes messages, "committing" each one's time_us as the pipeline would, until every time in
    /// `times` has been seen; returns the times in arrival order (duplicates included).
    func takeUntilAllSeen(_ times: [Int64], committing committed: LockedValue<Int64?>, timeout: TimeInterval = 20) throws -> [Int64] {
        var received: [Int64] = []
        var missing = Set(times)
        let watchdog = DispatchWorkItem { [weak self] in self?.stop() }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
        defer { watchdog.cancel() }
        while !missing.isEmpty, let message = try next()?.json {
            let time = timeMicroseconds(message)
            received.append(time)
            missing.remove(time)
            committed.set(time)
        }
        return received
    }
}

/// Runs blocking code (the source's `next()`, as the pipeline's reader thread calls it) on a thread
/// of its own: blocking one of the few cooperative threads would starve the source's own tasks.
func blocking<T>(_ body: @escaping () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}

/// Waits until `condition` holds, up to `timeout` seconds (then returns; the caller's expectations fail).
func eventually(timeout: TimeInterval = 15, _ condition: () -> Bool) async throws {
    let deadline = Date().addingTimeInterval(timeout)
    while !condition() && Date() < deadline {
        try await Task.sleep(for: .milliseconds(20))
    }
}

func timeMicroseconds(_ message: Data) -> Int64 {
    JetstreamTimeField.timeMicroseconds(in: message) ?? -1
}
