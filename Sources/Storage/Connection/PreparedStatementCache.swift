/// Bookkeeping of one connection's server-side prepared statements: SQL text → statement name,
/// bounded, least recently used evicted first. Pure (no I/O): the connection prepares and deallocates.
/// Names are never reused (`s1`, `s2`, …), so a stale name can never point at another statement.
struct PreparedStatementCache {
    /// Most statements kept; 0 disables the cache.
    let capacity: Int
    private var entries: [String: Entry] = [:]
    private var clock: UInt64 = 0
    private var nextNumber = 1

    private struct Entry {
        let name: String
        var lastUse: UInt64
    }

    init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    var isEnabled: Bool { capacity > 0 }
    var count: Int { entries.count }

    /// The statement name for `sql` if it was prepared, marking it as just used.
    mutating func lookup(_ sql: String) -> String? {
        guard var entry = entries[sql] else { return nil }
        clock += 1
        entry.lastUse = clock
        entries[sql] = entry
        return entry.name
    }

    /// A fresh name for a statement about to be prepared. Not recorded until `record` (after PREPARE succeeded).
    mutating func makeName() -> String {
        defer { nextNumber += 1 }
        return "s\(nextNumber)"
    }

    /// Makes room for one more statement: forgets the least recently used one when full and returns its
    /// name, which the caller must deallocate on the server.
    mutating func evictIfFull() -> String? {
        guard entries.count >= capacity,
              let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse }) else { return nil }
        entries[oldest.key] = nil
        return oldest.value.name
    }

    /// Records a successfully prepared statement (after `evictIfFull` made room).
    mutating func record(_ sql: String, name: String) {
        clock += 1
        entries[sql] = Entry(name: name, lastUse: clock)
    }

    /// Forgets `sql` (its statement failed or vanished on the server); returns the name it had.
    @discardableResult
    mutating func remove(_ sql: String) -> String? {
        entries.removeValue(forKey: sql)?.name
    }

    /// Forgets every statement (the server dropped them all, or the session was reset).
    mutating func removeAll() {
        entries.removeAll()
    }
}
