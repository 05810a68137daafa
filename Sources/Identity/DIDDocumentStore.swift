import Foundation
import Storage

/// A DID document row of `did_documents`.
public struct StoredDIDDocument: Sendable {
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

/// Persistence of resolved DID documents in PostgreSQL (`did_documents`). Blocking: call it from
/// dedicated threads. Each call holds a pooled connection only for its one statement.
public struct DIDDocumentStore: Sendable {
    public let pool: ConnectionPool

    public init(pool: ConnectionPool) {
        self.pool = pool
    }

    public func load(_ did: String) throws -> StoredDIDDocument? {
        try pool.withConnection { connection -> StoredDIDDocument? in
            let result = try connection.query(
                "SELECT document, extract(epoch FROM fetched_at)::float8 AS fetched_at, is_local FROM did_documents WHERE did = $1",
                [did])
            guard result.rowCount > 0 else { return nil }
            let row = result[0]
            return StoredDIDDocument(did: did, json: row.string(0) ?? "", fetchedAt: row.double(1) ?? 0, isLocal: row.bool(2) ?? false)
        }
    }

    /// Inserts or replaces. A document fetched from the network never replaces a local one.
    public func save(_ document: StoredDIDDocument) throws {
        try pool.withConnection { connection in
            _ = try connection.query("""
                INSERT INTO did_documents (did, document, fetched_at, is_local) VALUES ($1, $2, to_timestamp($3::float8), $4)
                ON CONFLICT (did) DO UPDATE SET document = EXCLUDED.document, fetched_at = EXCLUDED.fetched_at,
                    is_local = EXCLUDED.is_local
                WHERE EXCLUDED.is_local OR NOT did_documents.is_local
                """, [document.did, document.json, document.fetchedAt, document.isLocal])
        }
    }
}
