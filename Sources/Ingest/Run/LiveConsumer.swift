import Foundation
import Logging
import Storage

/// What `appview-ingest run` does: stand by until this process holds the leader lock, then run the
/// pipeline over the source until it ends or `stop()`; publish metrics throughout. Losing the
/// leader lock's session stops the pipeline (it drains; another process may take over) and the
/// process stands by again.
public final class LiveConsumer: @unchecked Sendable {
    /// Builds the source once leading; its argument answers the committed cursor at each (re)connect.
    public typealias SourceFactory = (_ resumeCursor: @escaping @Sendable () -> Int64?) throws -> EventSource

    let pool: ConnectionPool
    let pipelineConfiguration: IngestPipelineConfiguration
    let cursorSource: String
    let pollInterval: TimeInterval
    let makeSource: SourceFactory
    let skipAlreadyApplied: Bool
    /// Builds the user-creation workers while leading; nil runs without them.
    let makeUserCreation: (() -> UserCreationService)?
    let logger: Logger
    /// `<host>:<pid>`: the leader identity in the metrics.
    public let instance: String
    private let lock = NSLock()
    private var stopRequested = false
    private var pipeline: IngestPipeline?

    public init(pool: ConnectionPool, pipelineConfiguration: IngestPipelineConfiguration, cursorSource: String,
                pollInterval: TimeInterval, makeSource: @escaping SourceFactory, skipAlreadyApplied: Bool,
                makeUserCreation: (() -> UserCreationService)? = nil,
                logger: Logger = Logger(label: "appview.ingest.run")) {
        self.makeUserCreation = makeUserCreation
        self.pool = pool
        self.pipelineConfiguration = pipelineConfiguration
        self.cursorSource = cursorSource
        self.pollInterval = pollInterval
        self.makeSource = makeSource
        self.skipAlreadyApplied = skipAlreadyApplied
        self.logger = logger
        instance = "\(ProcessInfo.processInfo.hostName):\(getpid())"
    }

    /// SIGTERM: a standby exits; a leader stops reading, drains and persists its cursor. Any thread.
    public func stop() {
        let pipeline = lock.withLock { () -> IngestPipeline? in
            stopRequested = true
            return self.pipeline
        }
        pipeline?.stop()
    }

    private var isStopping: Bool { lock.withLock { stopRequested } }

    /// Blocks until the source ends or `stop()` was called. Stands by while another process leads;
    /// when this process loses the leader lock's session while leading (a database outage), it
    /// drains what it read and goes back to standing by, so it leads again once it can.
    public func run() throws {
        let configuration = pipelineConfiguration
        let publisher = MetricsPublisher(
            pool: pool, instance: instance, source: cursorSource,
            interval: Double(configuration.metricsIntervalMilliseconds) / 1000,
            snapshot: { [instance, cursorSource] in
                ("standby", IngestMetricsSnapshot.waiting(instance: instance, role: "standby", source: cursorSource,
                                                          maxConcurrentUserCreations: configuration.maxConcurrentUserCreations))
            })
        publisher.start()
        defer { publisher.stop() }

        let leaderLock = LeaderLock(configuration: pool.configuration, source: cursorSource)
        defer { leaderLock.release() }
        while true {
            guard leaderLock.waitForLeadership(interval: pollInterval, shouldStop: { isStopping }) else {
                logger.info("stopped while standing by")
                publisher.update(snapshot: { [instance, cursorSource] in
                    ("stopped", IngestMetricsSnapshot.waiting(instance: instance, role: "stopped", source: cursorSource,
                                                              maxConcurrentUserCreations: configuration.maxConcurrentUserCreations))
                })
                return
            }
            guard try lead(leaderLock: leaderLock, publisher: publisher) == .leadershipLost else { return }
            leaderLock.release()
            publisher.update(snapshot: { [instance, cursorSource] in
                ("standby", IngestMetricsSnapshot.waiting(instance: instance, role: "standby", source: cursorSource,
                                                          maxConcurrentUserCreations: configuration.maxConcurrentUserCreations))
            })
            logger.warning("leadership lost: standing by again")
        }
    }

    enum LeadEnd { case finished, leadershipLost }

