/// How long acquires waited over one monitoring window.
public struct AcquireWaitStatistics: Sendable, Equatable {
    /// Acquires that got a connection in the window.
    public var count: Int
    public var averageMilliseconds: Double
    public var maxMilliseconds: Double
    /// 99th percentile (nearest rank), from a bounded uniform sample of the window's waits.
    public var p99Milliseconds: Double

    public init(count: Int = 0, averageMilliseconds: Double = 0, maxMilliseconds: Double = 0, p99Milliseconds: Double = 0) {
        self.count = count
        self.averageMilliseconds = averageMilliseconds
        self.maxMilliseconds = maxMilliseconds
        self.p99Milliseconds = p99Milliseconds
    }
}

/// Accumulates every acquire's wait for the current window. Count, sum and max are exact; the p99
/// comes from a reservoir sample so memory stays bounded however many acquires a window sees.
/// A pure value, tested without I/O.
struct AcquireWaitWindow: Sendable {
    let reservoirCapacity: Int
    private(set) var count = 0
    private var totalNanoseconds: UInt64 = 0
    private var maxNanoseconds: UInt64 = 0
    private var reservoir: [UInt64] = []

    init(reservoirCapacity: Int = 10_000) {
        self.reservoirCapacity = reservoirCapacity
    }

    mutating func record(nanoseconds: UInt64) {
        count += 1
        totalNanoseconds &+= nanoseconds
        maxNanoseconds = max(maxNanoseconds, nanoseconds)
        if reservoir.count < reservoirCapacity {
            reservoir.append(nanoseconds)
        } else {
            // Algorithm R: each of the `count` waits ends up in the sample with equal probability.
            let slot = Int.random(in: 0..<count)
            if slot < reservoirCapacity { reservoir[slot] = nanoseconds }
        }
    }

    func statistics() -> AcquireWaitStatistics {
        guard count > 0 else { return AcquireWaitStatistics() }
        let sorted = reservoir.sorted()
        let rank = Int((Double(sorted.count) * 0.99).rounded(.up))
        let p99 = sorted[max(0, min(sorted.count, rank) - 1)]
        return AcquireWaitStatistics(
            count: count,
            averageMilliseconds: Double(totalNanoseconds) / Double(count) / 1e6,
            maxMilliseconds: Double(maxNanoseconds) / 1e6,
            p99Milliseconds: Double(p99) / 1e6)
    }

    mutating func reset() {
        count = 0
        totalNanoseconds = 0
        maxNanoseconds = 0
        reservoir.removeAll(keepingCapacity: true)
    }
}
