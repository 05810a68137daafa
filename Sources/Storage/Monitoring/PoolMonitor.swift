import Foundation
import JSON
import Logging

/// Watches a `ConnectionPool`: its state (open, active, idle, waiting, utilization), every acquire's
/// wait time, and counters of the events an operator cares about (timeouts, replaced connections,
/// connect failures, transaction retries and timeouts). Keeps the last 100 samples and, once
/// started, takes a sample and logs a status line every `interval` seconds on its own thread.
///
/// Every pool has one: `pool.monitor`. Counters and wait times are recorded whether or not the
/// sampling thread runs; start it in a service's main (`pool.monitor.start()`), stop it on shutdown
/// (`pool.monitor.stop()`, also done by `pool.close()`). `jsonSnapshot()` is the body of
/// `/api/metrics/database`.
public final class PoolMonitor: @unchecked Sendable {
    /// Health by utilization (active connections ÷ pool size).
    public enum Level: String, Sendable, Comparable {
        case ok, warning, critical

        public static func < (lhs: Level, rhs: Level) -> Bool { lhs.rank < rhs.rank }
        private var rank: Int { self == .ok ? 0 : self == .warning ? 1 : 2 }
    }

    /// Utilization at or above which the level is `warning`.
    public static let warningUtilizationPercent = 80.0
    /// Utilization at or above which the level is `critical`.
    public static let criticalUtilizationPercent = 95.0
    /// Samples kept in `samples`.
    public static let historyCapacity = 100

    /// Events counted since the pool was created. Names match the JSON keys.
    public struct Counters: Sendable, Equatable {
        /// Acquires that got a connection.
        public var acquires = 0
        /// Acquires that gave up after the acquire timeout (`PostgresError.Kind.acquireTimeout`).
        public var acquireTimeouts = 0
        /// Connections opened successfully (the first ones and their replacements).
        public var connectionsOpened = 0
        /// Broken connections detected (failed with a connection-class error, or found dead while
        /// idle) and dropped so that a fresh one takes their slot.
        public var connectionsReplaced = 0
        /// Connection attempts that failed (each one extends the backoff).
        public var connectFailures = 0
        /// `withTransaction` attempts retried after a deadlock or serialization failure.
        public var transactionRetries = 0
        /// `withTransaction` calls that ran out of their time budget.
        public var transactionTimeouts = 0

        public init() {}
    }

    /// The pool at one instant, with the acquire waits of the window that ended then.
    public struct Sample: Sendable {
        public var time: Date
        /// Configured pool size.
        public var size: Int
        /// Connections currently open (active + idle).
        public var open: Int
        /// Connections lent out.
        public var active: Int
        /// Open connections waiting in the pool.
        public var idle: Int
        /// Threads waiting to acquire.
        public var waiting: Int
        /// `active ÷ size`, in percent.
        public var utilizationPercent: Double
        public var level: Level
        public var acquireWait: AcquireWaitStatistics
    }

    private let configuration: DatabaseConfiguration
    private let logger: Logger
    private let lock = NSCondition()
    private weak var pool: ConnectionPool?
    private var counterValues = Counters()
    private var waitWindow = AcquireWaitWindow()
    private var history: [Sample] = []
    private var sampleInterval: TimeInterval
    private var thread: Thread?
    private var stopRequested = false
    private var threadFinished = true

    init(configuration: DatabaseConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.sampleInterval = TimeInterval(max(1, configuration.monitorIntervalSeconds))
    }

    func attach(to pool: ConnectionPool) {
        lock.lock()
        self.pool = pool
        lock.unlock()
    }

    // MARK: Sampling thread

    /// Seconds between samples and status lines (`configuration.monitorIntervalSeconds`, from
    /// `DB_MONITOR_INTERVAL_S`, default 60). A change applies from the next sample.
    public var interval: TimeInterval {
        get { lock.lock(); defer { lock.unlock() }; return sampleInterval }
        set { lock.lock(); sampleInterval = max(0.01, newValue); lock.signal(); lock.unlock() }
    }

    /// True while the sampling thread runs.
    public var isRunning: Bool {
        lock.lock(); defer { lock.unlock() }
        return thread != nil
    }

