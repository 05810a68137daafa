import DequeModule
import Foundation
import Logging

/// Background user creation: actors created by the ingest are queued here (`enqueue`), a dispatcher
/// thread hands them in FIFO order to `maxConcurrent` worker threads through a `FairSemaphore`
/// (a DID that waited past the wait timeout is deferred to its durable marker), the workers do the
/// blocking network work holding no database connection, and a writer thread stores the results in
/// batches. A sweep thread queues due markers again (evicted, deferred, failed, or left by a previous
/// process). `stop()` joins every thread; unfinished work stays in `user_creation_pending`.
public final class UserCreationService: @unchecked Sendable {
    public let configuration: UserCreationConfiguration
    public let pending: PendingUserCreations
    let semaphore: FairSemaphore
    let fetch: @Sendable (String) -> UserCreationOutcome
    let store: UserCreationStore
    let logger: Logger

    private let condition = NSCondition()
    private var stopped = false
    private var jobs = Deque<String>()
    private var results: [UserCreationOutcome] = []
    /// Deferred or evicted DIDs whose markers the writer makes due.
    private var fallenBack: [String] = []
    private var counters = UserCreationStatistics()
    private let threads = DispatchGroup()

    /// - Parameter fetch: the network work for one DID (`UserCreationFetcher.fetch`; tests inject their own).
    public init(configuration: UserCreationConfiguration, store: UserCreationStore,
                fetch: @escaping @Sendable (String) -> UserCreationOutcome,
                logger: Logger = Logger(label: "appview.ingest.user-creation")) {
        self.configuration = configuration
        self.store = store
        self.fetch = fetch
        self.logger = logger
        pending = PendingUserCreations(limit: configuration.queueLimit)
        semaphore = FairSemaphore(permits: configuration.maxConcurrent)
        counters.maxConcurrent = configuration.maxConcurrent
    }

    public var statistics: UserCreationStatistics {
        let counts = pending.counts
        var statistics = condition.withLock { counters }
        statistics.active = semaphore.inUse
        statistics.pending = counts.queued + counts.inProgress
        statistics.deduplicated = counts.deduplicated
        statistics.evicted = counts.evicted
        return statistics
    }

    /// Queues actors the ingest just created (any thread; never blocks on the network).
    public func enqueue(_ dids: [String]) {
        let evicted = pending.enqueue(dids)
        if !evicted.isEmpty { fallBack(evicted) }
    }

    private func fallBack(_ dids: [String]) {
        condition.withLock {
            fallenBack += dids
            condition.broadcast()
        }
    }

    public func start() {
        condition.withLock { counters.running = true }
        spawn("user-creation-dispatch") { self.dispatchLoop() }
        for index in 0..<configuration.maxConcurrent {
            spawn("user-creation-worker-\(index)") { self.workerLoop() }
        }
        spawn("user-creation-writer") { self.writerLoop() }
        spawn("user-creation-sweep") { self.sweepLoop() }
    }

    /// Stops taking work, lets the resolutions in progress finish (each bounded by its timeouts),
    /// writes their results and joins every thread.
    public func stop() {
        let wasRunning = condition.withLock { () -> Bool in
            let running = counters.running && !stopped
            stopped = true
            condition.broadcast()
            return running
        }
        pending.close()
        semaphore.close()
        if wasRunning { threads.wait() }
        condition.withLock { counters.running = false }
    }

    private var isStopped: Bool { condition.withLock { stopped } }

    private func spawn(_ name: String, _ body: @escaping () -> Void) {
        threads.enter()
        let thread = Thread { [threads] in
            body()
            threads.leave()
        }
        thread.name = name
        thread.start()
    }

