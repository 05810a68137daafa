import Foundation

/// What the pipeline has done since it started, updated by the reader and writer threads.
/// `snapshot()` copies it for the metrics publisher and the final summary.
final class IngestCounters: @unchecked Sendable {
    private let lock = NSLock()
    private var value = IngestCounterValues()

    func update(_ body: (inout IngestCounterValues) -> Void) { lock.withLock { body(&value) } }
    func snapshot() -> IngestCounterValues { lock.withLock { value } }
}

/// The counters at one instant.
public struct IngestCounterValues: Sendable {
    /// Non-empty messages read from the source.
    public var received = 0
    /// Events committed by the writers.
    public var applied = 0
    /// Events not written because the resume cursor says they already are.
    public var skippedApplied = 0
    /// Rejected messages by kind (`invalid_json`, `missing_field`, `invalid_field`, `invalid_record`, `database`).
    public var errors: [String: Int] = [:]
    /// Events skipped on purpose, by reason (`collection:<nsid>`, `kind:<kind>`).
    public var ignored: [String: Int] = [:]
    /// Transactions committed.
    public var batches = 0
    /// Largest batch committed.
    public var maxBatchSize = 0
    /// Size of the last batch committed.
    public var lastBatchSize = 0
    /// Batch attempts that failed because the database was unreachable or too slow; retried.
    public var writeOutages = 0
    /// Time (`time_us`) of the newest event received.
    public var newestReceivedTime: Int64 = 0
    /// Event-to-commit latency.
    var latency = LatencyHistogram()

    public var errorCount: Int { errors.values.reduce(0, +) }
    public var ignoredCount: Int { ignored.values.reduce(0, +) }
    /// Mean events per committed transaction.
    public var meanBatchSize: Double { batches == 0 ? 0 : Double(applied) / Double(batches) }
    /// Event-to-commit latency percentile in milliseconds (0.99 → p99); nil before any commit.
    public func latencyMilliseconds(_ fraction: Double) -> Double? { latency.percentileMilliseconds(fraction) }

    /// The same counts as an `ImportStatistics` (what `import` prints).
    public var importStatistics: ImportStatistics {
        var statistics = ImportStatistics()
        statistics.lines = received
        statistics.applied = applied
        statistics.errors = errors
        statistics.ignored = ignored
        statistics.batches = batches
        statistics.skippedApplied = skippedApplied
        return statistics
    }
}