    /// Starts the sampling thread (a sample and a status line every `interval` seconds).
    /// Does nothing when it already runs.
    public func start(interval: TimeInterval? = nil) {
        lock.lock()
        defer { lock.unlock() }
        if let interval { sampleInterval = max(0.01, interval) }
        guard thread == nil else { return }
        stopRequested = false
        threadFinished = false
        let thread = Thread { [self] in runSamplingLoop() }
        thread.name = "appview.pool-monitor"
        self.thread = thread
        thread.start()
    }

    /// Stops the sampling thread and waits until it has finished. Safe to call when not running.
    public func stop() {
        lock.lock()
        defer { lock.unlock() }
        guard thread != nil else { return }
        stopRequested = true
        lock.broadcast()
        while !threadFinished { lock.wait() }
        thread = nil
    }

    /// Asks the sampling thread to end without waiting for it (safe from any thread, including
    /// the sampling thread itself).
    func requestStop() {
        lock.lock()
        if thread != nil {
            stopRequested = true
            thread = nil
            lock.broadcast()
        }
        lock.unlock()
    }

    private func runSamplingLoop() {
        lock.lock()
        while !stopRequested {
            let deadline = Date(timeIntervalSinceNow: sampleInterval)
            var timedOut = false
            while !stopRequested && !timedOut {
                timedOut = !lock.wait(until: deadline)
            }
            guard !stopRequested else { break }
            lock.unlock()
            let sample = recordSample()
            log(sample)
            lock.lock()
        }
        threadFinished = true
        lock.broadcast()
        lock.unlock()
    }

    private func log(_ sample: Sample) {
        let line = statusLine(for: sample)
        switch sample.level {
        case .ok: logger.info("\(line)")
        case .warning: logger.warning("\(line)")
        case .critical: logger.error("\(line)")
        }
    }

    // MARK: Reading

    /// Takes a sample now: closes the current acquire-wait window, keeps the sample in `samples`.
    @discardableResult
    public func recordSample() -> Sample {
        let state = pool?.snapshot()
        lock.lock()
        defer { lock.unlock() }
        let sample = makeSample(state, waits: waitWindow.statistics())
        waitWindow.reset()
        history.append(sample)
        if history.count > Self.historyCapacity { history.removeFirst(history.count - Self.historyCapacity) }
        return sample
    }

    /// The pool now, with the waits of the still-open window; records nothing.
    public func currentSample() -> Sample {
        let state = pool?.snapshot()
        lock.lock()
        defer { lock.unlock() }
        return makeSample(state, waits: waitWindow.statistics())
    }

    /// The last (up to 100) samples, oldest first.
    public var samples: [Sample] {
        lock.lock(); defer { lock.unlock() }
        return history
    }

    /// Counters since the pool was created.
    public var counters: Counters {
        lock.lock(); defer { lock.unlock() }
        return counterValues
    }

    /// The level for a utilization: ok below 80 %, warning from 80 %, critical from 95 %.
    public static func level(utilizationPercent: Double) -> Level {
        if utilizationPercent >= criticalUtilizationPercent { return .critical }
        if utilizationPercent >= warningUtilizationPercent { return .warning }
        return .ok
    }

    private func makeSample(_ state: ConnectionPool.Snapshot?, waits: AcquireWaitStatistics) -> Sample {
        let size = configuration.poolSize
        let active = state?.active ?? 0
        let utilization = size > 0 ? Double(active) * 100 / Double(size) : 0
        return Sample(
            time: Date(), size: size, open: state?.open ?? 0, active: active, idle: state?.idle ?? 0,
            waiting: state?.waiting ?? 0, utilizationPercent: utilization,
            level: Self.level(utilizationPercent: utilization), acquireWait: waits)
    }

