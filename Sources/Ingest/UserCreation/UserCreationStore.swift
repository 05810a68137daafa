import Identity
import Storage

/// The database half of user creation: results written in batches, the durable markers read by the
/// sweep. Each call takes a connection only for its statements, never across network work.
/// Blocking: call from dedicated threads.
public struct UserCreationStore: Sendable {
    let pool: ConnectionPool
    /// First retry delay after a failure; doubles per attempt up to `maxBackoffSeconds`.
    public var baseBackoffSeconds: Int
    public var maxBackoffSeconds: Int

    public init(pool: ConnectionPool, baseBackoffSeconds: Int = 30, maxBackoffSeconds: Int = 3600) {
        self.pool = pool
        self.baseBackoffSeconds = baseBackoffSeconds
        self.maxBackoffSeconds = maxBackoffSeconds
    }

    /// Up to `limit` DIDs whose marker is due, oldest due first.
    public func dueDIDs(limit: Int) throws -> [String] {
        try pool.withConnection { connection in
            try connection.query("""
                SELECT did FROM user_creation_pending WHERE next_attempt_at <= now() ORDER BY next_attempt_at LIMIT $1::int
                """, [limit]).rows.compactMap { $0.string(0) }
        }
    }

    /// Makes the markers of `dids` due now: DIDs deferred or evicted from memory, so the sweep
    /// brings them back without waiting out the grace period of a new marker.
    public func makeDue(_ dids: [String]) throws {
        guard !dids.isEmpty else { return }
        try pool.withConnection { connection in
            try connection.query("""
                UPDATE user_creation_pending SET next_attempt_at = now()
                WHERE did = ANY($1::text[]) AND attempts = 0 AND next_attempt_at > now()
                """, [TextArray(dids.sorted())])
        }
    }

    /// Writes `outcomes` in one transaction. A handle is written unless an identity event already
    /// set one (the relay's verified handle wins); a profile only where the firehose has delivered
    /// none. Settled outcomes drop their marker; failed ones keep it with a doubled delay. The DID
    /// documents fetched for them are stored in one statement of the same transaction.
    public func write(_ outcomes: [UserCreationOutcome]) throws {
        guard !outcomes.isEmpty else { return }
        // One order for every writer of actor rows, so concurrent transactions cannot deadlock.
        let outcomes = outcomes.sorted { $0.did < $1.did }
        let withHandle = outcomes.filter { $0.handle != nil }
        let withProfile = outcomes.filter { $0.profile != nil }
        let settled = outcomes.filter { $0.error == nil }.map(\.did)
        let failed = outcomes.filter { $0.error != nil }
        let documents = outcomes.compactMap(\.fetchedDocument)
        try pool.withTransaction { connection in
            if !documents.isEmpty {
                try DIDDocumentStore.save(documents, on: connection)
            }
            if !withHandle.isEmpty {
                try connection.query("""
                    UPDATE actors a SET handle = x.handle
                    FROM unnest($1::text[], $2::text[]) AS x(did, handle)
                    WHERE a.did = x.did AND a.identity_time_us IS NULL AND a.handle IS DISTINCT FROM x.handle
                    """, [TextArray(withHandle.map(\.did)), TextArray(withHandle.map(\.handle))])
            }
            if !withProfile.isEmpty {
                let profiles = withProfile.map { $0.profile! }
                try connection.query("""
                    UPDATE actors a SET profile_cid = x.cid, profile_record = x.record::jsonb, display_name = x.display_name,
                        description = x.description, avatar_cid = x.avatar_cid, banner_cid = x.banner_cid,
                        profile_created_at = \(SQLFragment.timestamp("x.created_at"))
                    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[])
                        AS x(did, cid, record, display_name, description, avatar_cid, banner_cid, created_at)
                    WHERE a.did = x.did AND a.profile_cid IS NULL
                    """, [
                        TextArray(withProfile.map(\.did)), TextArray(profiles.map(\.cid)), TextArray(profiles.map(\.record.rawJSON)),
                        TextArray(profiles.map(\.record.displayName)), TextArray(profiles.map(\.record.description)),
                        TextArray(profiles.map(\.record.avatarCID)), TextArray(profiles.map(\.record.bannerCID)),
                        ScalarArray(profiles.map(\.record.createdAtMilliseconds)),
                    ])
            }
            if !settled.isEmpty {
                try connection.query("DELETE FROM user_creation_pending WHERE did = ANY($1::text[])", [TextArray(settled)])
            }
            if !failed.isEmpty {
                try connection.query("""
                    UPDATE user_creation_pending p SET attempts = p.attempts + 1, last_error = x.error,
                        next_attempt_at = now() + least($3::int, $4::int * power(2, least(p.attempts, 20))::int) * interval '1 second'
                    FROM unnest($1::text[], $2::text[]) AS x(did, error)
                    WHERE p.did = x.did
                    """, [TextArray(failed.map(\.did)), TextArray(failed.map(\.error)), maxBackoffSeconds, baseBackoffSeconds])
            }
        }
    }
}