    /// Oldest first: take a DID, wait for a permit within what is left of its wait budget.
    private func dispatchLoop() {
        while !isStopped {
            guard let item = pending.take(timeout: 0.5) else { continue }
            let did = item.did
            let budget = configuration.waitTimeoutSeconds - Date().timeIntervalSince(item.since)
            guard budget > 0, semaphore.acquire(timeout: budget) else {
                if isStopped {
                    pending.finish(did)
                    return
                }
                // Deferred, not lost: its marker is due again (the sweep queues it).
                pending.finish(did)
                condition.withLock { counters.deferred += 1 }
                fallBack([did])
                continue
            }
            let accepted = condition.withLock { () -> Bool in
                guard !stopped else { return false }
                jobs.append(did)
                condition.broadcast()
                return true
            }
            if !accepted {
                semaphore.release()
                pending.finish(did)
            }
        }
    }

    /// One resolution at a time, holding a permit; no database connection here.
    private func workerLoop() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopped { condition.wait() }
            guard let did = jobs.popFirst() else {
                condition.unlock()
                return
            }
            condition.unlock()
            let outcome = fetch(did)
            condition.withLock {
                // Released under the lock with the result appended, so the writer never sees
                // no permit in use while a result is still on its way.
                semaphore.release()
                if outcome.error != nil { counters.failed += 1 }
                results.append(outcome)
                condition.broadcast()
            }
        }
    }

    /// Writes results in batches: when `writeBatch` are waiting or the oldest waited `writeDelaySeconds`.
    private func writerLoop() {
        while true {
            condition.lock()
            var deadline: Date?
            while true {
                if results.count >= configuration.writeBatch || !fallenBack.isEmpty { break }
                let workersDone = stopped && jobs.isEmpty && semaphore.inUse == 0
                if workersDone { break }
                if !results.isEmpty {
                    let until = deadline ?? Date(timeIntervalSinceNow: configuration.writeDelaySeconds)
                    deadline = until
                    if !condition.wait(until: until) { break }
                } else {
                    deadline = nil
                    _ = condition.wait(until: Date(timeIntervalSinceNow: 0.5))
                }
            }
            let batch = Array(results.prefix(configuration.writeBatch))
            results.removeFirst(batch.count)
            let due = fallenBack
            fallenBack.removeAll()
            let finished = stopped && jobs.isEmpty && semaphore.inUse == 0 && results.isEmpty
            condition.unlock()
            if !batch.isEmpty { write(batch) }
            if !due.isEmpty { makeDue(due) }
            if finished { return }
        }
    }

    private func write(_ batch: [UserCreationOutcome]) {
        do {
            try store.write(batch)
            condition.withLock { counters.completed += batch.filter { $0.error == nil }.count }
        } catch {
            // The markers stay: the sweep retries these DIDs.
            logger.warning("user creation results not written: \(error)")
            condition.withLock { counters.writeErrors += 1 }
        }
        for outcome in batch { pending.finish(outcome.did) }
    }

    private func makeDue(_ dids: [String]) {
        do {
            try store.makeDue(dids)
        } catch {
            // They still come back, after the marker's grace period.
            logger.warning("user creation markers not made due: \(error)")
        }
    }

    /// Every `sweepIntervalSeconds`: due markers not already in memory are queued again.
    private func sweepLoop() {
        while true {
            condition.lock()
            let deadline = Date(timeIntervalSinceNow: configuration.sweepIntervalSeconds)
            while !stopped, condition.wait(until: deadline) {}
            let stop = stopped
            condition.unlock()
            if stop { return }
            sweep()
        }
    }

    /// One sweep now; returns how many DIDs it queued.
    @discardableResult
    func sweep() -> Int {
        let room = configuration.queueLimit - pending.counts.queued
        guard room > 0 else { return 0 }
        do {
            let found = try store.dueDIDs(limit: min(room, configuration.sweepBatch))
            // A due marker of a DID still queued or in progress would be duplicate work.
            let due = found.filter { !pending.contains($0) }
            pending.noteDuplicates(found.count - due.count)
            pending.enqueue(due, countDuplicates: false)
            condition.withLock { counters.requeuedBySweep += due.count }
            return due.count
        } catch {
            logger.warning("user creation sweep failed: \(error)")
            return 0
        }
    }
}