    /// One log line: level, pool state, wait times of the window, counters.
    public func statusLine(for sample: Sample) -> String {
        let counts = counters
        func ms(_ value: Double) -> String { String(format: "%.1f", value) }
        return "db pool \(sample.level.rawValue): active \(sample.active)/\(sample.size)"
            + " (\(String(format: "%.0f", sample.utilizationPercent))%), idle \(sample.idle), open \(sample.open),"
            + " waiting \(sample.waiting); acquire wait n=\(sample.acquireWait.count)"
            + " avg=\(ms(sample.acquireWait.averageMilliseconds))ms p99=\(ms(sample.acquireWait.p99Milliseconds))ms"
            + " max=\(ms(sample.acquireWait.maxMilliseconds))ms; acquire timeouts \(counts.acquireTimeouts),"
            + " connections opened \(counts.connectionsOpened), replaced \(counts.connectionsReplaced),"
            + " connect failures \(counts.connectFailures), transaction retries \(counts.transactionRetries),"
            + " transaction timeouts \(counts.transactionTimeouts)"
    }

    /// The monitor as JSON (hand-written), served verbatim at `/api/metrics/database`:
    /// `{"level", "config": {...}, "thresholds": {...}, "current": sample, "counters": {...},
    /// "samples": [sample, ...]}`; durations in milliseconds, times in RFC 3339 UTC.
    public func jsonSnapshot() -> String {
        let current = currentSample()
        let counts = counters
        let recent = samples
        var json = JSONWriter(capacity: 1024 + 256 * recent.count)
        json.beginObject()
        json.field("level", current.level.rawValue)
        json.key("config")
        json.beginObject()
        json.field("poolSize", configuration.poolSize)
        json.field("acquireTimeoutMs", configuration.acquireTimeoutMilliseconds)
        json.field("statementTimeoutMs", configuration.statementTimeoutMilliseconds)
        json.field("transactionTimeoutMs", configuration.transactionTimeoutMilliseconds)
        json.field("idleInTransactionTimeoutMs", configuration.idleInTransactionTimeoutMilliseconds)
        json.field("connectTimeoutS", configuration.connectTimeoutSeconds)
        json.field("sampleIntervalS", interval, fractionDigits: 3)
        json.endObject()
        json.key("thresholds")
        json.beginObject()
        json.field("warningUtilizationPercent", Self.warningUtilizationPercent, fractionDigits: 3)
        json.field("criticalUtilizationPercent", Self.criticalUtilizationPercent, fractionDigits: 3)
        json.endObject()
        json.key("current")
        write(current, into: &json)
        json.key("counters")
        json.beginObject()
        json.field("acquires", counts.acquires)
        json.field("acquireTimeouts", counts.acquireTimeouts)
        json.field("connectionsOpened", counts.connectionsOpened)
        json.field("connectionsReplaced", counts.connectionsReplaced)
        json.field("connectFailures", counts.connectFailures)
        json.field("transactionRetries", counts.transactionRetries)
        json.field("transactionTimeouts", counts.transactionTimeouts)
        json.endObject()
        json.key("samples")
        json.beginArray()
        for sample in recent { write(sample, into: &json) }
        json.endArray()
        json.endObject()
        return json.text
    }

    private func write(_ sample: Sample, into json: inout JSONWriter) {
        json.beginObject()
        json.key("time")
        json.datetime(epochMilliseconds: Int64((sample.time.timeIntervalSince1970 * 1000).rounded(.down)))
        json.field("size", sample.size)
        json.field("open", sample.open)
        json.field("active", sample.active)
        json.field("idle", sample.idle)
        json.field("waiting", sample.waiting)
        json.field("utilizationPercent", sample.utilizationPercent, fractionDigits: 3)
        json.field("level", sample.level.rawValue)
        json.key("acquireWaitMs")
        json.beginObject()
        json.field("count", sample.acquireWait.count)
        json.field("avg", sample.acquireWait.averageMilliseconds, fractionDigits: 3)
        json.field("max", sample.acquireWait.maxMilliseconds, fractionDigits: 3)
        json.field("p99", sample.acquireWait.p99Milliseconds, fractionDigits: 3)
        json.endObject()
        json.endObject()
    }

    // MARK: Recording (called by the pool)

    func recordAcquire(waitedNanoseconds: UInt64) {
        lock.lock()
        counterValues.acquires += 1
        waitWindow.record(nanoseconds: waitedNanoseconds)
        lock.unlock()
    }

    func count(_ counter: WritableKeyPath<Counters, Int>, by amount: Int = 1) {
        lock.lock()
        counterValues[keyPath: counter] += amount
        lock.unlock()
    }
}