    /// Runs the pipeline while holding the leader lock.
    private func lead(leaderLock: LeaderLock, publisher: MetricsPublisher) throws -> LeadEnd {
        let startedAt = Date()
        let configuration = pipelineConfiguration
        let indexer = Indexer(pool: pool, configuration: configuration)
        // Leader only: new actors are resolved in the background; stopping leaves the rest durable.
        let userCreation = makeUserCreation?()
        if let userCreation {
            indexer.onCreatedActors { userCreation.enqueue($0) }
            userCreation.start()
        }
        defer { userCreation?.stop() }
        let storedCursor = try indexer.cursor(source: cursorSource)
        logger.info("leading source \(cursorSource) as \(instance), resuming after cursor \(storedCursor.map(String.init) ?? "none")")
        let pipeline = IngestPipeline(
            indexer: indexer, configuration: configuration, cursorSource: cursorSource, resumeCursor: storedCursor,
            skipThrough: skipAlreadyApplied ? storedCursor : nil)
        let stopNow = lock.withLock { () -> Bool in
            self.pipeline = pipeline
            return stopRequested
        }
        defer { lock.withLock { self.pipeline = nil } }
        let source = try makeSource { [pipeline] in
            let committed = pipeline.committedCursor
            return committed > 0 ? committed : nil
        }
        if stopNow { source.stop() }

        let rate = RateTracker()
        let snapshot = { [instance, cursorSource, pool] (role: String) -> String in
            let counters = pipeline.statistics()
            return IngestMetricsSnapshot(
                instance: instance, role: role, source: cursorSource, leader: instance, startedAt: startedAt,
                counters: counters, eventsPerSecond: rate.perSecond(counters.applied), committedCursor: pipeline.committedCursor,
                queueDepths: pipeline.queueDepths, queueCapacity: configuration.queueCapacity,
                operationsInFlight: pipeline.operationsInFlight, maxConcurrentOperations: configuration.maxConcurrentOperations,
                batchSizeLimit: configuration.batchSize, conflicts: indexer.conflicts, poolCounters: pool.monitor.counters,
                maxConcurrentUserCreations: configuration.maxConcurrentUserCreations,
                sourceStatistics: (source as? JetstreamSource)?.statistics,
                relayStatistics: (source as? RelaySource)?.statistics,
                userCreation: userCreation?.statistics).json
        }
        publisher.update(snapshot: { ("leader", snapshot("leader")) }, tick: { try pipeline.persistCommittedCursor() })

        let watchdog = LeadershipWatchdog(lock: leaderLock, interval: pollInterval) { [logger] in
            logger.error("lost the leader lock's database session: draining, then standing by; another process may take over")
            pipeline.stop()
        }
        defer { watchdog.stop() }
        let counters = try pipeline.run(source)
        logger.info("stopped: \(counters.applied) events applied, \(counters.errorCount) errors, cursor \(pipeline.committedCursor)")
        if watchdog.fired && !isStopping { return .leadershipLost }
        // The last snapshot (published when `run` returns) keeps the final counters, as `stopped`.
        publisher.update(snapshot: { ("stopped", snapshot("stopped")) })
        return .finished
    }
}

/// Events per second between successive calls.
final class RateTracker: @unchecked Sendable {
    private let lock = NSLock()
    private var last: (count: Int, at: Date)?

    func perSecond(_ count: Int) -> Double {
        lock.withLock {
            let now = Date()
            defer { last = (count, now) }
            guard let last, now.timeIntervalSince(last.at) > 0 else { return 0 }
            return Double(count - last.count) / now.timeIntervalSince(last.at)
        }
    }
}

/// Checks every `interval` that the leader lock's session is alive; calls `onLost` once if not.
final class LeadershipWatchdog: @unchecked Sendable {
    private let condition = NSCondition()
    private var stopped = false
    private var didFire = false

    init(lock: LeaderLock, interval: TimeInterval, onLost: @escaping () -> Void) {
        let thread = Thread { [self] in
            condition.lock()
            while !stopped {
                _ = condition.wait(until: Date(timeIntervalSinceNow: interval))
                if stopped { break }
                condition.unlock()
                let held = lock.stillHeld()
                condition.lock()
                if !held && !stopped {
                    didFire = true
                    condition.unlock()
                    onLost()
                    return
                }
            }
            condition.unlock()
        }
        thread.name = "ingest-leader-watchdog"
        thread.start()
    }

    var fired: Bool { condition.withLock { didFire } }

    func stop() {
        condition.withLock {
            stopped = true
            condition.broadcast()
        }
    }
}
