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
    /// Handles proven by their `_atproto` DNS TXT record / by `HANDLE_VERIFICATION_URL` (HTTPS).
    public var handlesVerifiedByDNS = 0
    public var handlesVerifiedByHTTPS = 0
    /// Handles whose DNS record or HTTPS answer names another DID (left `handle.invalid`).
    public var handlesNamingAnotherDID = 0
    /// Fetches not made because a data-derived host (PDS, handle, did:web) is not a public address.
    public var refusedAddresses = 0
    /// Whether the workers run in this process.
    public var running = false

    public init() {}

    /// Counts what one resolution found.
    mutating func count(_ outcome: UserCreationOutcome) {
        if outcome.error != nil { failed += 1 }
        switch outcome.handleCheck {
        case .verifiedByDNS: handlesVerifiedByDNS += 1
        case .verifiedByHTTPS: handlesVerifiedByHTTPS += 1
        case .namesAnotherDID: handlesNamingAnotherDID += 1
        case .unverified, .none: break
        }
        refusedAddresses += outcome.refusedAddresses
    }

    /// `"45%"`: permits in use.
    public var utilization: String {
        guard maxConcurrent > 0 else { return "0%" }
        return "\(Int((Double(active) * 100 / Double(maxConcurrent)).rounded()))%"
    }
}
