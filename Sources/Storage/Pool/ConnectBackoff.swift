/// Spacing of connection attempts after failures, so a database that is down is not hammered:
/// 50 ms after the first failure, doubling up to 2 s, back to no delay after a success.
/// A pure value: times are monotonic nanoseconds passed in by the caller, so it is tested without I/O.
struct ConnectBackoff: Sendable, Equatable {
    let initialDelayMilliseconds: Int
    let maximumDelayMilliseconds: Int
    /// Failed attempts since the last success.
    private(set) var consecutiveFailures = 0
    /// No new attempt before this instant (monotonic nanoseconds).
    private(set) var nextAttemptAt: UInt64 = 0

    init(initialDelayMilliseconds: Int = 50, maximumDelayMilliseconds: Int = 2000) {
        self.initialDelayMilliseconds = initialDelayMilliseconds
        self.maximumDelayMilliseconds = maximumDelayMilliseconds
    }

    /// True after a failure, until an attempt succeeds.
    var isBackingOff: Bool { consecutiveFailures > 0 }

    /// The wait imposed after `failures` consecutive failures.
    func delayMilliseconds(afterFailures failures: Int) -> Int {
        guard failures > 0 else { return 0 }
        var delay = initialDelayMilliseconds
        for _ in 1..<min(failures, 32) {
            delay *= 2
            if delay >= maximumDelayMilliseconds { return maximumDelayMilliseconds }
        }
        return min(delay, maximumDelayMilliseconds)
    }

    /// Whether an attempt may start at `now`.
    func allowsAttempt(now: UInt64) -> Bool { now >= nextAttemptAt }

    mutating func recordFailure(now: UInt64) {
        consecutiveFailures += 1
        nextAttemptAt = now + UInt64(delayMilliseconds(afterFailures: consecutiveFailures)) * 1_000_000
    }

    mutating func recordSuccess() {
        consecutiveFailures = 0
        nextAttemptAt = 0
    }
}
