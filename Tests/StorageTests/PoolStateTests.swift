import Testing
@testable import Storage

/// The pool's bookkeeping rules, stepped by hand without threads or a database.
@Suite struct PoolStateTests {
    typealias State = PoolState<String>
    let ms: UInt64 = 1_000_000

    @Test func firstArrivalOpensAConnectionAndReusesItOnceReleased() {
        var state = State(capacity: 2)
        let ticket = state.arrive()
        guard case .connect = state.step(for: ticket, now: 0, deadline: 100 * ms) else { Issue.record("expected connect"); return }
        #expect(state.openCount == 1 && state.waiters.isEmpty)
        let endedBackoff = state.connectSucceeded()
        #expect(endedBackoff == false)
        let kept = state.released("c1", reusable: true)
        #expect(kept)
        let next = state.arrive()
        guard case .checkIdle(let connection) = state.step(for: next, now: 0, deadline: 100 * ms) else { Issue.record("expected idle"); return }
        #expect(connection == "c1")
        state.handedOut(to: next)
        #expect(state.activeCount == 1 && state.idle.isEmpty && state.waiters.isEmpty)
    }

    @Test func onlyTheHeadOfTheQueueMayTakeAConnection() {
        var state = State(capacity: 1)
        let holder = state.arrive()
        _ = state.step(for: holder, now: 0, deadline: 100 * ms)
        _ = state.connectSucceeded()
        let first = state.arrive()
        let second = state.arrive()
        guard case .wait = state.step(for: second, now: 0, deadline: 100 * ms) else { Issue.record("second must wait"); return }
        guard case .wait = state.step(for: first, now: 0, deadline: 100 * ms) else { Issue.record("first must wait"); return }
        let kept = state.released("c1", reusable: true)
        #expect(kept)
        // The connection is free, but the second arrival still waits for the first.
        guard case .wait = state.step(for: second, now: 1, deadline: 100 * ms) else { Issue.record("second must keep waiting"); return }
        guard case .checkIdle = state.step(for: first, now: 1, deadline: 100 * ms) else { Issue.record("first gets it"); return }
        state.handedOut(to: first)
        #expect(state.waiters.first == second)
    }

    @Test func waiterTimesOutAndLeavesTheQueue() {
        var state = State(capacity: 1)
        let holder = state.arrive()
        _ = state.step(for: holder, now: 0, deadline: 100 * ms)
        _ = state.connectSucceeded()
        let waiter = state.arrive()
        guard case .wait(let until) = state.step(for: waiter, now: 0, deadline: 100 * ms) else { Issue.record("must wait"); return }
        #expect(until == 100 * ms)
        guard case .timedOut = state.step(for: waiter, now: 100 * ms, deadline: 100 * ms) else { Issue.record("must time out"); return }
        #expect(state.waiters.isEmpty)
    }

    @Test func deadIdleConnectionFreesItsSlotForANewOne() {
        var state = State(capacity: 1)
        let first = state.arrive()
        _ = state.step(for: first, now: 0, deadline: 100 * ms)
        _ = state.connectSucceeded()
        _ = state.released("dead", reusable: true)
        let next = state.arrive()
        guard case .checkIdle = state.step(for: next, now: 0, deadline: 100 * ms) else { Issue.record("expected idle"); return }
        state.idleConnectionDied()
        guard case .connect = state.step(for: next, now: 0, deadline: 100 * ms) else { Issue.record("expected connect"); return }
        #expect(state.openCount == 1)
    }

    @Test func brokenReleaseFreesTheSlot() {
        var state = State(capacity: 1)
        let first = state.arrive()
        _ = state.step(for: first, now: 0, deadline: 100 * ms)
        _ = state.connectSucceeded()
        let kept = state.released("broken", reusable: false)
        #expect(!kept)
        #expect(state.openCount == 0 && state.idle.isEmpty)
    }

    @Test func afterAFailureOnlyOneProbeRunsAndOnlyWhenDue() {
        var state = State(capacity: 4)
        let a = state.arrive()
        _ = state.step(for: a, now: 0, deadline: 1000 * ms)
        state.connectFailed(now: 0)
        #expect(state.openCount == 0)
        let b = state.arrive()
        // Backing off for 50 ms: the head sleeps until the next attempt is due.
        guard case .wait(let until) = state.step(for: b, now: 10 * ms, deadline: 1000 * ms) else { Issue.record("must wait"); return }
        #expect(until == 50 * ms)
        guard case .connect = state.step(for: b, now: 50 * ms, deadline: 1000 * ms) else { Issue.record("probe due"); return }
        // A second caller may not probe in parallel while the backoff lasts.
        let c = state.arrive()
        guard case .wait = state.step(for: c, now: 51 * ms, deadline: 1000 * ms) else { Issue.record("one probe at a time"); return }
        let endedBackoff = state.connectSucceeded()
        #expect(endedBackoff, "the probe ends the backoff")
        guard case .connect = state.step(for: c, now: 52 * ms, deadline: 1000 * ms) else { Issue.record("parallel again"); return }
        #expect(state.openCount == 2)
    }

    @Test func downDatabaseFailsFastWhenNoAttemptIsDueBeforeTheDeadline() {
        var state = State(capacity: 2)
        for failure in 0..<5 {
            let ticket = state.arrive()
            _ = state.step(for: ticket, now: UInt64(failure) * 10_000 * ms, deadline: .max)
            state.connectFailed(now: UInt64(failure) * 10_000 * ms)
        }
        // Fifth failure at 40 s: the next attempt is 800 ms later; a 200 ms deadline cannot make it.
        let ticket = state.arrive()
        guard case .unavailable(let next) = state.step(for: ticket, now: 40_000 * ms, deadline: 40_200 * ms) else {
            Issue.record("must fail fast"); return
        }
        #expect(next == 40_800 * ms)
        #expect(state.waiters.isEmpty)
    }

    @Test func closeRefusesAcquiresAndHandsBackIdleConnections() {
        var state = State(capacity: 2)
        let ticket = state.arrive()
        _ = state.step(for: ticket, now: 0, deadline: 100 * ms)
        _ = state.connectSucceeded()
        _ = state.released("c1", reusable: true)
        let closed = state.close()
        #expect(closed == ["c1"])
        #expect(state.openCount == 0)
        let late = state.arrive()
        guard case .closed = state.step(for: late, now: 0, deadline: 100 * ms) else { Issue.record("must be closed"); return }
        let keptAfterClose = state.released("c2", reusable: true)
        #expect(!keptAfterClose, "a connection returned after close is closed")
    }
}
