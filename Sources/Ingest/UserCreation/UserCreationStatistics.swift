/// User-creation counters for the metrics snapshot.
public struct UserCreationStatistics: Sendable, Equatable {
    /// Resolutions holding a permit now (`activeUserCreations`).
    public var active = 0
    public var maxConcurrent = 0
    /// DIDs queued in memory or in progress (`pendingUserCreationOpsCount`).
    public var pending = 0
    /// Offers of a DID already queued or in progress (`pendingUserCreationDeduplication`).
    public var deduplicated = 0
    /// DIDs pushed out of the full queue to their marker.
    public var evicted = 0
    /// DIDs that waited longer than the wait timeout for a permit, left to their marker.
    public var deferred = 0
    /// Resolutions that failed (network, PLC, PDS); retried later with backoff.
    public var failed = 0
    /// Resolutions written (handle and/or profile settled).
    public var completed = 0
    /// DIDs queued again from their markers by the sweep.
    public var requeuedBySweep = 0
    /// Result batches the database refused (their markers stay).
    public var writeErrors = 0
    /// Whether the workers run in this process.
    public var running = false

    public init() {}

    /// `"45%"`: permits in use.
    public var utilization: String {
        guard maxConcurrent > 0 else { return "0%" }
        return "\(Int((Double(active) * 100 / Double(maxConcurrent)).rounded()))%"
    }
}
