import Foundation

extension ConnectionPool {
    /// Runs `body` inside a transaction on one connection. Deadlocks (`40P01`) and serialization
    /// failures (`40001`) are retried up to 3 attempts in all, after 100 / 200 / 400 ms.
    /// `body` may run more than once: keep side effects outside the database idempotent.
    public func withTransaction<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        let backoffMilliseconds = [100, 200, 400]
        var attempt = 0
        while true {
            do {
                return try withConnection { connection in
                    try connection.execute("BEGIN")
                    do {
                        let value = try body(connection)
                        try connection.execute("COMMIT")
                        return value
                    } catch {
                        if connection.isOpen { _ = try? connection.execute("ROLLBACK") }
                        throw error
                    }
                }
            } catch let error as PostgresError where error.isRetryableTransactionConflict && attempt < 2 {
                logger.warning("transaction conflict, retrying", metadata: ["sqlstate": "\(error.sqlState ?? "")", "attempt": "\(attempt + 1)"])
                Thread.sleep(forTimeInterval: Double(backoffMilliseconds[attempt]) / 1000)
                attempt += 1
            }
        }
    }
}
