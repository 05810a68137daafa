import Foundation
import Logging

/// Replays Jetstream JSONL through the indexer in batches. A malformed line is counted by kind,
/// logged with its line number and skipped; unknown collections and event kinds are counted and
/// ignored. Each batch is applied in one transaction together with the cursor. Lines are read and
/// decoded on a separate thread while the previous batch is being written.
public final class EventImporter {
    public let indexer: Indexer
    /// Lines per batch (a batch holds at most this many events).
    public let batchSize: Int
    /// Cursor source written with each batch (`ingest_cursor.source`).
    public let cursorSource: String
    let logger: Logger

    public init(indexer: Indexer, batchSize: Int = 1000, cursorSource: String,
                logger: Logger = Logger(label: "appview.ingest.import")) {
        precondition(batchSize > 0, "batchSize must be positive")
        self.indexer = indexer
        self.batchSize = batchSize
        self.cursorSource = cursorSource
        self.logger = logger
    }

    /// A decoded batch, with the counters of the lines it came from.
    struct DecodedBatch {
        var events: [JetstreamEvent] = []
        var lineNumbers: [Int] = []
        /// Highest `time_us` among its decoded lines, ignored ones included (they have been seen).
        var cursor: Int64 = 0
        var lines = 0
        var errors: [String: Int] = [:]
        var ignored: [String: Int] = [:]
    }

    enum Handoff {
        case batch(DecodedBatch)
        case finished
        case failed(Error)
    }

    /// Imports every line of `reader`. `progress` is called about once per `progressInterval`
    /// seconds and once at the end, with the counters so far and the elapsed seconds.
    @discardableResult
    public func run(_ reader: JSONLineReader, progressInterval: TimeInterval = 1,
                    progress: (ImportStatistics, TimeInterval) -> Void = { _, _ in }) throws -> ImportStatistics {
        let handoff = BoundedHandoff<Handoff>(capacity: 2)
        let decoder = Thread { [batchSize, logger] in
            Self.decode(reader, batchSize: batchSize, logger: logger, into: handoff)
        }
        decoder.name = "appview-ingest-decode"
        decoder.start()
        defer { handoff.cancel() }

        var statistics = ImportStatistics()
        let started = Date()
        var lastReport = started
        loop: while true {
            switch handoff.take() {
            case .failed(let error):
                throw error
            case .finished:
                break loop
            case .batch(let batch):
                statistics.lines += batch.lines
                statistics.errors.merge(batch.errors, uniquingKeysWith: +)
                statistics.ignored.merge(batch.ignored, uniquingKeysWith: +)
                guard !batch.events.isEmpty || batch.cursor > 0 else { continue }
                let cursor = batch.cursor > 0 ? IngestCursor(source: cursorSource, position: batch.cursor) : nil
                let rejections = try indexer.applyIsolatingFailures(batch.events, cursor: cursor)
                for rejection in rejections {
                    statistics.errors["database", default: 0] += 1
                    logger.error("line \(batch.lineNumbers[rejection.index]): refused by the database, skipped: \(rejection.error)")
                }
                statistics.applied += batch.events.count - rejections.count
                statistics.batches += 1
                let now = Date()
                if now.timeIntervalSince(lastReport) >= progressInterval {
                    lastReport = now
                    progress(statistics, now.timeIntervalSince(started))
                }
            }
        }
        progress(statistics, Date().timeIntervalSince(started))
        return statistics
    }

    /// The reading thread: decodes lines into batches of `batchSize` lines.
    static func decode(_ reader: JSONLineReader, batchSize: Int, logger: Logger, into handoff: BoundedHandoff<Handoff>) {
        var batch = DecodedBatch()
        do {
            while let line = try reader.nextLine() {
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                batch.lines += 1
                switch JetstreamEventDecoder.decode(line) {
                case .failure(let error):
                    batch.errors[error.kind.rawValue, default: 0] += 1
                    logger.error("line \(reader.lineNumber): \(error.description), skipped")
                case .success(let event):
                    batch.cursor = max(batch.cursor, event.timeMicroseconds)
                    if let reason = ignoredReason(event) {
                        batch.ignored[reason, default: 0] += 1
                    } else {
                        batch.events.append(event)
                        batch.lineNumbers.append(reader.lineNumber)
                    }
                }
                if batch.lines >= batchSize {
                    guard handoff.put(.batch(batch)) else { return }
                    batch = DecodedBatch()
                }
            }
            if batch.lines > 0 { guard handoff.put(.batch(batch)) else { return } }
            handoff.put(.finished)
        } catch {
            handoff.put(.failed(error))
        }
    }

    /// Why the indexer skips an event, or nil when it indexes it.
    static func ignoredReason(_ event: JetstreamEvent) -> String? {
        switch event.payload {
        case .unsupported(let kind): return "kind:\(kind)"
        case .commit(let operation): return operation.indexedCollection == nil ? "collection:\(operation.collection)" : nil
        case .identity, .account: return nil
        }
    }
}
