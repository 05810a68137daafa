import Foundation
@testable import Ingest
import Storage
import Testing

/// The ingest pipeline against the sequential reference (one batch after another, one thread).
@Suite("ingest pipeline", .serialized)
struct PipelineTests {
    static func syntheticLines(_ count: Int, actors: Int = 300, seed: UInt64 = 3) -> [String] {
        var generator = SyntheticStreamGenerator(actorCount: actors, seed: seed)
        var lines: [String] = []
        generator.generate(count: count) { lines.append($0) }
        return lines
    }

    static func demoLines() throws -> [String] {
        var generator = DemoDataGenerator(actorCount: 30, seed: 1)
        var lines: [String] = []
        _ = try generator.generate { lines.append($0) }
        return lines
    }

    /// Imports `lines` through the pipeline into one database and sequentially into another; the
    /// tables must be identical row for row.
    func expectSameAsSequential(_ lines: [String], name: String, batchSize: Int, partitions: Int) throws {
        let sequential = try IngestHarness("pipeline_\(name)_seq")
        try sequential.applySequentially(lines, batchSize: 500)
        let pipelined = try IngestHarness("pipeline_\(name)_pipe")
        let statistics = try pipelined.importLines(lines, batchSize: batchSize, partitions: partitions)
        #expect(statistics.errorCount == 0, "\(statistics.errors)")
        let expected = try sequential.dump(), actual = try pipelined.dump()
        #expect(IngestHarness.differences(actual, expected) == [])
        for table in IngestHarness.tables {
            #expect(!expected[table]!.isEmpty || table == "blocks", "table \(table) is empty: the comparison proves nothing")
        }
    }

    @Test("the corpus through 4 partitions gives the same tables as sequential batches")
    func corpus() throws {
        try expectSameAsSequential(try IngestHarness.corpusLines(), name: "corpus", batchSize: 7, partitions: 4)
    }

    @Test("demo data through the pipeline gives the same tables as sequential batches")
    func demo() throws {
        try expectSameAsSequential(try Self.demoLines(), name: "demo", batchSize: 64, partitions: 3)
    }

    @Test("a synthetic stream with deletes, updates, identity and account events: same tables")
    func synthetic() throws {
        let lines = Self.syntheticLines(8_000)
        #expect(lines.filter { $0.contains("\"operation\":\"delete\"") }.count > 150)
        try expectSameAsSequential(lines, name: "synthetic", batchSize: 250, partitions: 4)
    }

    @Test("the watermark covers only the committed prefix of arrival order")
    func watermark() {
        let watermark = CommitWatermark(initial: 5)
        let a = watermark.register(time: 10)!, b = watermark.register(time: 20)!
        _ = watermark.register(time: 25, alreadyDone: true)
        let c = watermark.register(time: 30)!
        // Another partition's batch (c) commits first: the cursor cannot pass a and b.
        #expect(watermark.watermark(assumingCommitted: [c]) == 5)
        watermark.markCommitted([c])
        #expect(watermark.committed == 5)
        #expect(watermark.watermark(assumingCommitted: [a]) == 10)
        #expect(watermark.watermark(assumingCommitted: [a, b]) == 30)
        watermark.markCommitted([a, b])
        #expect(watermark.committed == 30)
        #expect(watermark.inFlight == 0)
    }

