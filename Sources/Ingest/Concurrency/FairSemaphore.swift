import Foundation

/// A counting semaphore that grants permits strictly in arrival order (FIFO, so no waiter starves
/// behind later arrivals), with a wait timeout. Waiters park on a condition variable: no busy wait.
///
/// Blocking by design: its callers are dedicated threads that go on to make blocking libcurl and
/// libpq calls, so an async semaphore would only add a hop from the cooperative pool back to a
/// thread for every item.
public final class FairSemaphore: @unchecked Sendable {
    private let condition = NSCondition()
    private var available: Int
    /// Ticket numbers of the threads waiting, oldest first.
    private var waiting: [UInt64] = []
    private var nextTicket: UInt64 = 0
    private var closed = false
    public let permits: Int

    public init(permits: Int) {
        precondition(permits > 0, "a semaphore needs at least one permit")
        self.permits = permits
        available = permits
    }

    /// Permits currently held.
    public var inUse: Int { condition.withLock { permits - available } }

    /// Threads waiting for a permit.
    public var waiterCount: Int { condition.withLock { waiting.count } }

    /// Takes a permit, waiting at most `timeout` seconds (nil: no limit) behind earlier waiters. False on timeout
    /// or once closed (the caller holds nothing then).
    public func acquire(timeout: TimeInterval?) -> Bool {
        // nil waits without a deadline (NSCondition cannot wait until `Date.distantFuture` on Linux).
        let deadline = timeout.map { Date(timeIntervalSinceNow: max(0, $0)) }
        condition.lock()
        defer { condition.unlock() }
        if closed { return false }
        if waiting.isEmpty && available > 0 {
            available -= 1
            return true
        }
        let ticket = nextTicket
        nextTicket &+= 1
        waiting.append(ticket)
        while !(waiting.first == ticket && available > 0) {
            let signalled: Bool
            if let deadline { signalled = condition.wait(until: deadline) } else { condition.wait(); signalled = true }
            let ready = waiting.first == ticket && available > 0
            if closed || (!signalled && !ready) {
                waiting.removeAll { $0 == ticket }
                // Our leaving may put a waiter that can proceed at the head.
                condition.broadcast()
                return false
            }
        }
        waiting.removeFirst()
        available -= 1
        // The next in line may proceed too if permits remain.
        if available > 0 && !waiting.isEmpty { condition.broadcast() }
        return true
    }

    /// Fails every waiting and later `acquire` at once (shutdown); permits held can still be released.
    public func close() {
        condition.withLock {
            closed = true
            condition.broadcast()
        }
    }

    /// Runs `body` holding a permit, waiting as long as it takes (`MAX_CONCURRENT_OPS` gate of the
    /// pipeline's writers, which never close it).
    public func withPermit<T>(_ body: () throws -> T) rethrows -> T {
        guard acquire(timeout: nil) else {
            preconditionFailure("withPermit on a closed semaphore")
        }
        defer { release() }
        return try body()
    }

    /// Returns a permit taken by `acquire`.
    public func release() {
        condition.lock()
        precondition(available < permits, "release without a matching acquire")
        available += 1
        condition.broadcast()
        condition.unlock()
    }
}
