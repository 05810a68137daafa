import Foundation
import Logging
import Storage

/// The one ingest path, for files, stdin and live Jetstream alike.
///
/// A reader thread reads the `EventSource`, decodes each message and routes it by a hash of its
/// DID to one of `partitions` bounded queues, so one repository's events keep their order while
/// different repositories proceed in parallel. One writer thread per partition commits batches
/// (at most `batchSize` events, waiting at most `batchMaxDelayMilliseconds` for a batch to fill)
/// through the `Indexer`, at most `maxConcurrentOperations` transactions at once. A full queue
/// blocks the reader, which stops reading its source: backpressure, never a drop.
///
/// Each transaction also writes the resume cursor: the low watermark across partitions
/// (`CommitWatermark`) of each item's position (`SourceEvent.cursor`, else the event's `time_us`), so after a crash at any instant, resuming from the stored cursor replays
/// only events that are either uncommitted or idempotent to re-apply.
///
/// A message that cannot be decoded, or whose data the database refuses, is counted by kind,
/// logged and skipped. A database outage pauses the writers, which retry with backoff.
public final class IngestPipeline: @unchecked Sendable {
    public let indexer: Indexer
    public let configuration: IngestPipelineConfiguration
    /// `ingest_cursor.source` written with each batch.
    public let cursorSource: String
    /// Events at or below this cursor (`time_us`, or the source's own position) are skipped as
    /// already applied (a file resumed from its cursor); nil applies everything (a live source
    /// rewinds on purpose; re-applying is idempotent).
    public let skipThrough: Int64?
    /// How long a writer retries a batch through a database outage before the pipeline fails; nil
    /// retries until `stop()`.
    public let outageRetryLimit: TimeInterval?
    let logger: Logger

    let counters = IngestCounters()
    let watermark: CommitWatermark
    private let queues: [PartitionQueue]
    private let gate: FairSemaphore
    private let stateLock = NSLock()
    private var source: EventSource?
    private var stopRequestedAt: Date?
    private var failure: Error?
    /// Highest cursor written so far (by a batch or alone).
    private var highestWrittenCursor: Int64 = 0

    /// - Parameters:
    ///   - resumeCursor: the stored cursor this run continues from (the watermark starts there).
    public init(indexer: Indexer, configuration: IngestPipelineConfiguration, cursorSource: String,
                resumeCursor: Int64? = nil, skipThrough: Int64? = nil, outageRetryLimit: TimeInterval? = nil,
                logger: Logger = Logger(label: "appview.ingest.pipeline")) {
        self.indexer = indexer
        self.configuration = configuration
        self.cursorSource = cursorSource
        self.skipThrough = skipThrough
        self.outageRetryLimit = outageRetryLimit
        self.logger = logger
        // Room for every event that can wait for a write (queues, batches in flight) plus as many
        // again of events needing none.
        let inFlight = configuration.partitions * (configuration.queueCapacity + configuration.batchSize) + 1
        watermark = CommitWatermark(initial: resumeCursor ?? 0, capacity: 2 * inFlight)
        queues = (0..<configuration.partitions).map { _ in PartitionQueue(capacity: configuration.queueCapacity) }
        gate = FairSemaphore(permits: configuration.maxConcurrentOperations)
    }

    /// Reads `source` until it ends or `stop()` is called, commits everything read, writes the
    /// final cursor and returns the counters. Blocks the calling thread. Throws when the source
    /// failed or a writer gave up (after draining what the other writers could commit).
    @discardableResult
    public func run(_ source: EventSource) throws -> IngestCounterValues {
        let stoppedEarly = stateLock.withLock { () -> Bool in
            self.source = source
            return stopRequestedAt != nil
        }
        // A stop that came before the source was known still counts.
        if stoppedEarly { source.stop() }
        let writers = DispatchGroup()
        for partition in queues.indices {
            writers.enter()
            let thread = Thread { [self] in
                writeLoop(queues[partition])
                writers.leave()
            }
            thread.name = "ingest-writer-\(partition)"
            thread.start()
        }
        let reader = DispatchGroup()
        reader.enter()
        let thread = Thread { [self] in
            readLoop(source)
            for queue in queues { queue.close() }
            reader.leave()
        }
        thread.name = "ingest-reader"
        thread.start()
        reader.wait()
        writers.wait()
        if let failure = stateLock.withLock({ failure }) { throw failure }
        try persistCommittedCursor()
        return counters.snapshot()
    }

