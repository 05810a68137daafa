import Foundation
import Logging
import Storage

/// Leader election among `appview-ingest run` processes sharing one database: a session-level
/// PostgreSQL advisory lock (keyed by the cursor source) held on a dedicated connection, outside
/// the pool. The server releases it the moment the leader's session ends (crash, kill -9, network
/// loss detected by keepalives), and a standby polling `pg_try_advisory_lock` takes over.
public final class LeaderLock: @unchecked Sendable {
    /// First half of the two-key advisory lock; the second is `hashtext(source)`.
    static let namespace: Int32 = 7_245_110
    let configuration: DatabaseConfiguration
    let source: String
    let logger: Logger
    private var connection: PostgresConnection?

    public init(configuration: DatabaseConfiguration, source: String, logger: Logger = Logger(label: "appview.ingest.leader")) {
        self.configuration = configuration
        self.source = source
        self.logger = logger
    }

    /// Tries once to become the leader. Connection failures count as "not now".
    public func tryAcquire() -> Bool {
        do {
            if connection == nil {
                connection = try PostgresConnection(conninfo: configuration.conninfo, settings: ["TimeZone": "UTC"], logger: logger)
            }
            let result = try connection!.query("SELECT pg_try_advisory_lock($1::int, hashtext($2))", [Self.namespace, source])
            return result[0].bool(0) == true
        } catch {
            logger.warning("leader election: cannot reach the database: \(error)")
            connection?.close()
            connection = nil
            return false
        }
    }

    /// Polls every `interval` until this process leads (true) or `shouldStop` says so (false).
    public func waitForLeadership(interval: TimeInterval, shouldStop: () -> Bool) -> Bool {
        var announced = false
        while !shouldStop() {
            if tryAcquire() { return true }
            if !announced {
                logger.info("standing by: another appview-ingest run leads source \(source); polling every \(interval) s")
                announced = true
            }
            Thread.sleep(forTimeInterval: interval)
        }
        return false
    }

    /// Whether the lock's session is still alive (and so the lock still held).
    public func stillHeld() -> Bool {
        guard let connection else { return false }
        do {
            let result = try connection.query(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted AND classid = $1::int::oid AND objid = hashtext($2)::oid",
                [Self.namespace, source])
            return (result[0].int(0) ?? 0) > 0
        } catch {
            logger.error("leader lock connection lost: \(error)")
            return false
        }
    }

    /// Gives leadership up (closing the session releases the lock).
    public func release() {
        connection?.close()
        connection = nil
    }
}
