import Storage

/// The body of `GET /api/metrics/database`.
enum DatabaseMetrics {
    /// Pool counts as JSON. Interim: built from `pool.snapshot()` until Storage's `PoolMonitor`
    /// (with `jsonSnapshot()`) is merged; then this becomes `monitor.jsonSnapshot()`, the only switch needed.
    static func json(pool: ConnectionPool) -> String {
        let snapshot = pool.snapshot()
        var json = OperationsJSONWriter()
        json.beginObject()
        json.field("size", snapshot.total)
        json.field("open", snapshot.open)
        json.field("active", snapshot.active)
        json.field("idle", snapshot.idle)
        json.field("waiting", snapshot.waiting)
        let utilization = snapshot.total > 0 ? Double(snapshot.active) / Double(snapshot.total) : 0
        json.field("utilization", utilization, fractionDigits: 4)
        json.endObject()
        return json.text
    }
}
