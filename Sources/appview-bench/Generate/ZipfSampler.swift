import Foundation

/// Draws actor ranks with a Zipf–Mandelbrot law: weight(rank) = 1 / (rank + offset)^exponent.
/// Rank 0 is the most active (and most followed, liked, reposted) account.
struct ZipfSampler: Sendable {
    /// Cumulative normalised weights; `cumulative[i]` is P(rank <= i).
    let cumulative: [Double]
    let weights: [Double]

    init(count: Int, exponent: Double, offset: Double) {
        var weights = [Double](repeating: 0, count: count)
        var total = 0.0
        for rank in 0..<count {
            let weight = 1.0 / pow(Double(rank) + offset, exponent)
            weights[rank] = weight
            total += weight
        }
        var cumulative = [Double](repeating: 0, count: count)
        var running = 0.0
        for rank in 0..<count {
            weights[rank] /= total
            running += weights[rank]
            cumulative[rank] = running
        }
        cumulative[count - 1] = 1.0
        self.weights = weights
        self.cumulative = cumulative
    }

    /// The rank whose cumulative interval contains `u` (u uniform in [0, 1)).
    @inline(__always)
    func rank(_ u: Double) -> Int {
        var low = 0
        var high = cumulative.count - 1
        while low < high {
            let mid = (low + high) >> 1
            if cumulative[mid] > u { high = mid } else { low = mid + 1 }
        }
        return low
    }
}
