/// Counters of an import: what was applied, rejected and ignored, by kind.
public struct ImportStatistics: Sendable {
    /// Non-empty lines read.
    public var lines = 0
    /// Events handed to the indexer and accepted by the database.
    public var applied = 0
    /// Rejected lines by kind (`invalid_json`, `missing_field`, `invalid_field`, `invalid_record`, `database`).
    public var errors: [String: Int] = [:]
    /// Events skipped on purpose, by reason (`collection:<nsid>`, `kind:<kind>`).
    public var ignored: [String: Int] = [:]
    /// Batches (transactions) committed.
    public var batches = 0
    /// Events skipped because the resume cursor already covers them.
    public var skippedApplied = 0

    public init() {}

    public var errorCount: Int { errors.values.reduce(0, +) }
    public var ignoredCount: Int { ignored.values.reduce(0, +) }

    /// `invalid_json=2 invalid_record=1`, sorted by kind.
    public static func describe(_ counts: [String: Int]) -> String {
        counts.isEmpty ? "none" : counts.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }
}