    /// Stops reading; what was read is still committed, then `run` returns. Any thread; idempotent.
    public func stop() {
        let source: EventSource? = stateLock.withLock {
            if stopRequestedAt == nil { stopRequestedAt = Date() }
            return self.source
        }
        source?.stop()
    }

    /// The counters so far (what the metrics publisher reports).
    public func statistics() -> IngestCounterValues { counters.snapshot() }

    /// The current low watermark: every event at or below it is committed.
    public var committedCursor: Int64 { watermark.committed }

    /// Events waiting in each partition's queue.
    public var queueDepths: [Int] { queues.map(\.count) }

    /// Transactions in flight.
    public var operationsInFlight: Int { gate.inUse }

    /// Writes the watermark alone when it moved past what the last batch wrote (every batch writes
    /// the watermark as of its own commit; batches of other partitions may have committed after).
    /// Safe at any time: every event at or below the watermark is committed.
    public func persistCommittedCursor() throws {
        let committed = watermark.committed
        guard committed > stateLock.withLock({ highestWrittenCursor }) else { return }
        try indexer.pool.withTransaction { connection in
            try Indexer.writeCursor(IngestCursor(source: cursorSource, position: committed), connection)
        }
        noteWritten(committed)
    }

    private func noteWritten(_ cursor: Int64) {
        stateLock.withLock { highestWrittenCursor = max(highestWrittenCursor, cursor) }
    }

    // MARK: reader