    @Test("the watermark tracks at most its capacity: past it the reader waits for a commit")
    func watermarkBounded() {
        let watermark = CommitWatermark(capacity: 3)
        let first = watermark.register(time: 1)!
        _ = watermark.register(time: 2, alreadyDone: true)
        _ = watermark.register(time: 3, alreadyDone: true)
        let registered = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            _ = watermark.register(time: 4, alreadyDone: true)
            registered.signal()
        }
        // Blocked behind the uncommitted first event…
        #expect(registered.wait(timeout: .now() + 0.3) == .timedOut)
        watermark.markCommitted([first])
        // …until it commits; then all four are done.
        #expect(registered.wait(timeout: .now() + 5) == .success)
        #expect(watermark.committed == 4)
        let cancelled = CommitWatermark(capacity: 1)
        _ = cancelled.register(time: 1)
        cancelled.cancel()
        #expect(cancelled.register(time: 2) == nil)
    }

    @Test("a full queue stops the reader; once the writers resume, every event is applied")
    func backpressure() throws {
        let harness = try IngestHarness("pipeline_backpressure")
        let lines = Self.syntheticLines(5_000)
        let source = CountingSource(lines: lines)
        let configuration = IngestPipelineConfiguration(partitions: 2, batchSize: 50, batchMaxDelayMilliseconds: 5,
                                                        queueCapacity: 100, maxConcurrentOperations: 2)
        let pipeline = IngestPipeline(indexer: harness.indexer, configuration: configuration, cursorSource: "test")
        // Hold the indexer's writer lock: every batch transaction waits behind it.
        let blocker = try PostgresConnection(conninfo: harness.database.url)
        defer { blocker.close() }
        try blocker.execute("BEGIN")
        try blocker.query("SELECT pg_advisory_xact_lock($1::bigint)", [Indexer.writerLockKey])
        let done = DispatchSemaphore(value: 0)
        let failures = FailureLog()
        Thread.detachNewThread {
            do { try pipeline.run(source) } catch { failures.record("\(error)") }
            done.signal()
        }
        Thread.sleep(forTimeInterval: 1.5)
        // Bounded: two queues of 100, two batches in flight of 50, one event in the reader's hand.
        let readWhileBlocked = source.served
        #expect(readWhileBlocked <= 2 * 100 + 2 * 50 + 1 + 5, "read \(readWhileBlocked) events while the writers were blocked")
        #expect(readWhileBlocked >= 200)
        try blocker.execute("COMMIT")
        done.wait()
        #expect(failures.messages.isEmpty)
        #expect(source.served == lines.count)
        let sequential = try IngestHarness("pipeline_backpressure_seq")
        try sequential.applySequentially(lines, source: "test")
        #expect(IngestHarness.differences(try harness.dump(), try sequential.dump()) == [])
    }

    @Test("stopped midway and resumed from the stored cursor: the same tables as one run")
    func resume() throws {
        let lines = Self.syntheticLines(6_000, seed: 11)
        let harness = try IngestHarness("pipeline_resume")
        let configuration = IngestPipelineConfiguration(partitions: 3, batchSize: 100, batchMaxDelayMilliseconds: 5,
                                                        queueCapacity: 200, maxConcurrentOperations: 2)
        for stopAfter in [1_000, 2_500, 4_100, nil] {
            let cursor = try harness.indexer.cursor(source: "resume")
            let pipeline = IngestPipeline(indexer: harness.indexer, configuration: configuration, cursorSource: "resume",
                                          resumeCursor: cursor, skipThrough: cursor)
            let source = CountingSource(lines: lines, stopAfter: stopAfter)
            let values = try pipeline.run(source)
            if let cursor { #expect(values.skippedApplied > 0 && Int64(values.skippedApplied) <= Int64(lines.count)) }
            // After the drain the stored cursor is the last event read: everything read is committed.
            let readTimes = lines.prefix(source.served).compactMap { try? JetstreamEventDecoder.decode($0).get().timeMicroseconds }
            #expect(try harness.indexer.cursor(source: "resume") == readTimes.max())
        }
        let sequential = try IngestHarness("pipeline_resume_seq")
        try sequential.applySequentially(lines, source: "resume")
        #expect(IngestHarness.differences(try harness.dump(), try sequential.dump()) == [])
    }
}

/// Serves lines one at a time and counts how many were taken; optionally stops itself after
/// `stopAfter` lines, as SIGTERM would.
final class CountingSource: EventSource, @unchecked Sendable {
    private let lock = NSLock()
    private let lines: [Data]
    private var position = 0
    private var stopped = false
    private let stopAfter: Int?

    init(lines: [String], stopAfter: Int? = nil) {
        self.lines = lines.map { Data($0.utf8) }
        self.stopAfter = stopAfter
    }

    var served: Int { lock.withLock { position } }

    func next() throws -> SourceEvent? {
        lock.withLock {
            if let stopAfter, position >= stopAfter { stopped = true }
            guard !stopped, position < lines.count else { return nil }
            position += 1
            return SourceEvent(json: lines[position - 1])
        }
    }

    func stop() { lock.withLock { stopped = true } }
}
