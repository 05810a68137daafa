import DequeModule
import Foundation
import Logging

/// Background user creation: actors created by the ingest are queued here (`enqueue`), a dispatcher
/// thread takes them in FIFO order a batch at a time (`prepare` reads what the database already
/// knows about the whole batch in one query) and hands them to `maxConcurrent` worker threads
/// through a `FairSemaphore` (a DID that waited past the wait timeout is deferred to its durable
/// marker), the workers do the
/// blocking network work holding no database connection, and a writer thread stores the results in
/// batches. A sweep thread queues due markers again (evicted, deferred, failed, or left by a previous
/// process). `stop()` joins every thread; unfinished work stays in `user_creation_pending`.
public final class UserCreationService: @unchecked Sendable {
    public let configuration: UserCreationConfiguration
    public let pending: PendingUserCreations
    let semaphore: FairSemaphore
    let fetch: @Sendable (String) -> UserCreationOutcome
    let prepare: @Sendable ([String]) -> Void
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

    /// - Parameters:
    ///   - fetch: the network work for one DID (`UserCreationFetcher.fetch`; tests inject their own).
    ///   - prepare: called on the dispatcher thread with each batch of DIDs before their fetches
    ///     (`UserCreationFetcher.prepare`: their stored DID documents in one query).
    public init(configuration: UserCreationConfiguration, store: UserCreationStore,
                fetch: @escaping @Sendable (String) -> UserCreationOutcome,
                prepare: @escaping @Sendable ([String]) -> Void = { _ in },
                logger: Logger = Logger(label: "appview.ingest.user-creation")) {
        self.configuration = configuration
        self.store = store
        self.fetch = fetch
        self.prepare = prepare
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

    /// Oldest first: take a batch of DIDs, prepare it, then for each DID wait for a permit within
    /// what is left of its wait budget.
    private func dispatchLoop() {
        while !isStopped {
            let batch = pending.take(maximum: configuration.prepareBatch, timeout: 0.5)
            guard !batch.isEmpty else { continue }
            prepare(batch.map { $0.did })
            for (index, item) in batch.enumerated() {
                guard dispatch(item) else {
                    // Stopped: what was taken and not dispatched stays in its marker.
                    for rest in batch[index...] { pending.finish(rest.did) }
                    return
                }
            }
        }
    }

    /// Hands one DID to the workers once a permit is free, or defers it; false once stopped.
    private func dispatch(_ item: (did: String, since: Date)) -> Bool {
        let did = item.did
        let budget = configuration.waitTimeoutSeconds - Date().timeIntervalSince(item.since)
        guard budget > 0, semaphore.acquire(timeout: budget) else {
            if isStopped { return false }
            // Deferred, not lost: its marker is due again (the sweep queues it).
            pending.finish(did)
            condition.withLock { counters.deferred += 1 }
            fallBack([did])
            return true
        }
        let accepted = condition.withLock { () -> Bool in
            guard !stopped else { return false }
            jobs.append(did)
            condition.broadcast()
            return true
        }
        if !accepted { semaphore.release() }
        return accepted
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
            if let error = outcome.error {
                logger.debug("user creation failed, retried later", metadata: ["did": "\(did)", "error": "\(error)"])
            }
            condition.withLock {
                // Released under the lock with the result appended, so the writer never sees
                // no permit in use while a result is still on its way.
                semaphore.release()
                counters.count(outcome)
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
