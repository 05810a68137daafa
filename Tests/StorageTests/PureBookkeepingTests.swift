import Testing
@testable import Storage

/// The pool's bookkeeping values, without a database.
@Suite struct PureBookkeepingTests {
    @Test func backoffDoublesFrom50msAndCapsAt2s() {
        let backoff = ConnectBackoff()
        #expect((1...8).map { backoff.delayMilliseconds(afterFailures: $0) } == [50, 100, 200, 400, 800, 1600, 2000, 2000])
        #expect(backoff.delayMilliseconds(afterFailures: 1000) == 2000)
    }

    @Test func backoffBlocksAttemptsUntilDueAndResetsOnSuccess() {
        var backoff = ConnectBackoff()
        #expect(backoff.allowsAttempt(now: 0))
        backoff.recordFailure(now: 1_000_000_000)
        #expect(backoff.isBackingOff)
        #expect(!backoff.allowsAttempt(now: 1_049_000_000))
        #expect(backoff.allowsAttempt(now: 1_050_000_000))
        backoff.recordFailure(now: 1_050_000_000)
        #expect(!backoff.allowsAttempt(now: 1_149_000_000))
        #expect(backoff.allowsAttempt(now: 1_150_000_000))
        backoff.recordSuccess()
        #expect(!backoff.isBackingOff)
        #expect(backoff.allowsAttempt(now: 0))
    }

    @Test func waitWindowComputesCountAverageMaxAndP99() {
        var window = AcquireWaitWindow()
        #expect(window.statistics() == AcquireWaitStatistics())
        // 1 ms … 100 ms: p99 by nearest rank is the 99th value.
        for milliseconds in 1...100 { window.record(nanoseconds: UInt64(milliseconds) * 1_000_000) }
        let statistics = window.statistics()
        #expect(statistics.count == 100)
        #expect(abs(statistics.averageMilliseconds - 50.5) < 1e-9)
        #expect(statistics.maxMilliseconds == 100)
        #expect(statistics.p99Milliseconds == 99)
        window.reset()
        #expect(window.statistics().count == 0)
    }

    @Test func waitWindowStaysBoundedButKeepsExactCountAndMax() {
        var window = AcquireWaitWindow(reservoirCapacity: 100)
        for index in 0..<10_000 { window.record(nanoseconds: UInt64(index % 10) * 1_000_000) }
        window.record(nanoseconds: 500_000_000)
        let statistics = window.statistics()
        #expect(statistics.count == 10_001)
        #expect(statistics.maxMilliseconds == 500)
        #expect(statistics.p99Milliseconds <= 500)
    }

    @Test func levelThresholds() {
        #expect(PoolMonitor.level(utilizationPercent: 0) == .ok)
        #expect(PoolMonitor.level(utilizationPercent: 79.9) == .ok)
        #expect(PoolMonitor.level(utilizationPercent: 80) == .warning)
        #expect(PoolMonitor.level(utilizationPercent: 94.9) == .warning)
        #expect(PoolMonitor.level(utilizationPercent: 95) == .critical)
        #expect(PoolMonitor.level(utilizationPercent: 100) == .critical)
    }
}
