import Storage

/// The body of `GET /api/metrics/database`.
enum DatabaseMetrics {
    /// Pool counts as JSON. Interim: built from `pool.snapshot()` until Storage's `PoolMonitor` is merged;
    /// then the body of this function becomes `pool.monitor.jsonSnapshot()`, the only switch needed. The
    /// interim shape is the monitor's `"current"` sample subset, so clients and tests see the same fields.
    static func json(pool: ConnectionPool) -> String {
        let snapshot = pool.snapshot()
        var json = OperationsJSONWriter()
        json.beginObject()
        json.beginObject("current")
        json.field("size", snapshot.total)
        json.field("open", snapshot.open)
        json.field("active", snapshot.active)
        json.field("idle", snapshot.idle)
        json.field("waiting", snapshot.waiting)
        let utilization = snapshot.total > 0 ? 100 * Double(snapshot.active) / Double(snapshot.total) : 0
        json.field("utilizationPercent", utilization, fractionDigits: 1)
        json.endObject()
        json.endObject()
        return json.text
    }
}
