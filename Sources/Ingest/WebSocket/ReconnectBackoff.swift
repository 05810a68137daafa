import Foundation

/// Capped exponential backoff with full jitter: attempt n waits a random time in
/// [minimum, min(maximum, minimum · 2ⁿ)], so many clients cut off together do not reconnect together.
struct ReconnectBackoff {
    let minimumMilliseconds: Int
    let maximumMilliseconds: Int

    /// The ceiling of attempt `attempt` (0 = first retry).
    func ceilingMilliseconds(attempt: Int) -> Int {
        let doublings = min(attempt, 30)
        let ceiling = minimumMilliseconds.multipliedReportingOverflow(by: 1 << doublings)
        return ceiling.overflow ? maximumMilliseconds : min(maximumMilliseconds, ceiling.partialValue)
    }

    func delayMilliseconds<G: RandomNumberGenerator>(attempt: Int, using generator: inout G) -> Int {
        Int.random(in: minimumMilliseconds...max(minimumMilliseconds, ceilingMilliseconds(attempt: attempt)), using: &generator)
    }
}
