import Foundation
@testable import Ingest
import Testing

/// A measurement, not a test: the resident memory of this process while a fast replay meets a slow
/// consumer. Runs only with JETSTREAM_MEMORY_PROBE=<events> (e.g. 300000); prints its figures.
/// JETSTREAM_PROBE_FAST_CONSUMER=1 reads as fast as possible instead (the source's throughput).
@Suite("Jetstream source memory probe")
struct JetstreamSourceMemoryProbe {
    static let events = Int(ProcessInfo.processInfo.environment["JETSTREAM_MEMORY_PROBE"] ?? "") ?? 0
    static let slowConsumer = ProcessInfo.processInfo.environment["JETSTREAM_PROBE_FAST_CONSUMER"] == nil

    @Test("resident memory stays bounded with a slow consumer", .enabled(if: events > 0))
    func probe() async throws {
        let (file, times) = try JetstreamTestStreams.sortedStream(count: Self.events, stepMicroseconds: 100)
        defer { try? FileManager.default.removeItem(at: file) }
        let fileBytes = (try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int) ?? 0
        let replayer = try JetstreamReplayer(file: file)
        let configuration = try JetstreamSourceConfiguration.fromEnvironment(ProcessInfo.processInfo.environment)
        let source = JetstreamSource.forTest(url: replayer.url) {
            $0.bufferCapacity = configuration.bufferCapacity
            $0.bufferMaximumBytes = configuration.bufferMaximumBytes
        }
        defer { source.stop() }
        let baseline = Self.residentKilobytes()
        let peak = LockedValue(baseline)
        let sampling = LockedValue(true)
        Thread.detachNewThread {
            while sampling.get() {
                let now = Self.residentKilobytes()
                peak.update { $0 = max($0, now) }
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
        let started = Date()
        // The slow consumer, on its own thread: a pause of 1 ms every 10 messages (under 10,000 messages/s,
        // slower than the replayer sends).
        let slow = Self.slowConsumer
        let (count, inOrder) = try await blocking { () throws -> (Int, Bool) in
            var count = 0
            var last: Int64 = 0
            var inOrder = true
            while count < times.count, let message = try source.next()?.json {
                let time = timeMicroseconds(message)
                inOrder = inOrder && time > last
                last = time
                count += 1
                if slow && count % 10 == 0 { Thread.sleep(forTimeInterval: 0.001) }
            }
            return (count, inOrder)
        }
        sampling.set(false)
        let elapsed = Date().timeIntervalSince(started)
        let sent = try await replayer.status().sent
        let statistics = source.statistics
        print("""
            JETSTREAM MEMORY PROBE: \(count) events, \(fileBytes / 1_048_576) MiB replayed in \(String(format: "%.1f", elapsed)) s \
            (\(Int(Double(count) / elapsed)) events/s); buffer capacity \(configuration.bufferCapacity) messages / \
            \(configuration.bufferMaximumBytes / 1_048_576) MiB, deepest \(statistics.bufferMaximumDepth); \
            RSS baseline \(baseline / 1024) MiB, peak \(peak.get() / 1024) MiB (+\((peak.get() - baseline) / 1024) MiB); \
            replayer sent \(sent)
            """)
        #expect(count == times.count)
        #expect(inOrder)
        #expect(statistics.bufferMaximumDepth <= configuration.bufferCapacity)
    }

    /// VmRSS of this process in KiB (Linux).
    static func residentKilobytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? 0
        }
        return 0
    }
}
