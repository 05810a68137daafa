import Foundation
@testable import Ingest
import Storage
import Testing

/// The pipeline's resume cursor when a source gives positions of its own (the relay's `seq`):
/// several events share one position, and positions without events must still move it.
@Suite("relay cursor in the pipeline", .serialized)
struct RelaySourceCursorTests {
    @Test("two events of one commit: the position is not committed until both are")
    func sharedPositionWaitsForEveryEvent() {
        // The relay source hands a frame's events as [previous seq, …, seq]: only the last one carries it.
        let watermark = CommitWatermark(initial: 100)
        let first = watermark.register(time: 100)!   // event 1 of seq 101
        let second = watermark.register(time: 101)!  // event 2 of seq 101
        let third = watermark.register(time: 102)!   // seq 102
        // The second event (another partition) commits first: nothing before it is complete.
        #expect(watermark.watermark(assumingCommitted: [second]) == 100)
        watermark.markCommitted([second])
        #expect(watermark.committed == 100)
        #expect(watermark.watermark(assumingCommitted: [first]) == 101)
        watermark.markCommitted([first])
        #expect(watermark.committed == 101)
        watermark.markCommitted([third])
        #expect(watermark.committed == 102)
    }

    @Test("positions alone move the stored cursor past frames that yield no event; events keep their time_us")
    func positionsAloneMoveTheCursor() throws {
        let harness = try IngestHarness("relay_cursor_positions")
        let lines = try IngestHarness.corpusLines().prefix(6).map { SourceEvent(json: Data($0.utf8)) }
        var items: [SourceEvent] = []
        for (index, line) in lines.enumerated() {
            items.append(SourceEvent(json: line.json, cursor: Int64(1000 + 2 * index)))
            items.append(.position(Int64(1001 + 2 * index)))  // e.g. a like of a collection not indexed
        }
        items += [.position(2000), .position(2001)]  // #info frames carry none; these are e.g. #sync
        let counters = try run(items, on: harness, source: "relay")
        #expect(counters.applied == 6)
        #expect(try harness.indexer.cursor(source: "relay") == 2001)
        // indexed_at is still the event's own time_us, not the position.
        let earliest = try harness.pool.withConnection { try $0.query("SELECT min(commit_time_us) FROM posts")[0].int64(0) }
        if let earliest { #expect(earliest > 1_700_000_000_000_000) }
        let likes = try harness.pool.withConnection { try $0.query("SELECT min(extract(epoch FROM indexed_at))::bigint FROM likes")[0].int64(0) }
        #expect((likes ?? 0) > 1_700_000_000)
    }

    @Test("an event the decoder refuses does not hold its position back")
    func refusedEventPassesItsPosition() throws {
        let harness = try IngestHarness("relay_cursor_refused")
        let line = try IngestHarness.corpusLines()[0]
        let items = [SourceEvent(json: Data(line.utf8), cursor: 10), SourceEvent(json: Data("{not json".utf8), cursor: 11)]
        let counters = try run(items, on: harness, source: "relay")
        #expect(counters.applied == 1)
        #expect(counters.errorCount == 1)
        #expect(try harness.indexer.cursor(source: "relay") == 11)
    }

    @Test("a resumed run skips items at or below the stored position, by position, not by time_us")
    func skipThroughComparesPositions() throws {
        let harness = try IngestHarness("relay_cursor_skip")
        let lines = try IngestHarness.corpusLines().prefix(10)
        let items = lines.enumerated().map { SourceEvent(json: Data($1.utf8), cursor: Int64(500 + $0)) }
        let counters = try run(items, on: harness, source: "relay", skipThrough: 504)
        #expect(counters.skippedApplied == 5)
        #expect(counters.received == 10)
        #expect(try harness.indexer.cursor(source: "relay") == 509)
    }

    private func run(_ items: [SourceEvent], on harness: IngestHarness, source: String, skipThrough: Int64? = nil) throws -> IngestCounterValues {
        let configuration = IngestPipelineConfiguration(partitions: 3, batchSize: 2, batchMaxDelayMilliseconds: 5,
                                                        queueCapacity: 4, maxConcurrentOperations: 2)
        let pipeline = IngestPipeline(indexer: harness.indexer, configuration: configuration, cursorSource: source,
                                      resumeCursor: skipThrough, skipThrough: skipThrough, outageRetryLimit: 5)
        return try pipeline.run(ListSource(items))
    }
}

/// Serves a fixed list of items, then ends.
final class ListSource: EventSource, @unchecked Sendable {
    private let lock = NSLock()
    private var items: [SourceEvent]
    private var stopped = false

    init(_ items: [SourceEvent]) { self.items = items.reversed() }

    func next() throws -> SourceEvent? {
        lock.withLock { stopped ? nil : items.popLast() }
    }

    func stop() { lock.withLock { stopped = true } }
}
