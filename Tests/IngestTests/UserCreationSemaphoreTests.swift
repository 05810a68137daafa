import Foundation
import Testing
@testable import Ingest

/// Records the order in which threads got their permit.
private final class Order: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Int] = []
    func append(_ value: Int) { lock.withLock { values.append(value) } }
    var all: [Int] { lock.withLock { values } }
}

@Suite struct UserCreationSemaphoreTests {
    /// Starts `body` on a thread; the group is left when it returns.
    private func spawn(_ group: DispatchGroup, _ body: @escaping @Sendable () -> Void) {
        group.enter()
        Thread { body(); group.leave() }.start()
    }

    /// Waits until `condition` holds (at most 5 s).
    private func eventually(_ condition: () -> Bool) {
        let deadline = Date(timeIntervalSinceNow: 5)
        while !condition() && Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
    }

    @Test func waitersAreServedInArrivalOrder() {
        let semaphore = FairSemaphore(permits: 1)
        #expect(semaphore.acquire(timeout: 1))
        let order = Order()
        let group = DispatchGroup()
        for index in 0..<8 {
            spawn(group) {
                #expect(semaphore.acquire(timeout: 10))
                order.append(index)
                semaphore.release()
            }
            // The next thread arrives only once this one is queued.
            eventually { semaphore.waiterCount == index + 1 }
        }
        semaphore.release()
        group.wait()
        #expect(order.all == Array(0..<8))
        #expect(semaphore.inUse == 0)
    }

    @Test func aWaiterGivesUpAfterItsTimeoutHoldingNothing() {
        let semaphore = FairSemaphore(permits: 2)
        #expect(semaphore.acquire(timeout: 0))
        #expect(semaphore.acquire(timeout: 0))
        let started = Date()
        #expect(!semaphore.acquire(timeout: 0.2))
        #expect(Date().timeIntervalSince(started) >= 0.19)
        #expect(semaphore.waiterCount == 0)
        #expect(semaphore.inUse == 2)
        semaphore.release()
        #expect(semaphore.acquire(timeout: 0))
    }

    @Test func aTimedOutHeadDoesNotBlockTheWaitersBehindIt() {
        let semaphore = FairSemaphore(permits: 1)
        #expect(semaphore.acquire(timeout: 0))
        let group = DispatchGroup()
        let order = Order()
        spawn(group) { if !semaphore.acquire(timeout: 0.1) { order.append(-1) } }
        eventually { semaphore.waiterCount == 1 }
        spawn(group) {
            if semaphore.acquire(timeout: 5) { order.append(1); semaphore.release() }
        }
        eventually { semaphore.waiterCount == 2 }
        Thread.sleep(forTimeInterval: 0.3) // the head times out meanwhile
        semaphore.release()
        group.wait()
        #expect(order.all == [-1, 1])
    }

    @Test func closingFailsAWaiterAtOnce() {
        let semaphore = FairSemaphore(permits: 1)
        #expect(semaphore.acquire(timeout: 0))
        let group = DispatchGroup()
        let order = Order()
        spawn(group) { order.append(semaphore.acquire(timeout: 30) ? 1 : 0) }
        eventually { semaphore.waiterCount == 1 }
        let started = Date()
        semaphore.close()
        group.wait()
        #expect(Date().timeIntervalSince(started) < 2)
        #expect(order.all == [0])
        #expect(!semaphore.acquire(timeout: 0))
        semaphore.release()
        #expect(semaphore.inUse == 0)
    }

    /// Under contention no thread starves: each gets all its turns, none waits out its timeout,
    /// and the permits are never over-granted.
    @Test func underContentionEveryThreadGetsItsShareAndPermitsAreNeverOverGranted() {
        let permits = 3
        let semaphore = FairSemaphore(permits: permits)
        let counts = Order()
        let overGranted = Order()
        let timedOut = Order()
        let group = DispatchGroup()
        let rounds = 40
        for thread in 0..<8 {
            spawn(group) {
                for _ in 0..<rounds {
                    guard semaphore.acquire(timeout: 5) else { timedOut.append(thread); continue }
                    if semaphore.inUse > permits { overGranted.append(thread) }
                    counts.append(thread)
                    Thread.sleep(forTimeInterval: 0.0005)
                    semaphore.release()
                }
            }
        }
        group.wait()
        let perThread = Dictionary(grouping: counts.all, by: { $0 }).mapValues(\.count)
        #expect(perThread.count == 8)
        #expect(perThread.values.allSatisfy { $0 == rounds })
        #expect(overGranted.all.isEmpty)
        #expect(timedOut.all.isEmpty)
        #expect(semaphore.inUse == 0)
    }
}

@Suite struct PendingUserCreationsTests {
    @Test func takesTheLeastRecentlySeenFirstAndDeduplicates() {
        let pending = PendingUserCreations(limit: 10)
        pending.enqueue(["a", "b", "c"])
        pending.enqueue(["a"]) // seen again: now the most recent
        #expect(pending.counts.deduplicated == 1)
        #expect(pending.take(timeout: 0)?.did == "b")
        pending.enqueue(["b"]) // in progress: not queued twice
        #expect(pending.counts.deduplicated == 2)
        #expect(pending.counts == .init(queued: 2, inProgress: 1, deduplicated: 2, evicted: 0))
        #expect(pending.take(timeout: 0)?.did == "c")
        #expect(pending.take(timeout: 0)?.did == "a")
        #expect(pending.take(timeout: 0.05) == nil)
        pending.finish("b")
        pending.enqueue(["b"])
        #expect(pending.counts.queued == 1)
    }

    @Test func theLimitEvictsTheLeastRecentlySeenAndCountsIt() {
        let pending = PendingUserCreations(limit: 3)
        #expect(pending.enqueue(["a", "b", "c"]).isEmpty)
        pending.enqueue(["a"])
        #expect(pending.enqueue(["d", "e"]) == ["b", "c"])
        #expect(pending.counts.queued == 3)
        #expect(pending.counts.evicted == 2)
        #expect(!pending.contains("b"))
        #expect([pending.take(timeout: 0)?.did, pending.take(timeout: 0)?.did, pending.take(timeout: 0)?.did] == ["a", "d", "e"])
    }

    @Test func stayBoundedUnderAFloodOfDistinctDIDs() {
        let pending = PendingUserCreations(limit: 100)
        var evicted = 0
        for chunk in 0..<100 {
            evicted += pending.enqueue((0..<100).map { "did:\(chunk):\($0)" }).count
        }
        #expect(pending.counts.queued == 100)
        #expect(evicted == 9_900)
        #expect(pending.counts.evicted == 9_900)
        // The survivors are the newest.
        #expect(pending.take(timeout: 0)?.did == "did:99:0")
    }

    @Test func closeWakesAWaitingTaker() {
        let pending = PendingUserCreations(limit: 3)
        let done = DispatchSemaphore(value: 0)
        Thread { _ = pending.take(timeout: 30); done.signal() }.start()
        Thread.sleep(forTimeInterval: 0.05)
        pending.close()
        #expect(done.wait(timeout: .now() + 2) == .success)
    }
}
