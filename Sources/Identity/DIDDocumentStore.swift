import Foundation
import Storage

/// A DID document row of `did_documents`.
public struct StoredDIDDocument: Sendable, Equatable {
    public var did: String
    public var json: String
    /// Epoch seconds.
    public var fetchedAt: Double
    /// Written by `mint-token`: never refreshed from the network.
    public var isLocal: Bool

    public init(did: String, json: String, fetchedAt: Double, isLocal: Bool) {
        self.did = did
        self.json = json
        self.fetchedAt = fetchedAt
        self.isLocal = isLocal
    }
}

/// Persistence of resolved DID documents in PostgreSQL (`did_documents`, primary key `did`).
/// Blocking: call it from dedicated threads. Each call holds a pooled connection only for its one
/// statement; the batch forms read and write any number of documents in one statement.
public struct DIDDocumentStore: Sendable {
    public let pool: ConnectionPool

    public init(pool: ConnectionPool) {
        self.pool = pool
    }

    public func load(_ did: String) throws -> StoredDIDDocument? {
        try load([did])[did]
    }

    /// The stored documents of `dids` (absent ones are missing from the answer), in one query.
    public func load(_ dids: [String]) throws -> [String: StoredDIDDocument] {
        guard !dids.isEmpty else { return [:] }
        return try pool.withConnection { connection in
            let result = try connection.query("""
                SELECT did, document, extract(epoch FROM fetched_at)::float8 AS fetched_at, is_local
                FROM did_documents WHERE did = ANY($1::text[])
                """, [dids])
            var rows: [String: StoredDIDDocument] = [:]
            for row in result.rows {
                guard let did = row.string(0) else { continue }
                rows[did] = StoredDIDDocument(did: did, json: row.string(1) ?? "", fetchedAt: row.double(2) ?? 0, isLocal: row.bool(3) ?? false)
            }
            return rows
        }
    }

    /// Inserts or replaces. A document fetched from the network never replaces a local one.
    public func save(_ document: StoredDIDDocument) throws {
        try pool.withConnection { try Self.save([document], on: $0) }
    }

    /// Inserts or replaces `documents` in one statement on `connection` (inside the caller's
    /// transaction, if any); a fetched document never replaces a local one. Rows go in DID order, so
    /// concurrent batches lock them in one order.
    public static func save(_ documents: [StoredDIDDocument], on connection: PostgresConnection) throws {
        // One row per DID: ON CONFLICT cannot touch a row twice in one statement.
        var latest: [String: StoredDIDDocument] = [:]
        for document in documents where (latest[document.did]?.fetchedAt ?? -.infinity) <= document.fetchedAt {
            latest[document.did] = document
        }
        let rows = latest.values.sorted { $0.did < $1.did }
        guard !rows.isEmpty else { return }
        _ = try connection.query("""
            INSERT INTO did_documents (did, document, fetched_at, is_local)
            SELECT x.did, x.document, to_timestamp(x.fetched_at), x.is_local
            FROM unnest($1::text[], $2::text[], $3::float8[], $4::bool[]) AS x(did, document, fetched_at, is_local)
            ON CONFLICT (did) DO UPDATE SET document = EXCLUDED.document, fetched_at = EXCLUDED.fetched_at,
                is_local = EXCLUDED.is_local
            WHERE EXCLUDED.is_local OR NOT did_documents.is_local
            """, [rows.map(\.did), rows.map(\.json), rows.map(\.fetchedAt), rows.map(\.isLocal)])
    }
}
