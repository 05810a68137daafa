import DequeModule
import Foundation

/// The DIDs waiting for user creation, in memory: bounded, least recently seen first, with the
/// DIDs being worked on. A DID already waiting or in progress is not queued twice (a
/// de-duplication hit); past `limit` the least recently seen DID is evicted. Evicted DIDs are not
/// lost: their durable marker (`user_creation_pending`) stays and the sweep queues them again.
/// Thread-safe; `take` blocks.
public final class PendingUserCreations: @unchecked Sendable {
    /// Counters since start.
    public struct Counts: Sendable, Equatable {
        public var queued = 0
        public var inProgress = 0
        public var deduplicated = 0
        public var evicted = 0
    }

    public let limit: Int
    private let condition = NSCondition()
    /// DID → (stamp of its newest entry in `order`, when it was last queued).
    private var waiting: [String: (stamp: UInt64, since: Date)] = [:]
    /// Queue entries oldest first; an entry whose stamp is not the DID's current one is stale.
    private var order = Deque<(did: String, stamp: UInt64)>()
    private var nextStamp: UInt64 = 0
    private var inProgress = Set<String>()
    private var deduplicated = 0
    private var evicted = 0
    private var closed = false

    public init(limit: Int) {
        precondition(limit > 0)
        self.limit = limit
    }

    public var counts: Counts {
        condition.withLock { Counts(queued: waiting.count, inProgress: inProgress.count, deduplicated: deduplicated, evicted: evicted) }
    }

    /// Whether `did` is waiting or in progress.
    public func contains(_ did: String) -> Bool { condition.withLock { waiting[did] != nil || inProgress.contains(did) } }

    /// Queues `dids`; returns the DIDs evicted to make room. A DID already here is a
    /// de-duplication hit (counted when `countDuplicates`: the sweep re-offering its own backlog is
    /// not one); a waiting one becomes the most recently seen.
    @discardableResult
    public func enqueue(_ dids: [String], countDuplicates: Bool = true) -> [String] {
        condition.lock()
        defer { condition.unlock() }
        guard !closed else { return [] }
        var evictedNow: [String] = []
        for did in dids {
            if inProgress.contains(did) {
                if countDuplicates { deduplicated += 1 }
                continue
            }
            let stamp = nextStamp
            nextStamp &+= 1
            if let previous = waiting[did] {
                if countDuplicates { deduplicated += 1 }
                waiting[did] = (stamp, previous.since)
            } else {
                waiting[did] = (stamp, Date())
            }
            order.append((did, stamp))
            while waiting.count > limit, let oldest = popOldest() {
                waiting[oldest.did] = nil
                evicted += 1
                evictedNow.append(oldest.did)
            }
        }
        if order.count > 2 * limit + 64 { compact() }
        condition.broadcast()
        return evictedNow
    }

    /// The least recently seen DID and when it was first queued, now marked in progress; waits up
    /// to `timeout` for one. Nil on timeout or once closed.
    public func take(timeout: TimeInterval) -> (did: String, since: Date)? {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while true {
            if closed { return nil }
            if let entry = popOldest(), let state = waiting.removeValue(forKey: entry.did) {
                inProgress.insert(entry.did)
                return (entry.did, state.since)
            }
            if !condition.wait(until: deadline) { return nil }
        }
    }

    /// Up to `maximum` DIDs, least recently seen first, with when each was first queued, all now
    /// marked in progress; waits up to `timeout` for the first. Empty on timeout or once closed.
    public func take(maximum: Int, timeout: TimeInterval) -> [(did: String, since: Date)] {
        guard let first = take(timeout: timeout) else { return [] }
        var taken = [first]
        condition.lock()
        defer { condition.unlock() }
        while taken.count < maximum, !closed, let entry = popOldest(), let state = waiting.removeValue(forKey: entry.did) {
            inProgress.insert(entry.did)
            taken.append((entry.did, state.since))
        }
        return taken
    }

    /// `did` is no longer in progress.
    public func finish(_ did: String) {
        condition.withLock { _ = inProgress.remove(did) }
    }

    /// Counts de-duplication hits found outside `enqueue` (the sweep skipping DIDs already here).
    public func noteDuplicates(_ count: Int) {
        condition.withLock { deduplicated += count }
    }

    /// Wakes every `take`; later enqueues are ignored. What was waiting stays durable in the database.
    public func close() {
        condition.withLock {
            closed = true
            condition.broadcast()
        }
    }

    /// The oldest live entry of `order` (stale ones are dropped on the way).
    private func popOldest() -> (did: String, stamp: UInt64)? {
        while let entry = order.popFirst() {
            if waiting[entry.did]?.stamp == entry.stamp { return entry }
        }
        return nil
    }

    private func compact() {
        order = Deque(order.filter { waiting[$0.did]?.stamp == $0.stamp })
    }
}
