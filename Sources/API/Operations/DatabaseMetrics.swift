import Storage

/// The body of `GET /api/metrics/database`.
enum DatabaseMetrics {
    /// The pool monitor's snapshot: config, current sample, level, counters and the last samples.
    static func json(pool: ConnectionPool) -> String {
        pool.monitor.jsonSnapshot()
    }
}
