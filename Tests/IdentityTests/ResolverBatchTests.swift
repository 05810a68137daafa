import Foundation
import Storage
import Testing
import TestSupport
@testable import Identity

/// The user-creation path: a batch's stored documents in one query, fetched ones written by the caller in one statement.
@Suite(.serialized) struct ResolverBatchTests {
    static func count(_ pool: ConnectionPool) throws -> Int {
        try pool.withConnection { Int(try $0.query("SELECT count(*)::int FROM did_documents").rows[0].string(0) ?? "") ?? -1 }
    }

    @Test func aPreloadedBatchIsReadInOneQueryAndFetchedDocumentsAreLeftToTheCaller() throws {
        let database = try TestDatabase(name: "identity_batch_preload")
        defer { database.pool.close() }
        let store = DIDDocumentStore(pool: database.pool)
        let fixture = ResolverFixture(store: store)
        let stored = (0..<10).map { plcDID(200 + $0) }
        let fresh = (0..<5).map { plcDID(300 + $0) }
        for did in stored {
            let key = try PrivateKey.generate(curve: .p256).publicKey
            try store.save(StoredDIDDocument(did: did.text, json: documentJSON(did, key: key), fetchedAt: fixture.clock.now, isLocal: false))
        }
        var keys: [String: PublicKey] = [:]
        for did in fresh { keys[did.text] = try fixture.publishNewKey(did) }

        fixture.resolver.preload(stored + fresh + stored)
        #expect(fixture.resolver.statistics.databaseReads == 1)
        var unsaved: [StoredDIDDocument] = []
        for did in stored + fresh {
            let resolution = try fixture.resolver.resolveDeferringSave(did)
            if let row = resolution.unsavedRow { unsaved.append(row) }
        }
        let statistics = fixture.resolver.statistics
        #expect(statistics.databaseReads == 1, "a lookup of the preloaded batch queried the database")
        #expect(statistics.databaseHits == 10)
        #expect(statistics.networkFetches == 5)
        #expect(statistics.databaseWrites == 0)
        #expect(unsaved.map(\.did).sorted() == fresh.map(\.text).sorted())
        #expect(try Self.count(database.pool) == 10, "a deferred save was written")

        try database.pool.withTransaction { try DIDDocumentStore.save(unsaved, on: $0) }
        let rows = try store.load((stored + fresh).map(\.text))
        #expect(rows.count == 15)
        for did in fresh {
            #expect(try DIDDocument(did: did.text, json: Array(rows[did.text]!.json.utf8)).signingKey == keys[did.text])
        }
        // A second preload of DIDs now in memory asks nothing.
        fixture.resolver.preload(fresh)
        #expect(fixture.resolver.statistics.databaseReads == 1)
    }

    @Test func theSingleDIDPathStillReadsAndWritesItsOwnRow() throws {
        let database = try TestDatabase(name: "identity_batch_single")
        defer { database.pool.close() }
        let store = DIDDocumentStore(pool: database.pool)
        let fixture = ResolverFixture(store: store)
        let did = plcDID(400)
        let key = try fixture.publishNewKey(did)
        #expect(try fixture.resolver.resolve(did).signingKey == key)
        #expect(fixture.resolver.statistics.databaseReads == 1)
        #expect(fixture.resolver.statistics.databaseWrites == 1)
        #expect(try store.load(did.text) != nil)
    }

    @Test func aBatchSaveKeepsLocalDocumentsAndTheNewestOfDuplicates() throws {
        let database = try TestDatabase(name: "identity_batch_save")
        defer { database.pool.close() }
        let store = DIDDocumentStore(pool: database.pool)
        try store.save(StoredDIDDocument(did: "did:plc:local", json: #"{"id":"local"}"#, fetchedAt: 1000, isLocal: true))
        try database.pool.withTransaction { connection in
            try DIDDocumentStore.save([
                StoredDIDDocument(did: "did:plc:local", json: #"{"id":"fetched"}"#, fetchedAt: 2000, isLocal: false),
                StoredDIDDocument(did: "did:plc:twice", json: #"{"v":"old"}"#, fetchedAt: 1000, isLocal: false),
                StoredDIDDocument(did: "did:plc:twice", json: #"{"v":"new \"quoted\" \\ text"}"#, fetchedAt: 3000, isLocal: false),
            ], on: connection)
        }
        let rows = try store.load(["did:plc:local", "did:plc:twice", "did:plc:absent"])
        #expect(rows.count == 2)
        #expect(rows["did:plc:local"]?.json == #"{"id":"local"}"#)
        #expect(rows["did:plc:local"]?.isLocal == true)
        #expect(rows["did:plc:twice"]?.json == #"{"v":"new \"quoted\" \\ text"}"#)
        #expect(rows["did:plc:twice"]?.fetchedAt == 3000)
    }
}
