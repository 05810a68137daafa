import Foundation
import Logging
import Storage

/// Writes this process's metrics snapshot to `ingest_metrics` every `interval` on its own thread
/// (and once more at `stop()`), where the API reads it. A failed write is logged and retried at
/// the next tick: metrics never stop the ingest.
public final class MetricsPublisher: @unchecked Sendable {
    /// What to publish now: the role and the snapshot JSON.
    public typealias Snapshot = () -> (role: String, json: String)

    let pool: ConnectionPool
    let instance: String
    let source: String
    let interval: TimeInterval
    let logger: Logger
    private let condition = NSCondition()
    private var snapshot: Snapshot
    private var tick: (() throws -> Void)?
    private var stopped = false
    private var thread: Thread?
    private let finished = DispatchGroup()

    public init(pool: ConnectionPool, instance: String, source: String, interval: TimeInterval, snapshot: @escaping Snapshot,
                logger: Logger = Logger(label: "appview.ingest.metrics")) {
        self.pool = pool
        self.instance = instance
        self.source = source
        self.interval = interval
        self.snapshot = snapshot
        self.logger = logger
    }

    /// Replaces what is published (standby → leader), and an extra job run at each tick (the
    /// cursor catch-up of the leader).
    public func update(snapshot: @escaping Snapshot, tick: (() throws -> Void)? = nil) {
        condition.withLock {
            self.snapshot = snapshot
            self.tick = tick
        }
    }

    public func start() {
        finished.enter()
        let thread = Thread { [self] in
            condition.lock()
            while !stopped {
                condition.unlock()
                publish()
                condition.lock()
                if stopped { break }
                _ = condition.wait(until: Date(timeIntervalSinceNow: interval))
            }
            condition.unlock()
            finished.leave()
        }
        thread.name = "ingest-metrics"
        self.thread = thread
        thread.start()
    }

    /// Stops the thread and publishes a last snapshot.
    public func stop() {
        let running = condition.withLock { () -> Bool in
            let wasRunning = thread != nil && !stopped
            stopped = true
            condition.broadcast()
            return wasRunning
        }
        if running { finished.wait() }
        publish()
    }

    /// One snapshot now.
    public func publish() {
        let (snapshot, tick) = condition.withLock { (self.snapshot, self.tick) }
        do {
            try tick?()
            let (role, json) = snapshot()
            try pool.withConnection { connection in
                try connection.query("""
                    INSERT INTO ingest_metrics (instance, role, source, snapshot, updated_at)
                    VALUES ($1, $2, $3, $4::jsonb, now())
                    ON CONFLICT (instance) DO UPDATE
                        SET role = excluded.role, source = excluded.source, snapshot = excluded.snapshot, updated_at = now()
                    """, [instance, role, source, json])
                // Rows of processes gone for a day are history nobody reads.
                try connection.query("DELETE FROM ingest_metrics WHERE updated_at < now() - interval '1 day'")
            }
        } catch {
            logger.warning("metrics snapshot not published: \(error)")
        }
    }
}
