import Foundation
import Logging

/// Replays Jetstream JSONL through the indexer in batches. A malformed line is counted by kind,
/// logged with its line number and skipped; unknown collections and event kinds are counted and
/// ignored. Each batch is applied in one transaction together with the cursor.
public final class EventImporter {
    public let indexer: Indexer
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

    /// Imports every line of `reader`. `progress` is called about once per `progressInterval`
    /// seconds and once at the end, with the counters so far and the elapsed seconds.
    @discardableResult
    public func run(_ reader: JSONLineReader, progressInterval: TimeInterval = 1,
                    progress: (ImportStatistics, TimeInterval) -> Void = { _, _ in }) throws -> ImportStatistics {
        var statistics = ImportStatistics()
        var batch: [JetstreamEvent] = []
        var batchLines: [Int] = []
        var batchCursor: Int64 = 0
        batch.reserveCapacity(batchSize)
        let started = Date()
        var lastReport = started

        func flush() throws {
            guard !batch.isEmpty || batchCursor > 0 else { return }
            let cursor = batchCursor > 0 ? IngestCursor(source: cursorSource, position: batchCursor) : nil
            let rejections = try indexer.applyIsolatingFailures(batch, cursor: cursor)
            for rejection in rejections {
                statistics.errors["database", default: 0] += 1
                logger.error("line \(batchLines[rejection.index]): refused by the database, skipped: \(rejection.error)")
            }
            statistics.applied += batch.count - rejections.count
            statistics.batches += 1
            batch.removeAll(keepingCapacity: true)
            batchLines.removeAll(keepingCapacity: true)
            batchCursor = 0
        }

        while let line = try reader.nextLine() {
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            statistics.lines += 1
            switch JetstreamEventDecoder.decode(line) {
            case .failure(let error):
                statistics.errors[error.kind.rawValue, default: 0] += 1
                logger.error("line \(reader.lineNumber): \(error.description), skipped")
            case .success(let event):
                // Ignored events still advance the cursor: they have been seen.
                batchCursor = max(batchCursor, event.timeMicroseconds)
                if let reason = Self.ignoredReason(event) {
                    statistics.ignored[reason, default: 0] += 1
                } else {
                    batch.append(event)
                    batchLines.append(reader.lineNumber)
                }
            }
            if batch.count >= batchSize { try flush() }
            let now = Date()
            if now.timeIntervalSince(lastReport) >= progressInterval {
                lastReport = now
                progress(statistics, now.timeIntervalSince(started))
            }
        }
        try flush()
        progress(statistics, Date().timeIntervalSince(started))
        return statistics
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