    private func readLoop(_ source: EventSource) {
        let partitions = UInt64(queues.count)
        var ordinal = 0
        while true {
            let item: SourceEvent
            do {
                guard let next = try source.next() else { return }
                item = next
            } catch {
                fail(error, "the event source failed")
                return
            }
            let message = item.json
            if message.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
                // A position alone (or a blank line): nothing to write, but the cursor may pass it.
                if let cursor = item.cursor, watermark.register(time: cursor, alreadyDone: true) == nil { return }
                continue
            }
            ordinal += 1
            let receivedAt = DispatchTime.now().uptimeNanoseconds
            switch JetstreamEventDecoder.decode(message) {
            case .failure(let error):
                counters.update {
                    $0.received += 1
                    $0.errors[error.kind.rawValue, default: 0] += 1
                }
                logger.error("event \(ordinal) skipped: \(error.description)")
                // A skipped event with a position of its own must not hold the cursor back.
                if let cursor = item.cursor, watermark.register(time: cursor, alreadyDone: true) == nil { return }
            case .success(let event):
                let position = item.cursor ?? event.timeMicroseconds
                if let skipThrough, position <= skipThrough {
                    counters.update {
                        $0.received += 1
                        $0.skippedApplied += 1
                    }
                    continue
                }
                if let reason = IgnoredEvents.reason(event) {
                    guard watermark.register(time: position, alreadyDone: true) != nil else { return }
                    counters.update {
                        $0.received += 1
                        $0.ignored[reason, default: 0] += 1
                        $0.newestReceivedTime = max($0.newestReceivedTime, event.timeMicroseconds)
                    }
                    continue
                }
                guard let sequence = watermark.register(time: position) else { return }
                counters.update {
                    $0.received += 1
                    $0.newestReceivedTime = max($0.newestReceivedTime, event.timeMicroseconds)
                }
                let queue = queues[Int(Self.partitionHash(event.did) % partitions)]
                guard queue.put(QueuedEvent(event: event, sequence: sequence, receivedAt: receivedAt)) else { return }
            }
        }
    }

    /// FNV-1a of the DID: stable across runs and platforms (Swift's `hashValue` is seeded per process).
    static func partitionHash(_ did: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in did.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }

    // MARK: writers

    private func writeLoop(_ queue: PartitionQueue) {
        let delay = Double(configuration.batchMaxDelayMilliseconds) / 1000
        while let batch = queue.takeBatch(maxCount: configuration.batchSize, maxDelay: delay) {
            guard write(batch) else {
                // Gave up: the pipeline is failing; stop taking work from this queue.
                return
            }
            // Idle now: if batches of other partitions committed after the cursor this one wrote,
            // store the watermark alone, so a quiet source does not leave the cursor behind.
            if queue.count == 0, watermark.committed > stateLock.withLock({ highestWrittenCursor }) {
                do {
                    try persistCommittedCursor()
                } catch {
                    logger.warning("cursor not stored (the next batch stores it): \(error)")
                }
            }
        }
    }

    /// Commits one batch, retrying through database outages. False when the pipeline gave up.
    private func write(_ batch: [QueuedEvent]) -> Bool {
        let events = batch.map(\.event)
        let sequences = batch.map(\.sequence)
        var firstFailure: Date?
        var pause = 0.2
        while true {
            do {
                var cursor: Int64 = 0
                let rejections = try gate.withPermit { () throws -> [Indexer.Rejection] in
                    cursor = watermark.watermark(assumingCommitted: sequences)
                    return try indexer.applyIsolatingFailures(
                        events, cursor: cursor > 0 ? IngestCursor(source: cursorSource, position: cursor) : nil)
                }
                watermark.markCommitted(sequences)
                noteWritten(cursor)
                let committedAt = DispatchTime.now().uptimeNanoseconds
                for rejection in rejections {
                    let event = events[rejection.index]
                    logger.error("event of \(event.did) at time_us \(event.timeMicroseconds) refused by the database, skipped: \(rejection.error)")
                }
                counters.update { values in
                    values.applied += events.count - rejections.count
                    if !rejections.isEmpty { values.errors["database", default: 0] += rejections.count }
                    values.batches += 1
                    values.lastBatchSize = events.count
                    values.maxBatchSize = max(values.maxBatchSize, events.count)
                    for item in batch {
                        values.latency.record(microseconds: (committedAt &- item.receivedAt) / 1000)
                    }
                }
                return true
            } catch {
                let now = Date()
                if firstFailure == nil { firstFailure = now }
                counters.update { $0.writeOutages += 1 }
                if let reason = giveUpReason(error, failingSince: firstFailure!, now: now) {
                    fail(error, reason)
                    return false
                }
                logger.warning("batch of \(events.count) events not committed, retrying in \(pause) s: \(error)")
                Thread.sleep(forTimeInterval: pause)
                pause = min(pause * 2, 5)
            }
        }
    }

    /// Why a writer stops retrying a batch, or nil to retry: outages are waited out (within
    /// `outageRetryLimit`, and at most 30 s once a stop was requested); errors that retrying cannot
    /// fix (a missing table, a bug) fail at once.
    private func giveUpReason(_ error: Error, failingSince: Date, now: Date) -> String? {
        if let error = error as? PostgresError, error.kind == .query, let state = error.sqlState,
           !["08", "53", "57", "40", "55"].contains(where: { state.hasPrefix($0) }) {
            return "the database refused a batch for a reason retrying cannot fix"
        }
        if let limit = outageRetryLimit, now.timeIntervalSince(failingSince) > limit {
            return "the database stayed unavailable for more than \(Int(limit)) s"
        }
        if let stoppedAt = stateLock.withLock({ stopRequestedAt }), now.timeIntervalSince(stoppedAt) > 30 {
            return "stopping, and the database stayed unavailable for 30 s: the uncommitted events will be read again from the cursor"
        }
        return nil
    }

    private func fail(_ error: Error, _ reason: String) {
        logger.error("\(reason): \(error)")
        stateLock.withLock { if failure == nil { failure = error } }
        stop()
        watermark.cancel()
        for queue in queues { queue.close() }
    }
}
