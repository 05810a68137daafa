import Foundation

/// Event-to-commit latencies in logarithmic buckets (four per doubling, from 1 µs to ~1 h), so
/// percentiles cost fixed memory however long the ingest runs. A percentile is reported as its
/// bucket's upper bound: at most 19 % above the true value.
struct LatencyHistogram: Sendable {
    static let bucketsPerDoubling = 4.0
    static let bucketCount = 32 * 4
    private(set) var counts = [Int](repeating: 0, count: bucketCount)
    private(set) var total = 0

    static func bucket(microseconds: UInt64) -> Int {
        guard microseconds > 1 else { return 0 }
        return min(bucketCount - 1, Int((log2(Double(microseconds)) * bucketsPerDoubling).rounded(.up)))
    }

    static func upperBoundMicroseconds(bucket: Int) -> Double { pow(2, Double(bucket) / bucketsPerDoubling) }

    mutating func record(microseconds: UInt64) {
        counts[Self.bucket(microseconds: microseconds)] += 1
        total += 1
    }

    /// The `fraction` percentile (0.99 → p99) in milliseconds; nil when empty.
    func percentileMilliseconds(_ fraction: Double) -> Double? {
        guard total > 0 else { return nil }
        let rank = max(1, Int((Double(total) * fraction).rounded(.up)))
        var seen = 0
        for (index, count) in counts.enumerated() {
            seen += count
            if seen >= rank { return Self.upperBoundMicroseconds(bucket: index) / 1000 }
        }
        return nil
    }
}
